// Loans: created under the customer's row lock so that concurrent applications
// cannot together exceed the credit limit, and unique per business request id.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import type { Fen } from '../src/money.ts';
import type { ApplicationFacts } from '../src/disbursement/application.ts';
import type { Installment } from '../src/loans/schedule.ts';
import type { NewOrder, Order } from '../src/orders/types.ts';
import type { LoanProductTerms } from '../src/loans/products.ts';

export interface Loan {
  id: string;
  customerId: string;
  requestId: string;
  requestHash: string;
  principal: Fen;
  rail: 'balance' | 'card';
  destinationId: string;
  mode: 'compliant' | 'legacy';
  /** closed: nothing more is owed */
  status: 'disbursing' | 'disbursed' | 'failed' | 'closed';
  decisionDate: string;
  ruleSetHash: string;
  limit: Fen;
  expectedArrivalAt: Date | null;
  createdAt: Date;
  /** the product it was sold as, with the terms as sold; null for loans made before products and for recovery receivables */
  productId: string | null;
  product: LoanProductTerms | null;
  /** the business date its schedule starts from */
  disbursedOn: string;
}

type Q = Db | Transaction<Database>;

function toLoan(r: Record<string, unknown>): Loan {
  return {
    id: r['id'] as string,
    customerId: r['customer_id'] as string,
    requestId: r['request_id'] as string,
    requestHash: r['request_hash'] as string,
    principal: r['principal_fen'] as Fen,
    rail: r['rail'] as Loan['rail'],
    destinationId: r['destination_id'] as string,
    mode: r['mode'] as Loan['mode'],
    status: r['status'] as Loan['status'],
    decisionDate: r['decision_date'] as string,
    ruleSetHash: r['rule_set_hash'] as string,
    limit: r['limit_fen'] as Fen,
    expectedArrivalAt: r['expected_arrival_at'] as Date | null,
    createdAt: r['created_at'] as Date,
    productId: (r['product_id'] as string | null) ?? null,
    product: (r['product'] as LoanProductTerms | null) ?? null,
    disbursedOn: r['disbursed_on'] as string,
  };
}

export async function getLoans(db: Q, ids: readonly string[]): Promise<Loan[]> {
  if (ids.length === 0) return [];
  const r = await sql<Record<string, unknown>>`select * from loans where id = any(${[...ids]}::text[]) order by id`.execute(db);
  return r.rows.map(toLoan);
}

export async function getLoan(db: Q, id: string): Promise<Loan | null> {
  const r = await db.selectFrom('loans').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toLoan(r) : null;
}

export async function getLoanByRequest(db: Q, requestId: string): Promise<Loan | null> {
  const r = await db.selectFrom('loans').selectAll().where('request_id', '=', requestId).executeTakeFirst();
  return r ? toLoan(r) : null;
}

export async function loansByRequestIds(db: Q, requestIds: readonly string[]): Promise<Map<string, Loan>> {
  if (requestIds.length === 0) return new Map();
  const r = await sql<Record<string, unknown>>`select * from loans where request_id = any(${[...requestIds]}::text[])`.execute(db);
  return new Map(r.rows.map((x) => [x['request_id'] as string, toLoan(x)]));
}

/** Locks the customers' rows in id order (no two lockers deadlock); returns those that exist. */
export async function lockCustomersById(trx: Transaction<Database>, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const sorted = [...new Set(ids)].sort();
  const r = await sql<{ id: string }>`select id from customers where id = any(${sorted}::text[]) order by id for update`.execute(trx);
  return new Set(r.rows.map((x) => x.id));
}

export interface CustomerCredit {
  decision: ApplicationFacts['decision'];
  /** principal of the customer's loans not yet repaid, failed loans excluded */
  outstanding: Fen;
  /** balance accounts and bank cards, by id */
  accounts: string[];
  primaryAccount: string | null;
  cards: string[];
  /** the customer's loans made under any of the request ids asked about */
  loansByRequest: Map<string, Loan>;
}

/**
 * What applications of many customers are checked against, read under their locks in
 * one statement: the latest decision on or before `asOf`, what is outstanding, where
 * money may be paid to, and the loans already made under the given request ids.
 */
export async function creditOfCustomers(trx: Transaction<Database>, customerIds: readonly string[], asOf: string, requestIds: readonly string[] = []): Promise<Map<string, CustomerCredit>> {
  const out = new Map<string, CustomerCredit>();
  if (customerIds.length === 0) return out;
  const ids = [...new Set(customerIds)];
  const r = await sql<{
    id: string; business_date: string | null; eligible: boolean | null; limit_fen: number | null; reasons: string[] | null; rule_set_hash: string | null; outstanding: number;
    accounts: { id: string; p: boolean }[] | null; cards: string[] | null; loans: Record<string, unknown>[] | null;
  }>`
    select c.id, d.business_date::text as business_date, d.eligible, d.limit_fen, d.reasons, d.rule_set_hash,
      coalesce((select sum(l.principal_fen) from loans l where l.customer_id = c.id and l.status not in ('failed', 'closed')), 0)::int8 as outstanding,
      (select json_agg(json_build_object('id', a.id, 'p', a.is_primary) order by a.id) from customer_accounts a where a.customer_id = c.id) as accounts,
      (select json_agg(k.id order by k.id) from customer_bank_cards k where k.customer_id = c.id) as cards,
      (select json_agg(row_to_json(l)) from loans l where l.customer_id = c.id and l.request_id = any(${[...requestIds]}::text[])) as loans
    from unnest(${ids}::text[]) as c(id)
    left join lateral (
      select business_date, eligible, limit_fen, reasons, rule_set_hash from eligibility_decisions e
      where e.customer_id = c.id and e.business_date <= ${asOf}::date order by e.business_date desc limit 1
    ) d on true
  `.execute(trx);
  for (const f of r.rows) {
    const accounts = f.accounts ?? [];
    out.set(f.id, {
      decision: f.business_date === null ? null : { businessDate: f.business_date, eligible: f.eligible!, limit: f.limit_fen! as Fen, reasons: f.reasons ?? [], ruleSetHash: f.rule_set_hash! },
      outstanding: Number(f.outstanding) as Fen,
      accounts: accounts.map((a) => a.id),
      primaryAccount: accounts.find((a) => a.p)?.id ?? null,
      cards: f.cards ?? [],
      loansByRequest: new Map((f.loans ?? []).map((l) => [l['request_id'] as string, loanFromJson(l)])),
    });
  }
  return out;
}

/** A loans row that came back as JSON (row_to_json): timestamps are text there. */
function loanFromJson(j: Record<string, unknown>): Loan {
  const ts = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return toLoan({ ...j, created_at: ts(j['created_at']), expected_arrival_at: ts(j['expected_arrival_at']), updated_at: ts(j['updated_at']) });
}

export type NewLoan = Omit<Loan, 'id' | 'status' | 'expectedArrivalAt' | 'createdAt' | 'productId' | 'product' | 'disbursedOn'>
  & { product: LoanProductTerms | null; disbursedOn: string };

export interface NewLoanWithSchedule extends NewLoan {
  installments: readonly Installment[];
  /** the order that funds it, keyed by the loan id once it has one */
  fund: (loanId: string) => Omit<NewOrder, 'loanId' | 'customerId' | 'amount'>;
}

/**
 * Creates loans with their schedules, their funding orders and those orders' first
 * attempts (submitted), one statement. A request id already taken (a race with another
 * process) is left out of the answer: the caller reads who has it.
 */
export async function createLoans(trx: Transaction<Database>, loans: readonly NewLoanWithSchedule[], now: Date): Promise<{ loan: Loan; fund: Order }[]> {
  if (loans.length === 0) return [];
  const inst = loans.flatMap((l) => l.installments.map((i) => ({ r: l.requestId, ...i })));
  // the funding order's key names the loan, whose id the statement draws: the key is
  // built with a marker in its place that the statement fills in
  const MARK = '{loan}';
  const funds = loans.map((l) => l.fund(MARK));
  const r = await sql<Record<string, unknown>>`
    with made as (
      insert into loans (id, customer_id, request_id, request_hash, principal_fen, rail, destination_id, mode, status, decision_date, rule_set_hash, limit_fen, created_at, updated_at,
        product_id, product, disbursed_on)
      select 'L' || nextval('loan_numbers'), c, r, h, p, ra, d, m, 'disbursing', dd, rs, lf, ${now}, ${now}, pr::jsonb ->> 'id', pr::jsonb, don
      from unnest(${loans.map((l) => l.customerId)}::text[], ${loans.map((l) => l.requestId)}::text[], ${loans.map((l) => l.requestHash)}::text[],
        ${loans.map((l) => l.principal)}::int8[], ${loans.map((l) => l.rail)}::text[], ${loans.map((l) => l.destinationId)}::text[], ${loans.map((l) => l.mode)}::text[],
        ${loans.map((l) => l.decisionDate)}::date[], ${loans.map((l) => l.ruleSetHash)}::text[], ${loans.map((l) => l.limit)}::int8[],
        ${loans.map((l) => (l.product ? JSON.stringify(l.product) : null))}::text[], ${loans.map((l) => l.disbursedOn)}::date[])
        with ordinality as u(c, r, h, p, ra, d, m, dd, rs, lf, pr, don, n)
      order by n
      on conflict (request_id) do nothing
      returning *
    ), schedule as (
      insert into installments (loan_id, no, due_date, principal_fen, interest_fen)
      select m.id, s.no, s.d, s.p, s.i
      from unnest(${inst.map((i) => i.r)}::text[], ${inst.map((i) => i.no)}::int[], ${inst.map((i) => i.dueDate)}::date[], ${inst.map((i) => i.principal)}::int8[], ${inst.map((i) => i.interest)}::int8[])
        as s(r, no, d, p, i)
      join made m on m.request_id = s.r
    ), fund as (
      insert into orders (idempotency_key, kind, purpose, loan_id, customer_id, amount_fen, source_ref, destination_ref, status, created_at, updated_at)
      select replace(f.k, ${MARK}, m.id), f.kd, f.p, m.id, m.customer_id, m.principal_fen, f.s, f.d, 'submitted', ${now}, ${now}
      from unnest(${loans.map((l) => l.requestId)}::text[], ${funds.map((f) => f.idempotencyKey)}::text[], ${funds.map((f) => f.kind)}::text[],
        ${funds.map((f) => f.purpose)}::text[], ${funds.map((f) => f.sourceRef)}::text[], ${funds.map((f) => f.destinationRef)}::text[]) as f(r, k, kd, p, s, d)
      join made m on m.request_id = f.r
      returning *
    ), attempts as (
      insert into order_attempts (order_id, attempt_no, request_id, status, submitted_at)
      select id, 1, idempotency_key || '#1', 'submitted', ${now} from fund
    )
    select m.*, f.id as f_id, f.idempotency_key as f_key, f.kind as f_kind, f.purpose as f_purpose, f.source_ref as f_source, f.destination_ref as f_destination
    from made m join fund f on f.loan_id = m.id
    order by m.id
  `.execute(trx);
  return r.rows.map((row) => {
    const loan = toLoan(row);
    const fund: Order = {
      id: Number(row['f_id']), idempotencyKey: row['f_key'] as string, kind: row['f_kind'] as Order['kind'], purpose: row['f_purpose'] as string,
      loanId: loan.id, customerId: loan.customerId, amount: loan.principal, sourceRef: row['f_source'] as string, destinationRef: row['f_destination'] as string,
      status: 'submitted', errorCode: null, parentOrderId: null, arrivesAt: null, createdAt: now, updatedAt: now,
    };
    return { loan, fund };
  });
}

/**
 * Recovery receivables (a payout the platform made twice), created disbursed and owed
 * back; one per request id (`recon:<platform ref>`): a re-run finds the first.
 */
export async function insertRecoveryLoans(
  trx: Transaction<Database>,
  rs: readonly { requestId: string; customerId: string; requestHash: string; amount: Fen; rail: 'card' | 'balance'; destinationId: string; decisionDate: string }[],
): Promise<Map<string, { id: string; fresh: boolean }>> {
  const out = new Map<string, { id: string; fresh: boolean }>();
  if (rs.length === 0) return out;
  const made = await sql<{ id: string; request_id: string }>`
    insert into loans (id, kind, customer_id, request_id, request_hash, principal_fen, rail, destination_id, mode, status, decision_date, rule_set_hash, limit_fen)
    select 'R' || nextval('loan_numbers'), 'recovery', c, r, h, a, ra, d, 'compliant', 'disbursed', dd, 'reconciliation', 0
    from unnest(${rs.map((x) => x.customerId)}::text[], ${rs.map((x) => x.requestId)}::text[], ${rs.map((x) => x.requestHash)}::text[], ${rs.map((x) => x.amount)}::int8[],
      ${rs.map((x) => x.rail)}::text[], ${rs.map((x) => x.destinationId)}::text[], ${rs.map((x) => x.decisionDate)}::date[]) with ordinality as u(c, r, h, a, ra, d, dd, n)
    order by n
    on conflict (request_id) do nothing returning id, request_id
  `.execute(trx);
  for (const m of made.rows) out.set(m.request_id, { id: m.id, fresh: true });
  const missing = rs.map((x) => x.requestId).filter((r) => !out.has(r));
  if (missing.length > 0) {
    const found = await sql<{ id: string; request_id: string }>`select id, request_id from loans where request_id = any(${missing}::text[])`.execute(trx);
    for (const f of found.rows) out.set(f.request_id, { id: f.id, fresh: false });
  }
  return out;
}

/** Who owns the account or card each payout went to (by the payout's platform reference). */
export async function ownersOfPayouts(db: Q, payouts: readonly { ref: string; account: string | null; card: string | null }[]): Promise<Map<string, string>> {
  if (payouts.length === 0) return new Map();
  const r = await sql<{ ref: string; owner: string | null }>`
    select u.ref, coalesce(a.customer_id, k.customer_id) as owner
    from unnest(${payouts.map((p) => p.ref)}::text[], ${payouts.map((p) => p.account)}::text[], ${payouts.map((p) => p.card)}::text[]) as u(ref, acc, card)
    left join customer_accounts a on a.id = u.acc
    left join customer_bank_cards k on k.id = u.card and u.acc is null
  `.execute(db);
  return new Map(r.rows.filter((x) => x.owner !== null).map((x) => [x.ref, x.owner!]));
}

/** The repayment schedules of many loans, one statement. */
export async function insertSchedules(trx: Q, schedules: readonly { loanId: string; installments: readonly Installment[] }[]): Promise<void> {
  const rows = schedules.flatMap((s) => s.installments.map((i) => ({ l: s.loanId, ...i })));
  if (rows.length === 0) return;
  await sql`
    insert into installments (loan_id, no, due_date, principal_fen, interest_fen)
    select l, n, d, p, i from unnest(${rows.map((r) => r.l)}::text[], ${rows.map((r) => r.no)}::int[], ${rows.map((r) => r.dueDate)}::date[],
      ${rows.map((r) => r.principal)}::int8[], ${rows.map((r) => r.interest)}::int8[]) as u(l, n, d, p, i)
    on conflict do nothing
  `.execute(trx);
}

/** Loans whose payout was accepted: disbursed, with when the money arrives. Only loans still disbursing move; those are returned. */
export async function markDisbursed(db: Q, loans: readonly { loanId: string; arrivesAt: Date }[], now: Date = new Date()): Promise<Loan[]> {
  if (loans.length === 0) return [];
  const r = await sql<Record<string, unknown>>`
    update loans l set status = 'disbursed', expected_arrival_at = u.t, updated_at = ${now}
    from unnest(${loans.map((x) => x.loanId)}::text[], ${loans.map((x) => x.arrivesAt)}::timestamptz[]) as u(id, t)
    where l.id = u.id and l.status = 'disbursing'
    returning l.*
  `.execute(db);
  return r.rows.map(toLoan);
}

/** Loans that cannot be disbursed any more. Only loans still disbursing move. */
export async function markFailed(db: Q, loanIds: readonly string[], now: Date = new Date()): Promise<void> {
  if (loanIds.length === 0) return;
  await sql`update loans set status = 'failed', updated_at = ${now} where id = any(${[...loanIds]}::text[]) and status = 'disbursing'`.execute(db);
}

export async function setLoanStatus(db: Q, id: string, status: Loan['status'], expectedArrivalAt: Date | null = null): Promise<void> {
  await db
    .updateTable('loans')
    .set({ status, expected_arrival_at: expectedArrivalAt, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'disbursing')
    .execute();
}

export interface InstallmentRow {
  no: number;
  dueDate: string;
  principal: Fen;
  interest: Fen;
  penalty: Fen;
  paidPrincipal: Fen;
  paidInterest: Fen;
  paidPenalty: Fen;
}

/** A loan's installments, in order, with what has been paid of each. */
export async function installmentsOf(db: Q, loanId: string): Promise<InstallmentRow[]> {
  const rows = await db.selectFrom('installments')
    .select(['no', 'due_date', 'principal_fen', 'interest_fen', 'penalty_fen', 'paid_principal_fen', 'paid_interest_fen', 'paid_penalty_fen'])
    .where('loan_id', '=', loanId).orderBy('no').execute();
  return rows.map((r) => ({
    no: r.no, dueDate: r.due_date, principal: r.principal_fen as Fen, interest: r.interest_fen as Fen, penalty: r.penalty_fen as Fen,
    paidPrincipal: r.paid_principal_fen as Fen, paidInterest: r.paid_interest_fen as Fen, paidPenalty: r.paid_penalty_fen as Fen,
  }));
}

/** Loans that owe nothing more are closed (with when); returns those closed now. */
export async function closePaidLoans(trx: Q, loanIds: readonly string[], now: Date): Promise<string[]> {
  if (loanIds.length === 0) return [];
  const r = await sql<{ id: string }>`
    update loans l set status = 'closed', closed_at = ${now}, updated_at = ${now}
    where l.id = any(${[...loanIds]}::text[]) and l.status = 'disbursed'
      and not exists (select 1 from installments i where i.loan_id = l.id
        and (i.paid_principal_fen < i.principal_fen or i.paid_interest_fen < i.interest_fen or i.paid_penalty_fen < i.penalty_fen))
    returning l.id
  `.execute(trx);
  return r.rows.map((x) => x.id);
}

export interface LoanPosition {
  id: string;
  kind: string;
  status: string;
  productId: string | null;
  principal: Fen;
  /** still owed, every installment */
  unpaid: Fen;
  /** of which overdue penalty (罚息) */
  penalty: Fen;
  /** owed of what fell due on or before today */
  dueNow: Fen;
  nextDue: string | null;
}

/** A customer's loans and where each stands (what `customer show` and `GET /customers/{id}` say). */
export async function loanPositions(db: Q, customerId: string, today: string): Promise<LoanPosition[]> {
  const r = await sql<{ id: string; kind: string; status: string; product_id: string | null; principal_fen: number; unpaid: number; penalty: number; due_now: number; next_due: string | null }>`
    select l.id, l.kind, l.status, l.product_id, l.principal_fen,
      coalesce(sum((i.principal_fen - i.paid_principal_fen) + (i.interest_fen - i.paid_interest_fen) + (i.penalty_fen - i.paid_penalty_fen)), 0)::int8 as unpaid,
      coalesce(sum(i.penalty_fen - i.paid_penalty_fen), 0)::int8 as penalty,
      coalesce(sum((i.principal_fen - i.paid_principal_fen) + (i.interest_fen - i.paid_interest_fen) + (i.penalty_fen - i.paid_penalty_fen))
        filter (where i.due_date <= ${today}::date), 0)::int8 as due_now,
      min(i.due_date) filter (where i.paid_principal_fen < i.principal_fen or i.paid_interest_fen < i.interest_fen or i.paid_penalty_fen < i.penalty_fen)::text as next_due
    from loans l left join installments i on i.loan_id = l.id where l.customer_id = ${customerId} group by l.id order by l.id
  `.execute(db);
  return r.rows.map((x) => ({
    id: x.id, kind: x.kind, status: x.status, productId: x.product_id, principal: x.principal_fen as Fen, unpaid: x.unpaid as Fen,
    penalty: x.penalty as Fen, dueNow: x.due_now as Fen, nextDue: x.next_due,
  }));
}
