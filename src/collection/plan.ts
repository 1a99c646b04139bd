// The debit planner: from what is due, the borrower's own accounts and the steps the
// collection rules chose, which accounts to debit by how much and what goes on hold.
// Pure; db/ and jobs/ carry the plan out (one order per debit, keyed by step).
import { LendpayError } from '../errors.ts';
import type { Fen } from '../money.ts';
import type { AccountOrder, Step, StepName } from './rules.ts';

export interface BorrowerAccount {
  readonly id: string;
  readonly primary: boolean;
  /** available balance, fen, never negative */
  readonly balance: Fen;
}

export interface PlannedDebit {
  readonly accountId: string;
  readonly amount: Fen;
  /** the step that takes it: part of the order's idempotency key */
  readonly step: StepName;
}

export interface CollectionPlan {
  /** the step that settled the due (collected it, or put the rest on hold); 'none' when nothing did */
  readonly step: StepName | 'none';
  /** in order; never a zero amount, at most one per (step, account) */
  readonly debits: readonly PlannedDebit[];
  readonly collected: Fen;
  /** on hold (挂账): collected later by the hold monitor */
  readonly held: Fen;
  /** due − collected − held: left uncollected because the plan has no hold step (0 whenever it has one) */
  readonly left: Fen;
  /** block every outflow of the borrower: exactly when held > 0 */
  readonly block: boolean;
}

export interface PlanInput {
  readonly due: Fen;
  readonly accounts: readonly BorrowerAccount[];
  readonly steps: readonly Step[];
}

function checkInput({ due, accounts }: PlanInput): void {
  if (!Number.isSafeInteger(due) || due < 0) throw new LendpayError('INVALID_AMOUNT', `due: ${due} is not a non-negative whole number of fen`);
  const ids = new Set<string>();
  let primaries = 0;
  for (const a of accounts) {
    if (typeof a.id !== 'string' || a.id === '') throw new LendpayError('INVALID_INPUT', `account id: ${JSON.stringify(a.id)} is not an id`);
    if (ids.has(a.id)) throw new LendpayError('INVALID_INPUT', `account ${a.id} is listed twice`);
    ids.add(a.id);
    if (!Number.isSafeInteger(a.balance) || a.balance < 0) {
      throw new LendpayError('INVALID_AMOUNT', `account ${a.id}: balance ${a.balance} is not a non-negative whole number of fen`);
    }
    if (a.primary) primaries++;
  }
  if (primaries > 1) throw new LendpayError('INVALID_INPUT', `${primaries} primary accounts; a borrower has at most one`);
}

/** Ties on balance are broken by id, so the same facts always give the same plan. */
function ordered(accounts: readonly BorrowerAccount[], order: AccountOrder): BorrowerAccount[] {
  const byBalance = (a: BorrowerAccount, b: BorrowerAccount): number => b.balance - a.balance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  if (order === 'largest_first') return [...accounts].sort(byBalance);
  return [...accounts].sort((a, b) => Number(b.primary) - Number(a.primary) || byBalance(a, b));
}

/**
 * Runs the steps in order against what is still due:
 * - own_balance: the primary account pays the whole rest if it can; with
 *   `partial` it pays what it has and the next step takes over;
 * - cross_account: the accounts in `order` pay the whole rest if together they can
 *   (each until the rest is covered); with `partial` they pay what they have;
 * - hold: with `sweep`, every account pays what it has (in `order`); whatever is
 *   still due goes on hold and outflow is blocked. Always the last step.
 * A step that cannot settle the rest (and is not partial) takes nothing.
 */
export function planCollection(input: PlanInput): CollectionPlan {
  checkInput(input);
  const available = new Map(input.accounts.map((a) => [a.id, a.balance as number]));
  const debits: PlannedDebit[] = [];
  let rest: number = input.due;
  const take = (step: StepName, accounts: readonly BorrowerAccount[], cap: number): void => {
    for (const a of accounts) {
      if (cap <= 0) break;
      const amount = Math.min(available.get(a.id)!, cap);
      if (amount <= 0) continue;
      available.set(a.id, available.get(a.id)! - amount);
      debits.push({ accountId: a.id, amount: amount as Fen, step });
      cap -= amount;
      rest -= amount;
    }
  };
  const sum = (accounts: readonly BorrowerAccount[]): number => accounts.reduce((s, a) => s + available.get(a.id)!, 0);
  const result = (step: StepName | 'none', held: number): CollectionPlan => {
    const collected = input.due - rest;
    return {
      step,
      debits,
      collected: collected as Fen,
      held: held as Fen,
      left: (rest - held) as Fen,
      block: held > 0,
    };
  };
  if (rest === 0) return result('none', 0);
  for (const s of input.steps) {
    switch (s.step) {
      case 'own_balance': {
        const primary = input.accounts.filter((a) => a.primary);
        if (sum(primary) >= rest || s.partial) take('own_balance', primary, rest);
        break;
      }
      case 'cross_account': {
        const accounts = ordered(input.accounts, s.order);
        if (sum(accounts) >= rest || s.partial) take('cross_account', accounts, rest);
        break;
      }
      case 'hold':
        if (s.sweep) take('hold', ordered(input.accounts, s.order), rest);
        return result('hold', rest);
    }
    if (rest === 0) return result(s.step, 0);
  }
  return result('none', 0);
}

