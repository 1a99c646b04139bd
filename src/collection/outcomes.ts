// What collected money does: each successful debit or card repayment is allocated
// over its loan's unpaid installments (by that loan's own waterfall), posted to the
// journal and told to the borrower. allocateCollected is pure; collectionSettlement
// carries it out inside the transaction that records the outcomes (src/orders).
import type { Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';
import { applyInstallmentPayments, holdStates, insertNotifications, lap, latestWaterfalls, lockCustomers, writeHolds, paymentInstrumentsOf, unpaidInstallments, type InstallmentPayment, type NewNotification } from '../../db/collection.repository.ts';
import type { PostedLine } from '../../db/orders.repository.ts';
import { postingForCollection } from '../ledger/postings.ts';
import type { Fen } from '../money.ts';
import { renderNotification, type NotificationParams } from '../notifications/render.ts';
import type { NotificationTemplates } from '../notifications/templates.ts';
import type { Settlement } from '../orders/protocol.ts';
import type { Changed, Order } from '../orders/types.ts';
import { DEFAULT_WATERFALL, WATERFALL_ORDERS, type WaterfallOrder } from './rules.ts';
import { allocatePayment, type OutstandingInstallment } from './waterfall.ts';
import { decideHolds, type HoldChange } from './holds.ts';
import { closePaidLoans } from '../../db/loans.repository.ts';
import { insertPrepayments, loanStates, waiveInterest } from '../../db/prepayments.repository.ts';
import { describePrepayment, planPrepayment } from '../loans/prepayment.ts';
import { businessDateAt, type BusinessDate } from '../dates.ts';
import { LendpayError } from '../errors.ts';

/** The purpose of a prepayment's collection order (提前还款). */
export const PREPAY_PURPOSE = 'repay.prepay';


export interface Collected {
  order: Pick<Order, 'id' | 'loanId' | 'customerId' | 'amount' | 'purpose' | 'sourceRef'>;
}

export interface LoanDues {
  kind: 'loan' | 'recovery';
  /** unpaid installments, any due date */
  unpaid: OutstandingInstallment[];
}

export interface Allocated {
  payments: InstallmentPayment[];
  lines: PostedLine[];
  /** per order: what it paid */
  collected: { orderId: number; customerId: string; loanId: string; amount: Fen; principal: Fen; interest: Fen; penalty: Fen; overpayment: Fen }[];
}

/**
 * Splits every collected amount over its loan's unpaid installments, in order: a later
 * payment of the same loan sees what an earlier one took. Pure.
 */
export function allocateCollected(wins: readonly Collected[], dues: ReadonlyMap<string, LoanDues>, waterfallOf: (loanId: string) => WaterfallOrder): Allocated {
  const out: Allocated = { payments: [], lines: [], collected: [] };
  const left = new Map<string, OutstandingInstallment[]>();
  for (const w of wins) {
    const o = w.order;
    const loanId = o.loanId!;
    const d = dues.get(loanId) ?? { kind: 'loan' as const, unpaid: [] };
    const list = left.get(loanId) ?? [...d.unpaid];
    left.set(loanId, list);
    const alloc = allocatePayment(list, o.amount, waterfallOf(loanId));
    let principal = 0, interest = 0, penalty = 0;
    for (const a of alloc.allocations) {
      out.payments.push({ loanId, no: a.installmentNo, principal: a.principal, interest: a.interest, penalty: a.penalty });
      principal += a.principal;
      interest += a.interest;
      penalty += a.penalty;
      const k = list.findIndex((x) => x.no === a.installmentNo);
      const row = list[k]!;
      list[k] = { ...row, principal: (row.principal - a.principal) as Fen, interest: (row.interest - a.interest) as Fen, penalty: ((row.penalty ?? 0) - a.penalty) as Fen };
    }
    const c = { orderId: o.id, customerId: o.customerId!, loanId, amount: o.amount, principal: principal as Fen, interest: interest as Fen, penalty: penalty as Fen, overpayment: alloc.remainder };
    out.collected.push(c);
    for (const line of postingForCollection({ ...c, kind: d.kind })) out.lines.push({ orderId: o.id, line });
  }
  return out;
}

/**
 * The borrowers' holds made to follow what they still owe, inside a transaction that
 * holds their locks. `asOf`: the date a new hold covers (null: existing holds only).
 */
export async function syncHoldsLocked(trx: Transaction<Database>, customerIds: readonly string[], asOf: string | null, now: Date, clearedBy: string): Promise<HoldChange[]> {
  const w = decideHolds(await holdStates(trx, customerIds, asOf), asOf);
  const opened = await writeHolds(trx, w, asOf, now, clearedBy);
  return [...w.events, ...opened.map((h): HoldChange => ({ customerId: h.customerId, holdId: h.id, event: 'opened', amount: h.amount }))];
}

export interface CollectionSettlementOptions {
  templates: NotificationTemplates;
  now: () => Date;
  /** each loan's own waterfall (its plan's decision); DEFAULT_WATERFALL where none is known */
  waterfallOf?: (loanId: string) => WaterfallOrder | undefined;
  /** what was collected, added up as outcomes are recorded */
  totals?: { collected: Fen; succeeded: number; failed: number; unknown: number; customers: Set<string> };
  /** the holds of these borrowers follow from what they owe once the outcomes are in, in the same transaction */
  holds?: { customerIds: readonly string[]; asOf: string | null; clearedBy: string; changes: HoldChange[] };
}

/** The settlement collection orders' outcomes go through, whichever flow sent them. */
export function collectionSettlement(opts: CollectionSettlementOptions): Settlement {
  return {
    async settle(trx: Transaction<Database>, changed: readonly Changed[]): Promise<readonly PostedLine[]> {
      const t = opts.totals;
      if (t) {
        for (const c of changed) {
          if (c.result.status === 'succeeded') t.succeeded++;
          else if (c.result.status === 'failed') t.failed++;
          else t.unknown++;
          if (c.result.status !== 'unknown' && c.order.customerId) t.customers.add(c.order.customerId);
        }
      }
      const all = changed.filter((c) => c.result.status === 'succeeded' && c.order.loanId !== null);
      // a prepayment is planned against the loan's whole schedule, after the ordinary collections of this batch
      const wins = all.filter((c) => c.order.purpose !== PREPAY_PURPOSE);
      const prepaid = all.filter((c) => c.order.purpose === PREPAY_PURPOSE);
      const holdsOf = opts.holds?.customerIds ?? [];
      if (all.length === 0 && holdsOf.length === 0) return [];
      let lt = performance.now();
      const loanIds = [...new Set(all.map((w) => w.order.loanId!))].sort();
      // the borrowers are locked (in id order, as the planner locks them) so that two
      // outcomes of one borrower allocate one after the other and a hold is decided
      // from dues nobody else is changing
      await lockCustomers(trx, [...new Set([...all.map((w) => w.order.customerId).filter((c): c is string => c !== null), ...holdsOf])]);
      lt = lap('outcomes:lock-customers', lt);
      const dues = await unpaidInstallments(trx, loanIds);
      lt = lap('outcomes:read-installments', lt);
      // a loan the caller did not plan (a repayment, a recovered or escalated debit) goes by its latest plan
      const unplanned = loanIds.filter((id) => opts.waterfallOf?.(id) === undefined);
      const stored = await latestWaterfalls(trx, unplanned);
      const known = (w: string | undefined): WaterfallOrder | undefined => ((WATERFALL_ORDERS as readonly (string | undefined)[]).includes(w) ? (w as WaterfallOrder) : undefined);
      const waterfallOf = (id: string): WaterfallOrder => opts.waterfallOf?.(id) ?? known(stored.get(id)) ?? DEFAULT_WATERFALL;
      const allocated = allocateCollected(wins, dues, waterfallOf);
      lt = lap('outcomes:allocate', lt);
      await applyInstallmentPayments(trx, allocated.payments);
      if (prepaid.length > 0) {
        const pre = await settlePrepayments(trx, prepaid.map((c) => c.order), businessDateAt(opts.now()), waterfallOf);
        allocated.lines.push(...pre.lines);
        allocated.collected.push(...pre.collected);
      }
      // a loan that owes nothing more is closed
      await closePaidLoans(trx, loanIds, opts.now());
      lt = lap('outcomes:installments-update', lt);
      const cards = await paymentInstrumentsOf(trx, all.filter((w) => w.order.sourceRef.startsWith('card:')).map((w) => w.order.sourceRef.slice(5)));
      const at = opts.now();
      const notes: NewNotification[] = all.map((w) => {
        const o = w.order;
        const isCard = o.sourceRef.startsWith('card:');
        const id = o.sourceRef.replace(/^(account|card):/, '');
        const card = isCard ? cards.get(id) : undefined;
        const params: NotificationParams = { account: card?.last4 ?? id, bank: card?.bank ?? null, at, amount: o.amount, loanId: o.loanId! };
        return { customerId: o.customerId!, orderId: o.id, kind: 'debit', body: renderNotification(opts.templates, isCard ? 'card_repayment' : 'debit', params), createdAt: at };
      });
      lt = lap('outcomes:render', lt);
      await insertNotifications(trx, notes);
      lt = lap('outcomes:notifications', lt);
      if (t) for (const c of allocated.collected) t.collected = (t.collected + c.amount) as Fen;
      if (opts.holds && holdsOf.length > 0) {
        opts.holds.changes.push(...(await syncHoldsLocked(trx, holdsOf, opts.holds.asOf, at, opts.holds.clearedBy)));
        lap('outcomes:holds', lt);
      }
      return allocated.lines;
    },
  };
}

/**
 * Prepayments that the platform confirmed: each planned against its loan as it stands
 * now (what is due first, then principal off the last installments, or the payoff),
 * the interest it waives taken off the schedule, the payments applied, the plan
 * recorded; the lines to post. One loan's prepayments go one after the other.
 */
async function settlePrepayments(
  trx: Transaction<Database>, orders: readonly Collected['order'][], date: BusinessDate, waterfallOf: (loanId: string) => WaterfallOrder,
): Promise<{ lines: PostedLine[]; collected: Allocated['collected'] }> {
  const out: { lines: PostedLine[]; collected: Allocated['collected'] } = { lines: [], collected: [] };
  for (const o of orders) {
    const states = await loanStates(trx, [o.loanId!]);
    const state = states.get(o.loanId!);
    if (!state) throw new LendpayError('NOT_FOUND', `prepayment ${o.id}: loan ${o.loanId} has no schedule`);
    const plan = planPrepayment(state, o.amount, date, waterfallOf(o.loanId!));
    await waiveInterest(trx, plan.interestWaived.map((w) => ({ loanId: o.loanId!, no: w.no, interest: w.interest })));
    await applyInstallmentPayments(trx, plan.payments.map((p) => ({ loanId: o.loanId!, no: p.no, principal: p.principal, interest: p.interest, penalty: p.penalty })));
    await insertPrepayments(trx, [{ orderId: o.id, plan, description: describePrepayment(plan) }]);
    const c = {
      orderId: o.id, customerId: o.customerId!, loanId: o.loanId!, amount: o.amount,
      principal: plan.principal, interest: plan.interest, penalty: plan.penalty, overpayment: plan.overpayment,
    };
    out.collected.push(c);
    for (const line of postingForCollection({ ...c, fee: plan.fee, kind: state.kind === 'recovery' ? 'recovery' : 'loan' })) out.lines.push({ orderId: o.id, line });
  }
  return out;
}
