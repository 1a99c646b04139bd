// Allocation of money collected for a loan over its installments, in the order the
// collection rules name (default: oldest installment first, interest before principal).
import { LendpayError } from '../errors.ts';
import type { Fen } from '../money.ts';
import type { BusinessDate } from '../dates.ts';
import type { WaterfallOrder } from './rules.ts';

export interface OutstandingInstallment {
  readonly no: number;
  readonly dueDate: BusinessDate;
  /** still unpaid, fen */
  readonly principal: Fen;
  readonly interest: Fen;
}

export interface Allocation {
  readonly installmentNo: number;
  readonly interest: Fen;
  readonly principal: Fen;
}

export interface WaterfallResult {
  /** one per installment that receives anything, oldest first */
  readonly allocations: readonly Allocation[];
  /** what is left after everything outstanding is paid (an overpayment) */
  readonly remainder: Fen;
}

export function allocatePayment(installments: readonly OutstandingInstallment[], amount: Fen, order: WaterfallOrder = 'oldest_first_interest_first'): WaterfallResult {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new LendpayError('INVALID_AMOUNT', `amount: ${amount} is not a non-negative whole number of fen`);
  const seen = new Set<number>();
  for (const i of installments) {
    if (seen.has(i.no)) throw new LendpayError('INVALID_INPUT', `installment ${i.no} is listed twice`);
    seen.add(i.no);
    for (const [k, v] of [['principal', i.principal], ['interest', i.interest]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new LendpayError('INVALID_AMOUNT', `installment ${i.no}: ${k} ${v} is not a non-negative whole number of fen`);
    }
  }
  const sorted = [...installments].sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.no - b.no));
  const paid = new Map(sorted.map((i) => [i.no, { interest: 0, principal: 0 }]));
  let rest: number = amount;
  const pay = (i: OutstandingInstallment, part: 'interest' | 'principal'): void => {
    const x = Math.min(rest, i[part]);
    paid.get(i.no)![part] += x;
    rest -= x;
  };
  switch (order) {
    case 'oldest_first_interest_first':
      for (const i of sorted) {
        pay(i, 'interest');
        pay(i, 'principal');
      }
      break;
    case 'oldest_first_principal_first':
      for (const i of sorted) {
        pay(i, 'principal');
        pay(i, 'interest');
      }
      break;
    case 'interest_first_then_principal':
      for (const i of sorted) pay(i, 'interest');
      for (const i of sorted) pay(i, 'principal');
      break;
  }
  const allocations: Allocation[] = [];
  for (const i of sorted) {
    const p = paid.get(i.no)!;
    if (p.interest + p.principal > 0) allocations.push({ installmentNo: i.no, interest: p.interest as Fen, principal: p.principal as Fen });
  }
  return { allocations, remainder: rest as Fen };
}
