// The fast path: collection rule conditions compiled once into closures by the rules
// kernel, evaluated synchronously. src/collection/engine.ts (json-rules-engine) is its reference.
import { checkFacts, compilePlain } from '../rules/kernel.ts';
import { COLLECTION_FACTS, type CollectionFacts } from './facts.ts';
import { combineCollection, type CollectionDecision, type CollectionRules } from './rules.ts';

/** Facts come from a repository; a wrong one is a bug there, so it stops the batch. */
export function checkCollectionFacts(f: CollectionFacts): void {
  checkFacts(COLLECTION_FACTS, f as unknown as Record<string, unknown>, 'collection');
}

export type CollectionEvaluator = (facts: CollectionFacts) => CollectionDecision;

export function compileCollectionRules(rules: CollectionRules): CollectionEvaluator {
  return compilePlain(COLLECTION_FACTS, 'collection', rules.rules, combineCollection);
}
