// An order is one money movement lendpay asks the platform for (a collection 代收, a
// payout 代付, a debit), unique by an idempotency key derived from what it is for.
// Each try is an attempt with a request id derived from (order, attempt): the
// platform applies a request id once. These are the domain shapes; db/ maps rows.
import type { Fen } from '../money.ts';

export type OrderKind = 'collection' | 'payout' | 'debit' | 'topup';
export type OrderStatus = 'created' | 'submitted' | 'unknown' | 'succeeded' | 'failed' | 'voided';
export type AttemptStatus = 'submitted' | 'unknown' | 'succeeded' | 'failed';

export interface Order {
  id: number;
  idempotencyKey: string;
  kind: OrderKind;
  purpose: string;
  loanId: string | null;
  customerId: string | null;
  amount: Fen;
  sourceRef: string;
  destinationRef: string;
  status: OrderStatus;
  errorCode: string | null;
  parentOrderId: number | null;
  arrivesAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Attempt {
  orderId: number;
  attemptNo: number;
  requestId: string;
  status: AttemptStatus;
  errorCode: string | null;
  platformRef: string | null;
  submittedAt: Date;
  resolvedAt: Date | null;
}

export interface NewOrder {
  idempotencyKey: string;
  kind: OrderKind;
  purpose: string;
  loanId: string | null;
  customerId: string | null;
  amount: Fen;
  sourceRef: string;
  destinationRef: string;
  parentOrderId?: number | null;
}

/** What became of one attempt: known (succeeded, failed) or not (query it later). */
export type AttemptResult =
  | { status: 'succeeded'; platformRef: string; arrivesAt: Date | null }
  | { status: 'failed'; code: string; platformRef: string | null }
  | { status: 'unknown'; reason: string };

/** An attempt recorded as submitted (committed) and about to be sent. */
export interface Begun {
  order: Order;
  attempt: Attempt;
}

export interface AttemptOutcome {
  orderId: number;
  attemptNo: number;
  result: AttemptResult;
}

/** An order whose state this transaction changed, with the result that changed it. */
export interface Changed {
  order: Order;
  attemptNo: number;
  result: AttemptResult;
}

/** The request id of attempt n of an order: derived, so a retry of the same attempt is the same request. */
export function requestIdFor(order: { idempotencyKey: string }, attemptNo: number): string {
  return `${order.idempotencyKey}#${attemptNo}`;
}

export const FINAL_STATUSES: readonly OrderStatus[] = ['succeeded', 'failed', 'voided'];
