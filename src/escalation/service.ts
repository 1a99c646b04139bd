// Carrying escalation out. Outcome first: an attempt whose outcome is unknown is
// queried on the ladder of escalation.json (a request the platform never received is
// sent again under the SAME id, as recovery always did); only a known failure is
// escalated, by the first rule that fires; an unknown the ladder cannot resolve raises
// an alert and waits for an operator. Every state change on an order goes through one
// transaction in db/escalation.repository.ts; channel calls happen between them.
import { DateTime } from 'luxon';
import type { PaymentChannel, QueryResult, ResendRequest } from '../channel/types.ts';
import {
  attemptsOf, getOrder, type Order,
} from '../../db/orders.repository.ts';
import { getLoan, setLoanStatus } from '../../db/loans.repository.ts';
import {
  claimEscalation, createdAfterResend, dueScheduledEscalations, dueUnknownAttempts, failedOrdersToEscalate, finishEscalation, insertEscalation, instrumentsOf,
  changeStep, latestEscalation, levelCounts, openEscalationOf, raiseAlert, recordOperatorAction, recordQuery, reopenForChannelResend, reopenForSystemResend, resolveAlerts, voidAndReissue,
  type Escalation, type Reissue,
} from '../../db/escalation.repository.ts';
import { disbursementSettlement, driveLoan, type DisburseDeps } from '../disbursement/disburse.ts';
import { settleHolds, type CollectionDeps } from '../collection/service.ts';
import { collectionSettlement } from '../collection/outcomes.ts';
import { recordOutcomes, sendOrders } from '../orders/protocol.ts';
import { toResult, type Sent } from '../orders/requests.ts';
import { sendOne } from '../orders/send.ts';
import { isWorkingDay } from '../calendar/calendar.ts';
import { businessDateAt, ZONE } from '../dates.ts';
import { compileEscalationRules, type EscalationEvaluator } from './evaluate.ts';
import type { EscalationFacts, Family } from './facts.ts';
import { PURPOSES } from './facts.ts';
import type { EscalationRules, StepName } from './rules.ts';
import { LendpayError } from '../errors.ts';

export interface EscalationDeps {
  disburse: DisburseDeps;
  /** needed for collection orders (allocation, notifications, holds); null: those are left alone */
  collection: CollectionDeps | null;
  rules: EscalationRules;
  ruleSetHash: string;
}

/** The code an unresolved unknown is escalated under (not a platform code). */
export const UNKNOWN_OUTCOME = 'UNKNOWN_OUTCOME';

const evaluators = new WeakMap<EscalationRules, EscalationEvaluator>();
function evaluatorFor(rules: EscalationRules): EscalationEvaluator {
  let e = evaluators.get(rules);
  if (!e) evaluators.set(rules, (e = compileEscalationRules(rules)));
  return e;
}

export function familyOf(o: Pick<Order, 'purpose'>): Family {
  return o.purpose.startsWith('disburse.') ? 'disbursement' : 'collection';
}

const now = (d: EscalationDeps) => d.disburse.clock.now();

// ---- the ladder ----

/** When rung `rung` (0-based) of the ladder queries an attempt submitted at `submittedAt`; null past the top. */
export function ladderTime(rules: EscalationRules, submittedAt: Date, rung: number): Date | null {
  const xs = rules.ladder.afterSeconds;
  if (rung < xs.length) return new Date(submittedAt.getTime() + xs[rung]! * 1000);
  if (rung === xs.length && rules.ladder.endOfDay) {
    const eod = DateTime.fromJSDate(submittedAt, { zone: ZONE }).endOf('day').minus({ minutes: 1 }).toJSDate();
    const last = new Date(submittedAt.getTime() + xs[xs.length - 1]! * 1000);
    return eod > last ? eod : new Date(last.getTime() + 3_600_000);
  }
  return null;
}

export interface LadderReport {
  queried: number;
  resolved: number;
  resent: number;
  stillUnknown: number;
  alerts: number;
}

/**
 * Queries every unknown attempt whose rung is due (or those of `orderIds`, now).
 * Known answers are recorded as outcomes; a NOT_FOUND is sent again under the same
 * request id; what stays unknown climbs the ladder, and past its top raises an alert
 * and waits in the operator queue (still queried once a day).
 */
export async function resolveUnknowns(deps: EscalationDeps, opts: { orderIds?: readonly number[] } = {}): Promise<LadderReport> {
  const { db, channel } = deps.disburse;
  const t = now(deps);
  const due = await dueUnknownAttempts(db, t, deps.rules.ladder.afterSeconds[0] ?? 0, 1000, opts.orderIds);
  const report: LadderReport = { queried: 0, resolved: 0, resent: 0, stillUnknown: 0, alerts: 0 };
  for (let i = 0; i < due.length; i += 100) {
    const slice = due.filter((a) => familyOf(a.order) === 'disbursement' || deps.collection !== null).slice(i, i + 100);
    if (slice.length === 0) continue;
    let answers: (QueryResult | null)[];
    try {
      answers = await channel.queryMany(slice.map((a) => a.requestId));
    } catch {
      answers = slice.map(() => null);
    }
    for (let j = 0; j < slice.length; j++) {
      const a = slice[j]!;
      const q = answers[j] ?? null;
      report.queried++;
      let sent = q;
      let answer = q === null ? 'query_failed' : q.status;
      let resent = false;
      if (q?.status === 'not_found') {
        const again = await sendOne(channel, a.order, a.requestId);
        resent = true;
        report.resent++;
        answer = `not_found; resent under the same id: ${again.status}`;
        sent = again.status === 'succeeded' || again.status === 'failed' ? again : null;
        if (again.status === 'rejected') sent = { requestId: a.requestId, status: 'failed', code: again.code as never, amount: a.order.amount, platformRef: '' };
      }
      const known = sent !== null && (sent.status === 'succeeded' || sent.status === 'failed');
      const rung = a.rung + 1;
      const nextAt = known ? null : (ladderTime(deps.rules, a.submittedAt, rung) ?? new Date(t.getTime() + 86_400_000));
      await recordQuery(db, { orderId: a.order.id, attemptNo: a.attemptNo, requestId: a.requestId }, answer, sent && sent.status === 'failed' ? sent.code : null, t, { rung, at: nextAt });
      if (known) {
        report.resolved++;
        await recordAttemptOutcome(deps, a.order, a.attemptNo, sent as QueryResult);
        const open = await openEscalationOf(db, a.order.id);
        if (open && open.errorCode === UNKNOWN_OUTCOME) await finishEscalation(db, open.id, 'done', `resolved by query: ${sent!.status}`, t);
        await resolveAlerts(db, a.order.id, 'ladder', t);
      } else {
        report.stillUnknown++;
        if (!resent) await recordAttemptOutcome(deps, a.order, a.attemptNo, { requestId: a.requestId, status: 'unknown', reason: answer } as never);
        if (ladderTime(deps.rules, a.submittedAt, rung) === null) {
          // past the top of the ladder: a person looks at it; it is never resent blindly
          const message = `outcome of ${a.requestId} still unknown after ${rung} queries (last: ${answer}); never resent blindly`;
          await raiseAlert(db, 'unresolved_unknown', a.order.id, message, t);
          const e = await insertEscalation(db, {
            orderId: a.order.id, attemptNo: a.attemptNo, errorCode: UNKNOWN_OUTCOME, step: 'manual_review', automatic: false, status: 'awaiting_operator',
            reason: message, rule: null, ruleSetHash: deps.ruleSetHash, facts: {}, params: {}, notBefore: t, now: t,
          });
          if (e) report.alerts++;
        }
      }
    }
  }
  return report;
}

type Answer = QueryResult | { requestId: string; status: 'unknown'; reason: string } | { requestId: string; status: 'succeeded' | 'failed'; code?: string; platformRef: string; arrivesAt?: Date };

/** Records one attempt's outcome through its family's path (journal, allocation, holds). */
async function recordAttemptOutcome(deps: EscalationDeps, order: Order, attemptNo: number, r: Answer): Promise<void> {
  const d = deps.disburse;
  const outcome = { orderId: order.id, attemptNo, result: toResult(r as Sent) };
  if (familyOf(order) === 'disbursement') {
    await recordOutcomes(d, [outcome], disbursementSettlement(d));
    return;
  }
  const c = deps.collection;
  if (!c) return;
  await recordOutcomes(c, [outcome], collectionSettlement({ templates: c.notifications, now: () => c.clock.now() }));
  if (outcome.result.status !== 'unknown' && order.customerId) await settleHolds(c, [order.customerId], null);
}

// ---- deciding ----

function channelOf(o: Order): 'card' | 'account' {
  return o.sourceRef.startsWith('card:') || o.destinationRef.startsWith('card:') ? 'card' : 'account';
}

/** Where a reissued order would go: another card or account of the customer, or null. */
export async function reissueTarget(deps: EscalationDeps, o: Order): Promise<{ sourceRef: string; destinationRef: string } | null> {
  if (!o.customerId) return null;
  const { cards, accounts } = await instrumentsOf(deps.disburse.db, o.customerId);
  if (o.kind === 'payout' && o.purpose === 'disburse.payout') {
    const used = o.destinationRef.replace(/^(card|account):/, '');
    const otherCard = cards.find((c) => c !== used);
    const account = accounts.find((a) => a.id !== used);
    const dest = o.destinationRef.startsWith('card:') && otherCard ? `card:${otherCard}` : account ? `account:${account.id}` : otherCard ? `card:${otherCard}` : null;
    return dest ? { sourceRef: o.sourceRef, destinationRef: dest } : null;
  }
  if (o.kind === 'debit') {
    const used = o.sourceRef.replace(/^account:/, '');
    const other = accounts.find((a) => a.id !== used);
    return other ? { sourceRef: `account:${other.id}`, destinationRef: o.destinationRef } : null;
  }
  if (o.kind === 'collection' && (o.purpose === 'repay.card' || o.purpose === 'repay.prepay')) {
    const used = o.sourceRef.replace(/^card:/, '');
    const other = cards.find((c) => c !== used);
    return other ? { sourceRef: `card:${other}`, destinationRef: o.destinationRef } : null;
  }
  return null; // the lender's own funding leg has nowhere else to come from
}

export async function factsFor(deps: EscalationDeps, o: Order, errorCode: string): Promise<EscalationFacts> {
  const t = now(deps);
  const counts = await levelCounts(deps.disburse.db, o.id);
  const local = DateTime.fromJSDate(t, { zone: ZONE });
  const spec = deps.rules.errorCodes[errorCode];
  let working = false;
  try {
    working = isWorkingDay(deps.disburse.calendar, businessDateAt(t));
  } catch {
    working = false; // a date the calendar does not cover is not business hours
  }
  return {
    orderKind: o.kind,
    family: familyOf(o),
    purpose: (PURPOSES as readonly string[]).includes(o.purpose) ? (o.purpose as EscalationFacts['purpose']) : familyOf(o) === 'disbursement' ? 'disburse.payout' : 'collect.batch',
    errorCode,
    errorKnown: spec !== undefined,
    errorClass: spec?.class ?? 'unknown',
    channel: channelOf(o),
    channelResends: counts.channelResends,
    systemResends: counts.systemResends,
    reissues: counts.reissues,
    minutesSinceCreated: Math.max(0, Math.floor((t.getTime() - counts.chainCreatedAt.getTime()) / 60_000)),
    amount: o.amount,
    businessHours: working && local.hour >= deps.rules.businessHours.from && local.hour < deps.rules.businessHours.to,
    hasAlternative: (await reissueTarget(deps, o)) !== null,
  };
}

/** Decides the next step for a failed order (once per failure) and records it. */
export async function decide(deps: EscalationDeps, order: Order): Promise<Escalation | null> {
  const db = deps.disburse.db;
  const t = now(deps);
  const attempts = await attemptsOf(db, order.id);
  const last = attempts.filter((a) => a.status === 'failed').at(-1);
  const code = order.errorCode ?? last?.errorCode ?? 'UNSPECIFIED';
  const facts = await factsFor(deps, order, code);
  const d = evaluatorFor(deps.rules)(facts);
  const needsOperator = d.step === 'manual_review' || (d.step === 'channel_resend' && !d.automatic);
  const status = needsOperator ? 'awaiting_operator' : d.step === 'give_up' ? 'done' : 'scheduled';
  const e = await insertEscalation(db, {
    orderId: order.id, attemptNo: last?.attemptNo ?? 1, errorCode: code, step: d.step, automatic: !needsOperator, status, reason: d.reason, rule: d.rule,
    ruleSetHash: deps.ruleSetHash, facts, params: { backoffSeconds: d.backoffSeconds, fired: d.fired }, notBefore: new Date(t.getTime() + d.backoffSeconds * 1000), now: t,
    ...(d.step === 'give_up' ? { outcome: familyOf(order) === 'collection' ? 'given up: back to the collection plan (hold)' : 'given up: the order stays failed' } : {}),
  });
  if (!e) return null;
  if (needsOperator) await raiseAlert(db, d.step === 'manual_review' ? 'manual_review' : 'confirm_needed', order.id, `${code}: ${d.reason}`, t);
  if (d.step === 'give_up') await giveUp(deps, order);
  return e;
}

async function giveUp(deps: EscalationDeps, order: Order): Promise<void> {
  if (familyOf(order) === 'disbursement') {
    if (order.loanId && (await getLoan(deps.disburse.db, order.loanId))?.status === 'disbursing') await setLoanStatus(deps.disburse.db, order.loanId, 'failed');
    return;
  }
  // a collection falls back to its plan: what stays unpaid is on hold, outflow blocked
  if (deps.collection && order.customerId) await settleHolds(deps.collection, [order.customerId], businessDateAt(now(deps)));
}

// ---- carrying a step out ----

export type StepResult = { done: boolean; message: string; newOrderId?: number };

/** Carries out a scheduled (or operator-confirmed) step; exactly one caller does. */
export async function execute(deps: EscalationDeps, e: Escalation, from: readonly ('scheduled' | 'awaiting_operator')[] = ['scheduled'], by: string | null = null): Promise<StepResult> {
  const db = deps.disburse.db;
  const t = now(deps);
  const claimed = await claimEscalation(db, e.id, from);
  if (!claimed) return { done: false, message: `escalation ${e.id} is not ${from.join(' or ')} any more` };
  const order = (await getOrder(db, e.orderId))!;
  if (familyOf(order) === 'collection' && !deps.collection) {
    await finishEscalation(db, e.id, 'awaiting_operator', 'collection dependencies not available here', t);
    return { done: false, message: 'collection orders need the collection rules' };
  }
  switch (claimed.step) {
    case 'channel_resend': {
      if (!(await reopenForChannelResend(db, claimed, t))) return stale(deps, claimed, order);
      const attempt = (await attemptsOf(db, order.id)).find((a) => a.attemptNo === claimed.attemptNo)!;
      const fresh = (await getOrder(db, order.id))!;
      const sent = await platformResend(deps.disburse.channel, fresh, attempt.requestId);
      await recordAttemptOutcome(deps, fresh, attempt.attemptNo, toAnswer(sent));
      return { done: true, message: `the platform resent ${attempt.requestId}: ${sent.status}` };
    }
    case 'system_resend': {
      if (!(await reopenForSystemResend(db, claimed, t))) return stale(deps, claimed, order);
      const r = await sendCreated(deps, (await getOrder(db, order.id))!);
      return { done: true, message: `new attempt sent: ${r}` };
    }
    case 'void_and_reissue': {
      const attempts = await attemptsOf(db, order.id);
      let answers: QueryResult[];
      try {
        answers = await deps.disburse.channel.queryMany(attempts.map((a) => a.requestId));
      } catch (err) {
        answers = [];
      }
      const final = answers.length === attempts.length && answers.every((a) => a.status === 'failed' || a.status === 'not_found');
      for (const [i, a] of attempts.entries()) {
        const q = answers[i];
        await recordQuery(db, { orderId: order.id, attemptNo: a.attemptNo, requestId: a.requestId }, `before void: ${q?.status ?? 'query_failed'}`, q?.status === 'failed' ? q.code : null, t, { rung: 0, at: null });
      }
      if (!final) {
        const msg = `void not final on the platform (${answers.map((a) => a.status).join(', ') || 'query failed'}): not reissued`;
        await finishEscalation(db, e.id, 'awaiting_operator', msg, t);
        await raiseAlert(db, 'void_not_final', order.id, msg, t);
        return { done: false, message: msg };
      }
      const target = await reissueTarget(deps, order);
      if (!target) {
        const msg = 'no other card or account to reissue onto';
        await finishEscalation(db, e.id, 'awaiting_operator', msg, t);
        await raiseAlert(db, 'manual_review', order.id, msg, t);
        return { done: false, message: msg };
      }
      const counts = await levelCounts(db, order.id);
      const root = order.idempotencyKey.replace(/:r\d+$/, '');
      const r: Reissue = { idempotencyKey: `${root}:r${counts.reissues + 1}`, ...target };
      const id = await voidAndReissue(db, claimed, r, t);
      if (id === null) return stale(deps, claimed, order);
      const sent = await sendCreated(deps, (await getOrder(db, id))!);
      return { done: true, message: `order ${order.id} voided; reissued as ${id} to ${target.destinationRef}: ${sent}`, newOrderId: id };
    }
    case 'give_up':
      await finishEscalation(db, e.id, 'done', 'given up', t, by);
      await giveUp(deps, order);
      return { done: true, message: 'given up' };
    case 'manual_review':
      await finishEscalation(db, e.id, 'awaiting_operator', 'manual review: choose a step', t);
      return { done: false, message: 'manual review needs a step: confirm with --step' };
  }
}

async function stale(deps: EscalationDeps, e: Escalation, order: Order): Promise<StepResult> {
  await finishEscalation(deps.disburse.db, e.id, 'rejected', `order is ${order.status} now, not failed: step not carried out`, now(deps));
  return { done: false, message: `order ${order.id} is ${order.status}: nothing to do` };
}

function toAnswer(s: Sent): Answer {
  if (s.status === 'rejected') return { requestId: s.requestId, status: 'failed', code: s.code, platformRef: '' } as Answer;
  return s as Answer;
}

async function platformResend(channel: PaymentChannel, o: Order, requestId: string): Promise<Sent> {
  if (!channel.resend) return sendOne(channel, o, requestId);
  const id = (r: string) => r.replace(/^(card|account):/, '');
  let req: ResendRequest;
  if (o.kind === 'payout') {
    req = { op: 'payout', requestId, fromAccountId: id(o.sourceRef), to: o.destinationRef.startsWith('card:') ? { kind: 'card', cardId: id(o.destinationRef) } : { kind: 'account', accountId: id(o.destinationRef) }, amount: o.amount };
  } else if (o.kind === 'debit') {
    req = { op: 'debit', requestId, fromAccountId: id(o.sourceRef), toAccountId: id(o.destinationRef), amount: o.amount };
  } else {
    req = { op: 'collect', requestId, cardId: id(o.sourceRef), toAccountId: id(o.destinationRef), amount: o.amount };
  }
  try {
    return await channel.resend(req);
  } catch (err) {
    if (err instanceof LendpayError && (err.code === 'CHANNEL_REJECTED' || err.code === 'REQUEST_ID_REUSED')) return { requestId, status: 'rejected', code: err.code, message: err.message };
    return { requestId, status: 'unknown', reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Sends the next attempt of a `created` order through its family's path. */
export async function sendCreated(deps: EscalationDeps, order: Order): Promise<string> {
  const d = deps.disburse;
  if (familyOf(order) === 'disbursement') {
    if (order.loanId) {
      // a failure here waits for the caller (the tick or driveLoan's own loop) to decide on it
      const loan = await driveLoan({ ...d, escalation: { onFailed: async () => 'wait' as const } }, order.loanId);
      return `loan ${loan.id} ${loan.status}`;
    }
    return 'no loan';
  }
  const c = deps.collection!;
  const changed = await sendOrders(c, [order.id], collectionSettlement({ templates: c.notifications, now: () => c.clock.now() }));
  if (changed.length === 0) return `order ${(await getOrder(d.db, order.id))?.status ?? 'gone'}`;
  const r = changed[0]!.result;
  if (r.status !== 'unknown' && order.customerId) await settleHolds(c, [order.customerId], null);
  return r.status;
}

// ---- the hook driveLoan calls on a failed order, and one tick of the ladder job ----

/** For driveLoan: 'retry' (a step was carried out, look again), 'wait' (later or a person), 'final' (the loan fails). */
export async function onFailedOrder(deps: EscalationDeps, order: Order): Promise<'retry' | 'wait' | 'final'> {
  const db = deps.disburse.db;
  let e = await openEscalationOf(db, order.id);
  if (!e) {
    const latest = await latestEscalation(db, order.id);
    const needs = !latest || (latest.status === 'done' && (latest.step === 'channel_resend' || latest.step === 'system_resend'));
    if (!needs) return latest!.status === 'done' && latest!.step === 'give_up' || latest!.status === 'rejected' ? 'final' : 'wait';
    e = await decide(deps, order);
    if (!e) return 'wait';
    if (e.status === 'done') return 'final';
  }
  if (e.status !== 'scheduled' || e.notBefore > now(deps)) return 'wait';
  const r = await execute(deps, e);
  return r.done ? 'retry' : 'wait';
}

export interface TickReport {
  ladder: LadderReport;
  decided: Record<string, number>;
  executed: number;
  sent: number;
  loansDriven: number;
}

/** One run of the ladder job: query due unknowns, decide failures, carry out due steps, send what was left created. */
export async function runEscalationTick(deps: EscalationDeps, opts: { orderIds?: readonly number[] } = {}): Promise<TickReport> {
  const db = deps.disburse.db;
  const report: TickReport = { ladder: await resolveUnknowns(deps, opts), decided: {}, executed: 0, sent: 0, loansDriven: 0 };
  const loans = new Set<string>();
  for (const o of await failedOrdersToEscalate(db, 1000, opts.orderIds)) {
    if (familyOf(o) === 'collection' && !deps.collection) continue;
    if (familyOf(o) === 'disbursement') {
      const loan = o.loanId ? await getLoan(db, o.loanId) : null;
      if (!loan || loan.status !== 'disbursing') continue; // failed before escalation existed: history
    }
    const e = await decide(deps, o);
    if (e) report.decided[e.step] = (report.decided[e.step] ?? 0) + 1;
  }
  for (const e of await dueScheduledEscalations(db, now(deps), 1000, opts.orderIds)) {
    if (e.notBefore > now(deps)) continue;
    const r = await execute(deps, e);
    if (r.done) report.executed++;
    const o = await getOrder(db, e.orderId);
    if (o?.loanId) loans.add(o.loanId);
  }
  for (const o of await createdAfterResend(db)) {
    if (opts.orderIds && !opts.orderIds.includes(o.id)) continue;
    if (familyOf(o) === 'collection' && !deps.collection) continue;
    await sendCreated(deps, o);
    report.sent++;
  }
  const touched = await db.selectFrom('orders').select('loan_id').where('status', 'in', ['succeeded', 'failed', 'voided']).where('purpose', 'like', 'disburse.%')
    .where('loan_id', 'in', db.selectFrom('loans').select('id').where('status', '=', 'disbursing')).execute();
  for (const r of touched) if (r.loan_id) loans.add(r.loan_id);
  for (const id of loans) {
    await driveLoan(withHook(deps), id);
    report.loansDriven++;
  }
  return report;
}

/** DisburseDeps whose driveLoan escalates failed orders instead of failing the loan. */
export function withHook(deps: EscalationDeps): DisburseDeps {
  return { ...deps.disburse, escalation: { onFailed: (o: Order) => onFailedOrder(deps, o) } };
}

export type { StepName };

// ---- ad-hoc reprocessing (operators, through pg-boss) ----

export interface ReprocessResult {
  orderId: number;
  action: 'none' | 'queried' | 'escalated' | 'sent' | 'waiting';
  message: string;
}

/** What an operator's `reprocess order` does: a settled order is left alone and says so. */
export async function reprocessOrder(deps: EscalationDeps, orderId: number): Promise<ReprocessResult> {
  const db = deps.disburse.db;
  const o = await getOrder(db, orderId);
  if (!o) throw new LendpayError('NOT_FOUND', `no order ${orderId}`);
  if (o.status === 'succeeded' || o.status === 'voided') return { orderId, action: 'none', message: `order ${orderId} is settled (${o.status}): nothing to reprocess` };
  if (familyOf(o) === 'collection' && !deps.collection) return { orderId, action: 'waiting', message: 'collection orders need the collection rules' };
  if (o.status === 'submitted' || o.status === 'unknown') {
    const r = await resolveUnknowns(deps, { orderIds: [orderId] });
    if (o.loanId) await driveLoan(withHook(deps), o.loanId);
    const after = (await getOrder(db, orderId))!;
    return { orderId, action: 'queried', message: `queried the platform (${r.resolved} resolved, ${r.resent} resent under the same id): order ${after.status}` };
  }
  if (o.status === 'created') {
    return { orderId, action: 'sent', message: `sent: ${await sendCreated(deps, o)}` };
  }
  const open = await openEscalationOf(db, orderId);
  if (open?.status === 'awaiting_operator') return { orderId, action: 'waiting', message: `waits for an operator: ${open.step} (${open.reason})` };
  const tick = await runEscalationTick(deps, { orderIds: [orderId] });
  if (o.loanId) await driveLoan(withHook(deps), o.loanId);
  const after = (await getOrder(db, orderId))!;
  return { orderId, action: 'escalated', message: `decided ${JSON.stringify(tick.decided)}, carried out ${tick.executed}: order ${after.status}` };
}

/** An operator's reprocessing of one order (the API's button): recorded under their name, then done at once. */
export async function reprocessByOperator(deps: EscalationDeps, d: { orderId: number; by: string; reason: string | null }): Promise<ReprocessResult> {
  assertOperator(d.by);
  const db = deps.disburse.db;
  if (!(await getOrder(db, d.orderId))) throw new LendpayError('NOT_FOUND', `no order ${d.orderId}`);
  await recordOperatorAction(db, { orderId: d.orderId, escalationId: null, operator: d.by, action: 'reprocess', step: null, reason: d.reason, now: now(deps) });
  return reprocessOrder(deps, d.orderId);
}

// ---- operators ----

export interface OperatorDecision {
  orderId: number;
  by: string;
  step?: StepName;
  reason?: string;
}

/** Every operator action records who did it: a name, not an empty or blank one. */
function assertOperator(by: string): void {
  if (!/\S/.test(by)) throw new LendpayError('INVALID_INPUT', 'by: the operator\'s name is required (it is recorded with the action)');
}

/** `ops confirm`: carries out the proposed step (or the one the operator names); audited. */
export async function confirmEscalation(deps: EscalationDeps, d: OperatorDecision): Promise<StepResult> {
  assertOperator(d.by);
  const db = deps.disburse.db;
  const t = now(deps);
  const e = await openEscalationOf(db, d.orderId);
  if (!e || e.status !== 'awaiting_operator') throw new LendpayError('CONFLICT', `order ${d.orderId} has nothing waiting for an operator`);
  const order = (await getOrder(db, d.orderId))!;
  if (e.errorCode === UNKNOWN_OUTCOME) {
    // the outcome is not known: the only safe action is to ask the platform again
    if (d.step && d.step !== 'manual_review') throw new LendpayError('CONFLICT', `order ${d.orderId}: its outcome is unknown; money may have moved, so no step but a query is allowed`);
    await recordOperatorAction(db, { orderId: d.orderId, escalationId: e.id, operator: d.by, action: 'confirm', step: 'query', reason: d.reason ?? null, now: t });
    const r = await resolveUnknowns(deps, { orderIds: [d.orderId] });
    return { done: r.resolved > 0, message: r.resolved > 0 ? 'resolved by query' : 'still unknown on the platform' };
  }
  const step = d.step ?? e.step;
  if (step === 'manual_review') throw new LendpayError('INVALID_INPUT', `order ${d.orderId}: manual review needs a step: --step channel_resend|system_resend|void_and_reissue|give_up`);
  if (order.status !== 'failed') throw new LendpayError('CONFLICT', `order ${d.orderId} is ${order.status}, not failed`);
  await recordOperatorAction(db, { orderId: d.orderId, escalationId: e.id, operator: d.by, action: 'confirm', step, reason: d.reason ?? null, now: t });
  if (step !== e.step) await changeStep(db, e.id, step);
  await resolveAlerts(db, d.orderId, d.by, t);
  const r = await execute(deps, { ...e, step }, ['awaiting_operator'], d.by);
  if (order.loanId) await driveLoan(withHook(deps), order.loanId);
  return r;
}

/** `ops reject`: the step is not carried out; the order stays failed (a loan fails, a collection goes back to its hold). */
export async function rejectEscalation(deps: EscalationDeps, d: OperatorDecision & { reason: string }): Promise<void> {
  assertOperator(d.by);
  const db = deps.disburse.db;
  const t = now(deps);
  const e = await openEscalationOf(db, d.orderId);
  if (!e || e.status !== 'awaiting_operator') throw new LendpayError('CONFLICT', `order ${d.orderId} has nothing waiting for an operator`);
  if (e.errorCode === UNKNOWN_OUTCOME) throw new LendpayError('CONFLICT', `order ${d.orderId}: its outcome is unknown; it cannot be given up until the platform says what happened`);
  await recordOperatorAction(db, { orderId: d.orderId, escalationId: e.id, operator: d.by, action: 'reject', step: e.step, reason: d.reason, now: t });
  await finishEscalation(db, e.id, 'rejected', `rejected: ${d.reason}`, t, d.by);
  await resolveAlerts(db, d.orderId, d.by, t);
  await giveUp(deps, (await getOrder(db, d.orderId))!);
}
