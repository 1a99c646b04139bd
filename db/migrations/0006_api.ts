// The service's own state: stored HTTP responses per Idempotency-Key, and the cron
// ticks that were claimed, so that one tick enqueues once however many workers run.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table api_idempotency (
      key text primary key,
      method text not null,
      route text not null,
      request_hash text not null,
      status_code int,
      response jsonb,
      created_at timestamptz not null default now(),
      completed_at timestamptz
    );

    create table cron_ticks (
      job text not null,
      slot text not null,
      claimed_at timestamptz not null default now(),
      claimed_by text not null,
      primary key (job, slot)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table cron_ticks; drop table api_idempotency;`.execute(db);
}
