// The compiled collection evaluator against the json-rules-engine reference on seeded
// random facts: the decisions must be identical.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCollectionRules, type CollectionRules } from '../../src/collection/rules.ts';
import { compileCollectionRules } from '../../src/collection/evaluate.ts';
import { evaluateCollectionWithEngine } from '../../src/collection/engine.ts';
import type { CollectionFacts } from '../../src/collection/facts.ts';
import type { Fen } from '../../src/money.ts';
import { mulberry32, int, pick } from './fixtures/random.ts';

const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
function load(file: string): CollectionRules {
  const res = parseCollectionRules(JSON.parse(readFileSync(file, 'utf8')), path.basename(file));
  assert.equal(res.errors, []);
  assert.equal(res.warnings, []);
  return res.value!;
}

function randomFacts(rnd: () => number): CollectionFacts {
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

async function compare(rules: CollectionRules, n: number, seed: number): Promise<Set<string>> {
  const fast = compileCollectionRules(rules);
  const rnd = mulberry32(seed);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const facts = randomFacts(rnd);
    const a = fast(facts);
    const b = await evaluateCollectionWithEngine(rules, facts);
    assert.equal(a, b, `case ${i}: ${JSON.stringify(facts)}`);
    seen.add(`${a.steps.map((s) => s.step).join('+')}|${a.waterfall}`);
  }
  return seen;
}

test('shipped rules: 1,000 seeded random facts, identical decisions', async () => {
  const seen = await compare(load(path.join(RULES_DIR, 'collection.json')), 1000, 4);
  assert.equal([...seen], ['own_balance+cross_account+hold|oldest_first_interest_first']);
});

test('every fact, operator, step and priority: 3,000 random facts, identical decisions reaching every outcome', async () => {
  const seen = await compare(load(path.join(import.meta.dirname, 'fixtures', 'all-features.json')), 3000, 20261124);
  const plans = new Set([...seen].map((s) => s.split('|')[0]));
  const orders = new Set([...seen].map((s) => s.split('|')[1]));
  assert.equal([...plans].sort(), ['hold', 'own_balance+cross_account', 'own_balance+cross_account+hold'].sort());
  assert.equal([...orders].sort(), ['interest_first_then_principal', 'oldest_first_interest_first', 'oldest_first_principal_first']);
});

test('a rule set without an unconditional plan: no steps when nothing fires, and a warning', async () => {
  const res = parseCollectionRules({ rules: [{ name: 'only-recovery', conditions: { all: [{ fact: 'kind', operator: 'equal', value: 'recovery' }] }, event: { type: 'plan', params: { steps: [{ step: 'hold' }] } } }] }, 'c.json');
  assert.match(res.warnings[0]!, /c\.json: \$\.rules: no "plan" rule with \{"all": \[\]\}/);
  const facts = randomFacts(mulberry32(1));
  const d = compileCollectionRules(res.value!)({ ...facts, kind: 'installment' });
  assert.equal(d, { steps: [], waterfall: 'oldest_first_interest_first', fired: [] });
  assert.equal(await evaluateCollectionWithEngine(res.value!, { ...facts, kind: 'installment' }), d);
  assert.equal(compileCollectionRules(res.value!)({ ...facts, kind: 'recovery' }).steps, [{ step: 'hold', sweep: true, order: 'primary_then_largest' }]);
});

test('bad facts stop the evaluation', () => {
  const ev = compileCollectionRules(load(path.join(RULES_DIR, 'collection.json')));
  const facts = randomFacts(mulberry32(2));
  assert.throws(() => ev({ ...facts, amountDue: 1.5 as Fen }), /amountDue/);
  assert.throws(() => ev({ ...facts, segment: 'mars' as never }), /segment/);
});

test.run();
