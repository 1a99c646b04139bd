// The fact vocabulary of the escalation rules: one table read by the rules kernel
// (validator, compiled evaluator, json-rules-engine reference), documented in rules/README.md.
// errorCode is a code of the file's own error-code table (escalation/rules.ts fills it in).
import type { Fen } from '../money.ts';
import type { FactTable } from '../rules/kernel.ts';

export const ORDER_KINDS = ['collection', 'payout', 'debit', 'topup'] as const;
export const FAMILIES = ['disbursement', 'collection'] as const;
export type Family = (typeof FAMILIES)[number];
export const PURPOSES = ['disburse.fund', 'disburse.topup', 'disburse.payout', 'collect.batch', 'collect.hold', 'collect.recovery', 'repay.card', 'repay.prepay'] as const;
/** where the money moves on the platform: a bank card leg or balance accounts only */
export const CHANNELS = ['card', 'account'] as const;
export type Channel = (typeof CHANNELS)[number];
export const ERROR_CLASSES = ['transient', 'funds', 'instrument', 'account', 'limit', 'request'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export const ESCALATION_FACTS = {
  orderKind: { kind: 'enum', values: ORDER_KINDS },
  family: { kind: 'enum', values: FAMILIES },
  purpose: { kind: 'enum', values: PURPOSES },
  errorCode: { kind: 'code' },
  errorKnown: { kind: 'boolean' },
  errorClass: { kind: 'enum', values: [...ERROR_CLASSES, 'unknown'] },
  channel: { kind: 'enum', values: CHANNELS },
  channelResends: { kind: 'count', max: 1000 },
  systemResends: { kind: 'count', max: 1000 },
  reissues: { kind: 'count', max: 1000 },
  minutesSinceCreated: { kind: 'count', max: 10_000_000 },
  amount: { kind: 'amount' },
  businessHours: { kind: 'boolean' },
  hasAlternative: { kind: 'boolean' },
} as const satisfies FactTable;
export type EscalationFactName = keyof typeof ESCALATION_FACTS;

/** What the rules see about one known failure of one order (amounts in fen). */
export interface EscalationFacts {
  readonly orderKind: (typeof ORDER_KINDS)[number];
  readonly family: Family;
  readonly purpose: (typeof PURPOSES)[number];
  /** the platform's code, as it said it */
  readonly errorCode: string;
  /** the code is in the error-code table of escalation.json */
  readonly errorKnown: boolean;
  /** the table's class for the code; 'unknown' when it is not in the table */
  readonly errorClass: ErrorClass | 'unknown';
  readonly channel: Channel;
  /** level-1 steps already carried out for this order (and the orders it replaced) */
  readonly channelResends: number;
  /** level-2 steps already carried out */
  readonly systemResends: number;
  /** level-3 steps already carried out: how many orders were voided before this one */
  readonly reissues: number;
  /** since the first order of the chain was created */
  readonly minutesSinceCreated: number;
  readonly amount: Fen;
  /** a working day in Asia/Shanghai, within the business hours of escalation.json */
  readonly businessHours: boolean;
  /** the customer has another card or account the order could go to (level 3) */
  readonly hasAlternative: boolean;
}
