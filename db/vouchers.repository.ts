// Vouchers' SQL: the journal lines of a business date (a day of posting time in
// Asia/Shanghai) that have no voucher yet, as postings, the vouchers stored with their lines and
// the entries they book, and a day read back in one snapshot with the journal's
// movements for the same day. Building the vouchers is src/ledger/vouchers.ts's.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import type { Fen } from '../src/money.ts';
import type { EventType, Grouping, JournalPosting, Movement, NewVoucher, Voucher, VoucherLine } from '../src/ledger/vouchers.ts';

type Q = Db | Transaction<Database>;

/** journal entries posted on `date` in Asia/Shanghai (by the index on posted_at) */
const onDay = (date: string) => sql`e.posted_at >= (${date}::date)::timestamp at time zone 'Asia/Shanghai'
  and e.posted_at < (${date}::date + 1)::timestamp at time zone 'Asia/Shanghai'`;

/** One exporter of a date and grouping at a time (the numbers are sequential). */
export async function lockVoucherDay(trx: Transaction<Database>, date: string, grouping: Grouping): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`vouchers:${date}:${grouping}`}, 0))`.execute(trx);
}

export async function lastVoucherNumber(trx: Q, date: string, grouping: Grouping): Promise<number> {
  const r = await sql<{ n: number }>`select coalesce(max(number), 0)::int8 as n from vouchers where business_date = ${date}::date and grouping = ${grouping}`.execute(trx);
  return r.rows[0]?.n ?? 0;
}

/**
 * The day's journal lines with no voucher of this grouping yet, as postings: one per
 * (entry, order) (a line's order, or its entry's for entries written before lines
 * named theirs), with the order's purpose and key.
 */
export async function unvoucheredPostings(trx: Q, date: string, grouping: Grouping): Promise<JournalPosting[]> {
  const r = await sql<{ entry_id: number; kind: string; order_id: number | null; purpose: string | null; key: string | null; line_no: number; account: string; debit_fen: number; credit_fen: number; customer_id: string | null; loan_id: string | null }>`
    select e.id as entry_id, e.kind, coalesce(l.order_id, e.order_id) as order_id, o.purpose, o.idempotency_key as key,
      l.line_no, l.account, l.debit_fen, l.credit_fen, l.customer_id, l.loan_id
    from journal_entries e
    join journal_lines l on l.entry_id = e.id
    left join orders o on o.id = coalesce(l.order_id, e.order_id)
    where ${onDay(date)}
      and not exists (select 1 from voucher_postings vp where vp.grouping = ${grouping} and vp.entry_id = l.entry_id and vp.line_no = l.line_no)
    order by e.id, l.line_no
  `.execute(trx);
  const out = new Map<string, { entryId: number; orderId: number | null; kind: string; orderPurpose: string | null; orderKey: string | null; lines: JournalPosting['lines'][number][] }>();
  for (const x of r.rows) {
    const k = `${x.entry_id}:${x.order_id ?? ''}`;
    let p = out.get(k);
    if (!p) out.set(k, (p = { entryId: x.entry_id, orderId: x.order_id, kind: x.kind, orderPurpose: x.purpose, orderKey: x.key, lines: [] }));
    p.lines.push({ lineNo: x.line_no, account: x.account, debit: x.debit_fen as Fen, credit: x.credit_fen as Fen, customerId: x.customer_id, loanId: x.loan_id });
  }
  return [...out.values()];
}

/** Stores vouchers with their lines and the journal lines they book: three statements whatever their number. */
export async function insertVouchers(trx: Transaction<Database>, vouchers: readonly NewVoucher[]): Promise<void> {
  if (vouchers.length === 0) return;
  const ids = await sql<{ id: number; number: number }>`
    insert into vouchers (business_date, grouping, number, word, event_type, summary, customer_id, loan_id)
    select d, g, n, w, t, s, c, l from unnest(${vouchers.map((v) => v.date)}::date[], ${vouchers.map((v) => v.grouping)}::text[],
      ${vouchers.map((v) => v.number)}::int[], ${vouchers.map((v) => v.word)}::text[], ${vouchers.map((v) => v.eventType)}::text[],
      ${vouchers.map((v) => v.summary)}::text[], ${vouchers.map((v) => v.customerId)}::text[], ${vouchers.map((v) => v.loanId)}::text[]) as u(d, g, n, w, t, s, c, l)
    returning id, number
  `.execute(trx);
  const idOf = new Map(ids.rows.map((r) => [r.number, r.id]));
  const lines = vouchers.flatMap((v) => v.lines.map((l, i) => ({ v: idOf.get(v.number)!, no: i + 1, l })));
  await sql`
    insert into voucher_lines (voucher_id, line_no, account, subject_code, subject_name, customer_id, loan_id, debit_fen, credit_fen)
    select * from unnest(${lines.map((x) => x.v)}::int8[], ${lines.map((x) => x.no)}::int[], ${lines.map((x) => x.l.account)}::text[],
      ${lines.map((x) => x.l.subjectCode)}::text[], ${lines.map((x) => x.l.subjectName)}::text[], ${lines.map((x) => x.l.customerId)}::text[],
      ${lines.map((x) => x.l.loanId)}::text[], ${lines.map((x) => x.l.debit)}::int8[], ${lines.map((x) => x.l.credit)}::int8[])
  `.execute(trx);
  const booked = vouchers.flatMap((v) => v.booked.map((b) => ({ v: idOf.get(v.number)!, b, g: v.grouping })));
  await sql`
    insert into voucher_postings (grouping, entry_id, line_no, voucher_id)
    select * from unnest(${booked.map((x) => x.g)}::text[], ${booked.map((x) => x.b.entryId)}::int8[], ${booked.map((x) => x.b.lineNo)}::int[], ${booked.map((x) => x.v)}::int8[])
  `.execute(trx);
}

export interface VoucherDay {
  vouchers: Voucher[];
  /** the journal's movements on the day, per account */
  journal: Movement[];
  /** journal lines of the day with no voucher of this grouping (posted after the last export) */
  unvouchered: number;
}

/** A day's vouchers, its journal movements and what has no voucher yet, all in one snapshot. */
export async function readVoucherDay(db: Db, date: string, grouping: Grouping): Promise<VoucherDay> {
  return db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    const vs = await sql<{ id: number; number: number; word: string; event_type: EventType; summary: string; customer_id: string | null; loan_id: string | null }>`
      select id, number, word, event_type, summary, customer_id, loan_id from vouchers
      where business_date = ${date}::date and grouping = ${grouping} order by number
    `.execute(trx);
    const ls = await sql<{ voucher_id: number; account: string; subject_code: string; subject_name: string; customer_id: string | null; loan_id: string | null; debit_fen: number; credit_fen: number }>`
      select l.voucher_id, l.account, l.subject_code, l.subject_name, l.customer_id, l.loan_id, l.debit_fen, l.credit_fen
      from voucher_lines l join vouchers v on v.id = l.voucher_id
      where v.business_date = ${date}::date and v.grouping = ${grouping} order by l.voucher_id, l.line_no
    `.execute(trx);
    const journal = await sql<{ account: string; debit: number; credit: number }>`
      select l.account, sum(l.debit_fen)::int8 as debit, sum(l.credit_fen)::int8 as credit
      from journal_entries e join journal_lines l on l.entry_id = e.id where ${onDay(date)} group by l.account order by l.account
    `.execute(trx);
    const pending = await sql<{ n: number }>`
      select count(*)::int8 as n from journal_entries e join journal_lines l on l.entry_id = e.id
      where ${onDay(date)} and not exists (select 1 from voucher_postings vp where vp.grouping = ${grouping} and vp.entry_id = l.entry_id and vp.line_no = l.line_no)
    `.execute(trx);
    const linesOf = new Map<number, VoucherLine[]>();
    for (const l of ls.rows) {
      const list = linesOf.get(l.voucher_id) ?? [];
      list.push({ account: l.account, subjectCode: l.subject_code, subjectName: l.subject_name, debit: l.debit_fen as Fen, credit: l.credit_fen as Fen, customerId: l.customer_id, loanId: l.loan_id });
      linesOf.set(l.voucher_id, list);
    }
    return {
      vouchers: vs.rows.map((v) => ({
        date, grouping, number: v.number, word: v.word, eventType: v.event_type, summary: v.summary, customerId: v.customer_id, loanId: v.loan_id, lines: linesOf.get(v.id) ?? [],
      })),
      journal: journal.rows,
      unvouchered: pending.rows[0]?.n ?? 0,
    };
  });
}
