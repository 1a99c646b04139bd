// Carrying collection plans out. For a set of borrowers: read their balances from the
// platform (one bulk call per 1,000 accounts), then under the borrowers' row locks
// compute what is due, run the collection rules and the planner, and record the plans
// with their debit orders and attempts (one transaction); commit; send the debits in
// batch calls; record the outcomes with allocation, journal and notifications (one
// transaction); derive the holds and make the platform's outflow block match them.
import type { Db } from '../../db/connection.ts';
import {
  blockMismatches, collectionPhases, dueBorrowerAccounts, holdStates, insertCollectionItems, lap, loadDueBorrowers, lockCustomers, recordBlocks, writeHolds,
  type DueBorrower, type ItemRecord,
} from '../../db/collection.repository.ts';
import { insertSubmitted } from '../../db/orders.repository.ts';
import { recordOutcomes } from '../orders/protocol.ts';
import { sendRequests } from '../orders/send.ts';
import { toResult } from '../orders/requests.ts';
import type { NewOrder } from '../orders/types.ts';
import { collectionSettlement, syncHoldsLocked } from './outcomes.ts';
import { decideHolds, type HoldChange } from './holds.ts';
import type { PaymentChannel, BalanceResult } from '../channel/types.ts';
import { MAX_BATCH } from '../channel/types.ts';
import type { Clock } from '../dates.ts';
import type { Fen } from '../money.ts';
import type { CollectionRules, Step, WaterfallOrder } from './rules.ts';
import { compileCollectionRules, type CollectionEvaluator } from './evaluate.ts';
import type { CollectionFacts } from './facts.ts';
import { planCollection, type BorrowerAccount } from './plan.ts';
import type { NotificationTemplates } from '../notifications/templates.ts';
import { LendpayError } from '../errors.ts';

export interface CollectionDeps {
  db: Db;
  channel: PaymentChannel;
  clock: Clock;
  collectionRules: CollectionRules;
  notifications: NotificationTemplates;
  ruleSetHash: string;
  lender: { accountId: string };
}

export interface ChunkReport {
  borrowers: number;
  loans: number;
  due: Fen;
  planned: Fen;
  collected: Fen;
  held: Fen;
  byStep: Record<string, { loans: number; amount: number }>;
  debits: { sent: number; succeeded: number; failed: number; unknown: number };
  holds: { opened: number; cleared: number };
  blocks: { blocked: number; unblocked: number };
}

const evaluators = new WeakMap<CollectionRules, CollectionEvaluator>();
function evaluatorFor(rules: CollectionRules): CollectionEvaluator {
  let e = evaluators.get(rules);
  if (!e) evaluators.set(rules, (e = compileCollectionRules(rules)));
  return e;
}

export type BorrowerSelection = { fromKey: string; toKey: string | null } | { ids: readonly string[] };

export interface CollectOptions {
  /** what is due on or before this date is collected */
  date: string;
  runId: number | null;
  /** idempotency key prefix and order purpose: 'collect' (post-settlement) or e.g. 'hold:<slot>' */
  keyPrefix: string;
  purpose: 'collect.batch' | 'collect.hold' | 'collect.recovery';
  /** the hold monitor sweeps instead of asking the rules */
  stepsOverride?: readonly Step[];
  /** open a hold for what stays unpaid (the monitor only updates existing ones) */
  openHolds: boolean;
  /** only these kinds of dues (reconciliation collects its recovery receivables alone) */
  loanKinds?: readonly ('loan' | 'recovery')[];
  /** told what the platform said of the borrowers' accounts (the hold monitor checks their blocks with it) */
  seen?: (balances: readonly BalanceResult[]) => void;
}

export { collectionPhases };

export async function collectBorrowers(deps: CollectionDeps, selection: BorrowerSelection, opts: CollectOptions): Promise<ChunkReport> {
  let t = performance.now();
  const report: ChunkReport = {
    borrowers: 0, loans: 0, due: 0 as Fen, planned: 0 as Fen, collected: 0 as Fen, held: 0 as Fen, byStep: {},
    debits: { sent: 0, succeeded: 0, failed: 0, unknown: 0 }, holds: { opened: 0, cleared: 0 }, blocks: { blocked: 0, unblocked: 0 },
  };
  // who owes, and on which accounts, then their balances: no transaction is open across the platform call
  const owing = await dueBorrowerAccounts(deps.db, opts.date, selection);
  t = lap('load', t);
  if (owing.size === 0) return report;
  const ids = [...owing.keys()];
  const balances = await bulkBalances(deps.channel, [...owing.values()].flat(), opts.seen);
  t = lap('balances-http', t);
  const evaluate = evaluatorFor(deps.collectionRules);
  const now = deps.clock.now();
  // each loan's money goes by its own decision's waterfall
  const waterfalls = new Map<string, WaterfallOrder>();

  // 1. under the borrowers' locks: the plans, recorded, with their debit orders and attempts
  const begun = await deps.db.transaction().execute(async (trx) => {
    let tt = performance.now();
    await lockCustomers(trx, ids);
    tt = lap('plan:lock', tt);
    // what they owe, read under the locks: no other planner collects or sends for them meanwhile
    const borrowers = await loadDueBorrowers(trx, opts.date, { ids });
    tt = lap('plan:load-dues', tt);
    const items: ItemRecord[] = [];
    const orders: NewOrder[] = [];
    for (const b of borrowers) {
      report.borrowers++;
      const running = new Map<string, Fen>(b.accounts.map((a) => [a.id, (balances.get(a.id) ?? 0) as Fen]));
      for (const loan of b.loans) {
        if (opts.loanKinds && !opts.loanKinds.includes(loan.kind)) continue;
        const unpaid = loan.installments.reduce((s, i) => s + i.principal + i.interest + (i.penalty ?? 0), 0);
        const due = Math.max(0, unpaid - loan.inFlight) as Fen;
        if (due === 0) continue;
        const accounts: BorrowerAccount[] = b.accounts.map((a) => ({ id: a.id, primary: a.primary, balance: running.get(a.id)! }));
        const facts = factsFor(b, loan.kind, due, loan.oldestDue, opts.date, accounts);
        const decision = evaluate(facts);
        waterfalls.set(loan.loanId, decision.waterfall);
        const steps = opts.stepsOverride ?? decision.steps;
        const plan = planCollection({ due, accounts, steps });
        for (const d of plan.debits) running.set(d.accountId, (running.get(d.accountId)! - d.amount) as Fen);
        items.push({
          loanId: loan.loanId, customerId: b.customerId, due, planned: plan.collected, held: plan.held, step: plan.step,
          // the steps follow from the rule set (hash) and the rules that fired; the accounts are what the planner saw
          plan: { accounts, debits: plan.debits, collected: plan.collected, held: plan.held, left: plan.left, block: plan.block, waterfall: decision.waterfall },
          facts, fired: opts.stepsOverride ? ['hold-monitor-sweep'] : decision.fired,
        });
        for (const d of plan.debits) {
          orders.push({
            idempotencyKey: `${opts.keyPrefix}:${loan.loanId}:${opts.date}:${d.step}:${d.accountId}`, kind: 'debit', purpose: opts.purpose,
            loanId: loan.loanId, customerId: b.customerId, amount: d.amount, sourceRef: `account:${d.accountId}`, destinationRef: `account:${deps.lender.accountId}`,
          });
        }
      }
    }
    tt = lap('plan:rules+planner', tt);
    // the batch's record of each plan; a re-run finds it and sends nothing again
    const fresh = opts.purpose === 'collect.batch'
      ? await insertCollectionItems(trx, opts.date, opts.runId, deps.ruleSetHash, items)
      : new Set(items.map((i) => i.loanId));
    for (const i of items) {
      if (!fresh.has(i.loanId)) continue;
      report.loans++;
      report.due = (report.due + i.due) as Fen;
      report.planned = (report.planned + i.planned) as Fen;
      report.held = (report.held + i.held) as Fen;
      const s = (report.byStep[i.step] ??= { loans: 0, amount: 0 });
      s.loans++;
      s.amount += i.planned;
    }
    tt = lap('plan:insert-items', tt);
    const sub = await insertSubmitted(trx, orders.filter((o) => fresh.has(o.loanId!)), now);
    lap('plan:orders+attempts', tt);
    return sub;
  });
  t = lap('plan+intents-tx', t);

  // 2. and 3. the debits in batch calls, then their outcomes with allocation, journal and notifications
  const totals = { collected: 0 as Fen, succeeded: 0, failed: 0, unknown: 0, customers: new Set<string>() };
  report.debits.sent = begun.length;
  const sent = await sendRequests(deps.channel, begun.map((b) => ({ order: b.order, requestId: b.attempt.requestId })));
  t = lap('debit-http', t);
  // the holds follow in the outcomes' transaction, under the same locks
  const holds = { customerIds: ids, asOf: opts.openHolds ? opts.date : null, clearedBy: 'collection', changes: [] as HoldChange[] };
  const settlement = collectionSettlement({ templates: deps.notifications, now: () => deps.clock.now(), waterfallOf: (id) => waterfalls.get(id), totals, holds });
  await recordOutcomes(deps, begun.map((b, i) => ({ orderId: b.order.id, attemptNo: b.attempt.attemptNo, result: toResult(sent[i]!) })), settlement);
  t = lap('outcomes-tx', t);
  report.debits.succeeded = totals.succeeded;
  report.debits.failed = totals.failed;
  report.debits.unknown = totals.unknown;
  report.collected = totals.collected;
  if (begun.length === 0) {
    // nothing was sent (all planned before, or nothing to take): the holds still follow what is owed
    report.holds = (await settleHolds(deps, ids, holds.asOf)).holds;
  } else {
    report.holds = countHolds(holds.changes);
  }
  report.blocks = await syncBlocks(deps, ids);
  lap('blocks', t);
  return report;
}

function factsFor(b: DueBorrower, kind: 'loan' | 'recovery', due: Fen, oldestDue: string, date: string, accounts: readonly BorrowerAccount[]): CollectionFacts {
  const primary = accounts.find((a) => a.primary);
  const days = Math.max(0, Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${oldestDue}T00:00:00Z`)) / 86_400_000));
  return {
    segment: b.segment,
    kind: kind === 'recovery' ? 'recovery' : 'installment',
    amountDue: due,
    daysOverdue: days,
    accountCount: accounts.length,
    holdOpen: b.holdOpen,
    primaryBalance: (primary?.balance ?? 0) as Fen,
    totalBalance: accounts.reduce((s, a) => s + a.balance, 0) as Fen,
  };
}

async function bulkBalances(channel: PaymentChannel, ids: readonly string[], seen?: (b: readonly BalanceResult[]) => void): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < ids.length; i += MAX_BATCH) {
    const res: BalanceResult[] = await channel.balances(ids.slice(i, i + MAX_BATCH));
    seen?.(res);
    for (const r of res) if (r.found) out.set(r.accountId, r.balance);
  }
  return out;
}

/** Holds from what stays unpaid, then the platform's outflow block to match. */
export async function settleHolds(
  deps: Pick<CollectionDeps, 'db' | 'channel' | 'clock'>,
  customerIds: readonly string[],
  asOf: string | null,
  clearedBy = 'collection',
): Promise<{ changes: HoldChange[]; holds: { opened: number; cleared: number }; blocks: { blocked: number; unblocked: number } }> {
  let t = performance.now();
  const changes = customerIds.length === 0 ? [] : await deps.db.transaction().execute(async (trx) => {
    // the planner's locks: a hold is decided from dues no one else is changing
    await lockCustomers(trx, customerIds);
    return syncHoldsLocked(trx, customerIds, asOf, deps.clock.now(), clearedBy);
  });
  t = lap('holds', t);
  const blocks = await syncBlocks(deps, customerIds);
  lap('blocks', t);
  return { changes, holds: countHolds(changes), blocks };
}

function countHolds(changes: readonly HoldChange[]): { opened: number; cleared: number } {
  return { opened: changes.filter((c) => c.event === 'opened').length, cleared: changes.filter((c) => c.event === 'cleared').length };
}

/**
 * Makes the platform's outflow block equal "has an open hold": freeze or unfreeze,
 * then record it. Idempotent; a crash in between is mended by the next call.
 */
export async function syncBlocks(deps: Pick<CollectionDeps, 'db' | 'channel' | 'clock'>, customerIds?: readonly string[]): Promise<{ blocked: number; unblocked: number }> {
  const out = { blocked: 0, unblocked: 0 };
  const mismatches = await blockMismatches(deps.db, customerIds);
  const channel = deps.channel;
  for (let i = 0; i < mismatches.length; i += MAX_BATCH) {
    const slice = mismatches.slice(i, i + MAX_BATCH);
    let done: { customerId: string; blocked: boolean }[];
    const missing: string[] = [];
    if (channel.setOutflowBlocks) {
      // one platform call per 1,000 borrowers, then one statement to record them
      const res = await channel.setOutflowBlocks(slice.map((m) => ({ customerId: m.customerId, frozenOutflow: m.shouldBlock })));
      done = [];
      slice.forEach((m, j) => {
        if (res[j]!.accounts > 0) done.push({ customerId: m.customerId, blocked: m.shouldBlock });
        else missing.push(m.customerId);
      });
    } else {
      done = [];
      for (const m of slice) {
        if (m.shouldBlock) await channel.freezeOutflow(m.customerId);
        else await channel.unfreezeOutflow(m.customerId);
        done.push({ customerId: m.customerId, blocked: m.shouldBlock });
      }
    }
    await recordBlocks(deps.db, done, deps.clock.now());
    for (const d of done) {
      if (d.blocked) out.blocked++;
      else out.unblocked++;
    }
    if (missing.length > 0) {
      throw new LendpayError('CHANNEL_REJECTED', `payment platform: no accounts to ${slice.find((m) => m.customerId === missing[0])!.shouldBlock ? 'freeze' : 'unfreeze'} for customer ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);
    }
  }
  return out;
}
