// Loans, payment orders with their attempts, and the double-entry journal.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table loans (
      id text primary key,
      customer_id text not null references customers (id),
      request_id text not null unique,
      request_hash text not null,
      principal_fen bigint not null check (principal_fen > 0),
      rail text not null check (rail in ('balance', 'card')),
      destination_id text not null,
      mode text not null check (mode in ('compliant', 'legacy')),
      status text not null check (status in ('disbursing', 'disbursed', 'failed')),
      decision_date date not null,
      rule_set_hash text not null,
      limit_fen bigint not null,
      expected_arrival_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create sequence loan_numbers start 1001;
    create index loans_customer on loans (customer_id);

    create table orders (
      id bigserial primary key,
      idempotency_key text not null unique,
      kind text not null check (kind in ('collection', 'payout', 'debit', 'topup')),
      purpose text not null,
      loan_id text references loans (id),
      customer_id text references customers (id),
      amount_fen bigint not null check (amount_fen > 0),
      source_ref text not null,
      destination_ref text not null,
      status text not null check (status in ('created', 'submitted', 'unknown', 'succeeded', 'failed', 'voided')),
      error_code text,
      parent_order_id bigint references orders (id),
      arrives_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index orders_loan on orders (loan_id);
    create index orders_open on orders (status) where status in ('created', 'submitted', 'unknown');

    create table order_attempts (
      order_id bigint not null references orders (id),
      attempt_no integer not null check (attempt_no > 0),
      request_id text not null unique,
      status text not null check (status in ('submitted', 'unknown', 'succeeded', 'failed')),
      error_code text,
      platform_ref text,
      submitted_at timestamptz not null default now(),
      resolved_at timestamptz,
      queries integer not null default 0,
      last_queried_at timestamptz,
      primary key (order_id, attempt_no)
    );
    create index order_attempts_open on order_attempts (submitted_at) where status in ('submitted', 'unknown');

    create table journal_entries (
      id bigserial primary key,
      order_id bigint references orders (id),
      kind text not null,
      memo text not null,
      posted_at timestamptz not null default now()
    );
    -- one posting per (order, kind): a replayed outcome can never post twice
    create unique index journal_entries_once on journal_entries (order_id, kind) where order_id is not null;

    create table journal_lines (
      entry_id bigint not null references journal_entries (id),
      line_no integer not null,
      account text not null,
      customer_id text,
      loan_id text,
      debit_fen bigint not null default 0 check (debit_fen >= 0),
      credit_fen bigint not null default 0 check (credit_fen >= 0),
      check ((debit_fen = 0) <> (credit_fen = 0)),
      primary key (entry_id, line_no)
    );
    create index journal_lines_account on journal_lines (account);
    create index journal_lines_loan on journal_lines (loan_id) where loan_id is not null;

    -- Every entry balances, checked at commit: an unbalanced posting rolls back the
    -- whole transaction, order state change included.
    create function journal_entry_balanced() returns trigger language plpgsql as $$
    declare d bigint; c bigint;
    begin
      select coalesce(sum(debit_fen), 0), coalesce(sum(credit_fen), 0) into d, c
        from journal_lines where entry_id = new.entry_id;
      if d <> c then
        raise exception 'journal entry % does not balance: debits % <> credits %', new.entry_id, d, c;
      end if;
      return null;
    end $$;
    create constraint trigger journal_lines_balanced after insert on journal_lines
      deferrable initially deferred for each row execute function journal_entry_balanced();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop trigger journal_lines_balanced on journal_lines;
    drop function journal_entry_balanced();
    drop table journal_lines, journal_entries, order_attempts, orders;
    drop sequence loan_numbers;
    drop table loans;
  `.execute(db);
}
