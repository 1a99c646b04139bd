// Unknown outcomes of collection debits and card repayments: query the platform by
// request id; a request it never received is sent again under the SAME id. Outcomes
// go through the same allocation, journal and hold path as the batch's.
import { openAttempts, noteQueried } from '../../db/orders.repository.ts';
import { applyCollectionOutcomes, type DebitResult } from '../../db/collection.repository.ts';
import { callChannel } from '../disbursement/disburse.ts';
import { outcomeContext, settleHolds, type CollectionDeps } from './service.ts';

export async function recoverCollectionAttempts(deps: CollectionDeps, opts: { olderThanMs: number }): Promise<{ checked: number; resolved: number; resent: number; stillUnknown: number }> {
  const before = new Date(deps.clock.now().getTime() - opts.olderThanMs);
  const open = await openAttempts(deps.db, before, 'collection');
  const report = { checked: open.length, resolved: 0, resent: 0, stillUnknown: 0 };
  const customers = new Set<string>();
  for (let i = 0; i < open.length; i += 100) {
    const slice = open.slice(i, i + 100);
    const answers = await deps.channel.queryMany(slice.map((a) => a.requestId));
    const results: DebitResult[] = [];
    for (let j = 0; j < slice.length; j++) {
      const a = slice[j]!;
      await noteQueried(deps.db, a.orderId, a.attemptNo);
      const r = answers[j]!;
      const sent = r.status === 'not_found' ? await callChannel(deps.channel, a.order, a.requestId) : null;
      if (sent) report.resent++;
      const s = sent ?? r;
      if (s.status === 'succeeded') results.push({ orderId: a.orderId, attemptNo: a.attemptNo, status: 'succeeded', platformRef: s.platformRef });
      else if (s.status === 'failed') results.push({ orderId: a.orderId, attemptNo: a.attemptNo, status: 'failed', code: s.code, platformRef: s.platformRef });
      else if (s.status === 'rejected') results.push({ orderId: a.orderId, attemptNo: a.attemptNo, status: 'failed', code: s.code, platformRef: null });
      else results.push({ orderId: a.orderId, attemptNo: a.attemptNo, status: 'unknown', reason: s.status === 'unknown' ? s.reason : 'not found' });
      if (a.order.customerId) customers.add(a.order.customerId);
    }
    const applied = await applyCollectionOutcomes(deps.db, results, outcomeContext(deps, 'oldest_first_interest_first'));
    report.resolved += applied.succeeded + applied.failed;
    report.stillUnknown += applied.unknown;
  }
  if (customers.size > 0) await settleHolds(deps, [...customers], null);
  return report;
}
