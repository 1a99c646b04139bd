import type { Fen } from '../money.ts';
import type { BusinessDate, Month } from '../dates.ts';
import type { CustomerId, Segment } from '../customers/types.ts';

export const DOORS = ['whitelist', 'auto_tag'] as const;
export type Door = (typeof DOORS)[number];

/** The built-in reason codes; rules/facts.json may declare more. */
export const REASON_CODES = ['REAL_NAME_MISSING', 'NOT_IN_ECOSYSTEM', 'INSUFFICIENT_FLOW_HISTORY', 'WHITELIST_EXPIRED'] as const;

/** What the nightly batch loads for one customer (one query per chunk). */
export interface EligibilityInput {
  readonly customerId: CustomerId;
  readonly segment: Segment;
  readonly realNameVerified: boolean;
  readonly whitelist: { readonly limit: Fen; readonly expiresOn: BusinessDate | null } | null;
  /** flow per calendar month; a month with no row is absent (= no flow) */
  readonly monthlyFlow: ReadonlyMap<Month, Fen>;
  /**
   * values of declared facts (rules/facts.json) as the feed gave them, with the asOf
   * of the value used: the latest on or before the business date. Absent: no value.
   */
  readonly declared?: ReadonlyMap<string, DeclaredValue>;
}

export interface DeclaredValue {
  readonly value: unknown;
  readonly asOf: string;
}

export interface EligibilityDecision {
  readonly customerId: CustomerId;
  readonly eligible: boolean;
  readonly door: Door | null;
  readonly limit: Fen;
  /** reason codes, only when ineligible, in rule order */
  readonly reasons: readonly string[];
  /** names of the rules that fired, in evaluation order */
  readonly fired: readonly string[];
  /** the facts the rules saw, JSON-safe (amounts as integer fen) */
  readonly facts: Readonly<Record<string, unknown>>;
}
