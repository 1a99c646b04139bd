// A loan as `loan show --json` and `GET /loans/{id}` show it: its product, the date
// its schedule starts and each installment with what is paid and where it stands
// today. Pure; amounts as yuan strings.
import type { Loan, InstallmentRow } from '../../db/loans.repository.ts';
import type { BusinessDate } from '../dates.ts';
import { formatYuan } from '../money.ts';
import type { PayoffQuote } from './prepayment.ts';

export const INSTALLMENT_STATUSES = ['paid', 'overdue', 'due', 'upcoming'] as const;
export type InstallmentStatus = (typeof INSTALLMENT_STATUSES)[number];

/** paid: nothing left; else by its due date against today: overdue (before), due (today), upcoming (after). */
export function installmentStatus(i: InstallmentRow, today: BusinessDate): InstallmentStatus {
  if (i.paidPrincipal >= i.principal && i.paidInterest >= i.interest && i.paidPenalty >= i.penalty) return 'paid';
  return i.dueDate < today ? 'overdue' : i.dueDate === today ? 'due' : 'upcoming';
}

export function installmentView(i: InstallmentRow, today: BusinessDate) {
  return {
    number: i.no,
    dueDate: i.dueDate,
    principal: formatYuan(i.principal),
    interest: formatYuan(i.interest),
    penalty: formatYuan(i.penalty),
    paid: formatYuan(i.paidPrincipal + i.paidInterest + i.paidPenalty),
    status: installmentStatus(i, today),
  };
}

/** The product part of a loan: what it was sold as, or null for a loan made before products. */
export function productView(l: Loan) {
  const p = l.product;
  if (!p) return null;
  return {
    id: p.id, name: p.name, method: p.method, term: p.term, termUnit: p.termUnit, dailyRatePpm: p.dailyRatePpm, annualRateBp: p.annualRateBp,
    penaltyDailyRatePpm: p.penaltyDailyRatePpm, graceDays: p.graceDays, prepaymentFeeBp: p.prepaymentFeeBp, schedule: p.schedule,
  };
}

export function loanScheduleView(l: Loan, installments: readonly InstallmentRow[], today: BusinessDate) {
  return { product: productView(l), disbursedOn: l.disbursedOn, installments: installments.map((i) => installmentView(i, today)) };
}

/** A payoff quote as the CLI and the API show it: amounts as yuan strings. */
export function payoffView(q: PayoffQuote) {
  return {
    loanId: q.loanId, date: q.date, principal: formatYuan(q.principal), prepaidPrincipal: formatYuan(q.prepaidPrincipal),
    interestDue: formatYuan(q.interestDue), interestAccrued: formatYuan(q.interestAccrued), penalty: formatYuan(q.penalty), fee: formatYuan(q.fee),
    total: formatYuan(q.total), currentPeriod: q.currentPeriod,
  };
}
