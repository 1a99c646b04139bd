// The reference implementation: the same rules run through json-rules-engine (the
// kernel's adapter), with a per-condition explanation. Used for `lendpay explain`, the
// rule tests and the differential test of the fast path.
import { monthsBefore, type BusinessDate } from '../dates.ts';
import { toFen, type Fen } from '../money.ts';
import { runEngine, type RuleExplanation as KernelExplanation } from '../rules/engine.ts';
import type { EligibilityDecision, EligibilityInput } from './types.ts';
import { FACT_NAMES, buildContext, factGetter, factsRecord, type FactContext } from './facts.ts';
import { applyLimit, combine, missingDecision, type EligibilityEvent, type EligibilityRule, type EligibilityRules } from './rules.ts';

export type { ConditionExplanation, GroupExplanation, ExplanationNode } from '../rules/engine.ts';
export type RuleExplanation = KernelExplanation<EligibilityEvent>;

export async function evaluateWithEngine(
  rules: EligibilityRules,
  input: EligibilityInput,
  date: BusinessDate,
): Promise<{ decision: EligibilityDecision; explanation: RuleExplanation[] }> {
  const ctx: FactContext = buildContext(input, date, monthsBefore(date, rules.flowMonths), rules.declared);
  // Not evaluated at all: a declared fact the rules use has no value and refuses the customer.
  if (ctx.missing.length > 0) return { decision: missingDecision(input.customerId, ctx.missing, factsRecord(ctx)), explanation: [] };
  const facts: Record<string, unknown> = {};
  for (const name of FACT_NAMES) {
    facts[name] = (params: Record<string, unknown> | undefined) => {
      const m = params?.['months'];
      return factGetter(name, typeof m === 'number' ? m : null)(ctx);
    };
  }
  rules.declared.forEach((f, i) => { facts[f.name] = ctx.declared[i]; });
  const run = await runEngine(rules.rules, facts);
  const limits = new Map<string, Fen>();
  const valueOf = async (fact: string, months: number | null) => run.almanac.factValue<number>(fact, months === null ? {} : { months });
  for (const rule of run.fired) {
    if (rule.event.type !== 'door') continue;
    const f = rule.event.limit;
    const v = toFen(await valueOf(f.fact, f.months), `${rule.name}: ${f.fact}`);
    const s = f.scale === null ? null : await valueOf(f.scale.fact, f.scale.months);
    limits.set(rule.name, applyLimit(f, v, s));
  }
  const decision = combine(input.customerId, run.fired, (r: EligibilityRule) => limits.get(r.name)!, factsRecord(ctx));
  return { decision, explanation: run.explanation as RuleExplanation[] };
}
