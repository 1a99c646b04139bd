// The chart of accounts and what each kind of money movement posts. Pure: the
// repository writes these lines in the transaction that changes the order's state.
import type { Fen } from '../money.ts';
import { LendpayError } from '../errors.ts';

export const ACCOUNTS = {
  /** the lender's funding bank card (asset) */
  fundingCard: 'lender.funding_card',
  /** the lender's balance account on the payment platform (asset) */
  platformBalance: 'lender.platform_balance',
  /** principal owed by borrowers (asset), with loan_id on each line */
  loansReceivable: 'loans.receivable',
  /** interest collected (income, cash basis) */
  interestIncome: 'interest.income',
  /** what a payout the platform made twice owes back (asset), with loan_id of the recovery */
  recoveryReceivable: 'recovery.receivable',
  /** money collected beyond what was owed, owed back to the borrower (liability) */
  borrowerOverpayment: 'borrower.overpayment',
  /** overdue penalty (罚息) accrued and not yet collected (asset), with loan_id */
  penaltyReceivable: 'penalty.receivable',
  /** overdue penalty (罚息), booked as it accrues (income) */
  penaltyIncome: 'penalty.income',
  /** fees, e.g. the prepayment fee, booked when collected (income) */
  feeIncome: 'fee.income',
} as const;
export type LedgerAccount = (typeof ACCOUNTS)[keyof typeof ACCOUNTS];

/** What an order is for; decides its posting. */
export const PURPOSES = ['disburse.fund', 'disburse.topup', 'disburse.payout'] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface PostingLine {
  account: LedgerAccount;
  debit: Fen;
  credit: Fen;
  customerId: string | null;
  loanId: string | null;
}

export interface Posting {
  kind: string;
  memo: string;
  lines: PostingLine[];
}

const ZERO = 0 as Fen;

/**
 * Two lines of one amount. Every line of an order's posting names its loan and customer:
 * an order's lines are found by them (the loan's index) within the batch entry they share.
 */
function pair(debit: LedgerAccount, credit: LedgerAccount, amount: Fen, refs: { customerId: string | null; loanId: string | null }): PostingLine[] {
  return [
    { account: debit, debit: amount, credit: ZERO, customerId: refs.customerId, loanId: refs.loanId },
    { account: credit, debit: ZERO, credit: amount, customerId: refs.customerId, loanId: refs.loanId },
  ];
}

/** The posting for an order that succeeded on the platform. */
export function postingForSuccess(order: { purpose: string; amount: Fen; customerId: string | null; loanId: string | null; idempotencyKey: string }): Posting {
  const refs = { customerId: order.customerId, loanId: order.loanId };
  switch (order.purpose as Purpose) {
    case 'disburse.fund':
    case 'disburse.topup':
      return { kind: 'succeeded', memo: `${order.idempotencyKey}: funding card → platform balance`, lines: pair(ACCOUNTS.platformBalance, ACCOUNTS.fundingCard, order.amount, refs) };
    case 'disburse.payout':
      return { kind: 'succeeded', memo: `${order.idempotencyKey}: payout to borrower`, lines: pair(ACCOUNTS.loansReceivable, ACCOUNTS.platformBalance, order.amount, refs) };
    default:
      throw new LendpayError('INVALID_INPUT', `no posting rule for order purpose "${order.purpose}"`);
  }
}

export function postingForCollection(c: {
  amount: Fen; principal: Fen; interest: Fen; overpayment: Fen; kind: 'loan' | 'recovery'; customerId: string; loanId: string;
  /** overdue penalty paid: it was booked as income when it accrued, so it settles the receivable */
  penalty?: Fen;
  /** a prepayment's fee: income when collected */
  fee?: Fen;
}): PostingLine[] {
  const refs = { customerId: c.customerId, loanId: c.loanId };
  const lines: PostingLine[] = [{ account: ACCOUNTS.platformBalance, debit: c.amount, credit: ZERO, ...refs }];
  if (c.principal > 0) lines.push({ account: c.kind === 'recovery' ? ACCOUNTS.recoveryReceivable : ACCOUNTS.loansReceivable, debit: ZERO, credit: c.principal, ...refs });
  if (c.interest > 0) lines.push({ account: ACCOUNTS.interestIncome, debit: ZERO, credit: c.interest, ...refs });
  if ((c.penalty ?? 0) > 0) lines.push({ account: ACCOUNTS.penaltyReceivable, debit: ZERO, credit: c.penalty!, ...refs });
  if ((c.fee ?? 0) > 0) lines.push({ account: ACCOUNTS.feeIncome, debit: ZERO, credit: c.fee!, ...refs });
  if (c.overpayment > 0) lines.push({ account: ACCOUNTS.borrowerOverpayment, debit: ZERO, credit: c.overpayment, ...refs });
  assertBalanced(lines);
  return lines;
}

/**
 * A day's overdue penalty accrued on loans: owed by each borrower (a receivable, with
 * the loan) and income now, accrued rather than collected because nothing else puts it
 * in the books: unlike interest, it is in no schedule.
 */
export function postingForPenaltyAccruals(accruals: readonly { customerId: string; loanId: string; amount: Fen }[]): PostingLine[] {
  const lines: PostingLine[] = accruals.filter((a) => a.amount > 0).map((a) => ({ account: ACCOUNTS.penaltyReceivable, debit: a.amount, credit: ZERO, customerId: a.customerId, loanId: a.loanId }));
  if (lines.length === 0) return [];
  // the income in one line: what a loan owes is on its receivable line, and half the lines at a million loans
  lines.push({ account: ACCOUNTS.penaltyIncome, debit: ZERO, credit: lines.reduce((s, l) => s + l.debit, 0) as Fen, customerId: null, loanId: null });
  assertBalanced(lines);
  return lines;
}

export function assertBalanced(lines: readonly PostingLine[]): void {
  let d = 0, c = 0;
  for (const l of lines) {
    d += l.debit;
    c += l.credit;
  }
  if (d !== c) throw new LendpayError('INVALID_AMOUNT', `posting does not balance: debits ${d} ≠ credits ${c}`);
}
