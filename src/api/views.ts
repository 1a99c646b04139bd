// Domain objects as the API shows them: amounts as yuan strings, dates as ISO text.
import type { Loan } from '../../db/loans.repository.ts';
import type { Attempt, Order } from '../../db/orders.repository.ts';
import type { StoredDecision } from '../../db/eligibility.repository.ts';
import { formatYuan } from '../money.ts';

export function loanView(l: Loan) {
  return {
    id: l.id, customerId: l.customerId, requestId: l.requestId, principal: formatYuan(l.principal), rail: l.rail,
    destinationId: l.destinationId, mode: l.mode, status: l.status, decisionDate: l.decisionDate, ruleSetHash: l.ruleSetHash,
    limit: formatYuan(l.limit), expectedArrivalAt: l.expectedArrivalAt?.toISOString() ?? null, createdAt: l.createdAt.toISOString(),
  };
}

export function orderView(o: Order) {
  return {
    id: o.id, idempotencyKey: o.idempotencyKey, kind: o.kind, purpose: o.purpose, loanId: o.loanId, customerId: o.customerId,
    amount: formatYuan(o.amount), source: o.sourceRef, destination: o.destinationRef, status: o.status, errorCode: o.errorCode,
    parentOrderId: o.parentOrderId, arrivesAt: o.arrivesAt?.toISOString() ?? null, createdAt: o.createdAt.toISOString(), updatedAt: o.updatedAt.toISOString(),
  };
}

export function attemptView(a: Attempt, q?: { queries: number; lastQueriedAt: Date | null }) {
  return {
    attemptNo: a.attemptNo, requestId: a.requestId, status: a.status, errorCode: a.errorCode, platformRef: a.platformRef,
    submittedAt: a.submittedAt.toISOString(), resolvedAt: a.resolvedAt?.toISOString() ?? null,
    queries: q?.queries ?? 0, lastQueriedAt: q?.lastQueriedAt?.toISOString() ?? null,
  };
}

export function decisionView(d: StoredDecision) {
  return {
    businessDate: d.businessDate, eligible: d.eligible, door: d.door, limit: formatYuan(d.limit), reasons: d.reasons,
    ruleSetHash: d.ruleSetHash, fired: d.fired, decidedAt: d.decidedAt.toISOString(),
  };
}
