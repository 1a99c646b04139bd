// Unknown outcomes of collection debits and card repayments: query the platform by
// request id; a request it never received is sent again under the SAME id. Outcomes
// go through the same allocation, journal and hold path as the batch's.
import { openAttempts } from '../../db/orders.repository.ts';
import { recoverAttempts } from '../orders/protocol.ts';
import { collectionSettlement } from './outcomes.ts';
import { settleHolds, type CollectionDeps } from './service.ts';

export async function recoverCollectionAttempts(deps: CollectionDeps, opts: { olderThanMs: number }): Promise<{ checked: number; resolved: number; resent: number; stillUnknown: number }> {
  const before = new Date(deps.clock.now().getTime() - opts.olderThanMs);
  const open = await openAttempts(deps.db, before, 'collection');
  const { counts } = await recoverAttempts(deps, open.map((a) => ({ order: a.order, attemptNo: a.attemptNo, requestId: a.requestId })), collectionSettlement({ templates: deps.notifications, now: () => deps.clock.now() }));
  const customers = [...new Set(open.map((a) => a.order.customerId).filter((c): c is string => c !== null))];
  if (customers.length > 0) await settleHolds(deps, customers, null);
  return counts;
}
