// Argument parsers shared by the commands: each refuses bad input at the CLI's edge
// with the option's name, before any use case is called or anything is written.
import type { Db } from '../../db/connection.ts';
import { getOrder, getOrderByKey, type Order } from '../../db/orders.repository.ts';
import { getBatchRun, type BatchRun } from '../../db/batch.repository.ts';
import { LendpayError } from '../errors.ts';
import { parseYuan, type Fen } from '../money.ts';

/** A population this size is generated in minutes; more would run for hours and then run out of memory. */
export const MAX_POPULATION = 10_000_000;

export function positiveInt(v: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new LendpayError('INVALID_INPUT', `${name}: expected a positive whole number, got "${v}"`);
  if (n > max) throw new LendpayError('INVALID_INPUT', `${name}: at most ${max.toLocaleString('en')}, got ${v}`);
  return n;
}

export function positiveIntOrZero(v: string, name: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 0) throw new LendpayError('INVALID_INPUT', `${name}: expected a whole number ≥ 0, got "${v}"`);
  return n;
}

/** A yuan amount that moves money: more than 0.00 (a loan, a repayment, a withdrawal of nothing is refused here). */
export function positiveYuan(v: string, name: string): Fen {
  const fen = parseYuan(v, name);
  if (fen <= 0) throw new LendpayError('INVALID_AMOUNT', `${name}: expected an amount above 0.00, got "${v}"`);
  return fen;
}

/**
 * An order as operators name it: its number or its idempotency key (as `order show`
 * and the API's GET /orders/{id or key} take it).
 */
export async function resolveOrder(db: Db, ref: string): Promise<Order> {
  const text = ref.trim();
  if (text === '') throw new LendpayError('INVALID_INPUT', 'order: expected an order id or idempotency key, got ""');
  const order = /^\d+$/.test(text)
    ? (Number.isSafeInteger(Number(text)) ? await getOrder(db, Number(text)) : null)
    : await getOrderByKey(db, text);
  if (!order) throw new LendpayError('NOT_FOUND', `no order ${text} (give an order id, e.g. 42, or an idempotency key, e.g. disburse:L1001:payout)`);
  return order;
}

/** A batch run by its number; a run that does not exist is NOT_FOUND (exit 1), not an empty success. */
export async function resolveBatchRun(db: Db, ref: string): Promise<BatchRun> {
  const n = Number(ref);
  if (!/^\d+$/.test(ref.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new LendpayError('INVALID_INPUT', `run: expected a batch run id (a positive whole number, as batch nightly prints it), got "${ref}"`);
  const run = await getBatchRun(db, n);
  if (!run) throw new LendpayError('NOT_FOUND', `no batch run ${n}`);
  return run;
}
