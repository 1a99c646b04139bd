// The payment platform as lendpay sees it. Everything lendpay does with money on
// the platform goes through PaymentChannel; the sandbox and a real adapter both
// implement it. Amounts are integer fen on the wire and here.
import type { Fen } from '../money.ts';

/** Chosen by the caller, derived from (order, attempt); a repeated id is the same request. */
export type RequestId = string;
export type AccountId = string;
export type CardId = string;
export type CustomerId = string;

export const FAILURE_CODES = [
  'INSUFFICIENT_FUNDS',
  'ACCOUNT_FROZEN',
  'OUTFLOW_BLOCKED',
  'CARD_INVALID',
  'CHANNEL_UNAVAILABLE',
  'LIMIT_EXCEEDED',
  'ACCOUNT_NOT_FOUND',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** Most requests in one batch call. */
export const MAX_BATCH = 1000;

export interface CollectRequest {
  requestId: RequestId;
  /** The card money is pulled from (the lender's funding card, or a borrower's bound card). */
  cardId: CardId;
  toAccountId: AccountId;
  amount: Fen;
}

export type PayoutDestination = { kind: 'account'; accountId: AccountId } | { kind: 'card'; cardId: CardId };

export interface PayoutRequest {
  requestId: RequestId;
  fromAccountId: AccountId;
  to: PayoutDestination;
  amount: Fen;
}

/** Borrower's balance account -> lender's, under the borrower's agreement. Allowed while outflow is frozen. */
export interface DebitRequest {
  requestId: RequestId;
  fromAccountId: AccountId;
  toAccountId: AccountId;
  amount: Fen;
}

/** A merchant takes money out of its balance account to its own card. */
export interface WithdrawRequest {
  requestId: RequestId;
  accountId: AccountId;
  cardId: CardId;
  amount: Fen;
}

/** What the platform decided, or that the caller cannot know (then query by id). */
export type ChannelOutcome =
  | { requestId: RequestId; status: 'succeeded'; amount: Fen; platformRef: string; arrivesAt?: Date }
  | { requestId: RequestId; status: 'failed'; code: FailureCode; amount: Fen; platformRef: string }
  /** Timeout, 5xx or dropped connection: the request may or may not have been applied. */
  | { requestId: RequestId; status: 'unknown'; reason: string }
  /**
   * Batch items only: the platform refused this item and recorded nothing new under
   * it (e.g. the id was used before with a different payload; the first request stands).
   * A single (non-batch) request refused this way throws LendpayError instead.
   */
  | { requestId: RequestId; status: 'rejected'; code: 'REQUEST_ID_REUSED'; message: string };

export type QueryResult = Exclude<ChannelOutcome, { status: 'unknown' | 'rejected' }> | { requestId: RequestId; status: 'not_found' };

export type BalanceResult =
  | { accountId: AccountId; found: true; customerId: CustomerId; balance: Fen; frozenOutflow: boolean; frozen: boolean }
  | { accountId: AccountId; found: false; code: 'ACCOUNT_NOT_FOUND' };

export interface FreezeResult {
  customerId: CustomerId;
  frozenOutflow: boolean;
  /** How many of the customer's accounts the flag now covers. */
  accounts: number;
}

/**
 * Money-moving calls never throw for transport trouble: they return `unknown`.
 * Reads and freezes (balance, query, freeze) are safe to repeat, so transport
 * trouble there throws a retryable LendpayError('CHANNEL_UNAVAILABLE').
 * A malformed request throws LendpayError('CHANNEL_REJECTED').
 */
export interface PaymentChannel {
  collect(req: CollectRequest): Promise<ChannelOutcome>;
  collectBatch(reqs: readonly CollectRequest[]): Promise<ChannelOutcome[]>;
  payout(req: PayoutRequest): Promise<ChannelOutcome>;
  payoutBatch(reqs: readonly PayoutRequest[]): Promise<ChannelOutcome[]>;
  debit(req: DebitRequest): Promise<ChannelOutcome>;
  debitBatch(reqs: readonly DebitRequest[]): Promise<ChannelOutcome[]>;
  withdraw(req: WithdrawRequest): Promise<ChannelOutcome>;
  balance(accountId: AccountId): Promise<BalanceResult>;
  balances(accountIds: readonly AccountId[]): Promise<BalanceResult[]>;
  freezeOutflow(customerId: CustomerId): Promise<FreezeResult>;
  unfreezeOutflow(customerId: CustomerId): Promise<FreezeResult>;
  /**
   * Many freezes and unfreezes in one call (at most MAX_BATCH customers, each once),
   * answered in request order; a customer without accounts answers `accounts: 0`.
   * Optional: a platform without it gets one freeze/unfreeze call per customer.
   */
  setOutflowBlocks?(changes: readonly { customerId: CustomerId; frozenOutflow: boolean }[]): Promise<FreezeResult[]>;
  query(requestId: RequestId): Promise<QueryResult>;
  queryMany(requestIds: readonly RequestId[]): Promise<QueryResult[]>;
  /**
   * The platform's own resend (escalation level 1): the same request, under the SAME
   * id, sent again to the bank channel. Only a request the platform recorded as failed
   * with a resendable code (CHANNEL_UNAVAILABLE) is tried again; any other request id
   * answers its first outcome, as a plain repeat would. Optional: a platform without
   * it answers the recorded outcome.
   */
  resend?(req: ResendRequest): Promise<ChannelOutcome>;
}

export type ResendRequest =
  | ({ op: 'collect' } & CollectRequest)
  | ({ op: 'payout' } & PayoutRequest)
  | ({ op: 'debit' } & DebitRequest);

/** Failures the platform itself may resend under the same request id. */
export const RESENDABLE_CODES: readonly FailureCode[] = ['CHANNEL_UNAVAILABLE'];
