// The outflow block as the platform actually holds it. syncBlocks (service.ts) makes
// the platform match lendpay's own record of what it last did (outflow_blocks); it
// cannot see a block lifted behind lendpay's back (a platform operator, a support
// script, a platform bug). verifyBlocks reads the platform's frozenOutflow flag of
// every account of every borrower with an open hold and freezes again wherever it
// is off, so an open hold is never unblocked for longer than one hold-monitor pass.
import { openHoldCustomers, recordBlock } from '../../db/collection.repository.ts';
import { accountsOfCustomers } from '../../db/audit.repository.ts';
import type { PaymentChannel } from '../channel/types.ts';
import { MAX_BATCH } from '../channel/types.ts';
import type { Clock } from '../dates.ts';
import type { Db } from '../../db/connection.ts';

export interface VerifyReport {
  /** borrowers with an open hold whose platform state was read */
  checked: number;
  /** borrowers found unblocked on the platform and frozen again */
  refrozen: string[];
}

export async function verifyBlocks(deps: { db: Db; channel: PaymentChannel; clock: Clock }, pageSize = 1000): Promise<VerifyReport> {
  const report: VerifyReport = { checked: 0, refrozen: [] };
  for (let after = ''; ; ) {
    const ids = await openHoldCustomers(deps.db, after, pageSize);
    if (ids.length === 0) break;
    after = ids[ids.length - 1]!;
    report.checked += ids.length;
    const accounts = await accountsOfCustomers(deps.db, ids);
    const owner = new Map(accounts.map((a) => [a.accountId, a.customerId]));
    const lifted = new Set<string>();
    for (let i = 0; i < accounts.length; i += MAX_BATCH) {
      const res = await deps.channel.balances(accounts.slice(i, i + MAX_BATCH).map((a) => a.accountId));
      for (const r of res) {
        // an account the platform does not know cannot pay out either; only a found, unfrozen one leaks
        const customer = owner.get(r.accountId);
        if (r.found && !r.frozenOutflow && customer !== undefined) lifted.add(customer);
      }
    }
    for (const id of [...lifted].sort()) {
      await deps.channel.freezeOutflow(id);
      await recordBlock(deps.db, id, true, deps.clock.now());
      report.refrozen.push(id);
    }
  }
  return report;
}
