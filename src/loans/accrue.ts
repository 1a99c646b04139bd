// The penalty accrual of the post-settlement batch, for one chunk of borrowers: under
// their locks (as the planner and collection outcomes take them), what accrues for the date (src/loans/penalty.ts), written to the
// installments and posted (penalty receivable against penalty income), all in one
// transaction. Idempotent per date: an installment accrued through the date is not
// touched again, so a chunk run twice, or the batch re-run, accrues nothing twice.
import type { Db } from '../../db/connection.ts';
import { applyPenaltyAccruals, lockPenaltyFacts, type CustomerRange } from '../../db/penalties.repository.ts';
import { postEntry, type PostedLine } from '../../db/orders.repository.ts';
import type { BusinessDate } from '../dates.ts';
import type { Fen } from '../money.ts';
import { postingForPenaltyAccruals } from '../ledger/postings.ts';
import { accruePenalties } from './penalty.ts';

export interface AccrualReport {
  installments: number;
  loans: number;
  amount: Fen;
}

export async function accrueChunkPenalties(db: Db, date: BusinessDate, range: CustomerRange, now: Date): Promise<AccrualReport> {
  return db.transaction().execute(async (trx) => {
    const facts = await lockPenaltyFacts(trx, date, range);
    const written = await applyPenaltyAccruals(trx, accruePenalties(facts, date));
    const byLoan = new Map<string, { customerId: string; loanId: string; amount: number }>();
    for (const a of written) {
      if (a.amount === 0) continue;
      const e = byLoan.get(a.loanId) ?? { customerId: a.customerId, loanId: a.loanId, amount: 0 };
      e.amount += a.amount;
      byLoan.set(a.loanId, e);
    }
    const lines: PostedLine[] = postingForPenaltyAccruals([...byLoan.values()].map((l) => ({ ...l, amount: l.amount as Fen }))).map((line) => ({ orderId: null, line }));
    if (lines.length > 0) await postEntry(trx, { kind: 'penalty', memo: `penalty accrual ${date}: ${byLoan.size} loans`, orderId: null }, lines, now);
    return { installments: written.length, loans: byLoan.size, amount: [...byLoan.values()].reduce((s, l) => s + l.amount, 0) as Fen };
  });
}
