// The fast path: escalation rule conditions compiled once into closures, evaluated
// synchronously. src/escalation/engine.ts (json-rules-engine) is its reference.
import { LendpayError } from '../errors.ts';
import { ESCALATION_FACTS, ESCALATION_FACT_NAMES, type EscalationFacts } from './facts.ts';
import { combineEscalation, type ConditionNode, type EscalationDecision, type EscalationRule, type EscalationRules, type Operator } from './rules.ts';

type Test = (f: EscalationFacts) => boolean;

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

/** Facts are built by the escalation service; a wrong one is a bug there. */
export function checkEscalationFacts(f: EscalationFacts): void {
  for (const name of ESCALATION_FACT_NAMES) {
    const v: unknown = f[name];
    const spec = ESCALATION_FACTS[name] as { kind: string; values?: readonly string[] };
    const ok =
      spec.kind === 'boolean' ? typeof v === 'boolean'
      : spec.kind === 'enum' ? spec.values!.includes(v as string)
      : spec.kind === 'code' ? typeof v === 'string' && v.length > 0
      : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!ok) throw new LendpayError('INVALID_INPUT', `escalation fact ${name}: ${JSON.stringify(v)} is not a valid ${spec.kind}`);
  }
}

export type EscalationEvaluator = (facts: EscalationFacts) => EscalationDecision;

export function compileEscalationRules(rules: EscalationRules): EscalationEvaluator {
  const compiled = rules.rules.map((rule) => ({ rule, test: compileNode(rule.conditions) }));
  return (facts) => {
    checkEscalationFacts(facts);
    const fired: EscalationRule[] = [];
    for (const c of compiled) if (c.test(facts)) fired.push(c.rule);
    return combineEscalation(fired);
  };
}
