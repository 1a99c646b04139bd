// The reference: the same collection rules run through json-rules-engine (the
// kernel's adapter). Used by the differential test and the rule tests.
import { runPlain } from '../rules/engine.ts';
import { COLLECTION_FACTS, type CollectionFacts } from './facts.ts';
import { combineCollection, type CollectionDecision, type CollectionRules } from './rules.ts';

export function evaluateCollectionWithEngine(rules: CollectionRules, facts: CollectionFacts): Promise<CollectionDecision> {
  return runPlain(COLLECTION_FACTS, 'collection', rules.rules, facts, combineCollection);
}
