import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, writeFile, cp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadRuleSet, validateRules, canonicalJson } from '../../src/rules/load.ts';
import { runRuleTests } from '../../src/rules/tests.ts';
import { LendpayError } from '../../src/errors.ts';
import { RULES_DIR } from '../eligibility/fixtures/input.ts';

const shippedText = await readFile(path.join(RULES_DIR, 'eligibility.json'), 'utf8');

/** A rules directory holding eligibility.json with `text` (and whatever else is given). */
async function dirWith(text: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lendpay-rules-'));
  await writeFile(path.join(dir, 'eligibility.json'), text);
  for (const [name, body] of Object.entries(extra)) await writeFile(path.join(dir, name), body);
  return dir;
}
function edit(f: (j: any) => void): string {
  const j = JSON.parse(shippedText);
  f(j);
  return JSON.stringify(j, null, 2);
}
async function refused(text: string): Promise<string[]> {
  const dir = await dirWith(text);
  try {
    await loadRuleSet(dir);
  } catch (e) {
    assert.instance(e, LendpayError);
    const err = e as LendpayError;
    assert.is(err.code, 'RULES_INVALID');
    assert.match(err.message, /^\d+ problems? in rules$/);
    const v = await validateRules(dir);
    assert.equal(v.errors, [...err.details]);
    assert.is(v.hash, undefined);
    return [...err.details];
  }
  assert.unreachable('the rule set was accepted');
  return [];
}

test('the shipped rules/ validates clean', async () => {
  const v = await validateRules(RULES_DIR);
  assert.equal(v.errors, []);
  assert.equal(v.warnings, []);
  assert.match(v.hash ?? '', /^[0-9a-f]{64}$/);
  const rs = await loadRuleSet(RULES_DIR);
  assert.is(rs.hash, v.hash);
  assert.equal(Object.keys(rs.files).sort(), ['accounts.json', 'alerts.json', 'calendar.json', 'collection.json', 'eligibility.json', 'escalation.json', 'facts.json', 'notifications.json', 'pricing.json', 'products.json']);
  assert.is(rs.eligibility.flowMonths, 6);
});

test('unknown operator: file, JSON path and reason', async () => {
  const errs = await refused(edit((j) => (j.rules[2 - 1].conditions.all[0].operator = 'equalz')));
  assert.equal(errs.length, 1);
  assert.match(errs[0]!, /eligibility\.json: \$\.rules\[1\]\.conditions\.all\[0\]\.operator: unknown operator "equalz"/);
});

test('unknown fact, unknown event type, unknown reason code', async () => {
  let errs = await refused(edit((j) => (j.rules[1].conditions.all[2].fact = 'minMonthlyFlw')));
  assert.match(errs[0]!, /\$\.rules\[1\]\.conditions\.all\[2\]\.fact: unknown fact "minMonthlyFlw"/);
  errs = await refused(edit((j) => (j.rules[2].event.type = 'limit')));
  assert.match(errs[0]!, /\$\.rules\[2\]\.event\.type: unknown event type "limit"/);
  errs = await refused(edit((j) => (j.rules[3].event.params.code = 'TOO_POOR')));
  assert.match(errs[0]!, /\$\.rules\[3\]\.event\.params\.code: unknown reason code "TOO_POOR"/);
});

test('wrong param types and values', async () => {
  let errs = await refused(edit((j) => (j.rules[1].conditions.all[2].params.months = '6')));
  assert.match(errs[0]!, /\$\.rules\[1\]\.conditions\.all\[2\]\.params\.months: expected a whole number of months, got "6"/);
  errs = await refused(edit((j) => (j.rules[2].event.params.max = 5000000)));
  assert.match(errs[0]!, /\$\.rules\[2\]\.event\.params\.max: expected a yuan amount string/);
  errs = await refused(edit((j) => (j.rules[0].conditions.all[0].value = 'true')));
  assert.match(errs[0]!, /\$\.rules\[0\]\.conditions\.all\[0\]\.value: fact "realNameVerified" is true or false, got "true"/);
  errs = await refused(edit((j) => (j.rules[1].conditions.all[1].value = ['supply_chain', 'ecosystem'])));
  assert.match(errs[0]!, /\$\.rules\[1\]\.conditions\.all\[1\]\.value\[1\]: fact "segment" is one of/);
  errs = await refused(edit((j) => (j.rules[1].event.params.limit.ratio.denominator = 0)));
  assert.match(errs[0]!, /\$\.rules\[1\]\.event\.params\.limit\.ratio\.denominator: expected a whole number 1\.\.1000000, got 0/);
  errs = await refused(edit((j) => (j.rules[0].conditions.all[0].operator = 'greaterThan')));
  assert.match(errs[0]!, /operator "greaterThan" cannot be used with fact "realNameVerified"/);
  errs = await refused(edit((j) => (j.rules[0].conditions.all[1].params = { months: 6 })));
  assert.match(errs[0]!, /\$\.rules\[0\]\.conditions\.all\[1\]\.params: fact "whitelistStatus" takes no params/);
});

test('negative or absurd thresholds', async () => {
  let errs = await refused(edit((j) => (j.rules[2].event.params.max = '-1.00')));
  assert.match(errs[0]!, /\$\.rules\[2\]\.event\.params\.max: "-1\.00" is not a yuan amount/);
  errs = await refused(edit((j) => (j.rules[2].event.params.max = '0.00')));
  assert.match(errs[0]!, /must be more than 0\.00/);
  errs = await refused(edit((j) => (j.rules[2].event.params.max = '500000000000.00')));
  assert.match(errs[0]!, /is absurd/);
  errs = await refused(edit((j) => (j.rules[1].conditions.all[2].params.months = 0)));
  assert.match(errs[0]!, /months: 0 months is out of range 1\.\.36/);
  errs = await refused(edit((j) => (j.rules[1].conditions.all[2].params.months = 120)));
  assert.match(errs[0]!, /out of range/);
  errs = await refused(edit((j) => (j.rules[1].event.params.limit.ratio = { numerator: 50, denominator: 1 })));
  assert.match(errs[0]!, /\$\.rules\[1\]\.event\.params\.limit\.ratio: 50\/1 is absurd/);
  errs = await refused(edit((j) => (j.rules[1].event.params.limit.roundDownTo = '0.00')));
  assert.match(errs[0]!, /roundDownTo: must be more than 0\.00/);
});

test('every problem is reported, not only the first', async () => {
  const errs = await refused(edit((j) => {
    j.rules[0].conditions.all[0].operator = 'equalz';
    j.rules[3].event.params.code = 'NOPE';
    j.rules[4].name = j.rules[3].name;
    j.extra = 1;
  }));
  assert.is(errs.length, 4, errs.join('\n'));
  assert.ok(errs.some((e) => /\$\.extra: unknown property "extra"/.test(e)));
  assert.ok(errs.some((e) => /\$\.rules\[4\]\.name: "reason-real-name-missing" is already the name of \$\.rules\[3\]/.test(e)));
});

test('malformed JSON: file, line and column', async () => {
  const lines = shippedText.split('\n');
  const at = lines.findIndex((l) => l.includes('"name": "whitelist-door"'));
  lines[at] = lines[at]!.replace('"name"', 'name');
  const errs = await refused(lines.join('\n'));
  assert.equal(errs.length, 1);
  assert.match(errs[0]!, new RegExp(`eligibility\\.json: line ${at + 1}, column 7: malformed JSON`));
  const cut = await refused(shippedText.slice(0, 200));
  assert.match(cut[0]!, /eligibility\.json: line \d+, column \d+: malformed JSON/);
});

test('a missing eligibility.json is refused; unknown *.json files are ignored with a warning', async () => {
  const empty = await mkdtemp(path.join(tmpdir(), 'lendpay-rules-'));
  const v = await validateRules(empty);
  assert.match(v.errors[0] ?? '', /eligibility\.json: missing/);
  const dir = await dirWith(shippedText, { 'draft-limits.json': '{"holidays": []}', 'eligibility.schema.json': '{}', 'notes.txt': 'x' });
  const w = await validateRules(dir);
  assert.equal(w.errors, []);
  assert.equal(w.warnings.length, 1);
  assert.match(w.warnings[0]!, /draft-limits\.json: ignored/);
});

test('the hash changes with a threshold, not with whitespace or key order', async () => {
  const base = (await loadRuleSet(await dirWith(shippedText))).hash;
  const calendarText = await readFile(path.join(RULES_DIR, 'calendar.json'), 'utf8');
  const others: Record<string, string> = {};
  for (const f of ['calendar.json', 'pricing.json', 'collection.json', 'notifications.json', 'escalation.json', 'alerts.json', 'products.json', 'accounts.json', 'facts.json']) others[f] = await readFile(path.join(RULES_DIR, f), 'utf8');
  assert.is((await loadRuleSet(RULES_DIR)).hash, (await loadRuleSet(await dirWith(shippedText, others))).hash);
  assert.is.not((await loadRuleSet(await dirWith(shippedText, { 'calendar.json': calendarText }))).hash, base, 'the calendar is part of the rule set hash');
  const reformatted = JSON.stringify(JSON.parse(shippedText));
  assert.is((await loadRuleSet(await dirWith(reformatted))).hash, base);
  const reordered = edit((j) => {
    const r = j.rules[2];
    j.rules[2] = { event: r.event, conditions: r.conditions, description: r.description, name: r.name };
  });
  assert.is((await loadRuleSet(await dirWith(reordered))).hash, base);
  const capped = edit((j) => (j.rules[2].event.params.max = '4000000.00'));
  assert.is.not((await loadRuleSet(await dirWith(capped))).hash, base);
  const sevenMonths = edit((j) => (j.rules[1].conditions.all[2].params.months = 7));
  assert.is.not((await loadRuleSet(await dirWith(sevenMonths))).hash, base);
  assert.is(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x' }), '{"a":"x","b":[1,{"c":2,"d":1}]}');
});

test('the warning for inconsistent months params', async () => {
  const v = await validateRules(await dirWith(edit((j) => (j.rules[1].conditions.all[2].params.months = 5))));
  assert.equal(v.errors, []);
  assert.ok(v.warnings.some((w) => /different "months" \(5, 6\)/.test(w)), v.warnings.join('\n'));
});

test('rules/tests: every case passes through both implementations', async () => {
  const res = await runRuleTests(await loadRuleSet(RULES_DIR));
  assert.equal(res.failures, []);
  assert.ok(res.passed >= 30, `passed ${res.passed}`);
});

test('a rule test that does not hold is reported with expected and actual', async () => {
  const dir = await dirWith(shippedText);
  await mkdir(path.join(dir, 'tests'));
  await cp(path.join(RULES_DIR, 'tests', 'eligibility.json'), path.join(dir, 'tests', 'eligibility.json'));
  await writeFile(path.join(dir, 'tests', 'extra.json'), JSON.stringify({
    cases: [
      { name: 'wrong on purpose', date: '2026-11-24', customer: { segment: 'external', realNameVerified: true, whitelist: null }, expect: { eligible: true } },
      { name: 'bad amount', date: '2026-11-24', customer: { segment: 'external', realNameVerified: true, whitelist: { limit: 5 } }, expect: {} },
    ],
  }));
  const res = await runRuleTests(await loadRuleSet(dir));
  assert.is(res.failures.length, 2);
  assert.equal(res.failures[0]!.expected, { eligible: true });
  assert.equal(res.failures[0]!.actual, { eligible: false });
  assert.match(String(res.failures[1]!.actual), /whitelist\.limit/);
  // a rule change the risk team's cases catch
  await writeFile(path.join(dir, 'eligibility.json'), edit((j) => (j.rules[2].event.params.max = '4000000.00')));
  await writeFile(path.join(dir, 'tests', 'extra.json'), '{"cases": []}');
  const changed = await runRuleTests(await loadRuleSet(dir));
  assert.ok(changed.failures.some((f) => /capped/.test(f.name)));
});

test('the schema and the loader accept every fact, operator and event of the vocabulary', async () => {
  const all = await readFile(path.join(RULES_DIR, '..', 'test', 'eligibility', 'fixtures', 'all-features.json'), 'utf8');
  const v = await validateRules(await dirWith(all));
  assert.equal(v.errors, []);
});

test.run();
