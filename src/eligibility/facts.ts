// The fact vocabulary of the eligibility rules. Kept deliberately small: every fact
// here is documented in rules/README.md, and the validator, the compiled evaluator
// and the json-rules-engine reference all read this one table.
import type { Fen } from '../money.ts';
import type { BusinessDate, Month } from '../dates.ts';
import { SEGMENTS, type Segment } from '../customers/types.ts';
import type { EligibilityInput } from './types.ts';

export const WHITELIST_STATUSES = ['valid', 'expired', 'none'] as const;
export type WhitelistStatus = (typeof WHITELIST_STATUSES)[number];

/** boolean: true/false; enum: one of `values`; amount: fen (yuan strings in the rule file); count: whole number. */
export type FactKind = 'boolean' | 'enum' | 'amount' | 'count';

export interface FactSpec {
  readonly kind: FactKind;
  /** takes {"months": n}: computed over the n full months before the business date's month */
  readonly months: boolean;
  readonly values?: readonly string[];
}

export const FACTS = {
  realNameVerified: { kind: 'boolean', months: false },
  segment: { kind: 'enum', months: false, values: SEGMENTS },
  whitelistStatus: { kind: 'enum', months: false, values: WHITELIST_STATUSES },
  whitelistLimit: { kind: 'amount', months: false },
  flowTotal: { kind: 'amount', months: true },
  minMonthlyFlow: { kind: 'amount', months: true },
  monthsWithFlow: { kind: 'count', months: true },
} as const satisfies Record<string, FactSpec>;
export type FactName = keyof typeof FACTS;
export const FACT_NAMES = Object.keys(FACTS) as FactName[];

export function isFactName(name: unknown): name is FactName {
  return typeof name === 'string' && Object.hasOwn(FACTS, name);
}

/** A months param larger than this is refused as absurd (three years of history). */
export const MAX_MONTHS = 36;

/** Everything the facts are computed from, for one customer on one business date. */
export interface FactContext {
  readonly date: BusinessDate;
  readonly realNameVerified: boolean;
  readonly segment: Segment;
  readonly whitelistStatus: WhitelistStatus;
  readonly whitelistLimit: Fen;
  readonly whitelistExpiresOn: BusinessDate | null;
  /** the flowMonths months before the date's month, oldest first */
  readonly months: readonly Month[];
  /** flow per month in `months` order; a missing month is 0 */
  readonly flows: readonly number[];
}

export function whitelistStatusOn(whitelist: EligibilityInput['whitelist'], date: BusinessDate): WhitelistStatus {
  if (whitelist === null) return 'none';
  // 'YYYY-MM-DD' strings order like the dates; valid through expiresOn inclusive.
  return whitelist.expiresOn === null || whitelist.expiresOn >= date ? 'valid' : 'expired';
}

export function buildContext(input: EligibilityInput, date: BusinessDate, months: readonly Month[]): FactContext {
  const flows = new Array<number>(months.length);
  for (let i = 0; i < months.length; i++) flows[i] = input.monthlyFlow.get(months[i]!) ?? 0;
  return {
    date,
    realNameVerified: input.realNameVerified,
    segment: input.segment,
    whitelistStatus: whitelistStatusOn(input.whitelist, date),
    whitelistLimit: (input.whitelist?.limit ?? 0) as Fen,
    whitelistExpiresOn: input.whitelist?.expiresOn ?? null,
    months,
    flows,
  };
}

export type FactValue = boolean | string | number;
export type FactGetter = (ctx: FactContext) => FactValue;

/**
 * A closure computing one fact. `months` (for the months facts) must be ≤ the
 * evaluator's flowMonths; the last `months` entries of ctx.flows are the most recent.
 */
export function factGetter(name: FactName, months: number | null): FactGetter {
  const n = months ?? 0;
  switch (name) {
    case 'realNameVerified':
      return (c) => c.realNameVerified;
    case 'segment':
      return (c) => c.segment;
    case 'whitelistStatus':
      return (c) => c.whitelistStatus;
    case 'whitelistLimit':
      return (c) => c.whitelistLimit;
    case 'flowTotal':
      return (c) => {
        let sum = 0;
        for (let i = c.flows.length - n; i < c.flows.length; i++) sum += c.flows[i]!;
        return sum;
      };
    case 'minMonthlyFlow':
      return (c) => {
        if (n === 0) return 0;
        let min = Infinity;
        for (let i = c.flows.length - n; i < c.flows.length; i++) if (c.flows[i]! < min) min = c.flows[i]!;
        return min;
      };
    case 'monthsWithFlow':
      return (c) => {
        let count = 0;
        for (let i = c.flows.length - n; i < c.flows.length; i++) if (c.flows[i]! > 0) count++;
        return count;
      };
  }
}

/** The facts as the decision records them (JSON-safe, amounts in integer fen), over all flowMonths months. */
export function factsRecord(c: FactContext): Record<string, unknown> {
  const monthlyFlow: Record<string, number> = {};
  let total = 0;
  let withFlow = 0;
  let min = c.flows.length === 0 ? 0 : Infinity;
  for (let i = 0; i < c.months.length; i++) {
    const f = c.flows[i]!;
    monthlyFlow[c.months[i]!] = f;
    total += f;
    if (f > 0) withFlow++;
    if (f < min) min = f;
  }
  return {
    date: c.date,
    realNameVerified: c.realNameVerified,
    segment: c.segment,
    whitelistStatus: c.whitelistStatus,
    whitelistLimit: c.whitelistLimit,
    whitelistExpiresOn: c.whitelistExpiresOn,
    monthlyFlow,
    flowTotal: total,
    minMonthlyFlow: min,
    monthsWithFlow: withFlow,
  };
}
