// The reference: rules run through json-rules-engine itself, with each condition's
// result for explanations. Slow (a new Engine and promises per call) and used for
// `lendpay explain`, the rule tests and the differential test of the compiled closures.
//
// Order: json-rules-engine runs rules of equal priority in parallel and emits their
// events in the order they finish (a rule with fewer conditions tends to finish
// first). lendpay promises file order within a priority, which is deterministic, so
// the fired rules are returned in the rule list's own order; what json-rules-engine
// emitted is kept apart (engineOrder) for the test that shows the difference.
import { Engine, type Almanac, type RuleProperties, type RuleResult, type TopLevelCondition } from 'json-rules-engine';
import { checkFacts, type FactTable, type Rule } from './kernel.ts';

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

export interface RuleExplanation<E = unknown> {
  readonly name: string;
  readonly priority: number;
  readonly result: boolean;
  readonly event: E;
  readonly conditions: ExplanationNode;
}

export interface EngineRun<R> {
  /** the rules that fired, in lendpay's order (priority descending, then file order) */
  readonly fired: R[];
  /** the names of the rules that fired, in the order json-rules-engine emitted their events */
  readonly engineOrder: string[];
  /** every rule, in lendpay's order, with each condition's result */
  readonly explanation: RuleExplanation[];
  readonly almanac: Almanac;
}

// The engine rule objects are built once per rule list (plain JSON; the Engine copies them).
const engineRules = new WeakMap<readonly Rule<unknown>[], RuleProperties[]>();
function toEngineRules(rules: readonly Rule<unknown>[]): RuleProperties[] {
  let out = engineRules.get(rules);
  if (out === undefined) {
    out = rules.map((r) => ({
      name: r.name,
      priority: r.priority,
      conditions: r.conditions as unknown as TopLevelCondition,
      event: { type: 'fired', params: { rule: r.name } },
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

/**
 * Runs `rules` (in lendpay's order) through json-rules-engine. `facts` maps each fact
 * name to its value, or to a function of the condition's params (a dynamic fact).
 */
export async function runEngine<R extends Rule<unknown>>(rules: readonly R[], facts: Readonly<Record<string, unknown>>): Promise<EngineRun<R>> {
  // A new Engine per call: json-rules-engine 7 must never run() concurrently on one Engine.
  const engine = new Engine(toEngineRules(rules), { allowUndefinedFacts: false });
  for (const [name, v] of Object.entries(facts)) engine.addFact(name, v as never);
  const run = await engine.run();
  const byName = new Map<string, RuleResult>();
  for (const r of [...run.results, ...run.failureResults]) byName.set(r.name, r);
  const fired: R[] = [];
  const explanation: RuleExplanation[] = [];
  for (const rule of rules) {
    const rr = byName.get(rule.name);
    if (rr === undefined) throw new Error(`json-rules-engine returned no result for rule "${rule.name}"`);
    const passed = rr.result === true;
    if (passed) fired.push(rule);
    explanation.push({
      name: rule.name,
      priority: rule.priority,
      result: passed,
      event: rule.event,
      // json-rules-engine leaves the top node's result unset: it is the rule's result.
      conditions: { ...explainNode(rr.conditions as unknown as ResultNode), result: passed },
    });
  }
  const engineOrder = run.events.map((e) => String((e.params as { rule?: unknown } | undefined)?.rule));
  return { fired, engineOrder, explanation, almanac: run.almanac };
}

/** The reference of compilePlain (src/rules/kernel.ts): check, run json-rules-engine, combine. */
export async function runPlain<F extends object, R extends Rule<unknown>, D>(
  table: FactTable, label: string, rules: readonly R[], facts: F, combine: (fired: readonly R[]) => D,
): Promise<D> {
  const f = facts as Readonly<Record<string, unknown>>;
  checkFacts(table, f, label);
  return combine((await runEngine(rules, f)).fired);
}
