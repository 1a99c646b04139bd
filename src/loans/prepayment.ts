// Prepayment (提前还款). A payoff quote: what closes the loan on a date — the
// principal outstanding, the interest already due, the current period's interest up
// to the date (by days elapsed, half-even), penalties, and the product's fee on the
// principal paid before its time. A prepayment of an amount: what is due is paid
// first (by the waterfall); what is left takes principal off the last installments,
// which shortens the loan, and pays the fee on it. Pure.
import { DateTime } from 'luxon';
import { ZONE, type BusinessDate } from '../dates.ts';
import { LendpayError } from '../errors.ts';
import { formatYuan, type Fen } from '../money.ts';
import { divRoundHalfEven, mulRatioHalfEven } from './rounding.ts';
import { allocatePayment } from '../collection/waterfall.ts';
import type { WaterfallOrder } from '../collection/rules.ts';

export interface LoanInstallment {
  readonly no: number;
  readonly dueDate: BusinessDate;
  readonly principal: Fen;
  readonly interest: Fen;
  readonly penalty: Fen;
  readonly paidPrincipal: Fen;
  readonly paidInterest: Fen;
  readonly paidPenalty: Fen;
}

export interface LoanState {
  readonly loanId: string;
  /** the date the schedule starts from (the current period of installment 1 starts here) */
  readonly disbursedOn: BusinessDate;
  readonly prepaymentFeeBp: number;
  readonly installments: readonly LoanInstallment[];
}

export interface PayoffQuote {
  readonly loanId: string;
  readonly date: BusinessDate;
  /** every unpaid principal */
  readonly principal: Fen;
  /** unpaid interest of installments due on or before the date */
  readonly interestDue: Fen;
  /** the current period's interest up to the date, less what of it is paid */
  readonly interestAccrued: Fen;
  readonly penalty: Fen;
  /** principal of installments not yet due: what is prepaid */
  readonly prepaidPrincipal: Fen;
  readonly fee: Fen;
  readonly total: Fen;
  /** the installment whose period the date falls in; null past the last due date */
  readonly currentPeriod: { no: number; from: BusinessDate; to: BusinessDate; days: number; elapsed: number } | null;
}

const days = (a: BusinessDate, b: BusinessDate): number =>
  Math.round(DateTime.fromISO(b, { zone: ZONE }).diff(DateTime.fromISO(a, { zone: ZONE }), 'days').days);
const sum = (xs: readonly number[]): Fen => xs.reduce((s, x) => s + x, 0) as Fen;
const unpaid = (i: LoanInstallment) => ({
  principal: (i.principal - i.paidPrincipal) as Fen,
  interest: (i.interest - i.paidInterest) as Fen,
  penalty: (i.penalty - i.paidPenalty) as Fen,
});

function sorted(state: LoanState): LoanInstallment[] {
  const list = [...state.installments].sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.no - b.no));
  for (const i of list) {
    const u = unpaid(i);
    if (u.principal < 0 || u.interest < 0 || u.penalty < 0) throw new LendpayError('INVALID_AMOUNT', `loan ${state.loanId} installment ${i.no}: paid more than it owes`);
  }
  return list;
}

/** The fee on `principal` prepaid, half-even. */
export function prepaymentFee(principal: Fen, feeBp: number): Fen {
  return mulRatioHalfEven(principal, feeBp, 10_000);
}

/** What closes the loan on `date`. */
export function payoffQuote(state: LoanState, date: BusinessDate): PayoffQuote {
  const list = sorted(state);
  const due = list.filter((i) => i.dueDate <= date);
  const later = list.filter((i) => i.dueDate > date);
  const current = later[0] ?? null;
  let interestAccrued = 0 as Fen;
  let currentPeriod: PayoffQuote['currentPeriod'] = null;
  if (current) {
    const from = due.at(-1)?.dueDate ?? state.disbursedOn;
    const periodDays = Math.max(1, days(from, current.dueDate));
    const elapsed = Math.min(periodDays, Math.max(0, days(from, date)));
    const accrued = Number(divRoundHalfEven(BigInt(current.interest) * BigInt(elapsed), BigInt(periodDays)));
    interestAccrued = Math.max(0, accrued - current.paidInterest) as Fen;
    currentPeriod = { no: current.no, from, to: current.dueDate, days: periodDays, elapsed };
  }
  const principal = sum(list.map((i) => unpaid(i).principal));
  const interestDue = sum(due.map((i) => unpaid(i).interest));
  const penalty = sum(list.map((i) => unpaid(i).penalty));
  const prepaidPrincipal = sum(later.map((i) => unpaid(i).principal));
  const fee = prepaymentFee(prepaidPrincipal, state.prepaymentFeeBp);
  return {
    loanId: state.loanId, date, principal, interestDue, interestAccrued, penalty, prepaidPrincipal, fee,
    total: (principal + interestDue + interestAccrued + penalty + fee) as Fen,
    currentPeriod,
  };
}

export interface InstallmentPayment {
  readonly no: number;
  readonly principal: Fen;
  readonly interest: Fen;
  readonly penalty: Fen;
}

export interface PrepaymentPlan {
  readonly loanId: string;
  readonly date: BusinessDate;
  /** payoff: the amount closes the loan; partial: it pays what is due and some principal early */
  readonly kind: 'payoff' | 'partial';
  readonly amount: Fen;
  /** what each installment is paid */
  readonly payments: readonly InstallmentPayment[];
  /** interest no longer owed, taken off installments (interest of periods not lived) */
  readonly interestWaived: readonly { no: number; interest: Fen }[];
  readonly principal: Fen;
  readonly interest: Fen;
  readonly penalty: Fen;
  readonly fee: Fen;
  /** principal paid before its due date */
  readonly prepaidPrincipal: Fen;
  /** beyond what closes the loan: owed back to the borrower */
  readonly overpayment: Fen;
  /** nothing is owed after it */
  readonly closes: boolean;
  /** installments it pays off early, and the due date of the loan's last unpaid installment after it (null: none) */
  readonly closedEarly: readonly number[];
  readonly endsOn: BusinessDate | null;
  readonly endedOn: BusinessDate | null;
}

/**
 * What `amount` does on `date`. At least the payoff quote: everything is paid, the
 * interest of periods not lived is waived, the fee is paid on the principal prepaid,
 * and anything more is an overpayment. Less: the waterfall pays what is due (on or
 * before the date) first; the rest R buys principal p off the last installments with
 * its fee, p = ⌊R × 10,000 ÷ (10,000 + fee bp)⌋ and fee = R − p (the fen a division
 * leaves go to the fee); an installment so paid in full has its interest waived, one
 * paid in part keeps the interest on the principal left (half-even); the installments
 * before keep theirs. Should p reach every principal not yet due, the current period's
 * interest is cut to what has accrued and what is left pays it.
 */
export function planPrepayment(state: LoanState, amount: Fen, date: BusinessDate, waterfall: WaterfallOrder = 'oldest_first_interest_first'): PrepaymentPlan {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new LendpayError('INVALID_AMOUNT', 'amount: must be more than 0.00');
  const list = sorted(state);
  const quote = payoffQuote(state, date);
  const pay = new Map<number, { principal: number; interest: number; penalty: number }>(list.map((i) => [i.no, { principal: 0, interest: 0, penalty: 0 }]));
  const waived = new Map<number, number>();
  const endedOn = list.filter((i) => unpaid(i).principal + unpaid(i).interest + unpaid(i).penalty > 0).at(-1)?.dueDate ?? null;
  const later = list.filter((i) => i.dueDate > date);
  const current = later[0];
  const base = { loanId: state.loanId, date, amount };

  if (amount >= quote.total) {
    for (const i of list) {
      const u = unpaid(i);
      const p = pay.get(i.no)!;
      p.principal = u.principal;
      p.penalty = u.penalty;
      if (i.dueDate <= date) p.interest = u.interest;
      else if (current && i.no === current.no) {
        p.interest = quote.interestAccrued;
        waived.set(i.no, u.interest - quote.interestAccrued);
      } else waived.set(i.no, u.interest);
    }
    return finish({ ...base, kind: 'payoff', fee: quote.fee, prepaidPrincipal: quote.prepaidPrincipal, overpayment: (amount - quote.total) as Fen }, pay, waived, list, date, endedOn);
  }

  // 1. what is due, by the waterfall
  const dueList = list.filter((i) => i.dueDate <= date).map((i) => ({ no: i.no, dueDate: i.dueDate, ...unpaid(i) }));
  const penaltyLater = later.map((i) => ({ no: i.no, dueDate: i.dueDate, principal: 0 as Fen, interest: 0 as Fen, penalty: unpaid(i).penalty }));
  const a = allocatePayment([...dueList, ...penaltyLater], amount, waterfall);
  for (const x of a.allocations) {
    const p = pay.get(x.installmentNo)!;
    p.principal += x.principal;
    p.interest += x.interest;
    p.penalty += x.penalty;
  }
  let rest: number = a.remainder;
  let fee = 0;
  let prepaid = 0;
  // 2. principal off the last installments, with its fee
  const future = later.filter((i) => unpaid(i).principal > 0);
  const futurePrincipal = sum(future.map((i) => unpaid(i).principal));
  if (rest > 0 && futurePrincipal > 0) {
    let p = Number(BigInt(rest) * 10_000n / BigInt(10_000 + state.prepaymentFeeBp));
    if (p >= futurePrincipal) {
      p = futurePrincipal;
      fee = prepaymentFee(futurePrincipal as Fen, state.prepaymentFeeBp);
    } else fee = rest - p;
    rest -= p + fee;
    prepaid = p;
    let left = p;
    for (const i of [...future].reverse()) {
      if (left === 0) break;
      const u = unpaid(i);
      const take = Math.min(left, u.principal);
      left -= take;
      pay.get(i.no)!.principal += take;
      if (take === u.principal) {
        // paid off early: its period is not lived, except the current one's days so far
        const keep = current && i.no === current.no ? Math.min(u.interest, quote.interestAccrued) : 0;
        if (u.interest - keep > 0) waived.set(i.no, u.interest - keep);
      } else {
        const keepInterest = Number(divRoundHalfEven(BigInt(u.interest) * BigInt(u.principal - take), BigInt(u.principal)));
        if (u.interest - keepInterest > 0) waived.set(i.no, u.interest - keepInterest);
      }
    }
    // 3. all principal prepaid: what is left pays the current period's interest (cut to what has accrued)
    if (rest > 0 && current) {
      const owed = unpaid(current).interest - (waived.get(current.no) ?? 0);
      const x = Math.min(rest, owed);
      pay.get(current.no)!.interest += x;
      rest -= x;
    }
  }
  if (rest > 0) throw new LendpayError('INVALID_AMOUNT', `loan ${state.loanId}: ${formatYuan(rest)} of ${formatYuan(amount)} could not be placed short of the payoff`);
  return finish({ ...base, kind: 'partial', fee: fee as Fen, prepaidPrincipal: prepaid as Fen, overpayment: 0 as Fen }, pay, waived, list, date, endedOn);
}

function finish(
  head: Pick<PrepaymentPlan, 'loanId' | 'date' | 'amount' | 'kind' | 'fee' | 'prepaidPrincipal' | 'overpayment'>,
  pay: Map<number, { principal: number; interest: number; penalty: number }>,
  waived: Map<number, number>,
  list: readonly LoanInstallment[],
  date: BusinessDate,
  endedOn: BusinessDate | null,
): PrepaymentPlan {
  const payments = list.map((i) => ({ no: i.no, ...pay.get(i.no)! })).filter((p) => p.principal + p.interest + p.penalty > 0)
    .map((p) => ({ no: p.no, principal: p.principal as Fen, interest: p.interest as Fen, penalty: p.penalty as Fen }));
  const left = list.map((i) => {
    const u = unpaid(i);
    const p = pay.get(i.no)!;
    return { i, owes: u.principal - p.principal + u.interest - p.interest - (waived.get(i.no) ?? 0) + u.penalty - p.penalty };
  });
  const closedEarly = left.filter((x) => x.i.dueDate > date && x.owes === 0 && unpaid(x.i).principal + unpaid(x.i).interest > 0).map((x) => x.i.no);
  const plan: PrepaymentPlan = {
    ...head,
    payments,
    interestWaived: [...waived].filter(([, v]) => v > 0).map(([no, interest]) => ({ no, interest: interest as Fen })),
    principal: sum(payments.map((p) => p.principal)),
    interest: sum(payments.map((p) => p.interest)),
    penalty: sum(payments.map((p) => p.penalty)),
    closes: left.every((x) => x.owes === 0),
    closedEarly,
    endsOn: left.filter((x) => x.owes > 0).at(-1)?.i.dueDate ?? null,
    endedOn,
  };
  if (plan.principal + plan.interest + plan.penalty + plan.fee + plan.overpayment !== plan.amount) {
    throw new LendpayError('INVALID_AMOUNT', `loan ${plan.loanId}: the prepayment plan places ${plan.principal + plan.interest + plan.penalty + plan.fee + plan.overpayment} of ${plan.amount} fen`);
  }
  return plan;
}

/** What a prepayment did, in a sentence: what it paid, what it prepaid, how the loan is shortened. */
export function describePrepayment(p: PrepaymentPlan): string {
  const early = p.prepaidPrincipal > 0 ? ` (${formatYuan(p.prepaidPrincipal)} of it before its due date)` : '';
  const parts = [`${formatYuan(p.amount)} on ${p.date}: principal ${formatYuan(p.principal)}${early}, interest ${formatYuan(p.interest)}, penalty ${formatYuan(p.penalty)}, prepayment fee ${formatYuan(p.fee)}`];
  const waived = p.interestWaived.reduce((s, w) => s + w.interest, 0);
  if (waived > 0) parts.push(`${formatYuan(waived)} of interest no longer owed`);
  if (p.closes) parts.push('the loan is paid off and closed');
  else if (p.closedEarly.length > 0) parts.push(`installment${p.closedEarly.length === 1 ? '' : 's'} ${range(p.closedEarly)} paid off early: the loan now ends on ${p.endsOn} instead of ${p.endedOn}`);
  else if (p.prepaidPrincipal > 0) parts.push(`the last installment is smaller; the loan still ends on ${p.endsOn}`);
  if (p.overpayment > 0) parts.push(`${formatYuan(p.overpayment)} more than the payoff is owed back to the borrower`);
  return parts.join('; ');
}

function range(nos: readonly number[]): string {
  const s = [...nos].sort((a, b) => a - b);
  return s.length > 1 && s.at(-1)! - s[0]! === s.length - 1 ? `${s[0]}–${s.at(-1)}` : s.join(', ');
}
