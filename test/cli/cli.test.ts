// The CLI end to end, as a person runs it: a real process, a real database.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

const BIN = path.resolve('src/cli/bin.js');
const D = '2026-11-24';
let t: TestDatabase;
let tmp: string;

function lendpay(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: t.url, ...env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const line = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  id, name: 'x', segment: 'open_platform', realNameVerified: true, whitelist: null,
  accounts: [{ id: `${id}-A`, primary: true, balance: '1.00' }], bankCards: [],
  monthlyFlow: { '2026-05': '1000.00', '2026-06': '1000.00', '2026-07': '1000.00', '2026-08': '1000.00', '2026-09': '1000.00', '2026-10': '1000.00' },
  ...extra,
});

test.before(async () => {
  t = await freshDatabase('cli');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-cli-'));
});
test.after(async () => {
  await t.drop();
});

test('a file with a bad line is refused whole, naming the line and field', async () => {
  const file = path.join(tmp, 'bad.jsonl');
  fs.writeFileSync(file, [line('A1'), line('A2'), line('A3', { segment: 'mall' })].join('\n'));
  const res = await lendpay(['import', file]);
  assert.is(res.code, 1);
  assert.match(res.stderr, /line 3/);
  assert.match(res.stderr, /segment/);
  const n = await t.db.selectFrom('customers').select(t.db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.is(Number(n.n), 0, 'nothing from the file is written');
});

test('a broken rule file is refused with file and JSON path, and no batch starts', async () => {
  const good = path.join(tmp, 'good.jsonl');
  fs.writeFileSync(good, [line('B1'), line('B2')].join('\n') + '\n');
  assert.is((await lendpay(['import', good])).code, 0);

  const bad = path.join(tmp, 'rules-bad');
  fs.cpSync(path.resolve('rules'), bad, { recursive: true });
  const rulesFile = path.join(bad, 'eligibility.json');
  const rules = JSON.parse(fs.readFileSync(rulesFile, 'utf8'));
  rules.rules[0].conditions.all[0].operator = 'equalz';
  fs.writeFileSync(rulesFile, JSON.stringify(rules, null, 2));

  const v = await lendpay(['rules', 'validate', bad]);
  assert.is(v.code, 1);
  assert.match(v.stderr, /eligibility\.json/);
  assert.match(v.stderr, /\$\.rules\[0\]\.conditions\.all\[0\]\.operator/);

  const run = await lendpay(['batch', 'nightly', '--date', D, '--no-progress'], { LENDPAY_RULES_DIR: bad });
  assert.is(run.code, 1);
  assert.match(run.stderr, /equalz/);
  const runs = await t.db.selectFrom('batch_runs').selectAll().execute();
  assert.is(runs.length, 0, 'no batch run was claimed');

  // the shipped rules still validate and run
  const ok = await lendpay(['batch', 'nightly', '--date', D, '--no-progress']);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /customers evaluated\s+2/);
});

test('decisions print one JSON line a customer with the limit in yuan', async () => {
  const res = await lendpay(['decisions', '--date', D, '--format', 'jsonl']);
  assert.is(res.code, 0, res.stderr);
  const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(rows.length, 2);
  assert.equal(Object.keys(rows[0]), ['customerId', 'eligible', 'door', 'limit', 'reasons', 'ruleSetHash']);
  assert.equal([rows[0].customerId, rows[0].eligible, rows[0].door, rows[0].limit], ['B1', true, 'auto_tag', '3000.00']);
});

test('explain shows each condition and the rule set hash', async () => {
  const res = await lendpay(['explain', 'B1', '--date', D, '--json']);
  assert.is(res.code, 0, res.stderr);
  const body = JSON.parse(res.stdout);
  assert.ok(JSON.stringify(body).includes('auto_tag'));
  const text = await lendpay(['explain', 'B1', '--date', D]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /eligible/i);
  const missing = await lendpay(['explain', 'NOPE', '--date', D]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /NOPE/);
});

test('a bad date is refused with the option name', async () => {
  const res = await lendpay(['decisions', '--date', '2026-02-30']);
  assert.is(res.code, 1);
  assert.match(res.stderr, /--date/);
});

test.run();
