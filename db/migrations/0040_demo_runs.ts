// Every `lendpay demo` records itself, so that a later demo can tell a database only a
// demo wrote (run again freely) from one that holds other data (refused unless asked).
// Frozen in time.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table demo_runs (
      id bigserial primary key,
      business_date date not null,
      seed integer not null,
      size integer not null,
      started_at timestamptz not null default now()
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table demo_runs`.execute(db);
}
