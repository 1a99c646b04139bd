// The reference: the same escalation rules run through json-rules-engine. Slow (a new
// Engine per call); used by the differential test and for explaining a decision.
import { Engine, type RuleProperties, type TopLevelCondition, type RuleResult } from 'json-rules-engine';
import { ESCALATION_FACT_NAMES, type EscalationFacts } from './facts.ts';
import { checkEscalationFacts } from './evaluate.ts';
import { combineEscalation, type EscalationDecision, type EscalationRule, type EscalationRules } from './rules.ts';

export async function evaluateEscalationWithEngine(rules: EscalationRules, facts: EscalationFacts): Promise<EscalationDecision> {
  checkEscalationFacts(facts);
  const props: RuleProperties[] = rules.rules.map((r) => ({
    name: r.name,
    priority: r.priority,
    conditions: r.conditions as unknown as TopLevelCondition,
    event: { type: 'escalate', params: { rule: r.name } },
  }));
  const engine = new Engine(props, { allowUndefinedFacts: false });
  for (const name of ESCALATION_FACT_NAMES) engine.addFact(name, facts[name]);
  const run = await engine.run();
  const byName = new Map<string, RuleResult>();
  for (const r of [...run.results, ...run.failureResults]) byName.set(r.name, r);
  const fired: EscalationRule[] = [];
  for (const rule of rules.rules) {
    const rr = byName.get(rule.name);
    if (rr === undefined) throw new Error(`json-rules-engine returned no result for rule "${rule.name}"`);
    if (rr.result === true) fired.push(rule);
  }
  return combineEscalation(fired);
}
