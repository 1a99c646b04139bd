import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCollectionRules } from '../../src/collection/rules.ts';
import { loadRuleSet, validateRules } from '../../src/rules/load.ts';
import { LendpayError } from '../../src/errors.ts';

const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
const shippedText = await readFile(path.join(RULES_DIR, 'collection.json'), 'utf8');
function edit(f: (j: any) => void): unknown {
  const j = JSON.parse(shippedText);
  f(j);
  return j;
}
const errors = (j: unknown): string[] => parseCollectionRules(j, 'rules/collection.json').errors;

test('the shipped collection.json parses clean, defaults filled', () => {
  const res = parseCollectionRules(JSON.parse(shippedText), 'rules/collection.json');
  assert.equal(res.errors, []);
  assert.equal(res.warnings, []);
  assert.equal(res.value!.rules.map((r) => r.name), ['default-plan', 'default-waterfall']);
});

test('unknown fact, operator, event type, step, step param, order: file, JSON path, reason', () => {
  assert.equal(errors(edit((j) => (j.rules[0].conditions = { all: [{ fact: 'balance', operator: 'equal', value: '1.00' }] }))),
    ['rules/collection.json: $.rules[0].conditions.all[0].fact: unknown fact "balance" (known: segment, kind, amountDue, daysOverdue, accountCount, holdOpen, primaryBalance, totalBalance)']);
  assert.match(errors(edit((j) => (j.rules[0].conditions = { all: [{ fact: 'amountDue', operator: 'equalz', value: '1.00' }] })))[0]!,
    /^rules\/collection\.json: \$\.rules\[0\]\.conditions\.all\[0\]\.operator: unknown operator "equalz"/);
  assert.match(errors(edit((j) => (j.rules[0].conditions = { all: [{ fact: 'holdOpen', operator: 'greaterThan', value: true }] })))[0]!,
    /\$\.rules\[0\]\.conditions\.all\[0\]\.operator: operator "greaterThan" cannot be used with fact "holdOpen"/);
  assert.match(errors(edit((j) => (j.rules[1].event.type = 'collect')))[0]!, /\$\.rules\[1\]\.event\.type: unknown event type "collect" \(known: plan, waterfall\)/);
  assert.match(errors(edit((j) => (j.rules[0].event.params.steps[1].step = 'borrow_from_friend')))[0]!,
    /\$\.rules\[0\]\.event\.params\.steps\[1\]\.step: unknown step "borrow_from_friend" \(known: own_balance, cross_account, hold\)/);
  assert.match(errors(edit((j) => (j.rules[0].event.params.steps[0].order = 'largest_first')))[0]!,
    /\$\.rules\[0\]\.event\.params\.steps\[0\]\.order: unknown property "order" \(allowed: step, partial\)/);
  assert.match(errors(edit((j) => (j.rules[0].event.params.steps[1].order = 'smallest_first')))[0]!,
    /\$\.rules\[0\]\.event\.params\.steps\[1\]\.order: unknown account order "smallest_first"/);
  assert.match(errors(edit((j) => (j.rules[0].event.params.steps[2].sweep = 'yes')))[0]!, /\$\.rules\[0\]\.event\.params\.steps\[2\]\.sweep: expected true or false, got "yes"/);
  assert.match(errors(edit((j) => (j.rules[1].event.params.order = 'newest_first')))[0]!, /\$\.rules\[1\]\.event\.params\.order: unknown waterfall order "newest_first"/);
  assert.match(errors(edit((j) => (j.rules[0].event.params.extra = 1)))[0]!, /\$\.rules\[0\]\.event\.params\.extra: unknown property "extra" \(allowed: steps\)/);
});

test('step order: hold last, each step once, a non-empty plan', () => {
  assert.match(errors(edit((j) => j.rules[0].event.params.steps.reverse()))[0]!, /\$\.rules\[0\]\.event\.params\.steps\[0\]: "hold" settles whatever is left, so it must be the last step/);
  assert.match(errors(edit((j) => j.rules[0].event.params.steps.unshift({ step: 'cross_account' })))[0]!,
    /\$\.rules\[0\]\.event\.params\.steps\[2\]\.step: "cross_account" is already \$\.steps\[0\]/);
  assert.match(errors(edit((j) => (j.rules[0].event.params.steps = [])))[0]!, /\$\.rules\[0\]\.event\.params\.steps: expected a non-empty list of steps/);
});

test('values: yuan strings for amounts, whole numbers for counts, known enums, no params', () => {
  const cond = (c: unknown) => errors(edit((j) => (j.rules[0].conditions = { all: [c] })));
  assert.match(cond({ fact: 'amountDue', operator: 'greaterThan', value: 100 })[0]!, /\.value: expected a yuan amount string like "100\.00", got 100/);
  assert.match(cond({ fact: 'amountDue', operator: 'greaterThan', value: '-1.00' })[0]!, /\.value: "-1\.00" is not a yuan amount/);
  assert.match(cond({ fact: 'totalBalance', operator: 'greaterThan', value: '100000000.01' })[0]!, /is absurd/);
  assert.match(cond({ fact: 'daysOverdue', operator: 'greaterThan', value: 1.5 })[0]!, /fact "daysOverdue" is a whole number 0\.\.100000, got 1\.5/);
  assert.match(cond({ fact: 'kind', operator: 'in', value: ['installment', 'fee'] })[0]!, /\.value\[1\]: fact "kind" is one of "installment", "recovery", got "fee"/);
  assert.match(cond({ fact: 'segment', operator: 'in', value: [] })[0]!, /needs a non-empty list/);
  assert.match(cond({ fact: 'amountDue', params: { months: 6 }, operator: 'greaterThan', value: '1.00' })[0]!, /\.params: collection facts take no params/);
  assert.match(cond({ any: [] })[0]!, /an empty "any" is not allowed/);
  // amounts normalised to fen
  const ok = parseCollectionRules(edit((j) => (j.rules[0].conditions = { all: [{ fact: 'amountDue', operator: 'greaterThan', value: '2000.00' }] })), 'c.json');
  assert.equal(ok.value!.rules[0]!.conditions, { all: [{ fact: 'amountDue', operator: 'greaterThan', value: 200_000 }] });
});

test('every problem is reported, not only the first', () => {
  const errs = errors(edit((j) => {
    j.extra = 1;
    j.rules[1].name = 'default-plan';
    j.rules[0].event.params.steps[0].partial = 1;
    j.rules[1].priority = 0;
  }));
  assert.ok(errs.some((e) => /\$\.extra: unknown property/.test(e)));
  assert.ok(errs.some((e) => /\$\.rules\[1\]\.name: "default-plan" is already the name of \$\.rules\[0\]/.test(e)));
  assert.ok(errs.some((e) => /\$\.rules\[0\]\.event\.params\.steps\[0\]\.partial: expected true or false/.test(e)));
  assert.ok(errs.some((e) => /\$\.rules\[1\]\.priority: expected a whole number 1\.\.100/.test(e)));
});

test('through the rule set loader: refused as a whole, with file and path; the schema agrees with the fixture', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'lendpay-collection-'));
  await cp(path.join(RULES_DIR, 'eligibility.json'), path.join(dir, 'eligibility.json'));
  await writeFile(path.join(dir, 'collection.json'), JSON.stringify(edit((j) => (j.rules[0].event.params.steps[0].step = 'ask_nicely'))));
  try {
    await loadRuleSet(dir);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LendpayError);
    assert.is((e as LendpayError).code, 'RULES_INVALID');
    assert.match((e as LendpayError).details[0]!, /collection\.json: \$\.rules\[0\]\.event\.params\.steps\[0\]\.step: unknown step "ask_nicely"/);
  }
  await cp(path.join(import.meta.dirname, 'fixtures', 'all-features.json'), path.join(dir, 'collection.json'));
  const v = await validateRules(dir);
  assert.equal(v.errors, []);
  const rs = await loadRuleSet(RULES_DIR);
  assert.ok(rs.collection !== null && rs.pricing !== null && rs.notifications !== null);
  assert.is(rs.pricing.dailyRatePpm, 500);
});

test.run();
