// Every rule file is testable: cases for eligibility.json, collection.json and
// escalation.json in rules/tests/, run through both evaluators by `rules test`,
// counted by --coverage, malformed ones named field by field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRuleSet } from '../../src/rules/load.ts';
import { runRuleTests } from '../../src/rules/tests.ts';
import { formatCoverage, fullyCovered, ruleCoverage } from '../../src/rules/coverage.ts';

const SHIPPED = path.resolve('rules');

function copy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-cases-'));
  fs.cpSync(SHIPPED, dir, { recursive: true });
  return dir;
}
const readJson = (dir: string, f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const writeJson = (dir: string, f: string, j: unknown) => fs.writeFileSync(path.join(dir, f), JSON.stringify(j, null, 2));

test('the shipped rules come with cases for all three rule files, all passing, covering every rule and condition', async () => {
  const rs = await loadRuleSet(SHIPPED);
  const res = await runRuleTests(rs);
  assert.equal(res.failures, []);
  assert.equal(Object.keys(res.byRuleFile).sort(), ['collection.json', 'eligibility.json', 'escalation.json']);
  assert.ok(res.byRuleFile['collection.json']! >= 8 && res.byRuleFile['escalation.json']! >= 10, JSON.stringify(res.byRuleFile));
  const cov = await ruleCoverage(rs);
  assert.equal(cov.map((r) => path.basename(r.file)), ['eligibility.json', 'collection.json', 'escalation.json']);
  assert.ok(fullyCovered(cov), cov.flatMap(formatCoverage).join('\n'));
  const esc = cov[2]!;
  assert.is(esc.rulesCovered, 8);
  assert.ok(esc.conditionsTotal >= 14);
});

test('a change to collection.json that the cases catch: the settling step and its debits reported', async () => {
  const dir = copy();
  const c = readJson(dir, 'collection.json');
  // forget the forced cross-account debit
  c.rules[0].event.params.steps.splice(1, 1);
  writeJson(dir, 'collection.json', c);
  const res = await runRuleTests(await loadRuleSet(dir));
  const f = res.failures.find((x) => x.name.startsWith('due 120.00'));
  assert.ok(f, res.failures.map((x) => x.name).join('\n'));
  assert.match(f.file, /tests\/collection\.json$/);
  assert.equal((f.expected as { step: string }).step, 'cross_account');
  assert.equal((f.actual as { step: string; held: string }).step, 'hold');
  assert.equal((f.actual as { debits: { step: string }[] }).debits.map((d) => d.step), ['hold', 'hold'], 'the sweep of the hold step took it');
});

test('a change to escalation.json that the cases catch', async () => {
  const dir = copy();
  const e = readJson(dir, 'escalation.json');
  const small = e.rules.find((r: { name: string }) => r.name === 'channel-unavailable-resend-small');
  small.conditions.all[2].value = '50000.00';
  writeJson(dir, 'escalation.json', e);
  const res = await runRuleTests(await loadRuleSet(dir));
  assert.equal(res.failures.map((x) => x.name), ['channel down on exactly 100,000.00: still the automatic resend']);
  assert.equal(res.failures[0]!.actual, { step: 'channel_resend', automatic: false, rule: 'channel-unavailable-resend' });
  // and coverage still sees that condition both ways
  const cov = (await ruleCoverage(await loadRuleSet(dir)))[2]!;
  assert.is(cov.conditionsCovered, cov.conditionsTotal);
});

test('malformed cases are failures naming the file, the case and the field', async () => {
  const dir = copy();
  const col = readJson(dir, 'tests/collection.json');
  col.cases[0].borrower.accounts[0].balance = 100;
  col.cases[1].expect.held = '-1';
  col.cases[2].expect.heldAmount = '1.00';
  writeJson(dir, 'tests/collection.json', col);
  const esc = readJson(dir, 'tests/escalation.json');
  esc.cases[0].order.purpose = 'disburse.everything';
  esc.cases[1].history = { systemResends: 1.5 };
  writeJson(dir, 'tests/escalation.json', esc);
  fs.writeFileSync(path.join(dir, 'tests', 'other.json'), JSON.stringify({ rules: 'pricing.json', cases: [] }));
  const res = await runRuleTests(await loadRuleSet(dir));
  const msg = res.failures.map((f) => `${f.file}: ${f.name}: ${String(f.actual)}`).join('\n');
  assert.match(msg, /tests\/collection\.json: due 80\.00.*: \$\.cases\[0\]\.borrower\.accounts\[0\]\.balance: expected a yuan string/);
  assert.match(msg, /\$\.cases\[1\]\.expect\.held: "-1" is not a yuan amount/);
  assert.match(msg, /\$\.cases\[2\]\.expect\.heldAmount: unknown field \(known: steps, step, debits/);
  assert.match(msg, /tests\/escalation\.json: .*\$\.cases\[0\]\.order\.purpose: fact "purpose" is one of "disburse\.fund"/);
  assert.match(msg, /\$\.cases\[1\]\.history\.systemResends: fact "systemResends" is a whole number 0\.\.1000, got 1\.5/);
  assert.match(msg, /tests\/other\.json: \(file\): "rules": "pricing\.json" names no rule file with test cases/);
});

test('cases for a rule file the set does not have are a failure; a set without collection.json is still testable', async () => {
  const dir = copy();
  fs.rmSync(path.join(dir, 'collection.json'));
  const res = await runRuleTests(await loadRuleSet(dir));
  assert.equal(res.failures.map((f) => [f.name, f.actual]), [['(file)', 'the rule set has no collection.json to test']]);
  fs.rmSync(path.join(dir, 'tests', 'collection.json'));
  const ok = await runRuleTests(await loadRuleSet(dir));
  assert.equal(ok.failures, []);
  assert.equal((await ruleCoverage(await loadRuleSet(dir))).map((r) => path.basename(r.file)), ['eligibility.json', 'escalation.json']);
});

test('coverage names an escalation rule no case fires and a condition never seen false', async () => {
  const dir = copy();
  const esc = readJson(dir, 'tests/escalation.json');
  esc.cases = esc.cases.filter((c: { errorCode: string }) => c.errorCode === 'CHANNEL_UNAVAILABLE');
  writeJson(dir, 'tests/escalation.json', esc);
  const cov = (await ruleCoverage(await loadRuleSet(dir)))[2]!;
  const text = formatCoverage(cov).join('\n');
  assert.match(text, /rule card-invalid-reissue \(\$\.rules\[2\]\): no case fires it/);
  assert.match(text, /channel-unavailable-resend-small \$\.rules\[4\]\.conditions\.all\[0\]: errorCode equal "CHANNEL_UNAVAILABLE" is never false in any case/);
  assert.ok(!fullyCovered([cov]));
});

test.run();
