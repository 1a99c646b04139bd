// Loan application and compliant disbursement: a collection order (lender's funding
// card → lender's balance account), then, only when that succeeded, a payout order to
// the borrower. Every channel call follows the protocol: record the attempt as
// submitted and commit; call with no transaction open; record the outcome (with its
// journal posting) in one transaction. An unknown outcome is resolved by querying
// the platform (recoverOpenAttempts), never by sending blindly again.
import type { Db } from '../../db/connection.ts';
import {
  applicationFacts, getLoan, getLoanByRequest, insertLoan, lockCustomer, ownsDestination, primaryAccount, firstCard, setLoanStatus, type Loan,
} from '../../db/loans.repository.ts';
import {
  attemptsOf, beginAttempt, createOrder, noteQueried, openAttempts, ordersOfLoan, recordOutcome, type AttemptResult, type Order,
} from '../../db/orders.repository.ts';
import type { PaymentChannel, ChannelOutcome, QueryResult } from '../channel/types.ts';
import { payoutArrival, type Calendar } from '../calendar/calendar.ts';
import { businessDateAt, type BusinessDate, type Clock } from '../dates.ts';
import { LendpayError } from '../errors.ts';
import type { Fen } from '../money.ts';
import { postingForSuccess } from '../ledger/postings.ts';
import { applicationHash, checkApplication, type Refusal } from './application.ts';
import { generateSchedule, type Installment } from '../loans/schedule.ts';
import type { PricingRules } from '../loans/pricing.ts';
import type { ProductChoice } from '../loans/products.ts';
import { insertInstallments } from '../../db/collection.repository.ts';

export interface DisburseDeps {
  db: Db;
  channel: PaymentChannel;
  clock: Clock;
  calendar: Calendar;
  lender: { accountId: string; cardId: string };
  allowLegacyMode: boolean;
  /** pricing: the default schedule's daily rate and term */
  pricing: PricingRules;
  /** fault injection: called at named points between the channel call and its record */
  crashPoint?: (point: string) => void;
  /**
   * Escalation (src/escalation/service.ts): asked about a failed funding or payout
   * order instead of failing the loan at once. 'retry': a step was carried out, look
   * again; 'wait': later, or a person decides; 'final': the loan fails.
   */
  escalation?: { onFailed(order: Order): Promise<'retry' | 'wait' | 'final'> } | undefined;
}

export interface ApplyInput {
  customerId: string;
  amount: Fen;
  rail: 'balance' | 'card';
  requestId: string;
  destinationId?: string | null;
  mode?: 'compliant' | 'legacy';
  /** daily installments; default from pricing */
  termDays?: number;
  /** the loan business system's own schedule, instead of the generated one */
  schedule?: readonly Installment[];
  /**
   * The product it is sold as (src/loans/products.ts resolveLoanRequest, with the
   * schedule above): its id and terms are recorded on the loan; `asked` (what the
   * request named, null when nothing) is part of the request's identity.
   */
  product?: ProductChoice;
  /** the business date the schedule starts from; default today by the clock */
  disbursedOn?: BusinessDate;
}

export type ApplyOutcome = { ok: true; loan: Loan; replay: boolean } | Refusal;

const UNIQUE_VIOLATION = '23505';

export async function applyForLoan(deps: DisburseDeps, input: ApplyInput): Promise<ApplyOutcome> {
  if (!/^[A-Za-z0-9:_.-]{1,128}$/.test(input.requestId)) {
    throw new LendpayError('INVALID_INPUT', `request id: expected 1–128 characters of [A-Za-z0-9:_.-], got "${input.requestId}"`);
  }
  const mode = input.mode ?? 'compliant';
  const hash = applicationHash({ customerId: input.customerId, amount: input.amount, rail: input.rail, destinationId: input.destinationId ?? null, mode, asked: input.product?.asked ?? null });
  let created: Loan;
  try {
    const res = await deps.db.transaction().execute(async (trx): Promise<ApplyOutcome> => {
      if (!(await lockCustomer(trx, input.customerId))) {
        return { ok: false, code: 'CUSTOMER_NOT_FOUND', message: `no customer ${input.customerId}` };
      }
      const existing = await getLoanByRequest(trx, input.requestId);
      if (existing) return replayOf(existing, hash, input.requestId);
      if (mode === 'legacy' && !deps.allowLegacyMode) {
        return { ok: false, code: 'LEGACY_MODE_DISABLED', message: 'legacy top-up-then-payout is only for migrating old loans and is disabled (LENDPAY_ALLOW_LEGACY_MODE)' };
      }
      const facts = await applicationFacts(trx, input.customerId, input.amount, businessDateAt(deps.clock.now()));
      const check = checkApplication(facts);
      if (!check.ok) return check;
      const destinationId = input.destinationId
        ?? (input.rail === 'balance' ? await primaryAccount(trx, input.customerId) : await firstCard(trx, input.customerId));
      if (!destinationId || !(await ownsDestination(trx, input.customerId, input.rail, destinationId))) {
        return { ok: false, code: 'DESTINATION_NOT_FOUND', message: `customer ${input.customerId} has no ${input.rail === 'balance' ? 'balance account' : 'bank card'} ${input.destinationId ?? ''}`.trim() };
      }
      const loan = await insertLoan(trx, {
        customerId: input.customerId, requestId: input.requestId, requestHash: hash, principal: input.amount, rail: input.rail,
        destinationId, mode, decisionDate: facts.decision!.businessDate, ruleSetHash: facts.decision!.ruleSetHash, limit: facts.decision!.limit,
        product: input.product?.terms ?? null, disbursedOn: input.disbursedOn ?? businessDateAt(deps.clock.now()),
      });
      const schedule = input.schedule ?? generateSchedule({
        principal: loan.principal, startDate: input.disbursedOn ?? businessDateAt(deps.clock.now()), termDays: input.termDays ?? deps.pricing.defaultTermDays, dailyRatePpm: deps.pricing.dailyRatePpm,
      });
      if (schedule.reduce((s, i) => s + i.principal, 0) !== loan.principal) {
        throw new LendpayError('INVALID_INPUT', `schedule: principals sum to ${schedule.reduce((s, i) => s + i.principal, 0)} fen, not the loan's ${loan.principal}`);
      }
      await insertInstallments(trx, loan.id, schedule);
      await createOrder(trx, {
        idempotencyKey: `disburse:${loan.id}:fund`,
        kind: mode === 'legacy' ? 'topup' : 'collection',
        purpose: mode === 'legacy' ? 'disburse.topup' : 'disburse.fund',
        loanId: loan.id, customerId: loan.customerId, amount: loan.principal,
        sourceRef: `card:${deps.lender.cardId}`, destinationRef: `account:${deps.lender.accountId}`,
      });
      return { ok: true, loan, replay: false };
    });
    if (!res.ok || res.replay) {
      if (res.ok) return { ok: true, loan: await settleOrWait(deps, res.loan.id), replay: true };
      return res;
    }
    created = res.loan;
  } catch (err) {
    // Two customers racing with one request id: the loser re-reads the winner's loan.
    if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
      const existing = await getLoanByRequest(deps.db, input.requestId);
      if (existing) {
        const r = replayOf(existing, hash, input.requestId);
        return r.ok ? { ok: true, loan: await settleOrWait(deps, existing.id), replay: true } : r;
      }
    }
    throw err;
  }
  return { ok: true, loan: await driveLoan(deps, created.id), replay: false };
}

function replayOf(existing: Loan, hash: string, requestId: string): ApplyOutcome {
  if (existing.requestHash !== hash) {
    return { ok: false, code: 'REQUEST_ID_REUSED', message: `request id ${requestId} was used for loan ${existing.id} with a different request` };
  }
  return { ok: true, loan: existing, replay: true };
}

/** A replay drives the loan too (idempotent), then waits briefly for whoever is sending. */
async function settleOrWait(deps: DisburseDeps, loanId: string): Promise<Loan> {
  let loan = await driveLoan(deps, loanId);
  for (let i = 0; i < 50 && loan.status === 'disbursing'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    loan = (await getLoan(deps.db, loanId))!;
  }
  return loan;
}

/**
 * Moves a disbursing loan as far as it can go now. Safe to call from anywhere, any
 * number of times: only one caller can begin an attempt on an order.
 */
export async function driveLoan(deps: DisburseDeps, loanId: string): Promise<Loan> {
  for (let step = 0; step < 16; step++) {
    const loan = await getLoan(deps.db, loanId);
    if (!loan) throw new LendpayError('NOT_FOUND', `no loan ${loanId}`);
    if (loan.status !== 'disbursing') return loan;
    const orders = await ordersOfLoan(deps.db, loanId);
    // the latest order of a leg: a voided one is replaced by its reissue (escalation level 3)
    const fund = orders.findLast((o) => o.purpose === 'disburse.fund' || o.purpose === 'disburse.topup');
    if (!fund) throw new LendpayError('NOT_FOUND', `loan ${loanId} has no funding order`);
    if (fund.status === 'created') {
      await sendOrder(deps, fund);
      continue;
    }
    if (fund.status === 'failed' || fund.status === 'voided') {
      const next = fund.status === 'failed' && deps.escalation ? await deps.escalation.onFailed(fund) : 'final';
      if (next === 'retry') continue;
      if (next === 'wait') return loan;
      await setLoanStatus(deps.db, loanId, 'failed');
      continue;
    }
    if (fund.status !== 'succeeded') return loan; // in flight or unknown: recovery resolves it
    let payout = orders.findLast((o) => o.purpose === 'disburse.payout');
    if (!payout) {
      payout = await createOrder(deps.db, {
        idempotencyKey: `disburse:${loanId}:payout`,
        kind: 'payout',
        purpose: 'disburse.payout',
        loanId, customerId: loan.customerId, amount: loan.principal,
        sourceRef: `account:${deps.lender.accountId}`,
        destinationRef: `${loan.rail === 'card' ? 'card' : 'account'}:${loan.destinationId}`,
        parentOrderId: fund.id,
      });
    }
    if (payout.status === 'created') {
      await sendOrder(deps, payout);
      continue;
    }
    if (payout.status === 'failed' || payout.status === 'voided') {
      const next = payout.status === 'failed' && deps.escalation ? await deps.escalation.onFailed(payout) : 'final';
      if (next === 'retry') continue;
      if (next === 'wait') return loan;
      await setLoanStatus(deps.db, loanId, 'failed');
      continue;
    }
    if (payout.status !== 'succeeded') return loan;
    const acceptedAt = (await attemptsOf(deps.db, payout.id)).find((a) => a.status === 'succeeded')?.resolvedAt ?? deps.clock.now();
    // a reissued payout may go to another rail than the loan asked for
    const rail = payout.destinationRef.startsWith('card:') ? 'card' : 'balance';
    await setLoanStatus(deps.db, loanId, 'disbursed', payoutArrival(deps.calendar, acceptedAt, rail).arrivesAt);
  }
  return (await getLoan(deps.db, loanId))!;
}

/** Sends the next attempt of a `created` order; a no-op when another caller is sending it. */
export async function sendOrder(deps: DisburseDeps, order: Order): Promise<Order> {
  const begun = await beginAttempt(deps.db, order.id, deps.clock.now());
  if (!begun.attempt) return begun.order;
  const outcome = await callChannel(deps.channel, begun.order, begun.attempt.requestId);
  deps.crashPoint?.(`after-send:${order.purpose}`);
  return recordOutcome(deps.db, order.id, begun.attempt.attemptNo, toResult(outcome), orderPosting, deps.clock.now());
}

export function orderPosting(o: Order) {
  return postingForSuccess(o);
}

function ref(r: string, kind: 'account' | 'card'): string {
  const [k, id] = r.split(/:(.*)/s) as [string, string];
  if (k !== kind || !id) throw new LendpayError('INVALID_INPUT', `order reference "${r}" is not a ${kind}`);
  return id;
}

/** The request for an order's attempt: the same request id always builds the same request. */
type Sent = ChannelOutcome | { requestId: string; status: 'rejected'; code: 'CHANNEL_REJECTED' | 'REQUEST_ID_REUSED'; message: string };

export async function callChannel(channel: PaymentChannel, order: Order, requestId: string): Promise<Sent> {
  try {
    switch (order.kind) {
      case 'collection':
      case 'topup':
        return await channel.collect({ requestId, cardId: ref(order.sourceRef, 'card'), toAccountId: ref(order.destinationRef, 'account'), amount: order.amount });
      case 'payout': {
        const to = order.destinationRef.startsWith('card:')
          ? { kind: 'card' as const, cardId: ref(order.destinationRef, 'card') }
          : { kind: 'account' as const, accountId: ref(order.destinationRef, 'account') };
        return await channel.payout({ requestId, fromAccountId: ref(order.sourceRef, 'account'), to, amount: order.amount });
      }
      case 'debit':
        return await channel.debit({ requestId, fromAccountId: ref(order.sourceRef, 'account'), toAccountId: ref(order.destinationRef, 'account'), amount: order.amount });
    }
  } catch (err) {
    // The platform refused the request itself (malformed, id reused): not applied.
    if (err instanceof LendpayError && (err.code === 'CHANNEL_REJECTED' || err.code === 'REQUEST_ID_REUSED')) {
      return { requestId, status: 'rejected', code: err.code, message: err.message };
    }
    return { requestId, status: 'unknown', reason: err instanceof Error ? err.message : String(err) };
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

export interface RecoveryReport {
  checked: number;
  resolved: number;
  resent: number;
  stillUnknown: number;
  loansDriven: number;
}

/**
 * Resolves attempts whose outcome lendpay does not know: queries the platform by
 * request id. A request the platform never received is sent again under the SAME
 * request id, so that even a late delivery of the first one cannot apply twice.
 */
export async function recoverOpenAttempts(deps: DisburseDeps, opts: { olderThanMs: number }): Promise<RecoveryReport> {
  const before = new Date(deps.clock.now().getTime() - opts.olderThanMs);
  const open = await openAttempts(deps.db, before, 'disbursement');
  const report: RecoveryReport = { checked: open.length, resolved: 0, resent: 0, stillUnknown: 0, loansDriven: 0 };
  const loans = new Set<string>();
  for (let i = 0; i < open.length; i += 100) {
    const slice = open.slice(i, i + 100);
    const results = await deps.channel.queryMany(slice.map((a) => a.requestId));
    for (let j = 0; j < slice.length; j++) {
      const a = slice[j]!;
      let r: Sent | QueryResult = results[j]!;
      await noteQueried(deps.db, a.orderId, a.attemptNo);
      if (r.status === 'not_found') {
        r = await callChannel(deps.channel, a.order, a.requestId);
        report.resent++;
      }
      const result = toResult(r);
      if (result.status === 'unknown') report.stillUnknown++;
      else report.resolved++;
      await recordOutcome(deps.db, a.orderId, a.attemptNo, result, orderPosting, deps.clock.now());
      if (a.order.loanId) loans.add(a.order.loanId);
    }
  }
  for (const loanId of loans) {
    await driveLoan(deps, loanId);
    report.loansDriven++;
  }
  return report;
}
