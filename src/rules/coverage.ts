// `lendpay rules test --coverage`: for each rule file with test cases (eligibility,
// collection, escalation), which rules no case fires and which conditions no case
// sees both true and false. Every condition is evaluated on every case, not only
// those the evaluator reaches (it stops an `all` at the first false): a condition is
// covered when the cases show it can decide something either way.
import path from 'node:path';
import { CASE_DOMAINS, type CaseDomain } from './cases.ts';
import { compileCondition, describeCondition, leaves, type ConditionNode } from './kernel.ts';
import type { RuleSet } from './load.ts';
import { readTestFiles } from './tests.ts';

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

function report<X>(domain: CaseDomain<X>, ruleSet: RuleSet, contexts: readonly (X | null)[]): CoverageReport | null {
  const rules = domain.rules(ruleSet);
  if (rules === null) return null;
  const table = domain.table(ruleSet);
  const read = domain.reader(ruleSet);
  const perRule = rules.map((rule) => ({
    rule,
    test: compileCondition(rule.conditions as ConditionNode, read),
    leaves: leaves(rule.conditions as ConditionNode, `$.rules[${rule.index}].conditions`).map((l) => ({
      ...l, holds: compileCondition(l.cond, read), t: 0, f: 0,
    })),
    fired: 0,
  }));
  for (const ctx of contexts) {
    // A case whose rules are not evaluated (a declared fact missing) covers nothing.
    if (ctx === null) continue;
    for (const r of perRule) {
      if (r.test(ctx)) r.fired++;
      for (const l of r.leaves) {
        if (l.holds(ctx)) l.t++;
        else l.f++;
      }
    }
  }
  const out = perRule.map((r) => ({
    name: r.rule.name,
    path: `$.rules[${r.rule.index}]`,
    firedIn: r.fired,
    conditions: r.leaves.map((l) => ({ path: l.path, text: describeCondition(table, l.cond), trueIn: l.t, falseIn: l.f })),
  }));
  const conds = out.flatMap((r) => r.conditions);
  return {
    file: path.relative(process.cwd(), path.join(ruleSet.dir, domain.file)) || domain.file,
    cases: contexts.length,
    rules: out,
    rulesCovered: out.filter((r) => r.firedIn > 0).length,
    conditionsCovered: conds.filter((c) => c.trueIn > 0 && c.falseIn > 0).length,
    conditionsTotal: conds.length,
  };
}

/**
 * Coverage of each rule file of `ruleSet` by the cases in its tests/ directory, one
 * report per rule file the set has (a file without cases shows 0 of N). Malformed
 * cases are skipped: `rules test` reports them.
 */
export async function ruleCoverage(ruleSet: RuleSet): Promise<CoverageReport[]> {
  const files = await readTestFiles(ruleSet);
  const out: CoverageReport[] = [];
  for (const domain of CASE_DOMAINS) {
    const contexts = files.filter((f) => f.domain === domain).flatMap((f) => f.cases.flatMap((c) => ('error' in c ? [] : [c.context])));
    const r = report(domain, ruleSet, contexts);
    if (r !== null) out.push(r);
  }
  return out;
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

/** True when every rule of every report fires in some case and every condition is seen both ways. */
export const fullyCovered = (rs: readonly CoverageReport[]): boolean =>
  rs.every((r) => r.rulesCovered === r.rules.length && r.conditionsCovered === r.conditionsTotal);
