// The fast path: the rule conditions compiled once into plain closures (the rules
// kernel), evaluated synchronously without json-rules-engine. The nightly batch runs
// this for every customer; src/eligibility/engine.ts is the reference it is tested against.
import { monthsBefore, type BusinessDate, type Month } from '../dates.ts';
import { compileRules } from '../rules/kernel.ts';
import type { Fen } from '../money.ts';
import type { EligibilityDecision, EligibilityInput } from './types.ts';
import { buildContext, factReader, factsRecord, type FactContext } from './facts.ts';
import { applyLimit, combine, missingDecision, type EligibilityRule, type EligibilityRules } from './rules.ts';

export interface EligibilityEvaluator {
  /** how many months before the business date's month the input must contain */
  readonly flowMonths: number;
  /** the declared facts (rules/facts.json) the input must carry, latest value as of the date */
  readonly declaredFacts: readonly string[];
  evaluate(input: EligibilityInput, date: BusinessDate): EligibilityDecision;
}

export function compileEligibility(rules: EligibilityRules): EligibilityEvaluator {
  const read = factReader(rules.declared);
  const fire = compileRules<FactContext, EligibilityRule>(rules.rules, read);
  const limits = new Map<EligibilityRule, (c: FactContext) => Fen>();
  for (const r of rules.rules) {
    if (r.event.type !== 'door') continue;
    const f = r.event.limit;
    const base = read({ fact: f.fact, operator: 'equal', value: 0, ...(f.months === null ? {} : { params: { months: f.months } }) });
    const sc = f.scale;
    const by = sc === null ? null : read({ fact: sc.fact, operator: 'equal', value: 0, ...(sc.months === null ? {} : { params: { months: sc.months } }) });
    limits.set(r, (c) => applyLimit(f, base(c) as number, by === null ? null : (by(c) as number)));
  }
  const flowMonths = rules.flowMonths;
  // monthsBefore goes through luxon; a batch evaluates one date many times.
  const monthCache = new Map<string, readonly Month[]>();
  const monthsFor = (date: BusinessDate): readonly Month[] => {
    let m = monthCache.get(date);
    if (m === undefined) {
      if (monthCache.size > 1000) monthCache.clear();
      m = monthsBefore(date, flowMonths);
      monthCache.set(date, m);
    }
    return m;
  };
  return {
    flowMonths,
    declaredFacts: rules.declared.map((f) => f.name),
    evaluate(input, date) {
      const ctx = buildContext(input, date, monthsFor(date), rules.declared);
      if (ctx.missing.length > 0) return missingDecision(input.customerId, ctx.missing, factsRecord(ctx));
      return combine(input.customerId, fire(ctx), (rule) => limits.get(rule)!(ctx), factsRecord(ctx));
    },
  };
}
