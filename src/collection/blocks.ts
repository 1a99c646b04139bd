// The outflow block as the platform actually holds it. syncBlocks (service.ts) makes
// the platform match lendpay's own record of what it last did (outflow_blocks); it
// cannot see a block lifted behind lendpay's back (a platform operator, a support
// script, a platform bug). refreezeLifted reads the platform's frozenOutflow flag of
// every account of the given borrowers that still have an open hold (reusing what
// the hold monitor's sweep already read) and freezes again wherever it is off, so an
// open hold is never unblocked for longer than one hold-monitor pass.
import { openHoldCustomers, recordBlocks } from '../../db/collection.repository.ts';
import { accountsOfCustomers } from '../../db/audit.repository.ts';
import type { BalanceResult, PaymentChannel } from '../channel/types.ts';
import { MAX_BATCH } from '../channel/types.ts';
import type { Clock } from '../dates.ts';
import type { Db } from '../../db/connection.ts';

type Deps = { db: Db; channel: PaymentChannel; clock: Clock };

export interface VerifyReport {
  /** borrowers with an open hold whose platform state was read */
  checked: number;
  /** borrowers found unblocked on the platform and frozen again */
  refrozen: string[];
}

/** Every borrower with an open hold, a page at a time. */
export async function verifyBlocks(deps: Deps, pageSize = 1000): Promise<VerifyReport> {
  const report: VerifyReport = { checked: 0, refrozen: [] };
  for (let after = ''; ; ) {
    const ids = await openHoldCustomers(deps.db, after, pageSize);
    if (ids.length === 0) break;
    after = ids[ids.length - 1]!;
    report.checked += ids.length;
    report.refrozen.push(...(await refreezeLifted(deps, ids, new Map())));
  }
  return report;
}

/** Of `ids`, those with an open hold whose accounts the platform no longer blocks: frozen again, returned. */
export async function refreezeLifted(deps: Deps, ids: readonly string[], seen: Map<string, BalanceResult>): Promise<string[]> {
  const open = await openHoldCustomers(deps.db, '', ids.length, ids);
  if (open.length === 0) return [];
  const accounts = await accountsOfCustomers(deps.db, open);
  const unread = accounts.filter((a) => !seen.has(a.accountId)).map((a) => a.accountId);
  for (let i = 0; i < unread.length; i += MAX_BATCH) {
    for (const b of await deps.channel.balances(unread.slice(i, i + MAX_BATCH))) seen.set(b.accountId, b);
  }
  const lifted = new Set<string>();
  // an account the platform does not know cannot pay out either; only a found, unfrozen one leaks
  for (const a of accounts) {
    const b = seen.get(a.accountId);
    if (b?.found && !b.frozenOutflow) lifted.add(a.customerId);
  }
  const ids2 = [...lifted].sort();
  if (ids2.length === 0) return [];
  if (deps.channel.setOutflowBlocks) {
    for (let i = 0; i < ids2.length; i += MAX_BATCH) await deps.channel.setOutflowBlocks(ids2.slice(i, i + MAX_BATCH).map((customerId) => ({ customerId, frozenOutflow: true })));
  } else {
    for (const id of ids2) await deps.channel.freezeOutflow(id);
  }
  await recordBlocks(deps.db, ids2.map((customerId) => ({ customerId, blocked: true })), deps.clock.now());
  return ids2;
}
