// The fact vocabulary of the collection rules: one table read by the validator, the
// compiled evaluator and the json-rules-engine reference, documented in rules/README.md.
import type { Fen } from '../money.ts';
import { SEGMENTS, type Segment } from '../customers/types.ts';

export const DUE_KINDS = ['installment', 'recovery'] as const;
/** installment: what the schedule says is due; recovery: a duplicate payout to take back */
export type DueKind = (typeof DUE_KINDS)[number];

export type FactKind = 'boolean' | 'enum' | 'amount' | 'count';
export interface FactSpec {
  readonly kind: FactKind;
  readonly values?: readonly string[];
  /** largest sensible value of a count fact */
  readonly max?: number;
}

export const COLLECTION_FACTS = {
  segment: { kind: 'enum', values: SEGMENTS },
  kind: { kind: 'enum', values: DUE_KINDS },
  amountDue: { kind: 'amount' },
  daysOverdue: { kind: 'count', max: 100_000 },
  accountCount: { kind: 'count', max: 10_000 },
  holdOpen: { kind: 'boolean' },
  primaryBalance: { kind: 'amount' },
  totalBalance: { kind: 'amount' },
} as const satisfies Record<string, FactSpec>;
export type CollectionFactName = keyof typeof COLLECTION_FACTS;
export const COLLECTION_FACT_NAMES = Object.keys(COLLECTION_FACTS) as CollectionFactName[];

export function isCollectionFact(name: unknown): name is CollectionFactName {
  return typeof name === 'string' && Object.hasOwn(COLLECTION_FACTS, name);
}

/** What the rules see for one borrower and one due (amounts in fen). */
export interface CollectionFacts {
  readonly segment: Segment;
  readonly kind: DueKind;
  /** everything due on or before the business date, not yet collected */
  readonly amountDue: Fen;
  /** calendar days since the oldest unpaid due date (0: due today) */
  readonly daysOverdue: number;
  /** the borrower's balance accounts on the platform */
  readonly accountCount: number;
  /** the borrower already has an open hold */
  readonly holdOpen: boolean;
  readonly primaryBalance: Fen;
  /** all the borrower's accounts together, the primary included */
  readonly totalBalance: Fen;
}
