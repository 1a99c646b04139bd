// `lendpay rules test --coverage`: which rules no test case fires and which conditions
// no test case sees both true and false. Every condition is evaluated on every case,
// not only those the evaluator reaches (it stops an `all` at the first false): a
// condition is covered when the cases show it can decide something either way.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { monthsBefore } from '../dates.ts';
import { buildContext, factGetter, type FactContext, type FactValue } from '../eligibility/facts.ts';
import type { Condition, ConditionNode, EligibilityRules, Operator } from '../eligibility/rules.ts';
import { formatYuanGrouped } from '../money.ts';
import { FACTS } from '../eligibility/facts.ts';
import { parseCase } from './tests.ts';
import { parseJsonText, type RuleSet } from './load.ts';

export interface ConditionCoverage {
  /** `$.rules[i].conditions.all[j]` in the rule file */
  readonly path: string;
  readonly text: string;
  readonly trueIn: number;
  readonly falseIn: number;
}
export interface RuleCoverage {
  readonly name: string;
  readonly path: string;
  /** how many cases fire the rule */
  readonly firedIn: number;
  readonly conditions: readonly ConditionCoverage[];
}
export interface CoverageReport {
  readonly file: string;
  readonly cases: number;
  readonly rules: readonly RuleCoverage[];
  readonly rulesCovered: number;
  readonly conditionsCovered: number;
  readonly conditionsTotal: number;
}

// The same semantics as the compiled evaluator (src/eligibility/evaluate.ts), which
// the differential tests hold equal to json-rules-engine.
function holds(op: Operator, a: FactValue, value: unknown): boolean {
  switch (op) {
    case 'equal': return a === value;
    case 'notEqual': return a !== value;
    case 'in': return (value as readonly unknown[]).indexOf(a) > -1;
    case 'notIn': return (value as readonly unknown[]).indexOf(a) === -1;
    case 'lessThan': return (a as number) < (value as number);
    case 'lessThanInclusive': return (a as number) <= (value as number);
    case 'greaterThan': return (a as number) > (value as number);
    case 'greaterThanInclusive': return (a as number) >= (value as number);
  }
}

function text(c: Condition): string {
  const m = c.params ? `(months=${c.params.months})` : '';
  const v = FACTS[c.fact].kind === 'amount' && typeof c.value === 'number' ? formatYuanGrouped(c.value) : JSON.stringify(c.value);
  return `${c.fact}${m} ${c.operator} ${v}`;
}

interface Leaf { path: string; cond: Condition; get: (c: FactContext) => FactValue; t: number; f: number }

function leaves(node: ConditionNode, at: string, out: Leaf[]): void {
  if ('all' in node) node.all.forEach((c, i) => leaves(c, `${at}.all[${i}]`, out));
  else if ('any' in node) node.any.forEach((c, i) => leaves(c, `${at}.any[${i}]`, out));
  else if ('not' in node) leaves(node.not, `${at}.not`, out);
  else out.push({ path: at, cond: node, get: factGetter(node.fact, node.params?.months ?? null), t: 0, f: 0 });
}

function evalNode(node: ConditionNode, ctx: FactContext): boolean {
  if ('all' in node) return node.all.every((c) => evalNode(c, ctx));
  if ('any' in node) return node.any.some((c) => evalNode(c, ctx));
  if ('not' in node) return !evalNode(node.not, ctx);
  return holds(node.operator, factGetter(node.fact, node.params?.months ?? null)(ctx), node.value);
}

/** Coverage of `ruleSet`'s eligibility rules by the cases in its tests/ directory (malformed cases are skipped: `rules test` reports them). */
export async function ruleCoverage(ruleSet: RuleSet): Promise<CoverageReport> {
  const rules: EligibilityRules = ruleSet.eligibility;
  const dir = path.join(ruleSet.dir, 'tests');
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    names = [];
  }
  const perRule = rules.rules.map((rule) => {
    const ls: Leaf[] = [];
    const at = `$.rules[${rule.index}].conditions`;
    leaves(rule.conditions, at, ls);
    return { rule, leaves: ls, fired: 0 };
  });
  let cases = 0;
  for (const name of names) {
    const parsed = parseJsonText(await readFile(path.join(dir, name), 'utf8'), name);
    const list = (parsed.json as { cases?: unknown } | undefined)?.cases;
    if (!Array.isArray(list)) continue;
    for (const [i, raw] of list.entries()) {
      let c;
      try {
        c = parseCase(raw, `$.cases[${i}]`);
      } catch {
        continue;
      }
      cases++;
      const ctx = buildContext(c.input, c.date, monthsBefore(c.date, rules.flowMonths));
      for (const r of perRule) {
        if (evalNode(r.rule.conditions, ctx)) r.fired++;
        for (const l of r.leaves) {
          if (holds(l.cond.operator, l.get(ctx), l.cond.value)) l.t++;
          else l.f++;
        }
      }
    }
  }
  const report = perRule.map((r) => ({
    name: r.rule.name,
    path: `$.rules[${r.rule.index}]`,
    firedIn: r.fired,
    conditions: r.leaves.map((l) => ({ path: l.path, text: text(l.cond), trueIn: l.t, falseIn: l.f })),
  }));
  const conds = report.flatMap((r) => r.conditions);
  return {
    file: rules.file,
    cases,
    rules: report,
    rulesCovered: report.filter((r) => r.firedIn > 0).length,
    conditionsCovered: conds.filter((c) => c.trueIn > 0 && c.falseIn > 0).length,
    conditionsTotal: conds.length,
  };
}

/** The readable report: totals, then only what is missing. */
export function formatCoverage(r: CoverageReport): string[] {
  const out = [
    `coverage of ${r.file} by ${r.cases} test cases:`,
    `  rules fired by some case       ${r.rulesCovered} of ${r.rules.length}`,
    `  conditions seen true and false ${r.conditionsCovered} of ${r.conditionsTotal}`,
  ];
  const gaps: string[] = [];
  for (const rule of r.rules) {
    if (rule.firedIn === 0) gaps.push(`  rule ${rule.name} (${rule.path}): no case fires it`);
    for (const c of rule.conditions) {
      if (c.trueIn > 0 && c.falseIn > 0) continue;
      const never = c.trueIn === 0 ? 'true' : 'false';
      gaps.push(`  ${rule.name} ${c.path}: ${c.text} is never ${never} in any case`);
    }
  }
  if (gaps.length === 0) out.push('every rule fires in some case and every condition is seen both true and false');
  else out.push('not exercised:', ...gaps);
  return out;
}
