import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { planCollection, type BorrowerAccount, type CollectionPlan } from '../../src/collection/plan.ts';
import { parseCollectionRules, type Step } from '../../src/collection/rules.ts';
import { compileCollectionRules } from '../../src/collection/evaluate.ts';
import { formatYuan, parseYuan, type Fen } from '../../src/money.ts';
import { mulberry32, int, pick } from './fixtures/random.ts';

const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
const rules = parseCollectionRules(JSON.parse(readFileSync(path.join(RULES_DIR, 'collection.json'), 'utf8')), 'collection.json').value!;
const DEFAULT_STEPS = compileCollectionRules(rules)({
  segment: 'supply_chain', kind: 'installment', amountDue: 1 as Fen, daysOverdue: 0, accountCount: 3, holdOpen: false, primaryBalance: 0 as Fen, totalBalance: 0 as Fen,
}).steps;

const ABC: BorrowerAccount[] = [
  { id: 'B', primary: false, balance: parseYuan('50.00') },
  { id: 'A', primary: true, balance: parseYuan('100.00') },
  { id: 'C', primary: false, balance: parseYuan('30.00') },
];
const human = (p: CollectionPlan) => ({
  step: p.step,
  debits: p.debits.map((d) => `${d.accountId} ${formatYuan(d.amount)}`),
  collected: formatYuan(p.collected),
  held: formatYuan(p.held),
  block: p.block,
});

test('the issue example, to the fen, with the shipped rules', () => {
  assert.equal(DEFAULT_STEPS.map((s) => s.step), ['own_balance', 'cross_account', 'hold']);
  assert.equal(human(planCollection({ due: parseYuan('80.00'), accounts: ABC, steps: DEFAULT_STEPS })),
    { step: 'own_balance', debits: ['A 80.00'], collected: '80.00', held: '0.00', block: false });
  assert.equal(human(planCollection({ due: parseYuan('120.00'), accounts: ABC, steps: DEFAULT_STEPS })),
    { step: 'cross_account', debits: ['A 100.00', 'B 20.00'], collected: '120.00', held: '0.00', block: false });
  assert.equal(human(planCollection({ due: parseYuan('200.00'), accounts: ABC, steps: DEFAULT_STEPS })),
    { step: 'hold', debits: ['A 100.00', 'B 50.00', 'C 30.00'], collected: '180.00', held: '20.00', block: true });
});

test('edges: exactly covered, nothing due, no accounts, empty accounts', () => {
  assert.equal(human(planCollection({ due: parseYuan('100.00'), accounts: ABC, steps: DEFAULT_STEPS })).debits, ['A 100.00']);
  assert.equal(human(planCollection({ due: parseYuan('180.00'), accounts: ABC, steps: DEFAULT_STEPS })),
    { step: 'cross_account', debits: ['A 100.00', 'B 50.00', 'C 30.00'], collected: '180.00', held: '0.00', block: false });
  assert.equal(human(planCollection({ due: 0 as Fen, accounts: ABC, steps: DEFAULT_STEPS })),
    { step: 'none', debits: [], collected: '0.00', held: '0.00', block: false });
  assert.equal(human(planCollection({ due: 500 as Fen, accounts: [], steps: DEFAULT_STEPS })),
    { step: 'hold', debits: [], collected: '0.00', held: '5.00', block: true });
  const noPrimary = [{ id: 'X', primary: false, balance: 1000 as Fen }];
  assert.equal(human(planCollection({ due: 500 as Fen, accounts: noPrimary, steps: DEFAULT_STEPS })).debits, ['X 5.00']);
});

test('step params: partial, account order, sweep, a plan without hold', () => {
  const partialOwn: Step[] = [{ step: 'own_balance', partial: true }, { step: 'hold', sweep: false, order: 'primary_then_largest' }];
  assert.equal(human(planCollection({ due: parseYuan('120.00'), accounts: ABC, steps: partialOwn })),
    { step: 'hold', debits: ['A 100.00'], collected: '100.00', held: '20.00', block: true });
  const largest: Step[] = [{ step: 'cross_account', order: 'largest_first', partial: false }];
  const rich = [...ABC, { id: 'D', primary: false, balance: parseYuan('500.00') }];
  assert.equal(human(planCollection({ due: parseYuan('120.00'), accounts: rich, steps: largest })).debits, ['D 120.00']);
  const crossPartial: Step[] = [{ step: 'cross_account', order: 'primary_then_largest', partial: true }];
  const p = planCollection({ due: parseYuan('200.00'), accounts: ABC, steps: crossPartial });
  assert.equal(human(p), { step: 'none', debits: ['A 100.00', 'B 50.00', 'C 30.00'], collected: '180.00', held: '0.00', block: false });
  assert.is(p.left, 2000);
  const ownOnly: Step[] = [{ step: 'own_balance', partial: false }];
  assert.equal(human(planCollection({ due: parseYuan('120.00'), accounts: ABC, steps: ownOnly })).debits, []);
  assert.equal(human(planCollection({ due: parseYuan('1.00'), accounts: ABC, steps: [] })).step, 'none');
  // partial own balance then cross account: one debit per (step, account), never zero
  const both: Step[] = [{ step: 'own_balance', partial: true }, { step: 'cross_account', order: 'primary_then_largest', partial: false }];
  assert.equal(planCollection({ due: parseYuan('120.00'), accounts: ABC, steps: both }).debits,
    [{ accountId: 'A', amount: 10_000, step: 'own_balance' }, { accountId: 'B', amount: 2_000, step: 'cross_account' }]);
});

test('ties on balance are broken by account id', () => {
  const tie = [{ id: 'Z', primary: false, balance: 100 as Fen }, { id: 'Y', primary: false, balance: 100 as Fen }, { id: 'P', primary: true, balance: 0 as Fen }];
  assert.equal(human(planCollection({ due: 150 as Fen, accounts: tie, steps: DEFAULT_STEPS })).debits, ['Y 1.00', 'Z 0.50']);
});

test('bad input is refused', () => {
  assert.throws(() => planCollection({ due: -1 as Fen, accounts: ABC, steps: DEFAULT_STEPS }), /due/);
  assert.throws(() => planCollection({ due: 1.5 as Fen, accounts: ABC, steps: DEFAULT_STEPS }), /due/);
  assert.throws(() => planCollection({ due: 1 as Fen, accounts: [ABC[0]!, ABC[0]!], steps: DEFAULT_STEPS }), /listed twice/);
  assert.throws(() => planCollection({ due: 1 as Fen, accounts: [{ id: 'A', primary: true, balance: -5 as Fen }], steps: DEFAULT_STEPS }), /balance -5/);
  assert.throws(() => planCollection({ due: 1 as Fen, accounts: [{ id: 'A', primary: true, balance: 5 as Fen }, { id: 'B', primary: true, balance: 5 as Fen }], steps: DEFAULT_STEPS }), /2 primary/);
});

const STEP_CHOICES: Step[][] = [
  DEFAULT_STEPS as Step[],
  [{ step: 'own_balance', partial: true }, { step: 'cross_account', order: 'largest_first', partial: true }, { step: 'hold', sweep: true, order: 'largest_first' }],
  [{ step: 'cross_account', order: 'primary_then_largest', partial: false }, { step: 'hold', sweep: false, order: 'primary_then_largest' }],
  [{ step: 'own_balance', partial: false }, { step: 'cross_account', order: 'primary_then_largest', partial: true }],
  [{ step: 'hold', sweep: true, order: 'primary_then_largest' }],
  [{ step: 'own_balance', partial: false }],
];

test('property: 20,000 random borrowers — collected + held (+ left) = due, no account below zero, block ⇔ held > 0', () => {
  const rnd = mulberry32(20261124);
  const seen = new Set<string>();
  for (let n = 0; n < 20_000; n++) {
    const count = int(rnd, 0, 5);
    const accounts: BorrowerAccount[] = [];
    const primaryAt = rnd() < 0.9 ? int(rnd, 0, Math.max(0, count - 1)) : -1;
    for (let i = 0; i < count; i++) {
      const balance = pick(rnd, [0, 1, 99, 10_000, int(rnd, 0, 50_000), int(rnd, 0, 1e9)]) as Fen;
      accounts.push({ id: `acc${int(rnd, 0, 9)}${i}`, primary: i === primaryAt, balance });
    }
    const total = accounts.reduce((s, a) => s + a.balance, 0);
    const due = pick(rnd, [0, 1, total, total + 1, Math.max(0, total - 1), int(rnd, 0, total + 100), int(rnd, 0, 1e9)]) as Fen;
    const steps = n % 2 === 0 ? (DEFAULT_STEPS as Step[]) : pick(rnd, STEP_CHOICES);
    const plan = planCollection({ due, accounts, steps });
    const ctx = JSON.stringify({ due, accounts, steps, plan });
    assert.is(plan.collected + plan.held + plan.left, due, ctx);
    assert.ok(plan.collected >= 0 && plan.held >= 0 && plan.left >= 0, ctx);
    if (steps.some((s) => s.step === 'hold')) assert.is(plan.left, 0, ctx);
    assert.is(plan.block, plan.held > 0, ctx);
    assert.is(plan.debits.reduce((s, d) => s + d.amount, 0), plan.collected, ctx);
    const taken = new Map<string, number>();
    const keys = new Set<string>();
    for (const d of plan.debits) {
      assert.ok(Number.isSafeInteger(d.amount) && d.amount > 0, `zero or bad debit: ${ctx}`);
      const acc = accounts.find((a) => a.id === d.accountId);
      assert.ok(acc !== undefined, `debit from a foreign account: ${ctx}`);
      taken.set(d.accountId, (taken.get(d.accountId) ?? 0) + d.amount);
      assert.not.ok(keys.has(`${d.step}:${d.accountId}`), ctx);
      keys.add(`${d.step}:${d.accountId}`);
    }
    for (const a of accounts) assert.ok((taken.get(a.id) ?? 0) <= a.balance, `account below zero: ${ctx}`);
    if (steps === DEFAULT_STEPS) {
      // the default plan's meaning, restated independently
      const primary = accounts.find((a) => a.primary)?.balance ?? 0;
      const expected = due === 0 ? 'none' : primary >= due ? 'own_balance' : total >= due ? 'cross_account' : 'hold';
      assert.is(plan.step, expected, ctx);
      assert.is(plan.collected, Math.min(due, total), ctx);
      seen.add(expected);
    }
  }
  assert.equal([...seen].sort(), ['cross_account', 'hold', 'none', 'own_balance']);
});

test.run();
