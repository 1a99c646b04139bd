// The risk team's rule test cases (rules/tests/*.json), run through both the
// json-rules-engine reference and the compiled evaluator.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { formatYuan, parseYuan, type Fen } from '../money.ts';
import { parseBusinessDate, parseMonth, type BusinessDate, type Month } from '../dates.ts';
import { SEGMENTS, type CustomerId, type Segment } from '../customers/types.ts';
import type { EligibilityDecision, EligibilityInput } from '../eligibility/types.ts';
import { compileEligibility } from '../eligibility/evaluate.ts';
import { evaluateWithEngine } from '../eligibility/engine.ts';
import { parseJsonText, type RuleSet } from './load.ts';

export interface RuleTestFailure {
  readonly file: string;
  readonly name: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

interface Expected {
  eligible?: boolean;
  door?: string | null;
  limit?: string;
  reasons?: string[];
}

interface Case {
  name: string;
  date: BusinessDate;
  input: EligibilityInput;
  expect: Expected;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(msg: string): never {
  throw new Error(msg);
}

/** One case from the file; throws with a message naming the field. */
export function parseCase(raw: unknown, at: string): Case {
  if (!isObject(raw)) fail(`${at}: expected a test case object`);
  const name = raw['name'];
  if (typeof name !== 'string' || name === '') fail(`${at}.name: expected a name`);
  const date = parseBusinessDate(raw['date'], `${at}.date`);
  const c = raw['customer'];
  if (!isObject(c)) fail(`${at}.customer: expected an object`);
  const segment = c['segment'];
  if (typeof segment !== 'string' || !(SEGMENTS as readonly string[]).includes(segment)) {
    fail(`${at}.customer.segment: expected one of ${SEGMENTS.join(', ')}, got ${JSON.stringify(segment)}`);
  }
  const verified = c['realNameVerified'];
  if (typeof verified !== 'boolean') fail(`${at}.customer.realNameVerified: expected true or false`);
  let whitelist: EligibilityInput['whitelist'] = null;
  const wl = c['whitelist'] ?? null;
  if (wl !== null) {
    if (!isObject(wl)) fail(`${at}.customer.whitelist: expected null or {"limit", "expiresOn"}`);
    const exp = wl['expiresOn'] ?? null;
    whitelist = {
      limit: parseYuan(wl['limit'], `${at}.customer.whitelist.limit`),
      expiresOn: exp === null ? null : parseBusinessDate(exp, `${at}.customer.whitelist.expiresOn`),
    };
  }
  const flows = new Map<Month, Fen>();
  const mf = c['monthlyFlow'] ?? {};
  if (!isObject(mf)) fail(`${at}.customer.monthlyFlow: expected {"YYYY-MM": "yuan"}`);
  for (const [m, v] of Object.entries(mf)) {
    flows.set(parseMonth(m, `${at}.customer.monthlyFlow`), parseYuan(v, `${at}.customer.monthlyFlow["${m}"]`));
  }
  const e = raw['expect'];
  if (!isObject(e)) fail(`${at}.expect: expected {"eligible", "door", "limit", "reasons"}`);
  const expect: Expected = {};
  if (e['eligible'] !== undefined) {
    if (typeof e['eligible'] !== 'boolean') fail(`${at}.expect.eligible: expected true or false`);
    expect.eligible = e['eligible'];
  }
  if (e['door'] !== undefined) {
    if (e['door'] !== null && typeof e['door'] !== 'string') fail(`${at}.expect.door: expected a door or null`);
    expect.door = e['door'];
  }
  if (e['limit'] !== undefined) expect.limit = formatYuan(parseYuan(e['limit'], `${at}.expect.limit`));
  if (e['reasons'] !== undefined) {
    const r = e['reasons'];
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'string')) fail(`${at}.expect.reasons: expected a list of codes`);
    expect.reasons = r as string[];
  }
  const id = typeof c['id'] === 'string' ? c['id'] : 'TEST';
  return {
    name,
    date,
    input: { customerId: id as CustomerId, segment: segment as Segment, realNameVerified: verified, whitelist, monthlyFlow: flows },
    expect,
  };
}

function summary(d: EligibilityDecision, only: Expected): Expected {
  const full: Expected = { eligible: d.eligible, door: d.door, limit: formatYuan(d.limit), reasons: [...d.reasons] };
  const out: Expected = {};
  for (const k of Object.keys(full) as (keyof Expected)[]) if (k in only) (out as Record<string, unknown>)[k] = full[k];
  return out;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export async function runRuleTests(ruleSet: RuleSet): Promise<{ passed: number; failures: RuleTestFailure[] }> {
  const dir = path.join(ruleSet.dir, 'tests');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return { passed: 0, failures: [] };
  }
  const evaluator = compileEligibility(ruleSet.eligibility);
  const failures: RuleTestFailure[] = [];
  let passed = 0;
  for (const name of names) {
    const file = path.relative(process.cwd(), path.join(dir, name)) || name;
    const parsed = parseJsonText(await readFile(path.join(dir, name), 'utf8'), file);
    if (parsed.error !== undefined) {
      failures.push({ file, name: '(file)', expected: 'a JSON test file', actual: parsed.error });
      continue;
    }
    const json = parsed.json;
    const cases = isObject(json) ? json['cases'] : undefined;
    if (!Array.isArray(cases)) {
      failures.push({ file, name: '(file)', expected: '{"cases": [...]}', actual: 'no "cases" list' });
      continue;
    }
    for (const [i, raw] of cases.entries()) {
      const label = isObject(raw) && typeof raw['name'] === 'string' ? raw['name'] : `$.cases[${i}]`;
      let c: Case;
      try {
        c = parseCase(raw, `$.cases[${i}]`);
      } catch (e) {
        failures.push({ file, name: label, expected: 'a well-formed test case', actual: (e as Error).message });
        continue;
      }
      const fast = evaluator.evaluate(c.input, c.date);
      const { decision: ref } = await evaluateWithEngine(ruleSet.eligibility, c.input, c.date);
      const fastSummary = summary(fast, { eligible: true, door: null, limit: '', reasons: [] });
      const refSummary = summary(ref, { eligible: true, door: null, limit: '', reasons: [] });
      if (!same(fastSummary, refSummary) || !same(fast.fired, ref.fired)) {
        failures.push({
          file,
          name: `${c.name} (the engine and the compiled evaluator disagree)`,
          expected: { engine: refSummary, fired: ref.fired },
          actual: { compiled: fastSummary, fired: fast.fired },
        });
        continue;
      }
      const actual = summary(ref, c.expect);
      if (same(actual, c.expect)) passed++;
      else failures.push({ file, name: c.name, expected: c.expect, actual });
    }
  }
  return { passed, failures };
}
