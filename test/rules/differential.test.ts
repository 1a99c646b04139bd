// One differential test for the rules kernel: every rule file lendpay reads
// (eligibility with built-in and declared facts, collection, escalation) evaluated by
// the compiled closures and by json-rules-engine on seeded random facts. What is
// compared is what lendpay promises: the decision, and the fired rules in lendpay's
// order (priority descending, then file order), not the order json-rules-engine emits
// events in (equal priorities run in parallel and finish in any order).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { ZONE, monthsBefore, type BusinessDate, type Month } from '../../src/dates.ts';
import type { Fen } from '../../src/money.ts';
import type { CustomerId, Segment } from '../../src/customers/types.ts';
import type { DeclaredValue, EligibilityInput } from '../../src/eligibility/types.ts';
import { parseEligibilityRules, type EligibilityRules } from '../../src/eligibility/rules.ts';
import { parseFactsCatalog, type FactsCatalog } from '../../src/eligibility/declared.ts';
import { RESERVED_FACT_NAMES } from '../../src/eligibility/facts.ts';
import { compileEligibility } from '../../src/eligibility/evaluate.ts';
import { evaluateWithEngine } from '../../src/eligibility/engine.ts';
import { parseCollectionRules, type CollectionRules } from '../../src/collection/rules.ts';
import { compileCollectionRules } from '../../src/collection/evaluate.ts';
import { evaluateCollectionWithEngine } from '../../src/collection/engine.ts';
import type { CollectionFacts } from '../../src/collection/facts.ts';
import { parseEscalationRules, type EscalationRules } from '../../src/escalation/rules.ts';
import { compileEscalationRules } from '../../src/escalation/evaluate.ts';
import { evaluateEscalationWithEngine } from '../../src/escalation/engine.ts';
import { CHANNELS, ORDER_KINDS, PURPOSES, type EscalationFacts } from '../../src/escalation/facts.ts';
import { runEngine } from '../../src/rules/engine.ts';
import { mulberry32, int, pick } from '../collection/fixtures/random.ts';
import { declaredEligibility } from './fixtures/declared.ts';

const RULES = path.resolve(import.meta.dirname, '../../rules');
const json = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));
const shipped = (name: string): any => json(path.join(RULES, name));

function parsed<T>(res: { value?: T; errors: string[] }): T {
  assert.equal(res.errors, []);
  return res.value!;
}
const catalog: FactsCatalog = parsed(parseFactsCatalog(shipped('facts.json'), 'facts.json', RESERVED_FACT_NAMES));
const eligibility = (j: unknown, c: FactsCatalog = catalog): EligibilityRules => parsed(parseEligibilityRules(j, 'eligibility.json', c));

/** Deep copy with values replaced by `f` where it says so. */
function mutate(j: unknown, f: (key: string, v: unknown) => unknown): unknown {
  const walk = (v: unknown, key: string): unknown => {
    const r = f(key, v);
    if (r !== v) return r;
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(j, '');
}

// ---------------------------------------------------------------------------
// eligibility

function randomCustomer(rnd: () => number, i: number): { input: EligibilityInput; date: BusinessDate } {
  const p = <T>(xs: readonly T[]): T => pick(rnd, xs);
  // dates 2024..2027, often in January or December to cross year boundaries
  const year = 2024 + int(rnd, 0, 3);
  const month = rnd() < 0.4 ? p([1, 12]) : int(rnd, 1, 12);
  const day = 1 + Math.floor(rnd() * 28) + (rnd() < 0.1 ? 3 : 0);
  const dt = DateTime.fromObject({ year, month, day: Math.min(day, DateTime.fromObject({ year, month }, { zone: ZONE }).daysInMonth ?? 28) }, { zone: ZONE });
  const date = dt.toISODate() as BusinessDate;
  const wlKind = p(['none', 'expired', 'valid', 'forever', 'today', 'yesterday'] as const);
  const limit = p([0, 1, 10_000, 29_990_000, 30_000_000, 80_000_000, 500_000_000, 600_000_000, Math.floor(rnd() * 700_000_000)]) as Fen;
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
    const v = !full && r < 0.25 ? 0 : p([1, 99, 10_000, 1_000_000, 9_999_999, Math.floor(rnd() * 200_000_000), Math.floor(rnd() * 5_000_000_000)]);
    flows.set(m, v as Fen);
  }
  if (rnd() < 0.3) flows.set(dt.toFormat('yyyy-MM') as Month, 50_000_000 as Fen); // current month: never counts
  // Declared facts as a feed gives them: in range, on the band edges, missing, or stored before a narrower declaration.
  const declared = new Map<string, DeclaredValue>();
  const asOf = dt.minus({ days: int(rnd, 0, 60) }).toISODate()!;
  if (rnd() < 0.9) declared.set('consumptionScore', { value: p([300, 599, 600, 749, 750, 900, int(rnd, 300, 900), 950]), asOf });
  if (rnd() < 0.8) declared.set('refundRate', { value: p(['0', '0.0312', '0.1999', '0.2', '0.2000', '1', `0.${String(int(rnd, 0, 9999)).padStart(4, '0')}`, '1.5']), asOf });
  return {
    input: { customerId: `R${i}` as CustomerId, segment: p<Segment>(['supply_chain', 'open_platform', 'external']), realNameVerified: rnd() < 0.85, whitelist, monthlyFlow: flows, declared },
    date,
  };
}

async function compareEligibility(rules: EligibilityRules, n: number, seed: number) {
  const ev = compileEligibility(rules);
  const rnd = mulberry32(seed);
  const seen = { eligible: 0, doors: new Set<string>(), reasons: new Set<string>(), limits: new Set<number>() };
  for (let i = 0; i < n; i++) {
    const { input, date } = randomCustomer(rnd, i);
    const fast = ev.evaluate(input, date);
    const { decision } = await evaluateWithEngine(rules, input, date);
    try {
      assert.equal(fast, decision);
    } catch (e) {
      throw new Error(`case ${i} (${date}, ${JSON.stringify({ ...input, monthlyFlow: Object.fromEntries(input.monthlyFlow), declared: Object.fromEntries(input.declared ?? []) })}) differs: ${(e as Error).message}`);
    }
    if (fast.eligible) seen.eligible++;
    if (fast.door) seen.doors.add(fast.door);
    for (const r of fast.reasons) seen.reasons.add(r);
    seen.limits.add(fast.limit);
  }
  return seen;
}

test('eligibility, shipped rules: 2,500 seeded random customers, identical decisions', async () => {
  const seen = await compareEligibility(eligibility(shipped('eligibility.json')), 2500, 20261124);
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
  test(`eligibility, mutated rules (${name}): 400 random customers, identical decisions`, async () => {
    const j = mutate(shipped('eligibility.json'), f);
    assert.not.equal(j, shipped('eligibility.json'));
    await compareEligibility(eligibility(j), 400, name.length * 7919);
  });
}

test('eligibility, any, not, monthsWithFlow, notIn and priorities: identical decisions', async () => {
  const all = json(path.resolve(import.meta.dirname, '../eligibility/fixtures/all-features.json'));
  const rules = eligibility(all);
  assert.is(rules.flowMonths, 6);
  assert.equal(rules.rules.map((r) => r.name), ['lenient-auto-tag', 'cap-b', 'wl', 'cap-a', 'why', 'why-again', 'why-dup']);
  await compareEligibility(rules, 800, 4242);
  const flat = eligibility(mutate(all, (k, v) => (k === 'priority' ? 1 : v)));
  assert.equal(flat.rules.map((r) => r.name), ['lenient-auto-tag', 'wl', 'cap-a', 'cap-b', 'why', 'why-again', 'why-dup'], 'equal priorities: file order');
  await compareEligibility(flat, 400, 4243);
});

test('eligibility with declared facts (a condition, a reason, a limit scaled by score bands, missing values): identical decisions reaching every outcome', async () => {
  const rules = eligibility(declaredEligibility());
  assert.equal(rules.declared.map((f) => f.name), ['consumptionScore', 'refundRate']);
  const seen = await compareEligibility(rules, 2500, 7);
  assert.equal([...seen.reasons].sort(), ['HIGH_REFUND_RATE', 'INSUFFICIENT_FLOW_HISTORY', 'NOT_IN_ECOSYSTEM', 'NO_CONSUMPTION_SCORE', 'REAL_NAME_MISSING', 'WHITELIST_EXPIRED']);
  const mutated = mutate(declaredEligibility(), (k, v) => (k === 'priority' ? 1 : k === 'below' && v === 600 ? 650 : v));
  await compareEligibility(eligibility(mutated), 500, 8);
});

// ---------------------------------------------------------------------------
// collection

function randomCollectionFacts(rnd: () => number): CollectionFacts {
  const accountCount = int(rnd, 0, 5);
  const primaryBalance = (accountCount === 0 ? 0 : pick(rnd, [0, 100, 499, 500, 501, 10_000, int(rnd, 0, 1e7)])) as Fen;
  const totalBalance = (primaryBalance + (accountCount > 1 ? pick(rnd, [0, int(rnd, 0, 100_000), int(rnd, 0, 1e8)]) : 0)) as Fen;
  return {
    segment: pick(rnd, ['supply_chain', 'open_platform', 'external'] as const),
    kind: rnd() < 0.2 ? 'recovery' : 'installment',
    amountDue: pick(rnd, [1, 999, 1000, 1001, 500_000, 500_001, int(rnd, 1, 1e8)]) as Fen,
    daysOverdue: pick(rnd, [0, 1, 3, 4, 30, 31, int(rnd, 0, 400)]),
    accountCount,
    holdOpen: rnd() < 0.3,
    primaryBalance,
    totalBalance,
  };
}
const collection = (j: unknown): CollectionRules => parsed(parseCollectionRules(j, 'collection.json'));

async function compareCollection(rules: CollectionRules, n: number, seed: number): Promise<Set<string>> {
  const fast = compileCollectionRules(rules);
  const rnd = mulberry32(seed);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const facts = randomCollectionFacts(rnd);
    const a = fast(facts);
    assert.equal(a, await evaluateCollectionWithEngine(rules, facts), `case ${i}: ${JSON.stringify(facts)}`);
    seen.add(`${a.steps.map((s) => s.step).join('+')}|${a.waterfall}`);
  }
  return seen;
}

test('collection, shipped rules: 1,000 random borrowers, identical decisions', async () => {
  const seen = await compareCollection(collection(shipped('collection.json')), 1000, 4);
  assert.equal([...seen], ['own_balance+cross_account+hold|oldest_first_interest_first']);
});

test('collection, every fact, operator, step and priority: 3,000 random borrowers, identical decisions reaching every outcome', async () => {
  const rules = collection(json(path.resolve(import.meta.dirname, '../collection/fixtures/all-features.json')));
  const seen = await compareCollection(rules, 3000, 20261124);
  assert.equal([...new Set([...seen].map((s) => s.split('|')[0]))].sort(), ['hold', 'own_balance+cross_account', 'own_balance+cross_account+hold'].sort());
  assert.equal([...new Set([...seen].map((s) => s.split('|')[1]))].sort(), ['interest_first_then_principal', 'oldest_first_interest_first', 'oldest_first_principal_first']);
  await compareCollection(collection(mutate(json(path.resolve(import.meta.dirname, '../collection/fixtures/all-features.json')), (k, v) => (k === 'priority' ? 1 : v))), 1000, 5);
});

test('collection without an unconditional plan: no steps when nothing fires, and a warning', async () => {
  const res = parseCollectionRules({ rules: [{ name: 'only-recovery', conditions: { all: [{ fact: 'kind', operator: 'equal', value: 'recovery' }] }, event: { type: 'plan', params: { steps: [{ step: 'hold' }] } } }] }, 'c.json');
  assert.match(res.warnings[0]!, /c\.json: \$\.rules: no "plan" rule with \{"all": \[\]\}/);
  const facts = randomCollectionFacts(mulberry32(1));
  const d = compileCollectionRules(res.value!)({ ...facts, kind: 'installment' });
  assert.equal(d, { steps: [], waterfall: 'oldest_first_interest_first', fired: [] });
  assert.equal(await evaluateCollectionWithEngine(res.value!, { ...facts, kind: 'installment' }), d);
  assert.equal(compileCollectionRules(res.value!)({ ...facts, kind: 'recovery' }).steps, [{ step: 'hold', sweep: true, order: 'primary_then_largest' }]);
});

test('facts that break their table stop both evaluators, naming the fact', async () => {
  const rules = collection(shipped('collection.json'));
  const facts = randomCollectionFacts(mulberry32(2));
  assert.throws(() => compileCollectionRules(rules)({ ...facts, amountDue: 1.5 as Fen }), /collection fact amountDue/);
  assert.throws(() => compileCollectionRules(rules)({ ...facts, segment: 'mars' as never }), /segment/);
  await evaluateCollectionWithEngine(rules, { ...facts, daysOverdue: -1 }).then(() => assert.unreachable(), (e) => assert.match(String(e), /daysOverdue/));
  const esc = escalation(shipped('escalation.json'));
  const f = randomEscalationFacts(mulberry32(3), esc);
  assert.throws(() => compileEscalationRules(esc)({ ...f, errorCode: '' }), /escalation fact errorCode/);
});

// ---------------------------------------------------------------------------
// escalation

const escalation = (j: unknown): EscalationRules => parsed(parseEscalationRules(j, 'escalation.json'));

function randomEscalationFacts(rnd: () => number, rules: EscalationRules): EscalationFacts {
  const errorCode = rnd() < 0.1 ? 'SOMETHING_NEW' : pick(rnd, Object.keys(rules.errorCodes));
  const spec = rules.errorCodes[errorCode];
  const purpose = pick(rnd, PURPOSES);
  return {
    orderKind: pick(rnd, ORDER_KINDS),
    family: purpose.startsWith('disburse.') ? 'disbursement' : 'collection',
    purpose,
    errorCode,
    errorKnown: spec !== undefined,
    errorClass: spec?.class ?? 'unknown',
    channel: pick(rnd, CHANNELS),
    channelResends: pick(rnd, [0, 0, 1, 2, int(rnd, 0, 5)]),
    systemResends: pick(rnd, [0, 1, 2, 3]),
    reissues: pick(rnd, [0, 0, 1, 2]),
    minutesSinceCreated: pick(rnd, [0, 5, 1440, int(rnd, 0, 100_000)]),
    amount: pick(rnd, [1, 10_000_000, 10_000_001, int(rnd, 1, 1e9)]) as Fen,
    businessHours: rnd() < 0.5,
    hasAlternative: rnd() < 0.5,
  };
}

async function compareEscalation(rules: EscalationRules, n: number, seed: number): Promise<Set<string>> {
  const fast = compileEscalationRules(rules);
  const rnd = mulberry32(seed);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const facts = randomEscalationFacts(rnd, rules);
    const a = fast(facts);
    assert.equal(a, await evaluateEscalationWithEngine(rules, facts), `case ${i}: ${JSON.stringify(facts)}`);
    seen.add(a.rule ?? '(none)');
  }
  return seen;
}

test('escalation, shipped rules: 2,000 random failures, identical decisions reaching every rule', async () => {
  const rules = escalation(shipped('escalation.json'));
  const seen = await compareEscalation(rules, 2000, 11);
  assert.equal([...seen].sort(), rules.rules.map((r) => r.name).sort());
});

test('escalation, every priority equal (file order decides) and without a catch-all: identical decisions', async () => {
  const j = mutate(shipped('escalation.json'), (k, v) => (k === 'priority' ? 1 : v)) as { rules: { name: string }[] };
  const seen = await compareEscalation(escalation(j), 1000, 12);
  assert.ok(seen.size > 3);
  j.rules = j.rules.filter((r) => r.name !== 'otherwise-manual');
  assert.ok((await compareEscalation(escalation(j), 1000, 13)).has('(none)'));
});

// ---------------------------------------------------------------------------
// The order lendpay promises

test('equal priorities: json-rules-engine emits the rule with fewer conditions first; every evaluator keeps file order', async () => {
  // eligibility: two reasons, the first with two conditions, the second always
  const el = eligibility({ rules: [
    { name: 'door', conditions: { all: [{ fact: 'realNameVerified', operator: 'equal', value: true }] }, event: { type: 'door', params: { door: 'auto_tag', limit: { fact: 'whitelistLimit' } } } },
    { name: 'reason-two-conditions', conditions: { all: [{ fact: 'realNameVerified', operator: 'equal', value: false }, { fact: 'segment', operator: 'equal', value: 'external' }] }, event: { type: 'reason', params: { code: 'REAL_NAME_MISSING' } } },
    { name: 'reason-always', conditions: { all: [] }, event: { type: 'reason', params: { code: 'NOT_IN_ECOSYSTEM' } } },
    { name: 'cap', conditions: { all: [] }, event: { type: 'cap', params: { max: '1.00' } } },
  ] });
  const input: EligibilityInput = { customerId: 'X' as CustomerId, segment: 'external', realNameVerified: false, whitelist: null, monthlyFlow: new Map() };
  const date = '2026-11-24' as BusinessDate;
  const fast = compileEligibility(el).evaluate(input, date);
  assert.equal(fast.reasons, ['REAL_NAME_MISSING', 'NOT_IN_ECOSYSTEM']);
  assert.equal(fast.fired, ['reason-two-conditions', 'reason-always', 'cap']);
  assert.equal((await evaluateWithEngine(el, input, date)).decision, fast);

  // collection: two plans, the conditional one first in the file: it wins
  const co = collection({ rules: [
    { name: 'plan-conditional', conditions: { all: [{ fact: 'holdOpen', operator: 'equal', value: false }, { fact: 'amountDue', operator: 'greaterThan', value: '0.00' }] }, event: { type: 'plan', params: { steps: [{ step: 'hold' }] } } },
    { name: 'plan-always', conditions: { all: [] }, event: { type: 'plan', params: { steps: [{ step: 'own_balance' }] } } },
  ] });
  const facts = { ...randomCollectionFacts(mulberry32(9)), holdOpen: false };
  assert.equal(compileCollectionRules(co)(facts).steps.map((s) => s.step), ['hold']);
  assert.equal(await evaluateCollectionWithEngine(co, facts), compileCollectionRules(co)(facts));

  // escalation: the first rule in the file decides
  const base = shipped('escalation.json');
  const es = escalation({ ...base, rules: [
    { name: 'first-two-conditions', conditions: { all: [{ fact: 'errorKnown', operator: 'equal', value: true }, { fact: 'businessHours', operator: 'equal', value: true }] }, event: { type: 'escalate', params: { step: 'give_up', reason: 'first' } } },
    { name: 'second-always', conditions: { all: [] }, event: { type: 'escalate', params: { step: 'manual_review', reason: 'second' } } },
  ] });
  const ef = { ...randomEscalationFacts(mulberry32(10), es), errorCode: 'INSUFFICIENT_FUNDS', errorKnown: true, errorClass: 'funds' as const, businessHours: true };
  assert.equal(compileEscalationRules(es)(ef).rule, 'first-two-conditions');
  assert.equal(await evaluateEscalationWithEngine(es, ef), compileEscalationRules(es)(ef));

  // ... while json-rules-engine itself emitted the unconditional rules first
  const run = await runEngine(co.rules, facts as unknown as Record<string, unknown>);
  assert.equal(run.fired.map((r) => r.name), ['plan-conditional', 'plan-always']);
  assert.equal(run.engineOrder, ['plan-always', 'plan-conditional']);
  const erun = await runEngine(es.rules, ef as unknown as Record<string, unknown>);
  assert.equal(erun.engineOrder, ['second-always', 'first-two-conditions']);
});

test.run();
