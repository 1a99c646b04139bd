// Output a script can trust: everything a command printed reaches whatever reads it,
// however slowly; every command a script would drive takes --json, and its JSON
// carries amounts as yuan strings, never fen, never floats.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { businessDateAt, monthsBefore, systemClock } from '../../src/dates.ts';
import { addDays } from '../../src/loans/schedule.ts';

const BIN = path.resolve('src/cli/bin.js');
const today = businessDateAt(systemClock.now());
let t: TestDatabase;
let tmp: string;

function lendpay(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: t.url, LENDPAY_CHANNEL_URL: '', LENDPAY_SANDBOX_IN_PROCESS: '1', ...env }, maxBuffer: 1 << 26, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function sh(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { env: { ...process.env, DATABASE_URL: t.url }, timeout: 180_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

const AMOUNT_KEYS = new Set(['amount', 'limit', 'principal', 'due', 'planned', 'collected', 'held', 'debit', 'credit', 'balance', 'ledger', 'platform', 'totalDebit', 'totalCredit', 'totalLimit', 'openHold', 'unpaid', 'dueNow', 'whitelistLimit', 'flowTotal', 'minMonthlyFlow', 'total']);

/** Every way an amount could leak out as something other than a yuan string. */
function amountProblems(value: unknown, at = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => amountProblems(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = `${at}.${k}`;
    if (/(Fen|_fen)$/.test(k)) out.push(`${p}: a fen key`);
    if (typeof v === 'number' && !Number.isInteger(v) && !(k === 'seconds' && /^\d+\.\d{1,3}$/.test(String(v)))) out.push(`${p}: a float ${v}`);
    if (AMOUNT_KEYS.has(k) && typeof v === 'number') out.push(`${p}: an amount as a number ${v}`);
    if (AMOUNT_KEYS.has(k) && typeof v === 'string' && !/^-?\d+\.\d{2}$/.test(v)) out.push(`${p}: "${v}" is not a yuan string`);
    out.push(...amountProblems(v, p));
  }
  return out;
}

const json = async (args: string[]): Promise<any> => {
  const res = await lendpay([...args, '--json']);
  assert.ok(res.code === 0 || res.code === 3, `lendpay ${args.join(' ')} --json: exit ${res.code}\n${res.stderr}`);
  let doc: unknown;
  try {
    doc = JSON.parse(res.stdout);
  } catch {
    assert.unreachable(`lendpay ${args.join(' ')} --json did not print one JSON document:\n${res.stdout}`);
  }
  assert.equal(amountProblems(doc), [], `lendpay ${args.join(' ')} --json`);
  return doc;
};

test.before(async () => {
  t = await freshDatabase('cli_output');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-output-'));
});
test.after(async () => {
  await t.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('every line reaches a slow reader at the end of a pipe (decisions, 4,002 customers)', async () => {
  const file = path.join(tmp, 'population.jsonl');
  assert.is((await lendpay(['generate', '--out', file, '--size', '4000', '--date', today])).code, 0);
  assert.is((await lendpay(['import', file])).code, 0);
  // two borrowers for the next test, decided by the same run
  const flow = Object.fromEntries(monthsBefore(today, 6).map((m) => [m, '100000.00']));
  const line = (id: string) => JSON.stringify({
    id, name: 'x', segment: 'supply_chain', realNameVerified: true, whitelist: null,
    accounts: [{ id: `${id}-A`, primary: true, balance: '0.00' }], bankCards: [{ id: `${id}-K`, bank: 'CMB', last4: '9651', balance: '100000.00' }], monthlyFlow: flow,
  });
  fs.writeFileSync(path.join(tmp, 'j.jsonl'), [line('J1'), line('J2')].join('\n') + '\n');
  assert.is((await lendpay(['import', path.join(tmp, 'j.jsonl')])).code, 0);

  const nightly = await lendpay(['batch', 'nightly', '--date', today, '--no-progress']);
  assert.is(nightly.code, 0, nightly.stderr);
  // the issue's own reproduction: a reader that takes each line through the shell
  const slow = `node ${JSON.stringify(BIN)} decisions --date ${today} --json | (while IFS= read -r l; do printf '%s\\n' "$l"; done) | wc -l`;
  for (let i = 0; i < 3; i++) assert.is(Number((await sh(slow)).trim()), 4002, `run ${i + 1}: every line`);
});

test('--json everywhere a script would want it, amounts as yuan strings', async () => {

  // imported and decided with the population by the first test: this is its replay
  const day = today;
  const nightly = await json(['batch', 'nightly', '--date', day]);
  assert.type(nightly.summary.totalLimit, 'string', 'the nightly summary\'s limits are yuan');
  // commands that only read run side by side: each is a Node start-up
  await Promise.all([json(['decisions', '--customer', 'J1']), json(['explain', 'J1', '--date', day]), json(['rules', 'validate']).then((v) => assert.is(v.valid, true))]);
  const loan = await json(['loan', 'apply', '--customer', 'J1', '--amount', '3000.00', '--to', 'balance', '--request-id', 'out-1']);
  assert.is(loan.loan.principal, '3000.00');
  const spent = await json(['sandbox', 'withdraw', '--account', 'J1-A', '--amount', '3000.00']);
  assert.equal([spent.ok, spent.amount], [true, '3000.00']);

  const D = addDays(today, 4);
  fs.writeFileSync(path.join(tmp, 's.jsonl'), JSON.stringify({ accountId: 'J1-A', amount: '50.00' }) + '\n');
  const settle = await json(['sandbox', 'settle', '--date', D, '--file', path.join(tmp, 's.jsonl')]);
  assert.is(settle.settlement.total, '50.00');
  const runId = settle.postSettlement.runId as number;
  await Promise.all([json(['batch', 'post-settlement', '--date', D]), json(['customer', 'show', 'J1']), json(['loan', 'show', loan.loan.id])]);
  await json(['holds', 'monitor']);
  const blocked = await json(['sandbox', 'withdraw', '--account', 'J1-A', '--amount', '1.00']);
  assert.equal([blocked.ok, blocked.code], [false, 'OUTFLOW_BLOCKED']);
  await json(['recover', '--older-than', '0']);
  await json(['ops', 'tick']);
  await Promise.all([json(['ops', 'queue']), json(['reprocess', 'batch', String(runId), '--failed', '--no-work']), json(['reconcile'])]);
  const released = await json(['holds', 'release', 'J1', '--by', 'ann', '--reason', 'a test of --json']);
  assert.type(released.amount, 'string');
  await json(['order', 'show', `disburse:${loan.loan.id}:payout`]);
  await json(['reprocess', 'order', `disburse:${loan.loan.id}:payout`]);

  const same = await json(['rules', 'activate', '--by', 'ann', '--reason', 'nothing new']);
  assert.is(same.activated, false);
  const rolled = await json(['rules', 'rollback', '1', '--by', 'ann', '--reason', 'a test of --json']);
  assert.is(rolled.version.reason, 'a test of --json');
  await Promise.all([json(['rules', 'history']), json(['rules', 'simulate']), json(['alerts', 'check'])]);
  await json(['alerts', 'list']);
  const tb = await json(['ledger', 'trial-balance']);
  assert.is(tb.balanced, true);
});

test('decisions: --json for a date and for a customer alike; a table by default', async () => {
  const table = await lendpay(['decisions', '--date', today]);
  assert.match(table.stdout.split('\n')[0]!, /^customer\s+decision\s+door\s+limit\s+reasons$/);
  const lines = (await lendpay(['decisions', '--date', today, '--json'])).stdout.trim().split('\n');
  assert.equal(Object.keys(JSON.parse(lines[0]!)), ['customerId', 'eligible', 'door', 'limit', 'reasons', 'ruleSetHash']);
  const old = (await lendpay(['decisions', '--date', today, '--format', 'jsonl'])).stdout.trim().split('\n');
  assert.is(old.length, lines.length, 'the old --format jsonl still works for scripts that use it');
});

test.run();
