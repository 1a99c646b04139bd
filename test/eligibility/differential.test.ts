// The compiled evaluator against the json-rules-engine reference, on seeded random
// inputs and on mutated rule sets: the decisions must be identical.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { ZONE, monthsBefore, type BusinessDate, type Month } from '../../src/dates.ts';
import type { Fen } from '../../src/money.ts';
import type { CustomerId, Segment } from '../../src/customers/types.ts';
import type { EligibilityInput } from '../../src/eligibility/types.ts';
import { parseEligibilityRules, type EligibilityRules } from '../../src/eligibility/rules.ts';
import { compileEligibility } from '../../src/eligibility/evaluate.ts';
import { evaluateWithEngine } from '../../src/eligibility/engine.ts';
import { RULES_DIR } from './fixtures/input.ts';

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const shipped = JSON.parse(readFileSync(path.join(RULES_DIR, 'eligibility.json'), 'utf8')) as { rules: unknown[] };

function rulesFrom(json: unknown): EligibilityRules {
  const res = parseEligibilityRules(json, 'mutated.json');
  assert.equal(res.errors, []);
  return res.value!;
}

/** Deep copy with every string/number replaced by `f` where it says so. */
function mutate(json: unknown, f: (key: string, v: unknown) => unknown): unknown {
  const walk = (v: unknown, key: string): unknown => {
    const r = f(key, v);
    if (r !== v) return r;
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(json, '');
}

function randomInput(rnd: () => number, i: number): { input: EligibilityInput; date: BusinessDate } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // dates 2024..2027, often in January or December to cross year boundaries
  const year = 2024 + Math.floor(rnd() * 4);
  const month = rnd() < 0.4 ? pick([1, 12]) : 1 + Math.floor(rnd() * 12);
  const day = 1 + Math.floor(rnd() * 28) + (rnd() < 0.1 ? 3 : 0);
  const dt = DateTime.fromObject({ year, month, day: Math.min(day, DateTime.fromObject({ year, month }, { zone: ZONE }).daysInMonth ?? 28) }, { zone: ZONE });
  const date = dt.toISODate() as BusinessDate;
  const segment = pick<Segment>(['supply_chain', 'open_platform', 'external']);
  const wlKind = pick(['none', 'expired', 'valid', 'forever', 'today', 'yesterday'] as const);
  const limit = pick([0, 1, 10_000, 29_990_000, 30_000_000, 80_000_000, 500_000_000, 600_000_000, Math.floor(rnd() * 700_000_000)]) as Fen;
  const whitelist =
    wlKind === 'none' ? null
    : wlKind === 'forever' ? { limit, expiresOn: null }
    : {
        limit,
        expiresOn: (wlKind === 'today' ? dt
          : wlKind === 'yesterday' ? dt.minus({ days: 1 })
          : wlKind === 'expired' ? dt.minus({ days: 1 + Math.floor(rnd() * 400) })
          : dt.plus({ days: Math.floor(rnd() * 400) })).toISODate() as BusinessDate,
      };
  const flows = new Map<Month, Fen>();
  const full = rnd() < 0.5; // half the population has flow in every month
  for (const m of monthsBefore(date, 8)) {
    const r = rnd();
    if (!full && r < 0.15) continue; // missing month
    const v = !full && r < 0.25 ? 0
      : pick([1, 99, 10_000, 1_000_000, 9_999_999, Math.floor(rnd() * 200_000_000), Math.floor(rnd() * 5_000_000_000)]);
    flows.set(m, v as Fen);
  }
  if (rnd() < 0.3) flows.set(dt.toFormat('yyyy-MM') as Month, 50_000_000 as Fen); // current month: never counts
  return {
    input: { customerId: `R${i}` as CustomerId, segment, realNameVerified: rnd() < 0.85, whitelist, monthlyFlow: flows },
    date,
  };
}

async function compare(rules: EligibilityRules, n: number, seed: number): Promise<{ eligible: number; doors: Set<string>; reasons: Set<string> }> {
  const ev = compileEligibility(rules);
  const rnd = mulberry32(seed);
  const seen = { eligible: 0, doors: new Set<string>(), reasons: new Set<string>() };
  for (let i = 0; i < n; i++) {
    const { input, date } = randomInput(rnd, i);
    const fast = ev.evaluate(input, date);
    const { decision } = await evaluateWithEngine(rules, input, date);
    try {
      assert.equal(fast, decision);
    } catch (e) {
      throw new Error(`case ${i} (${date}, ${JSON.stringify({ ...input, monthlyFlow: Object.fromEntries(input.monthlyFlow) })}) differs: ${(e as Error).message}`);
    }
    if (fast.eligible) seen.eligible++;
    if (fast.door) seen.doors.add(fast.door);
    for (const r of fast.reasons) seen.reasons.add(r);
  }
  return seen;
}

test('shipped rules: 2,500 seeded random inputs, identical decisions', async () => {
  const seen = await compare(rulesFrom(shipped), 2500, 20261124);
  // the generator must actually reach every outcome
  assert.ok(seen.eligible > 200 && seen.eligible < 2300, `eligible ${seen.eligible}`);
  assert.equal([...seen.doors].sort(), ['auto_tag', 'whitelist']);
  assert.equal([...seen.reasons].sort(), ['INSUFFICIENT_FLOW_HISTORY', 'NOT_IN_ECOSYSTEM', 'REAL_NAME_MISSING', 'WHITELIST_EXPIRED']);
});

const mutations: [string, (k: string, v: unknown) => unknown][] = [
  ['three months', (k, v) => (k === 'months' && v === 6 ? 3 : v)],
  ['eight months', (k, v) => (k === 'months' && v === 6 ? 8 : v)],
  ['ratio 2/3', (k, v) => (k === 'ratio' ? { numerator: 2, denominator: 3 } : v)],
  ['round to 1,000 CNY', (k, v) => (k === 'roundDownTo' ? '1000.00' : v)],
  ['round to the fen', (k, v) => (k === 'roundDownTo' ? '0.01' : v)],
  ['cap 100,000 CNY', (k, v) => (k === 'max' ? '100000.00' : v)],
  ['minimum monthly flow 1,000.00', (k, v) => (k === 'value' && v === '0.00' ? '1000.00' : v)],
];
for (const [name, f] of mutations) {
  test(`mutated rules (${name}): 500 random inputs, identical decisions`, async () => {
    const json = mutate(shipped, f);
    assert.not.equal(json, shipped);
    await compare(rulesFrom(json), 500, name.length * 7919);
  });
}

test('rules using any, not, monthsWithFlow, notIn and priorities: identical decisions', async () => {
  const json = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'all-features.json'), 'utf8')) as unknown;
  const rules = rulesFrom(json);
  assert.is(rules.flowMonths, 6);
  assert.equal(rules.rules.map((r) => r.name), ['lenient-auto-tag', 'cap-b', 'wl', 'cap-a', 'why', 'why-again', 'why-dup']);
  await compare(rules, 800, 4242);
});

test.run();
