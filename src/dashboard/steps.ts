// Which collection step moved an order's money, from what lendpay already records: a
// collection debit's key ends in `…:<date>:<step>:<account>` (src/collection/service.ts),
// a borrower's repayment from a bound card is an order of purpose `repay.card`.
export const STEP_LABELS: Readonly<Record<string, string>> = {
  own_balance: 'own balance',
  cross_account: 'cross-account',
  hold: 'hold sweep',
  card_repayment: 'card repayment',
  other: 'other',
};

export function stepOfKey(purpose: string, key: string): string {
  if (purpose.startsWith('repay.')) return 'card_repayment';
  return /:([a-z_]+):[^:]*$/.exec(key)?.[1] ?? 'other';
}
