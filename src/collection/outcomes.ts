// What collected money does: each successful debit or card repayment is allocated
// over its loan's unpaid installments (by that loan's own waterfall), posted to the
// journal and told to the borrower. allocateCollected is pure; collectionSettlement
// carries it out inside the transaction that records the outcomes (src/orders).
import type { Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';
import { applyInstallmentPayments, insertNotifications, latestWaterfalls, lockLoans, paymentInstrumentsOf, unpaidInstallments, type InstallmentPayment, type NewNotification } from '../../db/collection.repository.ts';
import type { PostedLine } from '../../db/orders.repository.ts';
import { postingForCollection } from '../ledger/postings.ts';
import type { Fen } from '../money.ts';
import { renderNotification, type NotificationParams } from '../notifications/render.ts';
import type { NotificationTemplates } from '../notifications/templates.ts';
import type { Settlement } from '../orders/protocol.ts';
import type { Changed, Order } from '../orders/types.ts';
import { DEFAULT_WATERFALL, WATERFALL_ORDERS, type WaterfallOrder } from './rules.ts';
import { allocatePayment, type OutstandingInstallment } from './waterfall.ts';


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
  collected: { orderId: number; customerId: string; loanId: string; amount: Fen; principal: Fen; interest: Fen; overpayment: Fen }[];
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
    let principal = 0, interest = 0;
    for (const a of alloc.allocations) {
      out.payments.push({ loanId, no: a.installmentNo, principal: a.principal, interest: a.interest });
      principal += a.principal;
      interest += a.interest;
      const k = list.findIndex((x) => x.no === a.installmentNo);
      const row = list[k]!;
      list[k] = { ...row, principal: (row.principal - a.principal) as Fen, interest: (row.interest - a.interest) as Fen };
    }
    const c = { orderId: o.id, customerId: o.customerId!, loanId, amount: o.amount, principal: principal as Fen, interest: interest as Fen, overpayment: alloc.remainder };
    out.collected.push(c);
    for (const line of postingForCollection({ ...c, kind: d.kind })) out.lines.push({ orderId: o.id, line });
  }
  return out;
}

export interface CollectionSettlementOptions {
  templates: NotificationTemplates;
  now: () => Date;
  /** each loan's own waterfall (its plan's decision); DEFAULT_WATERFALL where none is known */
  waterfallOf?: (loanId: string) => WaterfallOrder | undefined;
  /** what was collected, added up as outcomes are recorded */
  totals?: { collected: Fen; succeeded: number; failed: number; unknown: number; customers: Set<string> };
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
      const wins = changed.filter((c) => c.result.status === 'succeeded' && c.order.loanId !== null);
      if (wins.length === 0) return [];
      const loanIds = [...new Set(wins.map((w) => w.order.loanId!))].sort();
      // the loans are locked so that two outcomes of one loan allocate one after the other
      await lockLoans(trx, loanIds);
      const dues = await unpaidInstallments(trx, loanIds);
      // a loan the caller did not plan (a repayment, a recovered or escalated debit) goes by its latest plan
      const unplanned = loanIds.filter((id) => opts.waterfallOf?.(id) === undefined);
      const stored = await latestWaterfalls(trx, unplanned);
      const known = (w: string | undefined): WaterfallOrder | undefined => ((WATERFALL_ORDERS as readonly (string | undefined)[]).includes(w) ? (w as WaterfallOrder) : undefined);
      const waterfallOf = (id: string): WaterfallOrder => opts.waterfallOf?.(id) ?? known(stored.get(id)) ?? DEFAULT_WATERFALL;
      const allocated = allocateCollected(wins, dues, waterfallOf);
      await applyInstallmentPayments(trx, allocated.payments);
      const cards = await paymentInstrumentsOf(trx, wins.filter((w) => w.order.sourceRef.startsWith('card:')).map((w) => w.order.sourceRef.slice(5)));
      const at = opts.now();
      const notes: NewNotification[] = wins.map((w) => {
        const o = w.order;
        const isCard = o.sourceRef.startsWith('card:');
        const id = o.sourceRef.replace(/^(account|card):/, '');
        const card = isCard ? cards.get(id) : undefined;
        const params: NotificationParams = { account: card?.last4 ?? id, bank: card?.bank ?? null, at, amount: o.amount, loanId: o.loanId! };
        return { customerId: o.customerId!, orderId: o.id, kind: 'debit', body: renderNotification(opts.templates, isCard ? 'card_repayment' : 'debit', params), createdAt: at };
      });
      await insertNotifications(trx, notes);
      if (t) for (const c of allocated.collected) t.collected = (t.collected + c.amount) as Fen;
      return allocated.lines;
    },
  };
}
