// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table customers (
      id text primary key,
      name text not null,
      segment text not null check (segment in ('supply_chain', 'open_platform', 'external')),
      real_name_verified boolean not null,
      whitelist_limit_fen bigint check (whitelist_limit_fen >= 0),
      whitelist_reason text,
      whitelist_expires_on date,
      imported_at timestamptz not null default now(),
      check (whitelist_limit_fen is not null or (whitelist_reason is null and whitelist_expires_on is null))
    );

    create table customer_accounts (
      id text primary key,
      customer_id text not null references customers (id),
      is_primary boolean not null,
      imported_balance_fen bigint not null check (imported_balance_fen >= 0)
    );
    create index customer_accounts_customer on customer_accounts (customer_id);
    create unique index customer_accounts_one_primary on customer_accounts (customer_id) where is_primary;

    create table customer_bank_cards (
      id text primary key,
      customer_id text not null references customers (id),
      bank text not null,
      last4 text not null check (last4 ~ '^[0-9]{4}$'),
      imported_balance_fen bigint not null check (imported_balance_fen >= 0)
    );
    create index customer_bank_cards_customer on customer_bank_cards (customer_id);

    -- month is the first day of the calendar month
    create table customer_monthly_flows (
      customer_id text not null references customers (id),
      month date not null check (extract(day from month) = 1),
      flow_fen bigint not null check (flow_fen >= 0),
      primary key (customer_id, month)
    );

    -- every rule set that ever made a decision, by content hash, so explain works later
    create table rule_sets (
      hash text primary key,
      kind text not null,
      content jsonb not null,
      first_used_at timestamptz not null default now()
    );

    create table batch_runs (
      id bigserial primary key,
      kind text not null,
      business_date date not null,
      status text not null check (status in ('running', 'finished', 'failed')),
      rule_set_hash text references rule_sets (hash),
      total_chunks integer not null default 0,
      started_at timestamptz not null default now(),
      finished_at timestamptz,
      summary jsonb,
      unique (kind, business_date)
    );

    create table batch_chunks (
      run_id bigint not null references batch_runs (id),
      chunk_no integer not null,
      from_key text not null,
      to_key text,
      status text not null check (status in ('pending', 'done')),
      items integer,
      done_at timestamptz,
      primary key (run_id, chunk_no)
    );

    create table eligibility_decisions (
      business_date date not null,
      customer_id text not null references customers (id),
      run_id bigint references batch_runs (id),
      eligible boolean not null,
      door text check (door in ('whitelist', 'auto_tag')),
      limit_fen bigint not null check (limit_fen >= 0),
      reasons text[] not null,
      rule_set_hash text not null references rule_sets (hash),
      fired text[] not null,
      facts jsonb not null,
      decided_at timestamptz not null default now(),
      primary key (business_date, customer_id)
    );
    create index eligibility_decisions_customer on eligibility_decisions (customer_id, business_date);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table eligibility_decisions, batch_chunks, batch_runs, rule_sets,
      customer_monthly_flows, customer_bank_cards, customer_accounts, customers
  `.execute(db);
}
