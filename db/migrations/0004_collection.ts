// Repayment schedules, the post-settlement collection record, holds (挂账) with the
// outflow block, settlement events and the notification outbox.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- 'recovery': a receivable from a payout the platform made twice, collected like a loan
    alter table loans add column kind text not null default 'loan' check (kind in ('loan', 'recovery'));

    create table installments (
      loan_id text not null references loans (id),
      no integer not null check (no > 0),
      due_date date not null,
      principal_fen bigint not null check (principal_fen >= 0),
      interest_fen bigint not null check (interest_fen >= 0),
      paid_principal_fen bigint not null default 0,
      paid_interest_fen bigint not null default 0,
      check (paid_principal_fen between 0 and principal_fen),
      check (paid_interest_fen between 0 and interest_fen),
      primary key (loan_id, no)
    );
    create index installments_unpaid on installments (due_date)
      where paid_principal_fen < principal_fen or paid_interest_fen < interest_fen;

    -- one row per (business date, loan): what was due, the plan, the facts and rules behind it
    create table collection_items (
      business_date date not null,
      loan_id text not null references loans (id),
      customer_id text not null references customers (id),
      run_id bigint references batch_runs (id),
      due_fen bigint not null check (due_fen >= 0),
      planned_fen bigint not null check (planned_fen >= 0),
      held_fen bigint not null check (held_fen >= 0),
      step text not null,
      plan jsonb not null,
      facts jsonb not null,
      rule_set_hash text not null,
      fired text[] not null,
      created_at timestamptz not null default now(),
      primary key (business_date, loan_id)
    );
    create index collection_items_customer on collection_items (customer_id, business_date);

    -- at most one open hold per borrower; its amount is what is still unpaid of what
    -- fell due on or before as_of_date. Outflow is blocked exactly while it is open.
    create table holds (
      id bigserial primary key,
      customer_id text not null references customers (id),
      as_of_date date not null,
      amount_fen bigint not null check (amount_fen >= 0),
      status text not null check (status in ('open', 'cleared')),
      opened_at timestamptz not null default now(),
      cleared_at timestamptz,
      cleared_by text
    );
    create unique index holds_one_open on holds (customer_id) where status = 'open';

    -- what lendpay last made true on the platform: blocked must equal "has an open
    -- hold"; a crash between the two is mended by the next sync
    create table outflow_blocks (
      customer_id text primary key references customers (id),
      blocked boolean not null,
      updated_at timestamptz not null default now()
    );

    create table settlements (
      business_date date primary key,
      lines integer not null,
      total_fen bigint not null,
      received_at timestamptz not null default now()
    );

    create table notifications (
      id bigserial primary key,
      customer_id text not null references customers (id),
      kind text not null,
      order_id bigint references orders (id),
      body text not null,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    );
    create unique index notifications_once on notifications (order_id, kind) where order_id is not null;
    create index notifications_unsent on notifications (id) where sent_at is null;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table notifications, settlements, outflow_blocks, holds, collection_items, installments;
    alter table loans drop column kind;
  `.execute(db);
}
