// Loans: created under the customer's row lock so that concurrent applications
// cannot together exceed the credit limit, and unique per business request id.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import type { Fen } from '../src/money.ts';
import type { ApplicationFacts } from '../src/disbursement/application.ts';
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
  status: 'disbursing' | 'disbursed' | 'failed';
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

export async function getLoan(db: Q, id: string): Promise<Loan | null> {
  const r = await db.selectFrom('loans').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toLoan(r) : null;
}

export async function getLoanByRequest(db: Q, requestId: string): Promise<Loan | null> {
  const r = await db.selectFrom('loans').selectAll().where('request_id', '=', requestId).executeTakeFirst();
  return r ? toLoan(r) : null;
}

/** Locks the customer row; false when there is no such customer. */
export async function lockCustomer(trx: Transaction<Database>, customerId: string): Promise<boolean> {
  const r = await trx.selectFrom('customers').select('id').where('id', '=', customerId).forUpdate().executeTakeFirst();
  return r !== undefined;
}

/** The facts an application is checked against, read inside the locking transaction. */
export async function applicationFacts(trx: Transaction<Database>, customerId: string, amount: Fen, asOf: string): Promise<ApplicationFacts> {
  const d = await trx
    .selectFrom('eligibility_decisions')
    .select(['business_date', 'eligible', 'limit_fen', 'reasons', 'rule_set_hash'])
    .where('customer_id', '=', customerId)
    .where('business_date', '<=', asOf)
    .orderBy('business_date', 'desc')
    .limit(1)
    .executeTakeFirst();
  const o = await trx
    .selectFrom('loans')
    .select(sql<number>`coalesce(sum(principal_fen), 0)::int8`.as('n'))
    .where('customer_id', '=', customerId)
    .where('status', '<>', 'failed')
    .executeTakeFirstOrThrow();
  return {
    customerId,
    amount,
    decision: d ? { businessDate: d.business_date, eligible: d.eligible, limit: d.limit_fen as Fen, reasons: d.reasons, ruleSetHash: d.rule_set_hash } : null,
    outstanding: Number(o.n) as Fen,
  };
}

export async function primaryAccount(db: Q, customerId: string): Promise<string | null> {
  const r = await db.selectFrom('customer_accounts').select('id').where('customer_id', '=', customerId).where('is_primary', '=', true).executeTakeFirst();
  return r?.id ?? null;
}

export async function ownsDestination(db: Q, customerId: string, rail: 'balance' | 'card', id: string): Promise<boolean> {
  const r = rail === 'balance'
    ? await db.selectFrom('customer_accounts').select('id').where('id', '=', id).where('customer_id', '=', customerId).executeTakeFirst()
    : await db.selectFrom('customer_bank_cards').select('id').where('id', '=', id).where('customer_id', '=', customerId).executeTakeFirst();
  return r !== undefined;
}

export async function firstCard(db: Q, customerId: string): Promise<string | null> {
  const r = await db.selectFrom('customer_bank_cards').select('id').where('customer_id', '=', customerId).orderBy('id').limit(1).executeTakeFirst();
  return r?.id ?? null;
}

export async function insertLoan(
  trx: Transaction<Database>,
  l: Omit<Loan, 'id' | 'status' | 'expectedArrivalAt' | 'createdAt' | 'productId' | 'product' | 'disbursedOn'>
    & { product?: LoanProductTerms | null; disbursedOn?: string },
): Promise<Loan> {
  const r = await trx
    .insertInto('loans')
    .values({
      id: sql<string>`'L' || nextval('loan_numbers')`,
      customer_id: l.customerId, request_id: l.requestId, request_hash: l.requestHash, principal_fen: l.principal,
      rail: l.rail, destination_id: l.destinationId, mode: l.mode, status: 'disbursing', decision_date: l.decisionDate,
      rule_set_hash: l.ruleSetHash, limit_fen: l.limit,
      product_id: l.product?.id ?? null, product: l.product ? JSON.stringify(l.product) : null,
      ...(l.disbursedOn !== undefined ? { disbursed_on: l.disbursedOn } : {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toLoan(r);
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
  paidPrincipal: Fen;
  paidInterest: Fen;
}

/** A loan's installments, in order, with what has been paid of each. */
export async function installmentsOf(db: Q, loanId: string): Promise<InstallmentRow[]> {
  const rows = await db.selectFrom('installments')
    .select(['no', 'due_date', 'principal_fen', 'interest_fen', 'paid_principal_fen', 'paid_interest_fen'])
    .where('loan_id', '=', loanId).orderBy('no').execute();
  return rows.map((r) => ({
    no: r.no, dueDate: r.due_date, principal: r.principal_fen as Fen, interest: r.interest_fen as Fen,
    paidPrincipal: r.paid_principal_fen as Fen, paidInterest: r.paid_interest_fen as Fen,
  }));
}
