// Exceptions: the query ladder of unknown attempts, escalation steps decided by the
// rules, alerts, the operator's audited actions, status queries and dead letters.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- the ladder: when an attempt whose outcome is unknown is next queried, and how far up it is
    alter table order_attempts add column next_query_at timestamptz, add column query_rung integer not null default 0;
    create index order_attempts_next_query on order_attempts (next_query_at) where status in ('submitted', 'unknown');

    -- every status query lendpay made, with the platform's answer (the order timeline shows them)
    create table order_queries (
      id bigserial primary key,
      order_id bigint not null references orders (id),
      attempt_no integer not null,
      request_id text not null,
      answer text not null,
      code text,
      queried_at timestamptz not null default now()
    );
    create index order_queries_order on order_queries (order_id);

    -- one row per decision of the escalation rules about a known failure of an order
    create table escalations (
      id bigserial primary key,
      order_id bigint not null references orders (id),
      attempt_no integer not null,
      error_code text not null,
      step text not null check (step in ('channel_resend', 'system_resend', 'void_and_reissue', 'manual_review', 'give_up')),
      automatic boolean not null,
      status text not null check (status in ('scheduled', 'awaiting_operator', 'executing', 'done', 'rejected')),
      reason text not null,
      rule text,
      rule_set_hash text not null,
      facts jsonb not null,
      params jsonb not null default '{}',
      not_before timestamptz not null default now(),
      new_order_id bigint references orders (id),
      outcome text,
      created_at timestamptz not null default now(),
      decided_at timestamptz,
      decided_by text
    );
    -- at most one open step per order: two deciders racing insert one
    create unique index escalations_one_open on escalations (order_id) where status in ('scheduled', 'awaiting_operator', 'executing');
    create index escalations_order on escalations (order_id, id);

    create table alerts (
      id bigserial primary key,
      kind text not null,
      order_id bigint references orders (id),
      message text not null,
      created_at timestamptz not null default now(),
      resolved_at timestamptz,
      resolved_by text
    );
    create unique index alerts_one_open on alerts (kind, order_id) where resolved_at is null;

    create table operator_actions (
      id bigserial primary key,
      order_id bigint references orders (id),
      escalation_id bigint references escalations (id),
      operator text not null,
      action text not null,
      step text,
      reason text,
      created_at timestamptz not null default now()
    );
    create index operator_actions_order on operator_actions (order_id);

    -- jobs that exhausted their retries (pg-boss dead-letter queue, mirrored for the operator)
    create table dead_letters (
      id bigserial primary key,
      queue text not null,
      job_id text not null unique,
      payload jsonb not null,
      error text not null,
      created_at timestamptz not null default now(),
      resolved_at timestamptz,
      resolved_by text
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table dead_letters, operator_actions, alerts, escalations, order_queries;
    drop index order_attempts_next_query;
    alter table order_attempts drop column next_query_at, drop column query_rung;
  `.execute(db);
}
