// Loan application and compliant disbursement: a collection order (lender's funding
// card → lender's balance account), then, only when that succeeded, a payout order to
// the borrower. Applications that arrive together are disbursed together (group
// commit, see group.ts): one transaction creates every loan of the group under its
// customers' locks (taken in id order) with its schedule, funding order and attempt;
// one platform call per leg carries the whole group; one transaction records each
// leg's outcomes with the journal, the payout orders and the loans' new state. Each
// application still gets its own answer, error and idempotency; one bad request never
// fails the others. Unknown outcomes are resolved by querying the platform
// (recoverOpenAttempts), never by sending blindly.
import type { Db } from '../../db/connection.ts';
import {
  createLoans, creditOfCustomers, getLoans, loansByRequestIds, lockCustomersById, markDisbursed, markFailed, type CustomerCredit, type InstallmentRow, type Loan, type NewLoan,
} from '../../db/loans.repository.ts';
import {
  beginAttempts, insertOrders, insertSubmitted, openAttempts, ordersOfLoans, succeededAttempts, type PostedLine,
} from '../../db/orders.repository.ts';
import type { PaymentChannel } from '../channel/types.ts';
import { payoutArrival, type Calendar } from '../calendar/calendar.ts';
import { businessDateAt, type BusinessDate, type Clock } from '../dates.ts';
import { LendpayError } from '../errors.ts';
import type { Fen } from '../money.ts';
import { postingForSuccess } from '../ledger/postings.ts';
import { applicationHash, checkApplication, type Refusal } from './application.ts';
import { generateSchedule, type Installment } from '../loans/schedule.ts';
import type { PricingRules } from '../loans/pricing.ts';
import type { ProductChoice } from '../loans/products.ts';
import { recordOutcomes, recoverAttempts, sendBegun, type RecoveryCounts, type Settlement } from '../orders/protocol.ts';
import { requestIdFor, type Begun, type Changed, type NewOrder, type Order } from '../orders/types.ts';
import { GroupCommit, type GroupOptions, type Settled } from '../orders/group.ts';

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
  /**
   * Group commit: applications made through the same deps object while others are in
   * flight share one group (the API's, a worker's). Absent: each is a group of one.
   */
  grouping?: GroupOptions | undefined;
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
/** What the group hands back: the outcome, and for a loan it made its orders as they now stand and its schedule as written. */
export type ApplyResult = ApplyOutcome & { orders?: Order[]; installments?: InstallmentRow[] };

const REQUEST_ID = /^[A-Za-z0-9:_.-]{1,128}$/;

const groups = new WeakMap<DisburseDeps, GroupCommit<ApplyInput, ApplyResult>>();

/** Applies for a loan and disburses it, together with whatever else arrives meanwhile through the same deps. */
export async function applyForLoan(deps: DisburseDeps, input: ApplyInput): Promise<ApplyResult> {
  if (deps.grouping) {
    let g = groups.get(deps);
    if (!g) groups.set(deps, (g = new GroupCommit((items) => disburseGroup(deps, items), deps.grouping)));
    return g.submit(input);
  }
  const [r] = await disburseGroup(deps, [input]);
  if (!r!.ok) throw r!.error;
  return r!.value;
}

/** The group commit queue of a deps object (its statistics), if it has one yet. */
export function groupOf(deps: DisburseDeps): GroupCommit<ApplyInput, ApplyResult> | undefined {
  return groups.get(deps);
}

interface Prepared {
  at: number;
  input: ApplyInput;
  mode: 'compliant' | 'legacy';
  hash: string;
  schedule: readonly Installment[];
  /** the business date its schedule starts from */
  disbursedOn: BusinessDate;
}

/** A loan this group made, followed through its legs in memory: the answer needs no read. */
interface Made {
  at: number;
  loan: Loan;
  orders: Order[];
  /** its schedule as written (nothing paid yet) */
  installments: InstallmentRow[];
}

function writtenSchedule(schedule: readonly Installment[]): InstallmentRow[] {
  const zero = 0 as Fen;
  return schedule.map((i) => ({ no: i.no, dueDate: i.dueDate, principal: i.principal, interest: i.interest, penalty: zero, paidPrincipal: zero, paidInterest: zero, paidPenalty: zero }));
}

/**
 * A group of applications, disbursed together. Answers in input order, each its own
 * outcome or its own error.
 */
export async function disburseGroup(deps: DisburseDeps, inputs: readonly ApplyInput[]): Promise<Settled<ApplyResult>[]> {
  const out: Settled<ApplyResult>[] = new Array(inputs.length);
  const now = deps.clock.now();
  const today = businessDateAt(now);
  // checks that need no database: a bad one is answered at once and never joins the others
  const prepared: Prepared[] = [];
  inputs.forEach((input, at) => {
    try {
      if (!REQUEST_ID.test(input.requestId)) {
        throw new LendpayError('INVALID_INPUT', `request id: expected 1–128 characters of [A-Za-z0-9:_.-], got "${input.requestId}"`);
      }
      if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new LendpayError('INVALID_AMOUNT', 'amount: must be more than 0.00');
      const mode = input.mode ?? 'compliant';
      const hash = applicationHash({ customerId: input.customerId, amount: input.amount, rail: input.rail, destinationId: input.destinationId ?? null, mode, asked: input.product?.asked ?? null });
      const schedule = input.schedule ?? generateSchedule({
        principal: input.amount, startDate: input.disbursedOn ?? today, termDays: input.termDays ?? deps.pricing.defaultTermDays, dailyRatePpm: deps.pricing.dailyRatePpm,
      });
      const sum = schedule.reduce((s, i) => s + i.principal, 0);
      if (sum !== input.amount) throw new LendpayError('INVALID_INPUT', `schedule: principals sum to ${sum} fen, not the loan's ${input.amount}`);
      prepared.push({ at, input, mode, hash, schedule, disbursedOn: input.disbursedOn ?? today });
    } catch (error) {
      out[at] = { ok: false, error };
    }
  });
  if (prepared.length === 0) return out;

  // 1. one transaction: the customers locked in id order, what they may borrow read in one
  // statement, every decision made in memory, the loans with their schedules, funding
  // orders and attempts written in one statement
  const made = new Map<string, Made>();
  const replays: { at: number; loan: Loan }[] = [];
  let twins: { at: number; of: number }[] = [];
  let begun: Begun[] = [];
  try {
    await deps.db.transaction().execute(async (trx) => {
      made.clear();
      replays.length = 0;
      const found = await lockCustomersById(trx, prepared.map((p) => p.input.customerId));
      const credit = await creditOfCustomers(trx, [...found], today, prepared.map((p) => p.input.requestId));
      const decided = decideGroup(deps, prepared, found, credit);
      for (const d of decided.answers) out[d.at] = d.settled;
      replays.push(...decided.replays);
      twins = decided.twins;
      const rows = await createLoans(trx, decided.fresh.map((f) => ({ ...f.loan, installments: f.p.schedule, fund: (id: string) => fundOrder(deps, { id, mode: f.loan.mode }) })), now);
      const byRequest = new Map(rows.map((r) => [r.loan.requestId, r]));
      const raced: Prepared[] = [];
      for (const f of decided.fresh) {
        const r = byRequest.get(f.p.input.requestId);
        if (!r) raced.push(f.p); // another process made this request id between our read and insert
        else made.set(r.loan.id, { at: f.p.at, loan: r.loan, orders: [r.fund], installments: writtenSchedule(f.p.schedule) });
      }
      begun = rows.map((r) => ({ order: r.fund, attempt: firstAttempt(r.fund, now) }));
      if (raced.length > 0) {
        const existing = await loansByRequestIds(trx, raced.map((p) => p.input.requestId));
        for (const p of raced) {
          const r = replayOf(existing.get(p.input.requestId)!, p.hash, p.input.requestId);
          if (r.ok) replays.push({ at: p.at, loan: r.loan });
          else out[p.at] = { ok: true, value: r };
        }
      }
    });
  } catch (error) {
    if (prepared.length > 1) {
      // something in the group broke the transaction: each alone, so that it fails only its own
      const alone = await Promise.all(prepared.map((p) => disburseGroup(deps, [p.input])));
      prepared.forEach((p, i) => (out[p.at] = alone[i]![0]!));
      return out;
    }
    for (const p of prepared) if (out[p.at] === undefined) out[p.at] = { ok: false, error };
    return out;
  }

  // 2. and 3. the funding leg, then the payout leg, each one platform call for the group
  try {
    if (begun.length > 0) {
      const payouts: Begun[] = [];
      const funded = await sendBegun(deps, begun, fundSettlement(deps, made, payouts));
      track(made, funded.map((c) => c.order));
      track(made, payouts.map((b) => b.order));
      if (payouts.length > 0) track(made, (await sendBegun(deps, payouts, payoutSettlement(deps, made))).map((c) => c.order));
    }
    // whatever did not finish in one pass (a failed leg, an escalation step) goes the long way
    const pending = [...made.values()].filter((m) => m.loan.status === 'disbursing').map((m) => m.loan.id);
    if (pending.length > 0) {
      const after = await driveLoans(deps, pending);
      const orders = await ordersOfLoans(deps.db, pending);
      for (const id of pending) made.set(id, { ...made.get(id)!, loan: after.get(id)!, orders: orders.get(id) ?? [] });
    }
  } catch (error) {
    // the loans exist and their attempts are recorded: recovery finishes them; say what happened
    for (const m of made.values()) out[m.at] = { ok: false, error };
  }
  // a replay drives its loan too (idempotent), then waits briefly for whoever is sending it
  if (replays.length > 0) {
    try {
      const settled = await settleOrWait(deps, [...new Set(replays.map((r) => r.loan.id))]);
      for (const r of replays) if (out[r.at] === undefined) out[r.at] = { ok: true, value: { ok: true, loan: settled.get(r.loan.id) ?? r.loan, replay: true } };
    } catch (error) {
      for (const r of replays) if (out[r.at] === undefined) out[r.at] = { ok: false, error };
    }
  }
  for (const m of made.values()) if (out[m.at] === undefined) out[m.at] = { ok: true, value: { ok: true, loan: m.loan, replay: false, orders: m.orders, installments: m.installments } };
  for (const t of twins) {
    const first = out[t.of]!;
    out[t.at] = first.ok && first.value.ok ? { ok: true, value: { ...first.value, replay: true } } : first;
  }
  return out;
}

function firstAttempt(order: Order, now: Date): Begun['attempt'] {
  return { orderId: order.id, attemptNo: 1, requestId: requestIdFor(order, 1), status: 'submitted', errorCode: null, platformRef: null, submittedAt: now, resolvedAt: null };
}

/** The orders as they now stand, in their loans' records. */
function track(made: Map<string, Made>, orders: readonly Order[]): void {
  for (const o of orders) {
    const m = o.loanId ? made.get(o.loanId) : undefined;
    if (!m) continue;
    const i = m.orders.findIndex((x) => x.id === o.id);
    if (i >= 0) m.orders[i] = o;
    else m.orders.push(o);
  }
}

interface Decided {
  answers: { at: number; settled: Settled<ApplyResult> }[];
  replays: { at: number; loan: Loan }[];
  /** a request id a second time in the group, same request: answered as a replay of the first */
  twins: { at: number; of: number }[];
  fresh: { p: Prepared; loan: NewLoan }[];
}

/** Replays, refusals and the loans to make, in arrival order, from what was read under the locks. Pure. */
function decideGroup(deps: Pick<DisburseDeps, 'allowLegacyMode'>, prepared: readonly Prepared[], found: ReadonlySet<string>, credit: ReadonlyMap<string, CustomerCredit>): Decided {
  const d: Decided = { answers: [], replays: [], twins: [], fresh: [] };
  const inGroup = new Map<string, { hash: string; at: number }>();
  const taken = new Map<string, number>(); // principal granted to each customer within this group
  const refuse = (p: Prepared, r: Refusal) => d.answers.push({ at: p.at, settled: { ok: true, value: r } });
  for (const p of prepared) {
    const { input } = p;
    if (!found.has(input.customerId)) {
      refuse(p, { ok: false, code: 'CUSTOMER_NOT_FOUND', message: `no customer ${input.customerId}` });
      continue;
    }
    const c = credit.get(input.customerId)!;
    const before = c.loansByRequest.get(input.requestId);
    if (before) {
      const r = replayOf(before, p.hash, input.requestId);
      if (r.ok) d.replays.push({ at: p.at, loan: r.loan });
      else refuse(p, r);
      continue;
    }
    const twin = inGroup.get(input.requestId);
    if (twin) {
      // the same request id twice in one group: the first stands, and this is its replay
      if (twin.hash !== p.hash) refuse(p, { ok: false, code: 'REQUEST_ID_REUSED', message: `request id ${input.requestId} was used for another loan with a different request` });
      else d.twins.push({ at: p.at, of: twin.at });
      continue;
    }
    if (p.mode === 'legacy' && !deps.allowLegacyMode) {
      refuse(p, { ok: false, code: 'LEGACY_MODE_DISABLED', message: 'legacy top-up-then-payout is only for migrating old loans and is disabled (LENDPAY_ALLOW_LEGACY_MODE)' });
      continue;
    }
    const check = checkApplication({ customerId: input.customerId, amount: input.amount, decision: c.decision, outstanding: (c.outstanding + (taken.get(input.customerId) ?? 0)) as Fen });
    if (!check.ok) {
      refuse(p, check);
      continue;
    }
    const destinationId = input.destinationId ?? (input.rail === 'balance' ? c.primaryAccount : (c.cards[0] ?? null));
    const owned = destinationId !== null && (input.rail === 'balance' ? c.accounts : c.cards).includes(destinationId);
    if (!owned) {
      refuse(p, { ok: false, code: 'DESTINATION_NOT_FOUND', message: `customer ${input.customerId} has no ${input.rail === 'balance' ? 'balance account' : 'bank card'} ${input.destinationId ?? ''}`.trim() });
      continue;
    }
    taken.set(input.customerId, (taken.get(input.customerId) ?? 0) + input.amount);
    inGroup.set(input.requestId, { hash: p.hash, at: p.at });
    d.fresh.push({
      p,
      loan: {
        customerId: input.customerId, requestId: input.requestId, requestHash: p.hash, principal: input.amount, rail: input.rail, destinationId: destinationId!,
        mode: p.mode, decisionDate: c.decision!.businessDate, ruleSetHash: c.decision!.ruleSetHash, limit: c.decision!.limit,
        product: input.product?.terms ?? null, disbursedOn: p.disbursedOn,
      },
    });
  }
  return d;
}

function replayOf(existing: Loan, hash: string, requestId: string): { ok: true; loan: Loan } | Refusal {
  if (existing.requestHash !== hash) {
    return { ok: false, code: 'REQUEST_ID_REUSED', message: `request id ${requestId} was used for loan ${existing.id} with a different request` };
  }
  return { ok: true, loan: existing };
}

function fundOrder(deps: Pick<DisburseDeps, 'lender'>, loan: Pick<Loan, 'id' | 'mode'>): Omit<NewOrder, 'loanId' | 'customerId' | 'amount'> {
  return {
    idempotencyKey: `disburse:${loan.id}:fund`,
    kind: loan.mode === 'legacy' ? 'topup' : 'collection',
    purpose: loan.mode === 'legacy' ? 'disburse.topup' : 'disburse.fund',
    sourceRef: `card:${deps.lender.cardId}`, destinationRef: `account:${deps.lender.accountId}`,
  };
}

function payoutOrder(deps: Pick<DisburseDeps, 'lender'>, loan: Pick<Loan, 'id' | 'customerId' | 'principal' | 'rail' | 'destinationId'>, fundId: number): NewOrder {
  return {
    idempotencyKey: `disburse:${loan.id}:payout`,
    kind: 'payout',
    purpose: 'disburse.payout',
    loanId: loan.id, customerId: loan.customerId, amount: loan.principal,
    sourceRef: `account:${deps.lender.accountId}`,
    destinationRef: `${loan.rail === 'card' ? 'card' : 'account'}:${loan.destinationId}`,
    parentOrderId: fundId,
  };
}

function postings(changed: readonly Changed[]): PostedLine[] {
  return changed.filter((c) => c.result.status === 'succeeded').flatMap((c) => postingForSuccess(c.order).lines.map((line) => ({ orderId: c.order.id, line })));
}

/**
 * The funding leg's outcomes: its journal lines, and for every loan of the group whose
 * funding succeeded its payout order with the attempt recorded, in the same transaction.
 */
function fundSettlement(deps: DisburseDeps, made: ReadonlyMap<string, Made>, payouts: Begun[]): Settlement {
  return {
    async settle(trx, changed) {
      const ok = changed.filter((c) => c.result.status === 'succeeded' && c.order.loanId !== null && made.has(c.order.loanId));
      payouts.push(...(await insertSubmitted(trx, ok.map((c) => payoutOrder(deps, made.get(c.order.loanId!)!.loan, c.order.id)), deps.clock.now())));
      return postings(changed);
    },
  };
}

/** The payout leg's outcomes: the journal, and the loans disbursed with when the money arrives. */
function payoutSettlement(deps: DisburseDeps, made: Map<string, Made>): Settlement {
  return {
    async settle(trx, changed) {
      const done: { loanId: string; arrivesAt: Date }[] = [];
      for (const c of changed) {
        if (c.result.status !== 'succeeded' || !c.order.loanId) continue;
        const arrival = arrivalOf(deps, c.order, deps.clock.now());
        if (arrival) done.push({ loanId: c.order.loanId, arrivesAt: arrival });
      }
      for (const loan of await markDisbursed(trx, done, deps.clock.now())) {
        const m = made.get(loan.id);
        if (m) m.loan = loan;
      }
      return postings(changed);
    },
  };
}

/** When a payout accepted at `acceptedAt` arrives: a reissued payout may go to another rail than the loan asked for. */
function arrivalOf(deps: Pick<DisburseDeps, 'calendar'>, payout: Order, acceptedAt: Date): Date | null {
  const rail = payout.destinationRef.startsWith('card:') ? 'card' : 'balance';
  try {
    return payoutArrival(deps.calendar, acceptedAt, rail).arrivesAt;
  } catch {
    return null; // outside the calendar: the loan stays disbursing and driveLoans says why
  }
}

/** The settlement any disbursement order's outcome goes through (recovery, escalation). */
export function disbursementSettlement(deps: DisburseDeps): Settlement {
  return {
    async settle(trx, changed) {
      return postings(changed);
    },
  };
}

/** Loan by loan: what has to happen next. */
type Next =
  | { kind: 'done' }
  | { kind: 'send'; order: Order }
  | { kind: 'failed'; order: Order }
  | { kind: 'create-payout'; loan: Loan; fund: Order }
  | { kind: 'mark-disbursed'; loan: Loan; payout: Order }
  | { kind: 'wait' };

function nextStep(loan: Loan, orders: readonly Order[]): Next {
  if (loan.status !== 'disbursing') return { kind: 'done' };
  // the latest order of a leg: a voided one is replaced by its reissue (escalation level 3)
  const fund = orders.findLast((o) => o.purpose === 'disburse.fund' || o.purpose === 'disburse.topup');
  if (!fund) throw new LendpayError('NOT_FOUND', `loan ${loan.id} has no funding order`);
  if (fund.status === 'created') return { kind: 'send', order: fund };
  if (fund.status === 'failed' || fund.status === 'voided') return { kind: 'failed', order: fund };
  if (fund.status !== 'succeeded') return { kind: 'wait' }; // in flight or unknown: recovery resolves it
  const payout = orders.findLast((o) => o.purpose === 'disburse.payout');
  if (!payout) return { kind: 'create-payout', loan, fund };
  if (payout.status === 'created') return { kind: 'send', order: payout };
  if (payout.status === 'failed' || payout.status === 'voided') return { kind: 'failed', order: payout };
  if (payout.status !== 'succeeded') return { kind: 'wait' };
  return { kind: 'mark-disbursed', loan, payout };
}

/**
 * Moves disbursing loans as far as they can go now, many at a time: one read of their
 * state per round, then each kind of step for all of them together. Safe to call from
 * anywhere, any number of times: only one caller can begin an attempt on an order.
 */
export async function driveLoans(deps: DisburseDeps, loanIds: readonly string[]): Promise<Map<string, Loan>> {
  let ids = [...new Set(loanIds)];
  for (let round = 0; round < 16 && ids.length > 0; round++) {
    const [loans, orders] = await Promise.all([getLoans(deps.db, ids), ordersOfLoans(deps.db, ids)]);
    const send: number[] = [];
    const createPayouts: { loan: Loan; fund: Order }[] = [];
    const mark: { loan: Loan; payout: Order }[] = [];
    const failed: { loan: Loan; order: Order }[] = [];
    for (const loan of loans) {
      const n = nextStep(loan, orders.get(loan.id) ?? []);
      if (n.kind === 'send') send.push(n.order.id);
      else if (n.kind === 'create-payout') createPayouts.push(n);
      else if (n.kind === 'mark-disbursed') mark.push(n);
      else if (n.kind === 'failed') failed.push({ loan, order: n.order });
    }
    const moved = new Set<string>();
    if (createPayouts.length > 0) {
      await insertOrders(deps.db, createPayouts.map((x) => payoutOrder(deps, x.loan, x.fund.id)), deps.clock.now());
      for (const x of createPayouts) moved.add(x.loan.id);
    }
    if (send.length > 0) {
      const begun = await deps.db.transaction().execute((trx) => beginAttempts(trx, send, deps.clock.now()));
      await sendBegun(deps, begun, disbursementSettlement(deps));
      for (const b of begun) moved.add(b.order.loanId!);
    }
    if (mark.length > 0) {
      const accepted = await succeededAttempts(deps.db, mark.map((m) => m.payout.id));
      const done: { loanId: string; arrivesAt: Date }[] = [];
      for (const m of mark) {
        const rail = m.payout.destinationRef.startsWith('card:') ? 'card' : 'balance';
        // outside the calendar this throws, naming the date: the loan waits for the calendar
        const at = accepted.get(m.payout.id)?.resolvedAt ?? deps.clock.now();
        done.push({ loanId: m.loan.id, arrivesAt: payoutArrival(deps.calendar, at, rail).arrivesAt });
      }
      await markDisbursed(deps.db, done, deps.clock.now());
    }
    const failing: string[] = [];
    for (const f of failed) {
      const next = f.order.status === 'failed' && deps.escalation ? await deps.escalation.onFailed(f.order) : 'final';
      if (next === 'retry') moved.add(f.loan.id);
      else if (next === 'final') failing.push(f.loan.id);
    }
    await markFailed(deps.db, failing, deps.clock.now());
    ids = ids.filter((id) => moved.has(id));
  }
  return new Map((await getLoans(deps.db, loanIds)).map((l) => [l.id, l]));
}

/** One loan: driveLoans of one. */
export async function driveLoan(deps: DisburseDeps, loanId: string): Promise<Loan> {
  const loan = (await driveLoans(deps, [loanId])).get(loanId);
  if (!loan) throw new LendpayError('NOT_FOUND', `no loan ${loanId}`);
  return loan;
}

/** A replay drives its loans too (idempotent), then waits briefly for whoever is sending them. */
async function settleOrWait(deps: DisburseDeps, loanIds: readonly string[]): Promise<Map<string, Loan>> {
  let loans = await driveLoans(deps, loanIds);
  for (let i = 0; i < 50 && [...loans.values()].some((l) => l.status === 'disbursing'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    loans = new Map((await getLoans(deps.db, loanIds)).map((l) => [l.id, l]));
  }
  return loans;
}

export interface RecoveryReport extends RecoveryCounts {
  loansDriven: number;
}

/**
 * Resolves disbursement attempts whose outcome lendpay does not know by querying the
 * platform (a request it never received is sent again under the SAME id), then moves
 * their loans on.
 */
export async function recoverOpenAttempts(deps: DisburseDeps, opts: { olderThanMs: number }): Promise<RecoveryReport> {
  const before = new Date(deps.clock.now().getTime() - opts.olderThanMs);
  const open = await openAttempts(deps.db, before, 'disbursement');
  const { counts } = await recoverAttempts(deps, open.map((a) => ({ order: a.order, attemptNo: a.attemptNo, requestId: a.requestId })), disbursementSettlement(deps));
  const loans = [...new Set(open.map((a) => a.order.loanId).filter((x): x is string => x !== null))];
  await driveLoans(deps, loans);
  return { ...counts, loansDriven: loans.length };
}

/** One attempt's outcome recorded through the disbursement settlement (escalation). */
export async function recordDisbursementOutcome(deps: DisburseDeps, outcome: Parameters<typeof recordOutcomes>[1][number]): Promise<void> {
  await recordOutcomes(deps, [outcome], disbursementSettlement(deps));
}
