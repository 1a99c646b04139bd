// Trial balance plus the check that lendpay's books agree with the platform's own
// view of the lender's balance account.
import type { Db } from '../../db/connection.ts';
import { trialBalance, ledgerBalance, type TrialBalance } from '../../db/ledger.repository.ts';
import type { PaymentChannel } from '../channel/types.ts';
import { ACCOUNTS } from './postings.ts';

export interface LedgerCheck extends TrialBalance {
  balanced: boolean;
  platform: { accountId: string; ledger: number; platform: number | null; agrees: boolean }[];
}

export async function checkLedger(db: Db, channel: PaymentChannel, lenderAccountId: string): Promise<LedgerCheck> {
  const tb = await trialBalance(db);
  const ledger = await ledgerBalance(db, ACCOUNTS.platformBalance);
  const onPlatform = await channel.balance(lenderAccountId);
  const platformFen = onPlatform.found ? onPlatform.balance : null;
  return {
    ...tb,
    balanced: tb.totalDebit === tb.totalCredit && tb.unbalancedEntries === 0,
    platform: [{ accountId: lenderAccountId, ledger, platform: platformFen, agrees: platformFen === ledger }],
  };
}
