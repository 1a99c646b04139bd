// The risk team's rule test cases (rules/tests/*.json), for every rule file that has
// them (eligibility, collection, escalation: src/rules/cases.ts), each case run
// through both the compiled evaluator and json-rules-engine.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { domainOf, type CaseDomain, type RuleCase } from './cases.ts';
import { parseJsonText, type RuleSet } from './load.ts';
import { isObject } from './kernel.ts';

export interface RuleTestFailure {
  readonly file: string;
  readonly name: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

export interface RuleTestResult {
  passed: number;
  failures: RuleTestFailure[];
  /** cases per rule file they test, e.g. {"eligibility.json": 35} */
  byRuleFile: Record<string, number>;
}

/** One test file: its cases parsed for the rule file they test, or why it cannot be read. */
export interface TestFile {
  readonly file: string;
  readonly domain: CaseDomain<unknown> | null;
  readonly cases: readonly (RuleCase<unknown> | { readonly name: string; readonly error: string })[];
  readonly error: { readonly expected: string; readonly actual: string } | null;
}

/** The test files in `dir/tests`, in name order; a file or case that cannot be read says why. */
export async function readTestFiles(ruleSet: RuleSet): Promise<TestFile[]> {
  const dir = path.join(ruleSet.dir, 'tests');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: TestFile[] = [];
  for (const name of names) {
    const file = path.relative(process.cwd(), path.join(dir, name)) || name;
    const parsed = parseJsonText(await readFile(path.join(dir, name), 'utf8'), file);
    const bad = (expected: string, actual: string): TestFile => ({ file, domain: null, cases: [], error: { expected, actual } });
    if (parsed.error !== undefined) {
      out.push(bad('a JSON test file', parsed.error));
      continue;
    }
    const json = parsed.json;
    const cases = isObject(json) ? json['cases'] : undefined;
    if (!Array.isArray(cases)) {
      out.push(bad('{"cases": [...]}', 'no "cases" list'));
      continue;
    }
    const domain = domainOf(name, json);
    if (typeof domain === 'string') {
      out.push(bad('a test file for a rule file', domain));
      continue;
    }
    if (domain.rules(ruleSet) === null) {
      out.push(bad(`cases for ${domain.file}`, `the rule set has no ${domain.file} to test`));
      continue;
    }
    out.push({
      file,
      domain,
      error: null,
      cases: cases.map((raw: unknown, i) => {
        const label = isObject(raw) && typeof raw['name'] === 'string' ? raw['name'] : `$.cases[${i}]`;
        try {
          return domain.parse(raw, `$.cases[${i}]`, ruleSet);
        } catch (e) {
          return { name: label, error: (e as Error).message };
        }
      }),
    });
  }
  return out;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Runs every case; a case passes when both evaluators agree and give what it expects. */
export async function runRuleTests(ruleSet: RuleSet): Promise<RuleTestResult> {
  const failures: RuleTestFailure[] = [];
  const byRuleFile: Record<string, number> = {};
  let passed = 0;
  for (const t of await readTestFiles(ruleSet)) {
    if (t.error !== null || t.domain === null) {
      failures.push({ file: t.file, name: '(file)', expected: t.error?.expected, actual: t.error?.actual });
      continue;
    }
    for (const c of t.cases) {
      if ('error' in c) {
        failures.push({ file: t.file, name: c.name, expected: 'a well-formed test case', actual: c.error });
        continue;
      }
      byRuleFile[t.domain.file] = (byRuleFile[t.domain.file] ?? 0) + 1;
      const run = await t.domain.run(c, ruleSet);
      if (run.disagreement !== null) {
        failures.push({ file: t.file, name: `${c.name} (the engine and the compiled evaluator disagree)`, expected: { engine: run.disagreement.engine }, actual: { compiled: run.disagreement.compiled } });
        continue;
      }
      const actual = Object.fromEntries(Object.keys(c.expect).map((k) => [k, run.actual[k]]));
      if (same(actual, c.expect)) passed++;
      else failures.push({ file: t.file, name: c.name, expected: c.expect, actual });
    }
  }
  return { passed, failures, byRuleFile };
}
