// Vouchers (记账凭证) exported to the finance system. A voucher, once numbered, is
// never renumbered or rewritten: re-exporting a date reads these rows back, and
// journal lines that reach the date later get new vouchers with the next numbers.
// Each journal line belongs to exactly one voucher of each grouping.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- the day's entries are found by their posting time (a day in Asia/Shanghai)
    create index journal_entries_posted on journal_entries (posted_at);

    create table vouchers (
      id bigserial primary key,
      business_date date not null,
      grouping text not null check (grouping in ('type', 'entry')),
      number integer not null check (number > 0),
      word text not null,
      event_type text not null,
      summary text not null,
      customer_id text,
      loan_id text,
      created_at timestamptz not null default now(),
      unique (business_date, grouping, number)
    );

    create table voucher_lines (
      voucher_id bigint not null references vouchers (id),
      line_no integer not null check (line_no > 0),
      account text not null,
      subject_code text not null,
      subject_name text not null,
      customer_id text,
      loan_id text,
      debit_fen bigint not null check (debit_fen >= 0),
      credit_fen bigint not null check (credit_fen >= 0),
      check ((debit_fen = 0) <> (credit_fen = 0)),
      primary key (voucher_id, line_no)
    );

    -- the journal lines each voucher books: every line of the day in exactly one voucher
    -- of each grouping (an entry of a batch carries many orders' lines)
    create table voucher_postings (
      grouping text not null check (grouping in ('type', 'entry')),
      entry_id bigint not null,
      line_no integer not null,
      voucher_id bigint not null references vouchers (id),
      primary key (grouping, entry_id, line_no),
      foreign key (entry_id, line_no) references journal_lines (entry_id, line_no)
    );
    create index voucher_postings_voucher on voucher_postings (voucher_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table voucher_postings, voucher_lines, vouchers;
    drop index journal_entries_posted;
  `.execute(db);
}
