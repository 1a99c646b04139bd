// The order protocol, for every flow (disbursement, collection, card repayment,
// recovery, escalation), batches being the normal case and one order a batch of one:
//   1. record the attempts as submitted — one transaction, set-based — and commit;
//   2. call the platform with no transaction open — one batch call per operation;
//   3. record the outcomes, and in the same transaction whatever follows from them
//      (the journal entry, an allocation, a loan's state) — one transaction.
// A crash between 1 and 3 leaves `submitted` attempts that recovery resolves by
// querying the platform by request id, never by sending blindly again.
import type { Transaction } from 'kysely';
import type { Db } from '../../db/connection.ts';
import type { Database } from '../../db/types.ts';
import { beginAttempts, noteQueriedMany, postEntry, recordAttemptOutcomes, type PostedLine } from '../../db/orders.repository.ts';
import { MAX_BATCH, type PaymentChannel, type QueryResult } from '../channel/types.ts';
import type { Clock } from '../dates.ts';
import { sendRequests } from './send.ts';
import { toResult, type Sent } from './requests.ts';
import type { AttemptOutcome, Begun, Changed, Order } from './types.ts';

export interface ProtocolDeps {
  db: Db;
  channel: PaymentChannel;
  clock: Clock;
  /** fault injection: called at named points between the channel call and its record */
  crashPoint?: ((point: string) => void) | undefined;
}

/**
 * What a flow does with the outcomes it receives, inside the transaction that records
 * them: the lines to post for the orders that settled (each order's own lines
 * balanced), after any writes of its own (an allocation, a loan's state).
 */
export interface Settlement {
  settle(trx: Transaction<Database>, changed: readonly Changed[]): Promise<readonly PostedLine[]>;
}

/** Step 1 for many orders: their next attempts, recorded and committed. */
export async function beginOrders(db: Db, orderIds: readonly number[], now: Date): Promise<Begun[]> {
  if (orderIds.length === 0) return [];
  return db.transaction().execute((trx) => beginAttempts(trx, orderIds, now));
}

/** Steps 2 and 3 for attempts already begun. */
export async function sendBegun(deps: ProtocolDeps, begun: readonly Begun[], settlement: Settlement): Promise<Changed[]> {
  if (begun.length === 0) return [];
  const sent = await sendRequests(deps.channel, begun.map((b) => ({ order: b.order, requestId: b.attempt.requestId })));
  if (deps.crashPoint) for (const p of new Set(begun.map((b) => b.order.purpose))) deps.crashPoint(`after-send:${p}`);
  return recordOutcomes(deps, begun.map((b, i) => ({ orderId: b.order.id, attemptNo: b.attempt.attemptNo, result: toResult(sent[i]!) })), settlement);
}

/** The whole protocol for orders that are `created`; those that are not are left to whoever is sending them. */
export async function sendOrders(deps: ProtocolDeps, orderIds: readonly number[], settlement: Settlement): Promise<Changed[]> {
  return sendBegun(deps, await beginOrders(deps.db, orderIds, deps.clock.now()), settlement);
}

/** Step 3: outcomes, their journal entry and the flow's writes, one transaction. */
export async function recordOutcomes(deps: Pick<ProtocolDeps, 'db' | 'clock'>, outcomes: readonly AttemptOutcome[], settlement: Settlement): Promise<Changed[]> {
  if (outcomes.length === 0) return [];
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const changed = await recordAttemptOutcomes(trx, outcomes, now);
    // settled even when nothing changed (another process recorded these first): a
    // flow may have writes of its own that follow from the state, not the change
    const lines = await settlement.settle(trx, changed);
    if (lines.length > 0) await postEntry(trx, entryFor(changed, lines), lines, now);
    return changed;
  });
}

function entryFor(changed: readonly Changed[], lines: readonly PostedLine[]): { kind: string; memo: string; orderId: number | null } {
  const orders = [...new Set(lines.map((l) => l.orderId))];
  if (orders.length === 1 && orders[0] !== null) {
    const o = changed.find((c) => c.order.id === orders[0])!.order;
    return { kind: 'succeeded', memo: `${o.idempotencyKey}: ${o.purpose}`, orderId: o.id };
  }
  const purposes = [...new Set(changed.filter((c) => c.result.status === 'succeeded').map((c) => c.order.purpose))].sort();
  return { kind: 'batch', memo: `${orders.length} orders: ${purposes.join(', ')}`, orderId: null };
}

export interface RecoveryCounts {
  checked: number;
  resolved: number;
  resent: number;
  stillUnknown: number;
}

/**
 * Resolves attempts whose outcome is unknown: asks the platform by request id, a
 * thousand at a time. A request it never received is sent again under the SAME id,
 * so even a late delivery of the first cannot apply twice.
 */
export async function recoverAttempts(
  deps: ProtocolDeps,
  attempts: readonly { order: Order; attemptNo: number; requestId: string }[],
  settlement: Settlement,
): Promise<{ counts: RecoveryCounts; changed: Changed[] }> {
  const counts: RecoveryCounts = { checked: attempts.length, resolved: 0, resent: 0, stillUnknown: 0 };
  const changed: Changed[] = [];
  for (let i = 0; i < attempts.length; i += MAX_BATCH) {
    const slice = attempts.slice(i, i + MAX_BATCH);
    const answers: (QueryResult | Sent)[] = await deps.channel.queryMany(slice.map((a) => a.requestId));
    await noteQueriedMany(deps.db, slice.map((a) => ({ orderId: a.order.id, attemptNo: a.attemptNo })), deps.clock.now());
    const notFound = slice.map((a, j) => ({ a, j })).filter(({ j }) => answers[j]!.status === 'not_found');
    if (notFound.length > 0) {
      const again = await sendRequests(deps.channel, notFound.map(({ a }) => ({ order: a.order, requestId: a.requestId })));
      notFound.forEach(({ j }, k) => (answers[j] = again[k]!));
      counts.resent += notFound.length;
    }
    const outcomes = slice.map((a, j) => ({ orderId: a.order.id, attemptNo: a.attemptNo, result: toResult(answers[j]!) }));
    for (const o of outcomes) {
      if (o.result.status === 'unknown') counts.stillUnknown++;
      else counts.resolved++;
    }
    changed.push(...(await recordOutcomes(deps, outcomes, settlement)));
  }
  return { counts, changed };
}
