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

// ---- the same shapes as JSON schemas, for /openapi.json (and the tests that check real answers against it) ----

const obj = (properties: Record<string, object>, description?: string) =>
  ({ type: 'object', required: Object.keys(properties), additionalProperties: false, properties, ...(description ? { description } : {}) }) as const;
const str = { type: 'string' } as const;
const nstr = { type: 'string', nullable: true } as const;
const time = { type: 'string', format: 'date-time' } as const;
const ntime = { type: 'string', format: 'date-time', nullable: true } as const;
const date = { type: 'string', format: 'date' } as const;
const yuan = { type: 'string', pattern: '^-?[0-9]{1,13}\\.[0-9]{2}$', description: 'yuan with two decimals' } as const;

export const LOAN_SCHEMA = obj({
  id: str, customerId: str, requestId: str, principal: yuan, rail: { type: 'string', enum: ['balance', 'card'] },
  destinationId: str, mode: { type: 'string', enum: ['compliant', 'legacy'] }, status: { type: 'string', enum: ['disbursing', 'disbursed', 'failed', 'closed'] },
  decisionDate: date, ruleSetHash: str, limit: yuan, expectedArrivalAt: ntime, createdAt: time,
});

export const ORDER_SCHEMA = obj({
  id: { type: 'integer' }, idempotencyKey: str, kind: { type: 'string', enum: ['collection', 'payout', 'debit', 'topup'] }, purpose: str,
  loanId: nstr, customerId: nstr, amount: yuan, source: str, destination: str,
  status: { type: 'string', enum: ['created', 'submitted', 'unknown', 'succeeded', 'failed', 'voided'] }, errorCode: nstr,
  parentOrderId: { type: 'integer', nullable: true }, arrivesAt: ntime, createdAt: time, updatedAt: time,
});

export const ATTEMPT_SCHEMA = obj({
  attemptNo: { type: 'integer' }, requestId: str, status: { type: 'string', enum: ['submitted', 'unknown', 'succeeded', 'failed'] }, errorCode: nstr,
  platformRef: nstr, submittedAt: time, resolvedAt: ntime, queries: { type: 'integer' }, lastQueriedAt: ntime,
});

export const DECISION_SCHEMA = obj({
  businessDate: date, eligible: { type: 'boolean' }, door: { type: 'string', enum: ['whitelist', 'auto_tag', null], nullable: true }, limit: yuan,
  reasons: { type: 'array', items: str }, ruleSetHash: str, fired: { type: 'array', items: str }, decidedAt: time,
});

export const HOLD_SCHEMA = obj({ id: { type: 'integer' }, amount: yuan, asOfDate: date, openedAt: time });

const nint = { type: 'integer', nullable: true } as const;
/** What a loan was sold as (src/loans/view.ts productView); null for a loan made before products. */
export const PRODUCT_TERMS_SCHEMA = {
  ...obj({
    id: str, name: str, method: { type: 'string', enum: ['daily_equal_principal', 'equal_installment', 'interest_first', 'bullet'] }, term: nint,
    termUnit: { type: 'string', enum: ['days', 'months'] }, dailyRatePpm: nint, annualRateBp: nint, penaltyDailyRatePpm: { type: 'integer' },
    graceDays: { type: 'integer' }, prepaymentFeeBp: { type: 'integer' }, schedule: { type: 'string', enum: ['product', 'request'] },
  }),
  nullable: true,
} as const;

export const INSTALLMENT_SCHEMA = obj({
  number: { type: 'integer' }, dueDate: date, principal: yuan, interest: yuan, penalty: yuan, paid: yuan,
  status: { type: 'string', enum: ['paid', 'overdue', 'due', 'upcoming'] },
});

/** A loan with its product and schedule (src/loans/view.ts loanScheduleView). */
export const LOAN_DETAIL_SCHEMA = obj({
  ...LOAN_SCHEMA.properties, product: PRODUCT_TERMS_SCHEMA, disbursedOn: date, installments: { type: 'array', items: INSTALLMENT_SCHEMA },
});

export const LOAN_WITH_ORDERS_SCHEMA = obj({ loan: LOAN_DETAIL_SCHEMA, orders: { type: 'array', items: ORDER_SCHEMA } });

export const SCHEMA_PARTS = { obj, str, nstr, time, ntime, date, yuan } as const;
