// The overview: batch runs with their progress, orders by state, stuck orders, the
// latest loans, holds in a line, what waits for an operator and the open alerts.
import type { BatchRunView, StuckOrder } from '../../db/api.repository.ts';
import type { HoldTotals } from '../../db/dashboard.repository.ts';
import type { OperatorQueue } from '../../db/escalation.repository.ts';
import type { StoredAlert } from '../../db/alerts.repository.ts';
import type { Fen } from '../money.ts';
import { stamp, yuan } from './format.ts';
import { ORDER_STATES } from './charts.ts';

export interface SummaryInputs {
  now: Date;
  stuckAfterMinutes: number;
  runs: BatchRunView[];
  byState: { kind: string; status: string; count: number; amount: Fen }[];
  stuck: StuckOrder[];
  loans: { id: string; customerId: string; principal: Fen; status: string; rail: string; createdAt: Date }[];
  loansByStatus: { status: string; count: number }[];
  holds: HoldTotals;
  queue: OperatorQueue;
  alerts: StoredAlert[];
}

export function summaryView(x: SummaryInputs) {
  return {
    now: stamp(x.now),
    stuckAfterMinutes: x.stuckAfterMinutes,
    runs: x.runs.map((r) => ({
      id: r.id, kind: r.kind, businessDate: r.businessDate, status: r.status, totalChunks: r.totalChunks, doneChunks: r.doneChunks, items: r.items,
      startedAt: stamp(r.startedAt), finishedAt: stamp(r.finishedAt),
    })),
    funnel: ORDER_STATES.map((state) => {
      const rows = x.byState.filter((r) => r.status === state);
      return {
        state,
        count: rows.reduce((s, r) => s + r.count, 0),
        amount: yuan(rows.reduce((s, r) => s + r.amount, 0)),
        byKind: Object.fromEntries(rows.map((r) => [r.kind, r.count])),
      };
    }),
    stuck: x.stuck.map((o) => ({ id: o.id, key: o.idempotencyKey, kind: o.kind, status: o.status, loanId: o.loanId, amount: yuan(o.amount), since: stamp(o.updatedAt) })),
    loans: x.loans.map((l) => ({ id: l.id, customerId: l.customerId, principal: yuan(l.principal), rail: l.rail, status: l.status, createdAt: stamp(l.createdAt) })),
    loansByStatus: x.loansByStatus,
    holds: { open: x.holds.openHolds, blockedBorrowers: x.holds.blockedBorrowers, amount: yuan(x.holds.amount), mismatched: x.holds.mismatched },
    operatorQueue: {
      size: x.queue.items.length,
      items: x.queue.items.map((i) => ({
        orderId: i.orderId, key: i.idempotencyKey, customerId: i.customerId, amount: yuan(i.amount), status: i.orderStatus, errorCode: i.errorCode,
        step: i.proposedStep, reason: i.reason, since: stamp(i.waitingSince),
      })),
      deadLetters: x.queue.deadLetters.length,
    },
    alerts: x.alerts.map((a) => ({ id: a.id, severity: a.severity ?? 'warning', rule: a.rule ?? a.kind, message: a.message, orderId: a.orderId, at: stamp(a.createdAt) })),
  };
}
