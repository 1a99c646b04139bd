// The fast path: collection rule conditions compiled once into closures, evaluated
// synchronously. src/collection/engine.ts (json-rules-engine) is its reference.
import { LendpayError } from '../errors.ts';
import { COLLECTION_FACTS, COLLECTION_FACT_NAMES, DUE_KINDS, type CollectionFacts } from './facts.ts';
import { SEGMENTS } from '../customers/types.ts';
import { combineCollection, type CollectionDecision, type CollectionRule, type CollectionRules, type ConditionNode, type Operator } from './rules.ts';

type Test = (f: CollectionFacts) => boolean;

// Same semantics as json-rules-engine's default operators.
function compare(op: Operator, value: unknown): (a: unknown) => boolean {
  switch (op) {
    case 'equal':
      return (a) => a === value;
    case 'notEqual':
      return (a) => a !== value;
    case 'in': {
      const l = value as readonly unknown[];
      return (a) => l.indexOf(a) > -1;
    }
    case 'notIn': {
      const l = value as readonly unknown[];
      return (a) => l.indexOf(a) === -1;
    }
    case 'lessThan':
      return (a) => (a as number) < (value as number);
    case 'lessThanInclusive':
      return (a) => (a as number) <= (value as number);
    case 'greaterThan':
      return (a) => (a as number) > (value as number);
    case 'greaterThanInclusive':
      return (a) => (a as number) >= (value as number);
  }
}

function compileNode(node: ConditionNode): Test {
  if ('all' in node) {
    const parts = node.all.map(compileNode);
    return (f) => parts.every((t) => t(f));
  }
  if ('any' in node) {
    const parts = node.any.map(compileNode);
    return (f) => parts.some((t) => t(f));
  }
  if ('not' in node) {
    const inner = compileNode(node.not);
    return (f) => !inner(f);
  }
  const fact = node.fact;
  const cmp = compare(node.operator, node.value);
  return (f) => cmp(f[fact]);
}

/** Facts come from a repository; a wrong one is a bug there, so it stops the batch. */
export function checkCollectionFacts(f: CollectionFacts): void {
  for (const name of COLLECTION_FACT_NAMES) {
    const v: unknown = f[name];
    const kind = COLLECTION_FACTS[name].kind;
    const ok =
      kind === 'boolean' ? typeof v === 'boolean'
      : kind === 'enum' ? (name === 'segment' ? (SEGMENTS as readonly unknown[]) : (DUE_KINDS as readonly unknown[])).includes(v)
      : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!ok) throw new LendpayError('INVALID_INPUT', `collection fact ${name}: ${JSON.stringify(v)} is not a valid ${kind}`);
  }
}

export type CollectionEvaluator = (facts: CollectionFacts) => CollectionDecision;

export function compileCollectionRules(rules: CollectionRules): CollectionEvaluator {
  const compiled: { rule: CollectionRule; test: Test }[] = rules.rules.map((rule) => ({ rule, test: compileNode(rule.conditions) }));
  return (facts) => {
    checkCollectionFacts(facts);
    const fired: CollectionRule[] = [];
    for (const c of compiled) if (c.test(facts)) fired.push(c.rule);
    return combineCollection(fired);
  };
}
