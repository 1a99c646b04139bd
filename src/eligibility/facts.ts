// The fact vocabulary of the eligibility rules: the built-in facts below, plus the
// facts the risk team declares in rules/facts.json (src/eligibility/declared.ts).
// Every built-in fact is documented in rules/README.md; the validator, the compiled
// evaluator and the json-rules-engine reference all read this one table.
import type { Fen } from '../money.ts';
import type { BusinessDate, Month } from '../dates.ts';
import { SEGMENTS, type Segment } from '../customers/types.ts';
import type { FactTable, FactValue, FactReader } from '../rules/kernel.ts';
import { resolveDeclared, type DeclaredFact } from './declared.ts';
import type { EligibilityInput } from './types.ts';

export type { FactValue } from '../rules/kernel.ts';

export const WHITELIST_STATUSES = ['valid', 'expired', 'none'] as const;
export type WhitelistStatus = (typeof WHITELIST_STATUSES)[number];

/** {"months": n} facts are computed over the n full months before the business date's month. */
export const FACTS = {
  realNameVerified: { kind: 'boolean' },
  segment: { kind: 'enum', values: SEGMENTS },
  whitelistStatus: { kind: 'enum', values: WHITELIST_STATUSES },
  whitelistLimit: { kind: 'amount' },
  flowTotal: { kind: 'amount', months: true },
  minMonthlyFlow: { kind: 'amount', months: true },
  monthsWithFlow: { kind: 'count', months: true },
} as const satisfies FactTable;
export type FactName = keyof typeof FACTS;
export const FACT_NAMES = Object.keys(FACTS) as FactName[];

export function isFactName(name: unknown): name is FactName {
  return typeof name === 'string' && Object.hasOwn(FACTS, name);
}

/** Names a declared fact may not take: the built-in facts and what a decision records beside them. */
export const RESERVED_FACT_NAMES: readonly string[] = [...FACT_NAMES, 'date', 'whitelistExpiresOn', 'monthlyFlow', 'declared'];

export { MAX_MONTHS } from '../rules/kernel.ts';

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
  /** the declared facts the rules use, in their order: the value decided on (default applied) */
  readonly declared: readonly FactValue[];
  /** reason codes of used declared facts that have no value and make the customer ineligible */
  readonly missing: readonly string[];
  /** what the decision records of the declared facts: the feed's value and its asOf, or null */
  readonly declaredSeen: Readonly<Record<string, { readonly value: unknown; readonly asOf: string } | null>> | null;
}

export function whitelistStatusOn(whitelist: EligibilityInput['whitelist'], date: BusinessDate): WhitelistStatus {
  if (whitelist === null) return 'none';
  // 'YYYY-MM-DD' strings order like the dates; valid through expiresOn inclusive.
  return whitelist.expiresOn === null || whitelist.expiresOn >= date ? 'valid' : 'expired';
}

const NONE: readonly never[] = [];

export function buildContext(input: EligibilityInput, date: BusinessDate, months: readonly Month[], used: readonly DeclaredFact[] = NONE): FactContext {
  const flows = new Array<number>(months.length);
  for (let i = 0; i < months.length; i++) flows[i] = input.monthlyFlow.get(months[i]!) ?? 0;
  let declared: FactValue[] = NONE as never[];
  let missing: string[] | null = null;
  let declaredSeen: Record<string, { value: unknown; asOf: string } | null> | null = null;
  if (used.length > 0) {
    declared = new Array<FactValue>(used.length);
    declaredSeen = {};
    for (let i = 0; i < used.length; i++) {
      const f = used[i]!;
      const seen = input.declared?.get(f.name);
      declaredSeen[f.name] = seen === undefined ? null : { value: seen.value, asOf: seen.asOf };
      const r = resolveDeclared(f, seen?.value);
      if ('reason' in r) {
        missing ??= [];
        if (!missing.includes(r.reason)) missing.push(r.reason);
        declared[i] = false; // never read: a customer with a missing reason is not evaluated
      } else declared[i] = r.value;
    }
  }
  return {
    date,
    realNameVerified: input.realNameVerified,
    segment: input.segment,
    whitelistStatus: whitelistStatusOn(input.whitelist, date),
    whitelistLimit: (input.whitelist?.limit ?? 0) as Fen,
    whitelistExpiresOn: input.whitelist?.expiresOn ?? null,
    months,
    flows,
    declared,
    missing: missing ?? NONE,
    declaredSeen,
  };
}

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

/** How the compiled evaluator reads a condition's fact: a built-in getter, or a declared fact by its index in `used`. */
export function factReader(used: readonly DeclaredFact[]): FactReader<FactContext> {
  return (cond) => {
    if (isFactName(cond.fact)) return factGetter(cond.fact, cond.params?.months ?? null);
    const i = used.findIndex((f) => f.name === cond.fact);
    if (i < 0) throw new Error(`fact "${cond.fact}" is neither built in nor among the declared facts the rules use`);
    return (c) => c.declared[i];
  };
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
    ...(c.declaredSeen === null ? {} : { declared: c.declaredSeen }),
  };
}
