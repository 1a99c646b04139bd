// The reference implementation: the same rules run through json-rules-engine, with
// a per-condition explanation. Slow (promises, a new Engine per call) and used for
// `lendpay explain`, the rule tests and the differential test of the fast path.
import { Engine, type RuleProperties, type TopLevelCondition, type RuleResult } from 'json-rules-engine';
import { monthsBefore, type BusinessDate } from '../dates.ts';
import { toFen, type Fen } from '../money.ts';
import type { EligibilityDecision, EligibilityInput } from './types.ts';
import { FACT_NAMES, buildContext, factGetter, factsRecord, type FactContext } from './facts.ts';
import { applyLimit, combine, type EligibilityEvent, type EligibilityRule, type EligibilityRules } from './rules.ts';

export interface ConditionExplanation {
  readonly kind: 'fact';
  readonly fact: string;
  readonly params: Readonly<Record<string, unknown>> | null;
  readonly operator: string;
  /** expected value, in engine units (fen for amounts) */
  readonly value: unknown;
  /** the fact's value; undefined when the engine did not need to evaluate it */
  readonly factValue: unknown;
  /** null: not evaluated */
  readonly result: boolean | null;
}
export interface GroupExplanation {
  readonly kind: 'all' | 'any' | 'not';
  readonly result: boolean | null;
  readonly children: readonly ExplanationNode[];
}
export type ExplanationNode = ConditionExplanation | GroupExplanation;

export interface RuleExplanation {
  readonly name: string;
  readonly priority: number;
  readonly result: boolean;
  readonly event: EligibilityEvent;
  readonly conditions: ExplanationNode;
}

// The engine rule objects are built once per rule set (plain JSON; the Engine copies them).
const engineRules = new WeakMap<EligibilityRules, RuleProperties[]>();
function toEngineRules(rules: EligibilityRules): RuleProperties[] {
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

interface ResultNode {
  all?: ResultNode[];
  any?: ResultNode[];
  not?: ResultNode;
  fact?: string;
  params?: Record<string, unknown>;
  operator?: string;
  value?: unknown;
  factResult?: unknown;
  result?: boolean;
}

function explainNode(n: ResultNode): ExplanationNode {
  const result = typeof n.result === 'boolean' ? n.result : null;
  if (n.all) return { kind: 'all', result, children: n.all.map(explainNode) };
  if (n.any) return { kind: 'any', result, children: n.any.map(explainNode) };
  if (n.not) return { kind: 'not', result, children: [explainNode(n.not)] };
  return {
    kind: 'fact',
    fact: n.fact ?? '?',
    params: n.params ?? null,
    operator: n.operator ?? '?',
    value: n.value,
    factValue: n.factResult,
    result,
  };
}

export async function evaluateWithEngine(
  rules: EligibilityRules,
  input: EligibilityInput,
  date: BusinessDate,
): Promise<{ decision: EligibilityDecision; explanation: RuleExplanation[] }> {
  const ctx: FactContext = buildContext(input, date, monthsBefore(date, rules.flowMonths));
  // A new Engine per call: json-rules-engine 7 must never run() concurrently on one Engine.
  const engine = new Engine(toEngineRules(rules), { allowUndefinedFacts: false });
  for (const name of FACT_NAMES) {
    engine.addFact(name, (params: Record<string, unknown> | undefined) => {
      const m = params?.['months'];
      return factGetter(name, typeof m === 'number' ? m : null)(ctx);
    });
  }
  const run = await engine.run();
  const byName = new Map<string, RuleResult>();
  for (const r of [...run.results, ...run.failureResults]) byName.set(r.name, r);

  const fired: EligibilityRule[] = [];
  const explanation: RuleExplanation[] = [];
  const limits = new Map<string, Fen>();
  for (const rule of rules.rules) {
    const rr = byName.get(rule.name);
    if (rr === undefined) throw new Error(`json-rules-engine returned no result for rule "${rule.name}"`);
    const passed = rr.result === true;
    if (passed) {
      fired.push(rule);
      if (rule.event.type === 'door') {
        const f = rule.event.limit;
        const v = await run.almanac.factValue<number>(f.fact, f.months === null ? {} : { months: f.months });
        limits.set(rule.name, applyLimit(f, toFen(v, `${rule.name}: ${f.fact}`)));
      }
    }
    explanation.push({
      name: rule.name,
      priority: rule.priority,
      result: passed,
      event: rule.event,
      // json-rules-engine leaves the top node's result unset: it is the rule's result.
      conditions: { ...explainNode(rr.conditions as unknown as ResultNode), result: passed },
    });
  }
  const decision = combine(input.customerId, fired, (r) => limits.get(r.name)!, factsRecord(ctx));
  return { decision, explanation };
}
