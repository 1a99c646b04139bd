// The audit log: one row per operator action that changes what lendpay enforces
// (e.g. lifting an outflow block by hand), with who did it and why.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_log (
      id bigserial primary key,
      at timestamptz not null default now(),
      actor text not null check (actor <> ''),
      action text not null,
      subject text not null,
      reason text not null check (reason <> ''),
      details jsonb not null default '{}'
    );
    create index audit_log_subject on audit_log (subject, at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table audit_log;`.execute(db);
}
