// The fast path: the rule conditions compiled once into plain closures, evaluated
// synchronously without json-rules-engine. The nightly batch runs this for every
// customer; src/eligibility/engine.ts is the reference it is tested against.
import { monthsBefore, type BusinessDate, type Month } from '../dates.ts';
import type { EligibilityDecision, EligibilityInput } from './types.ts';
import { buildContext, factGetter, factsRecord, type FactContext, type FactValue } from './facts.ts';
import { applyLimit, combine, type ConditionNode, type EligibilityRule, type EligibilityRules, type Operator } from './rules.ts';

export interface EligibilityEvaluator {
  /** how many months before the business date's month the input must contain */
  readonly flowMonths: number;
  evaluate(input: EligibilityInput, date: BusinessDate): EligibilityDecision;
}

type Test = (ctx: FactContext) => boolean;

// Same semantics as json-rules-engine's default operators (strict equality,
// Array#indexOf for in/notIn, plain < and > on numbers).
function compare(op: Operator, value: unknown): (a: FactValue) => boolean {
  switch (op) {
    case 'equal':
      return (a) => a === value;
    case 'notEqual':
      return (a) => a !== value;
    case 'in': {
      const list = value as readonly unknown[];
      return (a) => list.indexOf(a) > -1;
    }
    case 'notIn': {
      const list = value as readonly unknown[];
      return (a) => list.indexOf(a) === -1;
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
    return (c) => {
      for (const t of parts) if (!t(c)) return false;
      return true;
    };
  }
  if ('any' in node) {
    const parts = node.any.map(compileNode);
    return (c) => {
      for (const t of parts) if (t(c)) return true;
      return false;
    };
  }
  if ('not' in node) {
    const inner = compileNode(node.not);
    return (c) => !inner(c);
  }
  const get = factGetter(node.fact, node.params?.months ?? null);
  const cmp = compare(node.operator, node.value);
  return (c) => cmp(get(c));
}

export function compileEligibility(rules: EligibilityRules): EligibilityEvaluator {
  const compiled = rules.rules.map((rule) => ({ rule, test: compileNode(rule.conditions) }));
  const limits = new Map<EligibilityRule, (c: FactContext) => number>();
  for (const r of rules.rules) {
    if (r.event.type === 'door') limits.set(r, factGetter(r.event.limit.fact, r.event.limit.months) as (c: FactContext) => number);
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
    evaluate(input, date) {
      const ctx = buildContext(input, date, monthsFor(date));
      const fired: EligibilityRule[] = [];
      for (const c of compiled) if (c.test(ctx)) fired.push(c.rule);
      return combine(
        input.customerId,
        fired,
        (rule) => applyLimit(rule.event.limit, limits.get(rule)!(ctx)),
        factsRecord(ctx),
      );
    },
  };
}
