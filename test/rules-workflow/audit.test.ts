// The audit of what let an activation through: the test cases are recorded with each
// version, `rules history` and `rules diff` show their changes beside the rule
// changes, collection and escalation cases gate activation like eligibility's, and
// after a rollback the working copy is named as still holding the rolled-back change,
// with `rules checkout V` to put the active content back, byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './fixtures/cli.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { importPopulation } from './fixtures/population.ts';
import { listVersions } from '../../db/rule-versions.repository.ts';

let t: TestDatabase;
let work: string;
const original: Record<string, string> = {};

const { lendpay, ok } = cli(() => ({ DATABASE_URL: t.url, LENDPAY_RULES_DIR: work }));
const read = (f: string) => fs.readFileSync(path.join(work, f), 'utf8');
const write = (f: string, text: string) => fs.writeFileSync(path.join(work, f), text);
const edit = (f: string, change: (j: any) => void) => {
  const j = JSON.parse(read(f));
  change(j);
  write(f, JSON.stringify(j, null, 2));
};
const CASE = 'a month of 0.01 is flow';

test.before(async () => {
  t = await freshDatabase('rules_audit');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-audit-'));
  fs.cpSync(path.resolve('rules'), work, { recursive: true });
  for (const f of ['eligibility.json', 'collection.json', 'tests/eligibility.json', 'tests/collection.json']) original[f] = read(f);
  await importPopulation(t.db, work, { seed: 3, size: 120, asOf: '2026-11-24' });
});
test.after(async () => {
  await t.drop();
});

test('the first batch records the rule files and the test files with version 1', async () => {
  await ok(['batch', 'nightly', '--date', '2026-11-24', '--no-progress']);
  const [v1] = await listVersions(t.db);
  assert.equal(v1!.recorded, { sources: true, tests: true });
  assert.equal(v1!.testsDiff!.map((c) => `${c.op} ${c.file}`), ['added tests/collection.json', 'added tests/eligibility.json', 'added tests/escalation.json']);
});

test('a failing collection case refuses the activation, like an eligibility case', async () => {
  edit('collection.json', (j) => j.rules[0].event.params.steps.splice(1, 1));
  const r = await lendpay(['rules', 'activate', '--by', 'alice', '--note', 'no cross-account debit']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /not activated: \d+ rule test cases? failed/);
  assert.match(r.stderr, /FAIL .*tests\/collection\.json: due 120\.00/);
  assert.is((await listVersions(t.db)).length, 1);
  write('collection.json', original['collection.json']!);
});

test('an activation records the test changes that let it through; history and diff show them beside the rule changes', async () => {
  edit('eligibility.json', (j) => {
    j.rules[1].conditions.all[2] = { fact: 'minMonthlyFlow', params: { months: 6 }, operator: 'greaterThanInclusive', value: '10000.00' };
    j.rules[5].conditions.all[1] = { fact: 'minMonthlyFlow', params: { months: 6 }, operator: 'lessThan', value: '10000.00' };
  });
  edit('tests/eligibility.json', (j) => {
    for (const c of j.cases) if (c.name === CASE || c.name.startsWith('tiny flow')) c.expect = { eligible: false, reasons: ['INSUFFICIENT_FLOW_HISTORY'] };
  });
  const act = await ok(['rules', 'activate', '--by', 'alice', '--note', 'at least 10,000.00 a month']);
  assert.match(act.stdout, /activated version 2 .* test cases passed \(collection\.json \d+, eligibility\.json \d+, escalation\.json \d+\)/);
  assert.match(act.stdout, /~ eligibility\.json \$\.rules\[name=auto-tag-door\]\.conditions\.all\[2\]\.value: "0\.00" → "10000\.00"/);
  assert.match(act.stdout, /test cases: \d+ passed, \d+ changes:/);
  assert.match(act.stdout, new RegExp(`~ tests/eligibility\\.json \\$\\.cases\\[name=${CASE}\\]\\.expect\\.eligible: true → false`));

  const h = await ok(['rules', 'history']);
  const v2 = h.stdout.slice(0, h.stdout.indexOf('version 1 '));
  assert.match(v2, /version 2 .* by alice +\[active\]/);
  assert.match(v2, /~ eligibility\.json \$\.rules\[name=reason-insufficient-flow\]/);
  assert.match(v2, /- tests\/eligibility\.json \$\.cases\[name=a month of 0\.01 is flow\]\.expect\.door \(was "auto_tag"\)/);
  const hv = JSON.parse((await ok(['rules', 'history', '--json'])).stdout);
  assert.ok(hv[0].testsDiff.length > 0 && hv[0].testsPassed > 30);

  const d = await ok(['rules', 'diff', '1', '2']);
  assert.match(d.stdout, /version 1 .* → version 2 .*: 4 changes/);
  assert.match(d.stdout, /test cases: \d+ changes/);
  assert.match(d.stdout, new RegExp(`tests/eligibility\\.json \\$\\.cases\\[name=${CASE}\\]\\.expect\\.eligible: true → false`));
  edit('tests/escalation.json', (j) => j.cases.pop());
  const dw = JSON.parse((await ok(['rules', 'diff', '2', 'working', '--json'])).stdout);
  assert.equal(dw.changes, []);
  assert.equal(dw.testChanges.map((c: { op: string; path: string }) => `${c.op} ${c.path}`), ['removed $.cases[name=a frozen account is never retried automatically]']);
});

test('after a rollback the working copy is named as still holding the change; rules checkout puts the active content back byte for byte', async () => {
  const rb = await ok(['rules', 'rollback', '1', '--by', 'bob', '--note', 'too strict']);
  assert.match(rb.stdout, /activated version 3 .* the content of version 1/);
  assert.match(rb.stderr, /warning: the working copy in .* still differs from the active version 3: the next `lendpay rules activate` would bring the rolled-back change back/);
  assert.match(rb.stderr, /lendpay rules checkout 3/);
  const h = await ok(['rules', 'history']);
  assert.match(h.stdout, /version 3 .*\(rollback to version 1\)[\s\S]*test cases: not run \(the cases of version 1 came back with it\), \d+ changes/);

  // unactivated edits (the escalation case removed above) are not overwritten without --force
  const refused = await lendpay(['rules', 'checkout', '3']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /holds changes no version has/);
  write('tests/escalation.json', fs.readFileSync(path.resolve('rules/tests/escalation.json'), 'utf8'));
  const co = await ok(['rules', 'checkout', '3']);
  assert.match(co.stdout, /the working copy in .* is now version 3/);
  for (const f of Object.keys(original)) assert.is(read(f), original[f], `${f} is version 1's text again`);
  const again = await ok(['rules', 'activate', '--by', 'alice', '--note', 'same']);
  assert.match(again.stdout, /already the active version 3/);
});

test('activating a rolled-back content again is warned about', async () => {
  await ok(['rules', 'checkout', '2']);
  const r = await ok(['rules', 'activate', '--by', 'carol', '--note', 'it was right after all']);
  assert.match(r.stderr, /warning: this content was version 2, rolled back by version 3 \(by bob: too strict\); activating brings it back/);
  assert.match(r.stdout, /activated version 4/);
  const forced = await lendpay(['rules', 'checkout', '1', '--force']);
  assert.is(forced.code, 0, forced.stderr);
});

test.run();
