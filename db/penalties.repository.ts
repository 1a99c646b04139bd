// Penalty accrual's SQL, one chunk of borrowers at a time: the borrowers with an
// installment overdue and not yet accrued through the date, locked; their facts in one
// statement; what accrues written in one statement.
import { sql, type Transaction } from 'kysely';
import type { Database } from './types.ts';
import { lockCustomers } from './collection.repository.ts';
import type { Fen } from '../src/money.ts';
import type { BusinessDate } from '../src/dates.ts';
import type { PenaltyAccrual, PenaltyFacts } from '../src/loans/penalty.ts';

export type CustomerRange = { fromKey: string; toKey: string | null } | { ids: readonly string[] };

function inRange(range: CustomerRange) {
  return 'ids' in range
    ? sql`l.customer_id = any(${range.ids as string[]}::text[])`
    : range.toKey === null
      ? sql`l.customer_id >= ${range.fromKey}`
      : sql`l.customer_id >= ${range.fromKey} and l.customer_id < ${range.toKey}`;
}

/**
 * The overdue installments of the range's loans not yet accrued through `date`, read
 * under their borrowers' locks (taken in id order, as the planner and collection
 * outcomes take them, so a payment and an accrual of one borrower go one after the
 * other): principal still unpaid, and the penalty terms the loan was sold with. Loans
 * made before products (no terms) and recovery receivables accrue nothing.
 */
export async function lockPenaltyFacts(trx: Transaction<Database>, date: BusinessDate, range: CustomerRange): Promise<PenaltyFacts[]> {
  const who = await sql<{ customer_id: string }>`
    select distinct l.customer_id from loans l
    where ${inRange(range)} and l.status = 'disbursed' and l.kind = 'loan' and l.product is not null
      and (l.product->>'penaltyDailyRatePpm')::int > 0
      and exists (select 1 from installments i where i.loan_id = l.id and i.due_date < ${date}::date and i.paid_principal_fen < i.principal_fen
                    and (i.penalty_through is null or i.penalty_through < ${date}::date))
  `.execute(trx);
  if (who.rows.length === 0) return [];
  const ids = who.rows.map((x) => x.customer_id).sort();
  await lockCustomers(trx, ids);
  const r = await sql<{ loan_id: string; customer_id: string; no: number; due_date: string; overdue: number; through: string | null; ppm: number; grace: number }>`
    select l.id as loan_id, l.customer_id, i.no, i.due_date::text as due_date, i.principal_fen - i.paid_principal_fen as overdue,
      i.penalty_through::text as through, (l.product->>'penaltyDailyRatePpm')::int as ppm, (l.product->>'graceDays')::int as grace
    from loans l join installments i on i.loan_id = l.id
    where l.customer_id = any(${ids}::text[]) and l.status = 'disbursed' and l.kind = 'loan' and l.product is not null
      and (l.product->>'penaltyDailyRatePpm')::int > 0
      and i.due_date < ${date}::date and i.paid_principal_fen < i.principal_fen
      and (i.penalty_through is null or i.penalty_through < ${date}::date)
    order by l.id, i.no
  `.execute(trx);
  return r.rows.map((x) => ({
    loanId: x.loan_id, customerId: x.customer_id, no: x.no, dueDate: x.due_date as BusinessDate, overduePrincipal: x.overdue as Fen,
    penaltyThrough: x.through as BusinessDate | null, penaltyDailyRatePpm: x.ppm, graceDays: x.grace ?? 0,
  }));
}

/** Adds what accrued to each installment and moves its accrued-through date, one statement; returns what it wrote. */
export async function applyPenaltyAccruals(trx: Transaction<Database>, accruals: readonly PenaltyAccrual[]): Promise<PenaltyAccrual[]> {
  if (accruals.length === 0) return [];
  const r = await sql<{ loan_id: string; no: number }>`
    update installments i set penalty_fen = i.penalty_fen + u.a, penalty_through = u.t
    from unnest(${accruals.map((a) => a.loanId)}::text[], ${accruals.map((a) => a.no)}::int[], ${accruals.map((a) => a.amount)}::int8[], ${accruals.map((a) => a.through)}::date[]) as u(l, n, a, t)
    where i.loan_id = u.l and i.no = u.n and (i.penalty_through is null or i.penalty_through < u.t)
    returning i.loan_id, i.no
  `.execute(trx);
  const wrote = new Set(r.rows.map((x) => `${x.loan_id}#${x.no}`));
  return accruals.filter((a) => wrote.has(`${a.loanId}#${a.no}`));
}
