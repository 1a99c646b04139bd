// Allocation of money collected for a loan over its installments, in the order the
// collection rules name (default: oldest installment first; in each, penalty, then
// interest, then principal).
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
  /** overdue penalty (罚息) accrued and unpaid; none when absent */
  readonly penalty?: Fen;
}

export interface Allocation {
  readonly installmentNo: number;
  readonly interest: Fen;
  readonly principal: Fen;
  readonly penalty: Fen;
}

export interface WaterfallResult {
  /** one per installment that receives anything, oldest first */
  readonly allocations: readonly Allocation[];
  /** what is left after everything outstanding is paid (an overpayment) */
  readonly remainder: Fen;
}

export type Component = 'penalty' | 'interest' | 'principal';

/**
 * Each order as passes over the installments (oldest due date first); in a pass, each
 * installment in turn gets its components in the order listed. Where a penalty goes
 * is part of every order.
 */
export const WATERFALL_PASSES: Record<WaterfallOrder, readonly (readonly Component[])[]> = {
  oldest_first_interest_first: [['penalty', 'interest', 'principal']],
  oldest_first_principal_first: [['principal', 'interest', 'penalty']],
  interest_first_then_principal: [['penalty'], ['interest'], ['principal']],
  oldest_first_penalty_last: [['interest', 'principal', 'penalty']],
  penalties_last: [['interest', 'principal'], ['penalty']],
};

export function allocatePayment(installments: readonly OutstandingInstallment[], amount: Fen, order: WaterfallOrder = 'oldest_first_interest_first'): WaterfallResult {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new LendpayError('INVALID_AMOUNT', `amount: ${amount} is not a non-negative whole number of fen`);
  const seen = new Set<number>();
  for (const i of installments) {
    if (seen.has(i.no)) throw new LendpayError('INVALID_INPUT', `installment ${i.no} is listed twice`);
    seen.add(i.no);
    for (const [k, v] of [['principal', i.principal], ['interest', i.interest], ['penalty', i.penalty ?? 0]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new LendpayError('INVALID_AMOUNT', `installment ${i.no}: ${k} ${v} is not a non-negative whole number of fen`);
    }
  }
  const sorted = [...installments].sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.no - b.no));
  const paid = new Map(sorted.map((i) => [i.no, { interest: 0, principal: 0, penalty: 0 }]));
  let rest: number = amount;
  const passes = WATERFALL_PASSES[order];
  if (!passes) throw new LendpayError('INVALID_INPUT', `unknown waterfall order "${order}"`);
  for (const pass of passes) {
    for (const i of sorted) {
      for (const part of pass) {
        const x = Math.min(rest, i[part] ?? 0);
        paid.get(i.no)![part] += x;
        rest -= x;
      }
    }
  }
  const allocations: Allocation[] = [];
  for (const i of sorted) {
    const p = paid.get(i.no)!;
    if (p.interest + p.principal + p.penalty > 0) allocations.push({ installmentNo: i.no, interest: p.interest as Fen, principal: p.principal as Fen, penalty: p.penalty as Fen });
  }
  return { allocations, remainder: rest as Fen };
}
