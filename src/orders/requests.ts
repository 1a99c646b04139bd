// What the platform is asked for an order's attempt, and what its answer means for
// the attempt. Pure: the same (order, request id) always builds the same request, so a
// request sent again under its id is the same request to the platform.
import type { ChannelOutcome, CollectRequest, DebitRequest, PayoutRequest, QueryResult } from '../channel/types.ts';
import { LendpayError } from '../errors.ts';
import type { AttemptResult, Order } from './types.ts';

export type ChannelRequest =
  | { op: 'collect'; req: CollectRequest }
  | { op: 'payout'; req: PayoutRequest }
  | { op: 'debit'; req: DebitRequest };

/** An answer to a request: the platform's outcome, or its refusal of the request itself (nothing applied). */
export type Sent = ChannelOutcome | { requestId: string; status: 'rejected'; code: 'CHANNEL_REJECTED' | 'REQUEST_ID_REUSED'; message: string };

function ref(r: string, kind: 'account' | 'card'): string {
  const [k, id] = r.split(/:(.*)/s) as [string, string];
  if (k !== kind || !id) throw new LendpayError('INVALID_INPUT', `order reference "${r}" is not a ${kind}`);
  return id;
}

export function requestFor(order: Pick<Order, 'kind' | 'sourceRef' | 'destinationRef' | 'amount'>, requestId: string): ChannelRequest {
  switch (order.kind) {
    case 'collection':
    case 'topup':
      return { op: 'collect', req: { requestId, cardId: ref(order.sourceRef, 'card'), toAccountId: ref(order.destinationRef, 'account'), amount: order.amount } };
    case 'payout': {
      const to = order.destinationRef.startsWith('card:')
        ? { kind: 'card' as const, cardId: ref(order.destinationRef, 'card') }
        : { kind: 'account' as const, accountId: ref(order.destinationRef, 'account') };
      return { op: 'payout', req: { requestId, fromAccountId: ref(order.sourceRef, 'account'), to, amount: order.amount } };
    }
    case 'debit':
      return { op: 'debit', req: { requestId, fromAccountId: ref(order.sourceRef, 'account'), toAccountId: ref(order.destinationRef, 'account'), amount: order.amount } };
  }
}

export function toResult(o: Sent | QueryResult): AttemptResult {
  switch (o.status) {
    case 'succeeded':
      return { status: 'succeeded', platformRef: o.platformRef, arrivesAt: o.arrivesAt ?? null };
    case 'failed':
      return { status: 'failed', code: o.code, platformRef: o.platformRef };
    case 'rejected':
      return { status: 'failed', code: o.code, platformRef: null };
    case 'unknown':
      return { status: 'unknown', reason: o.reason };
    case 'not_found':
      return { status: 'unknown', reason: 'not found on the platform' };
  }
}
