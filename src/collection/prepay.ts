// Prepayment (提前还款) from a bound card: the borrower pays the payoff quote (the
// default) or part of it through a collection (代收) order. Idempotent per request id
// like every order. The outcome is settled by the collection settlement, which plans
// it against the loan as it then stands (src/loans/prepayment.ts): what is due first,
// then principal off the last installments; a loan that owes nothing more is closed,
// and its hold is cleared and its outflow block lifted here.
import { sql } from 'kysely';
import { lockCustomers } from '../../db/collection.repository.ts';
import { createOrder, getOrderByKey, type Order } from '../../db/orders.repository.ts';
import { loanStates, prepaymentOfOrder } from '../../db/prepayments.repository.ts';
import { getLoan } from '../../db/loans.repository.ts';
import { sendOrders } from '../orders/protocol.ts';
import { collectionSettlement, PREPAY_PURPOSE } from './outcomes.ts';
import { settleHolds, type CollectionDeps } from './service.ts';
import { businessDateAt } from '../dates.ts';
import { formatYuan, type Fen } from '../money.ts';
import { LendpayError } from '../errors.ts';
import { payoffQuote, type PayoffQuote } from '../loans/prepayment.ts';

export interface PrepayInput {
  loanId: string;
  cardId: string;
  /** absent: the payoff quote, which closes the loan */
  amount?: Fen | undefined;
  requestId: string;
}

export type PrepayOutcome =
  | { ok: true; order: Order; replay: boolean; quote: PayoffQuote | null; description: string | null; loanClosed: boolean; holdCleared: boolean }
  | { ok: false; code: 'LOAN_NOT_FOUND' | 'LOAN_NOT_REPAYABLE' | 'CARD_NOT_BOUND' | 'OVERPAYMENT' | 'NOTHING_OUTSTANDING' | 'REQUEST_ID_REUSED'; message: string };

/** The payoff quote of a loan on a date (today by default), read from its installments and the product it was sold as. */
export async function quotePayoff(deps: Pick<CollectionDeps, 'db' | 'clock'>, loanId: string, date?: string): Promise<PayoffQuote> {
  const state = (await loanStates(deps.db, [loanId])).get(loanId);
  if (!state) throw new LendpayError('NOT_FOUND', `no loan ${loanId}`);
  return payoffQuote(state, (date ?? businessDateAt(deps.clock.now())) as ReturnType<typeof businessDateAt>);
}

export async function prepayFromCard(deps: CollectionDeps, input: PrepayInput): Promise<PrepayOutcome> {
  if (!/^[A-Za-z0-9:_.-]{1,128}$/.test(input.requestId)) throw new LendpayError('INVALID_INPUT', `request id: expected 1–128 characters of [A-Za-z0-9:_.-], got "${input.requestId}"`);
  if (input.amount !== undefined && (!Number.isSafeInteger(input.amount) || input.amount <= 0)) throw new LendpayError('INVALID_AMOUNT', 'amount: must be more than 0.00');
  const key = `prepay:${input.requestId}`;
  const today = businessDateAt(deps.clock.now());
  const prepared = await deps.db.transaction().execute(async (trx): Promise<PrepayOutcome | { fresh: true; order: Order; quote: PayoffQuote }> => {
    const loan = await trx.selectFrom('loans').select(['id', 'customer_id', 'status']).where('id', '=', input.loanId).executeTakeFirst();
    if (!loan) return { ok: false, code: 'LOAN_NOT_FOUND', message: `no loan ${input.loanId}` };
    await lockCustomers(trx, [loan.customer_id]);
    const existing = await getOrderByKey(trx, key);
    if (existing) {
      const same = existing.loanId === input.loanId && existing.sourceRef === `card:${input.cardId}` && (input.amount === undefined || existing.amount === input.amount);
      return same
        ? { ok: true, order: existing, replay: true, quote: null, description: (await prepaymentOfOrder(trx, existing.id))?.description ?? null, loanClosed: loan.status === 'closed', holdCleared: false }
        : { ok: false, code: 'REQUEST_ID_REUSED', message: `request id ${input.requestId} was used for order ${existing.id} with a different prepayment` };
    }
    if (loan.status !== 'disbursed') return { ok: false, code: 'LOAN_NOT_REPAYABLE', message: `loan ${loan.id} is ${loan.status}` };
    const card = await trx.selectFrom('customer_bank_cards').select('id').where('id', '=', input.cardId).where('customer_id', '=', loan.customer_id).executeTakeFirst();
    if (!card) return { ok: false, code: 'CARD_NOT_BOUND', message: `card ${input.cardId} is not bound to customer ${loan.customer_id}` };
    const state = (await loanStates(trx, [loan.id])).get(loan.id);
    if (!state) return { ok: false, code: 'NOTHING_OUTSTANDING', message: `loan ${loan.id} has no schedule` };
    const quote = payoffQuote(state, today);
    // what collections already in flight will pay is not asked for twice
    const flight = await sql<{ n: number }>`
      select coalesce(sum(amount_fen), 0)::int8 as n from orders
      where loan_id = ${loan.id} and (purpose like 'collect.%' or purpose like 'repay.%') and status in ('created', 'submitted', 'unknown')
    `.execute(trx);
    const payoff = quote.total - (flight.rows[0]?.n ?? 0);
    if (payoff <= 0) return { ok: false, code: 'NOTHING_OUTSTANDING', message: `loan ${loan.id} owes nothing beyond what is already being collected` };
    const amount = input.amount ?? (payoff as Fen);
    if (amount > payoff) return { ok: false, code: 'OVERPAYMENT', message: `the payoff of loan ${loan.id} today is ${formatYuan(payoff)}; ${formatYuan(amount)} is more` };
    const order = await createOrder(trx, {
      idempotencyKey: key, kind: 'collection', purpose: PREPAY_PURPOSE, loanId: loan.id, customerId: loan.customer_id, amount,
      sourceRef: `card:${input.cardId}`, destinationRef: `account:${deps.lender.accountId}`,
    });
    return { fresh: true, order, quote };
  });
  if (!('fresh' in prepared)) return prepared;
  const changed = await sendOrders(deps, [prepared.order.id], collectionSettlement({ templates: deps.notifications, now: () => deps.clock.now() }));
  if (changed.length === 0) return { ok: true, order: (await getOrderByKey(deps.db, key))!, replay: true, quote: prepared.quote, description: null, loanClosed: false, holdCleared: false };
  const holds = await settleHolds(deps, [prepared.order.customerId!], null, 'prepayment');
  const order = (await getOrderByKey(deps.db, key))!;
  const loan = await getLoan(deps.db, input.loanId);
  return {
    ok: true, order, replay: false, quote: prepared.quote, description: (await prepaymentOfOrder(deps.db, order.id))?.description ?? null,
    loanClosed: loan?.status === 'closed', holdCleared: holds.holds.cleared > 0,
  };
}
