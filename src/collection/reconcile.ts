// Reconciliation of payouts: the platform's statement against lendpay's orders. A
// payout the platform made more than once for one request (or for a request lendpay
// never sent) becomes a recovery receivable on the borrower who received it,
// collected by exactly the same plan as any due: debit if there is money, else hold
// and block. Idempotent: one receivable per platform reference.
import { sql } from 'kysely';
import type { Db } from '../../db/connection.ts';
import { insertInstallments } from '../../db/collection.repository.ts';
import { postJournal } from '../../db/orders.repository.ts';
import { ACCOUNTS } from '../ledger/postings.ts';
import { businessDateAt } from '../dates.ts';
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
  const known = ids.length === 0 ? [] : (await sql<{ request_id: string; status: string }>`
    select request_id, status from order_attempts where request_id = any(${ids}::text[])
  `.execute(deps.db)).rows;
  const status = new Map(known.map((k) => [k.request_id, k.status]));
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
  const customers = new Set<string>();
  for (const line of extra) {
    const owner = await ownerOf(deps.db, line);
    if (!owner) {
      report.unmatched++;
      report.duplicates.push({ platformRef: line.platformRef, requestId: line.requestId, customerId: null, amountFen: line.amount, receivable: null });
      continue;
    }
    const loanId = await deps.db.transaction().execute(async (trx) => {
      const inserted = await sql<{ id: string }>`
        insert into loans (id, kind, customer_id, request_id, request_hash, principal_fen, rail, destination_id, mode, status, decision_date, rule_set_hash, limit_fen)
        values ('R' || nextval('loan_numbers'), 'recovery', ${owner}, ${`recon:${line.platformRef}`}, ${line.requestId}, ${line.amount},
          ${line.toCard ? 'card' : 'balance'}, ${line.toCard ?? line.toAccount ?? ''}, 'compliant', 'disbursed', ${today}::date, 'reconciliation', 0)
        on conflict (request_id) do nothing returning id
      `.execute(trx);
      const id = inserted.rows[0]?.id;
      if (!id) return (await trx.selectFrom('loans').select('id').where('request_id', '=', `recon:${line.platformRef}`).executeTakeFirstOrThrow()).id;
      await insertInstallments(trx, id, [{ no: 1, dueDate: today, principal: line.amount, interest: 0 as Fen }]);
      // the money left the lender's platform account a second time: owed back by the borrower
      await postJournal(trx, null, {
        kind: 'recovery',
        memo: `duplicate payout ${line.platformRef} of request ${line.requestId}`,
        lines: [
          { account: ACCOUNTS.recoveryReceivable, debit: line.amount, credit: 0 as Fen, customerId: owner, loanId: id },
          { account: ACCOUNTS.platformBalance, debit: 0 as Fen, credit: line.amount, customerId: null, loanId: null },
        ],
      });
      return id;
    });
    customers.add(owner);
    report.duplicates.push({ platformRef: line.platformRef, requestId: line.requestId, customerId: owner, amountFen: line.amount, receivable: loanId });
  }
  if (customers.size > 0) {
    report.collection = await collectBorrowers(deps, { ids: [...customers] }, {
      date: today, runId: null, keyPrefix: 'recover', purpose: 'collect.recovery', openHolds: true, loanKinds: ['recovery'],
    });
  }
  return report;
}

async function ownerOf(db: Db, line: PayoutLine): Promise<string | null> {
  const r = line.toAccount
    ? await db.selectFrom('customer_accounts').select('customer_id').where('id', '=', line.toAccount).executeTakeFirst()
    : line.toCard
      ? await db.selectFrom('customer_bank_cards').select('customer_id').where('id', '=', line.toCard).executeTakeFirst()
      : undefined;
  return r?.customer_id ?? null;
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
