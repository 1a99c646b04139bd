// Prepayment's SQL: a loan's whole state (every installment with what is paid, its
// product's fee, the date its schedule starts) read under the loan's lock, the
// interest a prepayment waives, and the record of each prepayment.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import type { Fen } from '../src/money.ts';
import type { BusinessDate } from '../src/dates.ts';
import type { LoanState, PrepaymentPlan } from '../src/loans/prepayment.ts';

type Q = Db | Transaction<Database>;

/** The loans' states (every installment, paid amounts, fee), by loan id; a loan without installments is absent. */
export async function loanStates(q: Q, loanIds: readonly string[]): Promise<Map<string, LoanState & { customerId: string; status: string; kind: string }>> {
  const out = new Map<string, LoanState & { customerId: string; status: string; kind: string }>();
  if (loanIds.length === 0) return out;
  const r = await sql<{
    loan_id: string; customer_id: string; status: string; kind: string; disbursed_on: string; fee_bp: number | null;
    no: number; due_date: string; p: number; i: number; pen: number; pp: number; pi: number; ppen: number;
  }>`
    select l.id as loan_id, l.customer_id, l.status, l.kind, l.disbursed_on::text as disbursed_on, (l.product->>'prepaymentFeeBp')::int as fee_bp,
      i.no, i.due_date::text as due_date, i.principal_fen as p, i.interest_fen as i, i.penalty_fen as pen,
      i.paid_principal_fen as pp, i.paid_interest_fen as pi, i.paid_penalty_fen as ppen
    from loans l join installments i on i.loan_id = l.id
    where l.id = any(${[...loanIds]}::text[])
    order by l.id, i.due_date, i.no
  `.execute(q);
  for (const x of r.rows) {
    let s = out.get(x.loan_id);
    if (!s) {
      s = { loanId: x.loan_id, customerId: x.customer_id, status: x.status, kind: x.kind, disbursedOn: x.disbursed_on as BusinessDate, prepaymentFeeBp: x.fee_bp ?? 0, installments: [] };
      out.set(x.loan_id, s);
    }
    (s.installments as LoanState['installments'][number][]).push({
      no: x.no, dueDate: x.due_date as BusinessDate, principal: x.p as Fen, interest: x.i as Fen, penalty: x.pen as Fen,
      paidPrincipal: x.pp as Fen, paidInterest: x.pi as Fen, paidPenalty: x.ppen as Fen,
    });
  }
  return out;
}

/** Interest no longer owed, taken off the installments (never below what is paid of it), one statement. */
export async function waiveInterest(trx: Transaction<Database>, waivers: readonly { loanId: string; no: number; interest: number }[]): Promise<void> {
  if (waivers.length === 0) return;
  await sql`
    update installments i set interest_fen = i.interest_fen - u.w
    from (select l, n, sum(w)::int8 as w from unnest(${waivers.map((w) => w.loanId)}::text[], ${waivers.map((w) => w.no)}::int[], ${waivers.map((w) => w.interest)}::int8[]) as x(l, n, w) group by l, n) u
    where i.loan_id = u.l and i.no = u.n
  `.execute(trx);
}

export interface PrepaymentRecord {
  orderId: number;
  plan: PrepaymentPlan;
  description: string;
}

export async function insertPrepayments(trx: Transaction<Database>, rows: readonly PrepaymentRecord[]): Promise<void> {
  if (rows.length === 0) return;
  const waived = (p: PrepaymentPlan) => p.interestWaived.reduce((s, w) => s + w.interest, 0);
  await sql`
    insert into prepayments (order_id, loan_id, business_date, kind, principal_fen, interest_fen, penalty_fen, fee_fen, prepaid_principal_fen, overpayment_fen, interest_waived_fen, description, plan)
    select o, l, d, k, p, i, pen, f, pp, op, w, ds, pl::jsonb
    from unnest(${rows.map((r) => r.orderId)}::int8[], ${rows.map((r) => r.plan.loanId)}::text[], ${rows.map((r) => r.plan.date)}::date[], ${rows.map((r) => r.plan.kind)}::text[],
      ${rows.map((r) => r.plan.principal)}::int8[], ${rows.map((r) => r.plan.interest)}::int8[], ${rows.map((r) => r.plan.penalty)}::int8[], ${rows.map((r) => r.plan.fee)}::int8[],
      ${rows.map((r) => r.plan.prepaidPrincipal)}::int8[], ${rows.map((r) => r.plan.overpayment)}::int8[], ${rows.map((r) => waived(r.plan))}::int8[],
      ${rows.map((r) => r.description)}::text[], ${rows.map((r) => JSON.stringify(r.plan))}::text[]) as u(o, l, d, k, p, i, pen, f, pp, op, w, ds, pl)
    on conflict (order_id) do nothing
  `.execute(trx);
}

export interface StoredPrepayment {
  orderId: number;
  loanId: string;
  businessDate: string;
  kind: 'payoff' | 'partial';
  description: string;
}

export async function prepaymentOfOrder(q: Q, orderId: number): Promise<StoredPrepayment | null> {
  const r = await q.selectFrom('prepayments').select(['order_id', 'loan_id', 'business_date', 'kind', 'description']).where('order_id', '=', orderId).executeTakeFirst();
  return r ? { orderId: r.order_id, loanId: r.loan_id, businessDate: r.business_date, kind: r.kind, description: r.description } : null;
}
