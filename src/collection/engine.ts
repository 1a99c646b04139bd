// The reference: the same collection rules run through json-rules-engine. Slow (a
// new Engine per call, promises); used by the differential test and for explaining.
import { Engine, type RuleProperties, type TopLevelCondition, type RuleResult } from 'json-rules-engine';
import { COLLECTION_FACT_NAMES, type CollectionFacts } from './facts.ts';
import { checkCollectionFacts } from './evaluate.ts';
import { combineCollection, type CollectionDecision, type CollectionRule, type CollectionRules } from './rules.ts';

const engineRules = new WeakMap<CollectionRules, RuleProperties[]>();
function toEngineRules(rules: CollectionRules): RuleProperties[] {
  let out = engineRules.get(rules);
  if (out === undefined) {
    out = rules.rules.map((r) => ({
      name: r.name,
      priority: r.priority,
      conditions: r.conditions as unknown as TopLevelCondition,
      event: { type: r.event.type, params: { rule: r.name } },
    }));
    engineRules.set(rules, out);
  }
  return out;
}

export async function evaluateCollectionWithEngine(rules: CollectionRules, facts: CollectionFacts): Promise<CollectionDecision> {
  checkCollectionFacts(facts);
  const engine = new Engine(toEngineRules(rules), { allowUndefinedFacts: false });
  for (const name of COLLECTION_FACT_NAMES) engine.addFact(name, facts[name]);
  const run = await engine.run();
  const byName = new Map<string, RuleResult>();
  for (const r of [...run.results, ...run.failureResults]) byName.set(r.name, r);
  const fired: CollectionRule[] = [];
  for (const rule of rules.rules) {
    const rr = byName.get(rule.name);
    if (rr === undefined) throw new Error(`json-rules-engine returned no result for rule "${rule.name}"`);
    if (rr.result === true) fired.push(rule);
  }
  return combineCollection(fired);
}
