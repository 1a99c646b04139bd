// Card repayment: the borrower repays from a bound bank card through a collection
// (代收) order into the lender's balance account. Idempotent per request id like every
// order; the money is allocated like any collection, and clears holds it covers.
import { lockCustomers, owedOnLoan } from '../../db/collection.repository.ts';
import { createOrder, getOrderByKey, type Order } from '../../db/orders.repository.ts';
import { sendOrders } from '../orders/protocol.ts';
import { collectionSettlement } from './outcomes.ts';
import { settleHolds, type CollectionDeps } from './service.ts';
import { formatYuan, type Fen } from '../money.ts';
import { LendpayError } from '../errors.ts';
import type { WaterfallOrder } from './rules.ts';

export interface RepayInput {
  loanId: string;
  cardId: string;
  amount: Fen;
  requestId: string;
}

export type RepayOutcome =
  | { ok: true; order: Order; replay: boolean; holdCleared: boolean }
  | { ok: false; code: 'LOAN_NOT_FOUND' | 'LOAN_NOT_REPAYABLE' | 'CARD_NOT_BOUND' | 'OVERPAYMENT' | 'REQUEST_ID_REUSED'; message: string };

/** `waterfall`: how this repayment is split; by default the loan's own (its latest plan's). */
export async function repayFromCard(deps: CollectionDeps, input: RepayInput, waterfall?: WaterfallOrder): Promise<RepayOutcome> {
  if (!/^[A-Za-z0-9:_.-]{1,128}$/.test(input.requestId)) throw new LendpayError('INVALID_INPUT', `request id: expected 1–128 characters of [A-Za-z0-9:_.-], got "${input.requestId}"`);
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new LendpayError('INVALID_AMOUNT', `amount: must be more than 0.00`);
  const key = `repay:${input.requestId}`;
  const prepared = await deps.db.transaction().execute(async (trx): Promise<RepayOutcome | { order: Order; fresh: true }> => {
    const loan = await trx.selectFrom('loans').select(['id', 'customer_id', 'status']).where('id', '=', input.loanId).executeTakeFirst();
    if (!loan) return { ok: false, code: 'LOAN_NOT_FOUND', message: `no loan ${input.loanId}` };
    await lockCustomers(trx, [loan.customer_id]);
    const existing = await getOrderByKey(trx, key);
    if (existing) {
      const same = existing.loanId === input.loanId && existing.sourceRef === `card:${input.cardId}` && existing.amount === input.amount;
      return same
        ? { ok: true, order: existing, replay: true, holdCleared: false }
        : { ok: false, code: 'REQUEST_ID_REUSED', message: `request id ${input.requestId} was used for order ${existing.id} with a different repayment` };
    }
    if (loan.status !== 'disbursed') return { ok: false, code: 'LOAN_NOT_REPAYABLE', message: `loan ${loan.id} is ${loan.status}` };
    const card = await trx.selectFrom('customer_bank_cards').select('id').where('id', '=', input.cardId).where('customer_id', '=', loan.customer_id).executeTakeFirst();
    if (!card) return { ok: false, code: 'CARD_NOT_BOUND', message: `card ${input.cardId} is not bound to customer ${loan.customer_id}` };
    const left = await owedOnLoan(trx, loan.id);
    if (input.amount > left) return { ok: false, code: 'OVERPAYMENT', message: `loan ${loan.id} owes ${formatYuan(Math.max(0, left))}; ${formatYuan(input.amount)} is more` };
    const order = await createOrder(trx, {
      idempotencyKey: key, kind: 'collection', purpose: 'repay.card', loanId: loan.id, customerId: loan.customer_id, amount: input.amount,
      sourceRef: `card:${input.cardId}`, destinationRef: `account:${deps.lender.accountId}`,
    });
    return { order, fresh: true };
  });
  if (!('fresh' in prepared)) return prepared;
  // the order protocol, a batch of one: attempt recorded, the platform called, the outcome with its allocation
  const changed = await sendOrders(deps, [prepared.order.id], collectionSettlement({ templates: deps.notifications, now: () => deps.clock.now(), ...(waterfall ? { waterfallOf: () => waterfall } : {}) }));
  // someone else began it first (a concurrent retry): theirs is the answer
  if (changed.length === 0) return { ok: true, order: (await getOrderByKey(deps.db, key))!, replay: true, holdCleared: false };
  const holds = await settleHolds(deps, [prepared.order.customerId!], null, 'card_repayment');
  const order = (await getOrderByKey(deps.db, key))!;
  return { ok: true, order, replay: false, holdCleared: holds.holds.cleared > 0 };
}
