// The money path in batches (issue 14). A batch of outcomes posts one journal entry
// whose lines name their order, so the balance is checked once per statement for the
// whole batch instead of once per line at commit; installments take their payments
// as HOT updates; and the index that only a full scan ever used goes.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- the order a line belongs to (an entry may carry the lines of many orders)
    alter table journal_lines add column order_id bigint;
    -- reports group every line by account: a sequential scan; the index cost every insert
    drop index journal_lines_account;

    -- Every entry balances, checked after each statement that inserts lines, once for
    -- the entries that statement touched (an entry's lines are written in one statement).
    -- An unbalanced posting fails the statement, and so the whole transaction.
    drop trigger journal_lines_balanced on journal_lines;
    create function journal_entries_balanced() returns trigger language plpgsql as $$
    declare bad record;
    begin
      select n.entry_id, s.d, s.c into bad
        from (select distinct entry_id from new_lines) n
        cross join lateral (
          select coalesce(sum(l.debit_fen), 0) as d, coalesce(sum(l.credit_fen), 0) as c
          from journal_lines l where l.entry_id = n.entry_id
        ) s
        where s.d <> s.c
        limit 1;
      if found then
        raise exception 'journal entry % does not balance: debits % <> credits %', bad.entry_id, bad.d, bad.c;
      end if;
      return null;
    end $$;
    create trigger journal_lines_balanced after insert on journal_lines
      referencing new table as new_lines for each statement execute function journal_entries_balanced();

    -- Payments change only paid_* columns: with no index over them and room on the
    -- page, each is a heap-only update (no index entries). The partial index over the
    -- unpaid rows made every payment a full update of two indexes.
    drop index installments_unpaid;
    alter table installments set (fillfactor = 80);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table installments reset (fillfactor);
    create index installments_unpaid on installments (due_date)
      where paid_principal_fen < principal_fen or paid_interest_fen < interest_fen;
    drop trigger journal_lines_balanced on journal_lines;
    drop function journal_entries_balanced();
    create constraint trigger journal_lines_balanced after insert on journal_lines
      deferrable initially deferred for each row execute function journal_entry_balanced();
    create index journal_lines_account on journal_lines (account);
    alter table journal_lines drop column order_id;
  `.execute(db);
}
