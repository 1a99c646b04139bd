// The hold monitor: for every borrower with an open hold, read balances in bulk and
// sweep whatever has arrived, oldest loan first, until the hold is cleared; then the
// outflow block is lifted at once. Each tick's debits are keyed by the tick's slot,
// so a tick delivered twice sends nothing twice.
import { openHoldCustomers } from '../../db/collection.repository.ts';
import { collectBorrowers, settleHolds, syncBlocks, type ChunkReport, type CollectionDeps } from './service.ts';
import type { Step } from './rules.ts';
import { verifyBlocks } from './blocks.ts';

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
    // A hold covers what fell due by its own date; borrowers are grouped by that date.
    const asOf = await deps.db.selectFrom('holds').select(['customer_id', 'as_of_date']).where('status', '=', 'open').where('customer_id', 'in', ids).execute();
    const byDate = new Map<string, string[]>();
    for (const h of asOf) byDate.set(h.as_of_date, [...(byDate.get(h.as_of_date) ?? []), h.customer_id]);
    for (const [date, group] of byDate) {
      const r: ChunkReport = await collectBorrowers(deps, { ids: group }, {
        date, runId: null, keyPrefix: `hold:${slot}`, purpose: 'collect.hold', stepsOverride: SWEEP, openHolds: false,
      });
      report.borrowers += group.length;
      report.collectedFen += r.collected;
      report.cleared += r.holds.cleared;
      report.unblocked += r.blocks.unblocked;
      report.debits += r.debits.sent;
      // A borrower who owes nothing any more (the debt cleared by a step that died before
      // it synced the hold: a killed worker, a dropped connection) is not among those
      // collectBorrowers plans for, so its hold is settled here: cleared, block lifted.
      const settled = await settleHolds(deps, group, null, 'hold-monitor');
      report.cleared += settled.holds.cleared;
      report.unblocked += settled.blocks.unblocked;
    }
  }
  // mend any block left behind by a crash between a hold's change and the platform call
  const mended = await syncBlocks(deps);
  report.unblocked += mended.unblocked;
  // and re-freeze any open hold's borrower whose platform block was lifted behind our back
  report.refrozen = (await verifyBlocks(deps)).refrozen.length;
  return report;
}
