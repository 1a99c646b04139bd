// The hold monitor: for every borrower with an open hold, read balances in bulk and
// sweep whatever has arrived, oldest loan first, until the hold is cleared; then the
// outflow block is lifted at once. Each tick's debits are keyed by the tick's slot,
// so a tick delivered twice sends nothing twice. The same read of the accounts tells
// whether the platform still blocks them: a block lifted behind lendpay's back while
// the hold stays open is put back in the same pass.
import { openHoldCustomers } from '../../db/collection.repository.ts';
import { collectBorrowers, settleHolds, syncBlocks, type ChunkReport, type CollectionDeps } from './service.ts';
import type { Step } from './rules.ts';
import type { BalanceResult } from '../channel/types.ts';
import { refreezeLifted } from './blocks.ts';

const SWEEP: readonly Step[] = [{ step: 'hold', sweep: true, order: 'primary_then_largest' }];

export interface MonitorReport {
  borrowers: number;
  collectedFen: number;
  cleared: number;
  unblocked: number;
  debits: number;
  /** borrowers with an open hold found unblocked on the platform and frozen again */
  refrozen: number;
}

export async function monitorHolds(deps: CollectionDeps, slot: string, pageSize = 1000): Promise<MonitorReport> {
  const report: MonitorReport = { borrowers: 0, collectedFen: 0, cleared: 0, unblocked: 0, debits: 0, refrozen: 0 };
  for (let after = ''; ; ) {
    const ids = await openHoldCustomers(deps.db, after, pageSize);
    if (ids.length === 0) break;
    after = ids[ids.length - 1]!;
    const seen = new Map<string, BalanceResult>();
    // A hold covers what fell due by its own date; borrowers are grouped by that date.
    const asOf = await deps.db.selectFrom('holds').select(['customer_id', 'as_of_date']).where('status', '=', 'open').where('customer_id', 'in', ids).execute();
    const byDate = new Map<string, string[]>();
    for (const h of asOf) byDate.set(h.as_of_date, [...(byDate.get(h.as_of_date) ?? []), h.customer_id]);
    for (const [date, group] of byDate) {
      const planned = new Set<string>();
      const r: ChunkReport = await collectBorrowers(deps, { ids: group }, {
        date, runId: null, keyPrefix: `hold:${slot}`, purpose: 'collect.hold', stepsOverride: SWEEP, openHolds: false,
        seen: (balances) => balances.forEach((b) => seen.set(b.accountId, b)),
      });
      for (const b of seen.values()) if (b.found) planned.add(b.customerId);
      report.borrowers += group.length;
      report.collectedFen += r.collected;
      report.cleared += r.holds.cleared;
      report.unblocked += r.blocks.unblocked;
      report.debits += r.debits.sent;
      // A borrower who owes nothing any more (the debt cleared by a step that died before
      // it synced the hold: a killed worker, a dropped connection) is not among those
      // collectBorrowers plans for, so its hold is settled here: cleared, block lifted.
      const orphans = group.filter((id) => !planned.has(id));
      if (orphans.length > 0) {
        const settled = await settleHolds(deps, orphans, null, 'hold-monitor');
        report.cleared += settled.holds.cleared;
        report.unblocked += settled.blocks.unblocked;
      }
    }
    report.refrozen += (await refreezeLifted(deps, ids, seen)).length;
  }
  // mend any block left behind by a crash between a hold's change and the platform call
  const mended = await syncBlocks(deps);
  report.unblocked += mended.unblocked;
  return report;
}
