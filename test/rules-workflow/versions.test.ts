// Pure: the JSON-path diff of two rule sets, the sanity warnings and the coverage report.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffRuleSets, formatChanges, sanityWarnings } from '../../src/rules/versions.ts';
import { parseEligibilityRules } from '../../src/eligibility/rules.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { ruleCoverage } from '../../src/rules/coverage.ts';
import { parseFactsCatalog } from '../../src/eligibility/declared.ts';
import { RESERVED_FACT_NAMES } from '../../src/eligibility/facts.ts';

const shipped = JSON.parse(fs.readFileSync(path.resolve('rules/eligibility.json'), 'utf8'));
const clone = () => JSON.parse(JSON.stringify(shipped));

test('the diff names rules by name and the changed value by JSON path', () => {
  const b = clone();
  b.rules[1].event.params.limit.ratio.denominator = 3;
  b.rules.push({ name: 'new-rule', conditions: { all: [] }, event: { type: 'cap', params: { max: '1.00' } } });
  const changes = diffRuleSets({ 'eligibility.json': shipped }, { 'eligibility.json': b });
  assert.equal(changes[0], {
    file: 'eligibility.json', path: '$.rules[name=auto-tag-door].event.params.limit.ratio.denominator', op: 'changed', before: 2, after: 3,
  });
  assert.is(changes[1]?.op, 'added');
  assert.is(changes[1]?.path, '$.rules[name=new-rule]');
  assert.match(formatChanges(changes)[0]!, /~ eligibility\.json \$\.rules\[name=auto-tag-door\]\.event\.params\.limit\.ratio\.denominator: 2 → 3/);
  assert.equal(diffRuleSets({ 'eligibility.json': shipped }, { 'eligibility.json': clone() }), []);
  assert.equal(diffRuleSets(null, { 'eligibility.json': shipped }), [{ file: 'eligibility.json', path: '$', op: 'added' }]);
});

function warningsFor(rules: unknown[]): string[] {
  const parsed = parseEligibilityRules({ rules }, 'eligibility.json');
  assert.equal(parsed.errors, []);
  return sanityWarnings(parsed.value!);
}
const cap = { name: 'cap', conditions: { all: [] }, event: { type: 'cap', params: { max: '5000000.00' } } };
const door = (conditions: unknown) => ({ name: 'd', conditions, event: { type: 'door', params: { door: 'auto_tag', limit: { fact: 'flowTotal', params: { months: 6 } } } } });

test('the shipped rules give no sanity warning', () => {
  assert.equal(sanityWarnings(parseEligibilityRules(shipped, 'eligibility.json').value!), []);
});

test('a rule that can never fire is warned about, with its path', () => {
  const eqBoth = warningsFor([cap, door({ all: [
    { fact: 'realNameVerified', operator: 'equal', value: true },
    { fact: 'realNameVerified', operator: 'equal', value: false },
  ] })]);
  assert.is(eqBoth.length, 1);
  assert.match(eqBoth[0]!, /\$\.rules\[1\]\.conditions: rule "d" can never fire: realNameVerified equal true and realNameVerified equal false/);
  const above = warningsFor([cap, door({ all: [
    { fact: 'flowTotal', params: { months: 6 }, operator: 'greaterThan', value: '1000.00' },
    { fact: 'flowTotal', params: { months: 6 }, operator: 'lessThan', value: '500.00' },
  ] })]);
  assert.is(above.length, 1);
  assert.match(above[0]!, /can never fire/);
  const touching = warningsFor([cap, door({ all: [
    { fact: 'flowTotal', params: { months: 6 }, operator: 'greaterThan', value: '1000.00' },
    { fact: 'flowTotal', params: { months: 6 }, operator: 'lessThanInclusive', value: '1000.01' },
  ] })]);
  assert.equal(touching, [], 'exactly one fen fits');
  const enums = warningsFor([cap, door({ all: [
    { fact: 'segment', operator: 'in', value: ['supply_chain', 'open_platform'] },
    { fact: 'segment', operator: 'equal', value: 'external' },
  ] })]);
  assert.is(enums.length, 1);
  const months = warningsFor([cap, door({ all: [
    { fact: 'minMonthlyFlow', params: { months: 6 }, operator: 'greaterThan', value: '0.00' },
    { fact: 'minMonthlyFlow', params: { months: 3 }, operator: 'lessThan', value: '1.00' },
  ] })]);
  assert.equal(months, [], 'different month windows are different facts');
});

test('declared facts: contradictions are found in their own units and range; a negative range is no contradiction', () => {
  const facts = parseFactsCatalog({ facts: {
    consumptionScore: { type: 'integer', min: 300, max: 900, description: 'd', source: 's', missing: { default: 300 } },
    growth: { type: 'decimal', scale: 2, min: '-1', max: '1', description: 'd', source: 's', missing: { default: '0' } },
  } }, 'facts.json', RESERVED_FACT_NAMES).value!;
  const warnings = (rules: unknown[]) => sanityWarnings(parseEligibilityRules({ rules }, 'eligibility.json', facts).value!);
  const never = warnings([cap, door({ all: [
    { fact: 'consumptionScore', operator: 'greaterThan', value: 800 },
    { fact: 'consumptionScore', operator: 'lessThan', value: 700 },
  ] })]);
  assert.match(never[0]!, /rule "d" can never fire: consumptionScore greaterThan 800 and consumptionScore lessThan 700 can never hold together/);
  assert.equal(warnings([cap, door({ all: [{ fact: 'growth', operator: 'lessThan', value: '-0.5' }, { fact: 'growth', operator: 'greaterThanInclusive', value: '-0.51' }] })]), []);
  assert.equal(warnings([cap, door({ all: [{ fact: 'growth', operator: 'lessThan', value: '-0.5' }] })]), []);
  assert.match(warnings([cap, door({ all: [{ fact: 'growth', operator: 'greaterThan', value: '0.99' }, { fact: 'growth', operator: 'lessThan', value: '1' }] })])[0]!,
    /growth greaterThan 0\.99 and growth lessThan 1\.00 can never hold together/);
});

test('a cap above the 5,000,000 CNY ceiling is warned about', () => {
  const w = warningsFor([{ ...cap, event: { type: 'cap', params: { max: '6000000.00' } } }, door({ all: [] })]);
  assert.ok(w.some((x) => /\$\.rules\[0\]\.event\.params\.max: cap 6,000,000\.00 is above the 5,000,000\.00 CNY ceiling/.test(x)), w.join('\n'));
});

test('a negative or zero month count is refused outright', () => {
  const p = parseEligibilityRules({ rules: [cap, door({ all: [{ fact: 'minMonthlyFlow', params: { months: 0 }, operator: 'greaterThan', value: '0.00' }] })] }, 'eligibility.json');
  assert.match(p.errors.join('\n'), /months: 0 months is out of range/);
});

test('coverage names the rules no case fires and the conditions never seen both ways', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-cov-'));
  fs.cpSync(path.resolve('rules'), dir, { recursive: true });
  const full = (await ruleCoverage(await loadRuleSet(dir))).find((x) => x.file.endsWith('eligibility.json'))!;
  assert.is(full.rulesCovered, full.rules.length, 'the shipped cases fire every rule');
  // Only one case left: a verified open-platform merchant with flow.
  const tests = JSON.parse(fs.readFileSync(path.join(dir, 'tests/eligibility.json'), 'utf8'));
  const one = tests.cases.find((c: { expect: { door?: string } }) => c.expect.door === 'auto_tag');
  fs.writeFileSync(path.join(dir, 'tests/eligibility.json'), JSON.stringify({ cases: [one] }));
  const r = (await ruleCoverage(await loadRuleSet(dir))).find((x) => x.file.endsWith('eligibility.json'))!;
  assert.is(r.cases, 1);
  const byName = new Map(r.rules.map((x) => [x.name, x]));
  assert.is(byName.get('auto-tag-door')!.firedIn, 1);
  assert.is(byName.get('reason-real-name-missing')!.firedIn, 0);
  assert.is(r.conditionsCovered, 0, 'one case never sees a condition both ways');
  assert.is(byName.get('auto-tag-door')!.conditions[0]!.path, '$.rules[1].conditions.all[0]');
});

test.run();
