// Reconciliation of payouts: the platform's statement against lendpay's orders. A
// payout the platform made more than once for one request (or for a request lendpay
// never sent) becomes a recovery receivable on the borrower who received it,
// collected by exactly the same plan as any due: debit if there is money, else hold
// and block. Idempotent: one receivable per platform reference.
import type { Transaction } from 'kysely';
import type { Db } from '../../db/connection.ts';
import type { Database } from '../../db/types.ts';
import { insertRecoveryLoans, insertSchedules, ownersOfPayouts } from '../../db/loans.repository.ts';
import { knownRequestStatuses, postEntry, type PostedLine } from '../../db/orders.repository.ts';
import { ACCOUNTS } from '../ledger/postings.ts';
import { businessDateAt, type BusinessDate } from '../dates.ts';
import type { Fen } from '../money.ts';
import { collectBorrowers, type ChunkReport, type CollectionDeps } from './service.ts';

export interface PayoutLine {
  requestId: string;
  platformRef: string;
  toAccount: string | null;
  toCard: string | null;
  amount: Fen;
}

/** The platform's statement of payouts (a real platform's reconciliation file). */
export interface PayoutStatement {
  payouts(): Promise<PayoutLine[]>;
}

export interface ReconcileReport {
  statementLines: number;
  matched: number;
  duplicates: { platformRef: string; requestId: string; customerId: string | null; amountFen: number; receivable: string | null }[];
  unmatched: number;
  collection: ChunkReport | null;
}

export async function reconcilePayouts(deps: CollectionDeps, statement: PayoutStatement): Promise<ReconcileReport> {
  const lines = await statement.payouts();
  const report: ReconcileReport = { statementLines: lines.length, matched: 0, duplicates: [], unmatched: 0, collection: null };
  const byRequest = new Map<string, PayoutLine[]>();
  for (const l of lines) byRequest.set(l.requestId, [...(byRequest.get(l.requestId) ?? []), l]);
  const ids = [...byRequest.keys()];
  const status = await knownRequestStatuses(deps.db, ids);
  const extra: PayoutLine[] = [];
  for (const [requestId, group] of byRequest) {
    const s = status.get(requestId);
    if (s === 'submitted' || s === 'unknown') continue; // outcome not known yet: recovery queries it first
    const sorted = [...group].sort((a, b) => (a.platformRef < b.platformRef ? -1 : 1));
    const expected = s === 'succeeded' ? 1 : 0;
    report.matched += Math.min(expected, sorted.length);
    extra.push(...sorted.slice(expected));
  }
  const today = businessDateAt(deps.clock.now());
  // every duplicate at once: owners in one read, receivables, schedules and their journal in one transaction
  const owners = await ownersOf(deps.db, extra);
  const owned = extra.filter((l) => owners.has(l.platformRef));
  for (const line of extra) {
    if (owners.has(line.platformRef)) continue;
    report.unmatched++;
    report.duplicates.push({ platformRef: line.platformRef, requestId: line.requestId, customerId: null, amountFen: line.amount, receivable: null });
  }
  const customers = new Set<string>();
  if (owned.length > 0) {
    const made = await deps.db.transaction().execute((trx) => createRecoveries(trx, owned.map((line) => ({ line, owner: owners.get(line.platformRef)! })), today, deps.clock.now()));
    for (const line of owned) {
      const owner = owners.get(line.platformRef)!;
      customers.add(owner);
      report.duplicates.push({ platformRef: line.platformRef, requestId: line.requestId, customerId: owner, amountFen: line.amount, receivable: made.get(line.platformRef) ?? null });
    }
  }
  if (customers.size > 0) {
    report.collection = await collectBorrowers(deps, { ids: [...customers] }, {
      date: today, runId: null, keyPrefix: 'recover', purpose: 'collect.recovery', openHolds: true, loanKinds: ['recovery'],
    });
  }
  return report;
}

/** Who received each payout line: the owner of the account or card it went to. */
async function ownersOf(db: Db, lines: readonly PayoutLine[]): Promise<Map<string, string>> {
  return ownersOfPayouts(db, lines.map((l) => ({ ref: l.platformRef, account: l.toAccount, card: l.toCard })));
}

/**
 * One recovery receivable per duplicate payout (idempotent by platform reference: a
 * re-run finds the first), with its one installment due today and the posting that
 * says the money left the lender's platform account a second time.
 */
async function createRecoveries(trx: Transaction<Database>, dups: readonly { line: PayoutLine; owner: string }[], today: string, now: Date): Promise<Map<string, string>> {
  const loans = await insertRecoveryLoans(trx, dups.map((d) => ({
    requestId: `recon:${d.line.platformRef}`, customerId: d.owner, requestHash: d.line.requestId, amount: d.line.amount,
    rail: d.line.toCard ? 'card' : 'balance', destinationId: d.line.toCard ?? d.line.toAccount ?? '', decisionDate: today,
  })));
  const fresh = dups.filter((d) => loans.get(`recon:${d.line.platformRef}`)?.fresh);
  await insertSchedules(trx, fresh.map((d) => ({ loanId: loans.get(`recon:${d.line.platformRef}`)!.id, installments: [{ no: 1, dueDate: today as BusinessDate, principal: d.line.amount, interest: 0 as Fen }] })));
  const lines: PostedLine[] = fresh.flatMap((d) => {
    const loanId = loans.get(`recon:${d.line.platformRef}`)!.id;
    return [
      { orderId: null, line: { account: ACCOUNTS.recoveryReceivable, debit: d.line.amount, credit: 0 as Fen, customerId: d.owner, loanId } },
      { orderId: null, line: { account: ACCOUNTS.platformBalance, debit: 0 as Fen, credit: d.line.amount, customerId: null, loanId: null } },
    ];
  });
  const named = fresh.slice(0, 5).map((d) => `${d.line.platformRef} of request ${d.line.requestId}`).join(', ');
  await postEntry(trx, { kind: 'recovery', memo: `${fresh.length} duplicate payout${fresh.length === 1 ? '' : 's'}: ${named}${fresh.length > 5 ? ', …' : ''}`, orderId: null }, lines, now);
  return new Map([...loans].map(([k, v]) => [k.slice('recon:'.length), v.id]));
}

/** The sandbox platform's statement of payouts (a platform route, no admin token). */
export function sandboxStatement(baseUrl: string): PayoutStatement {
  return {
    async payouts() {
      const out: PayoutLine[] = [];
      for (let after = 0; ; ) {
        const res = await fetch(`${baseUrl}/v1/statement/payouts?after=${after}&limit=5000`);
        if (!res.ok) throw new Error(`sandbox statement: HTTP ${res.status}`);
        const { movements } = (await res.json()) as { movements: { id: number; requestId: string; platformRef: string; kind: string; toAccount: string | null; toCard: string | null; amount: number }[] };
        for (const m of movements) {
          if (m.kind === 'payout' || m.kind === 'payout_duplicate') out.push({ requestId: m.requestId, platformRef: m.platformRef, toAccount: m.toAccount, toCard: m.toCard, amount: m.amount as Fen });
        }
        if (movements.length < 5000) return out;
        after = movements[movements.length - 1]!.id;
      }
    },
  };
}
