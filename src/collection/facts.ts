// The fact vocabulary of the collection rules: one table read by the rules kernel
// (validator, compiled evaluator, json-rules-engine reference), documented in rules/README.md.
import type { Fen } from '../money.ts';
import { SEGMENTS, type Segment } from '../customers/types.ts';
import type { FactTable } from '../rules/kernel.ts';

export const DUE_KINDS = ['installment', 'recovery'] as const;
/** installment: what the schedule says is due; recovery: a duplicate payout to take back */
export type DueKind = (typeof DUE_KINDS)[number];

export const COLLECTION_FACTS = {
  segment: { kind: 'enum', values: SEGMENTS },
  kind: { kind: 'enum', values: DUE_KINDS },
  amountDue: { kind: 'amount' },
  daysOverdue: { kind: 'count', max: 100_000 },
  accountCount: { kind: 'count', max: 10_000 },
  holdOpen: { kind: 'boolean' },
  primaryBalance: { kind: 'amount' },
  totalBalance: { kind: 'amount' },
} as const satisfies FactTable;
export type CollectionFactName = keyof typeof COLLECTION_FACTS;

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
