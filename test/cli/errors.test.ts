// Errors, not failures: what a new user or an operator gets when a setting, an
// argument or the database is wrong. One line naming what is wrong and what would be
// right, never a stack trace, never a secret, a non-zero exit, nothing written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { freshDatabase, withDatabase, type TestDatabase } from '../helpers/db.ts';
import { loadConfig } from '../../src/config.ts';

const BIN = path.resolve('src/cli/bin.js');
const D = '2026-11-24';
let t: TestDatabase;
let tmp: string;

function lendpay(args: string[], env: Record<string, string> = {}, cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, DATABASE_URL: t.url, LENDPAY_SANDBOX_IN_PROCESS: '1', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** One error line (details may follow, indented), no stack trace. */
function oneLine(stderr: string): string {
  assert.not.match(stderr, /\n\s+at /, `no stack trace:\n${stderr}`);
  const lines = stderr.trim().split('\n').filter((l) => !l.startsWith(' '));
  assert.is(lines.length, 1, `one line:\n${stderr}`);
  return lines[0]!;
}

const customer = (id: string) => JSON.stringify({
  id, name: 'x', segment: 'open_platform', realNameVerified: true, whitelist: null,
  accounts: [{ id: `${id}-A`, primary: true, balance: '1.00' }], bankCards: [],
  monthlyFlow: { '2026-05': '1000.00', '2026-06': '1000.00', '2026-07': '1000.00', '2026-08': '1000.00', '2026-09': '1000.00', '2026-10': '1000.00' },
});

test.before(async () => {
  t = await freshDatabase('cli_errors');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-errors-'));
});
test.after(async () => {
  await t.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a bad setting is one line naming it and what is allowed, and --help works regardless', async () => {
  const short = await lendpay(['decisions', '--date', D], { LENDPAY_API_TOKEN: 'short' });
  assert.is(short.code, 1);
  assert.match(oneLine(short.stderr), /^error: LENDPAY_API_TOKEN: expected at least 16 characters$/);
  const help = await lendpay(['--help'], { LENDPAY_API_TOKEN: 'short' });
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: lendpay/);
  const level = await lendpay(['decisions', '--date', D], { LENDPAY_LOG_LEVEL: 'verbose' });
  assert.match(oneLine(level.stderr), /LENDPAY_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent/);
});

test('a DATABASE_URL that is not PostgreSQL is named without its password', async () => {
  const res = await lendpay(['rules', 'history'], { DATABASE_URL: 'mysql://user:s3cr3t-pw@db.example/app' });
  assert.is(res.code, 1);
  const line = oneLine(res.stderr);
  assert.match(line, /DATABASE_URL: expected postgres:\/\/user:password@host:port\/database, got a "mysql:" URL/);
  assert.not.match(res.stderr + res.stdout, /s3cr3t/);
  const hook = await lendpay(['rules', 'history'], { LENDPAY_ALERT_WEBHOOK: 'hooks.example/T0/secret-token' });
  assert.not.match(hook.stderr, /secret-token/);
  assert.match(oneLine(hook.stderr), /LENDPAY_ALERT_WEBHOOK: expected http\(s\):\/\/host:port/);
});

test('an unreachable database names the server, not an empty migration', async () => {
  const port = await freePort();
  const res = await lendpay(['rules', 'history'], { DATABASE_URL: `postgres://lendpay:pw-not-shown@127.0.0.1:${port}/books` });
  assert.is(res.code, 1);
  const line = oneLine(res.stderr);
  assert.match(line, new RegExp(`cannot reach the PostgreSQL server lendpay@127\\.0\\.0\\.1:${port}/books \\(DATABASE_URL\\): connection refused`));
  assert.not.match(line, /migration|pw-not-shown/);
  const missing = await lendpay(['rules', 'history'], { DATABASE_URL: withDatabase(t.url, 'lendpay_no_such_database') });
  assert.match(oneLine(missing.stderr), /lendpay_no_such_database \(DATABASE_URL\): the database does not exist/);
});

test('a taken port names the port and the setting that changes it', async () => {
  const server = net.createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  try {
    const worker = await lendpay(['worker', '--no-schedule'], { LENDPAY_API_PORT: String(port), LENDPAY_LOG_LEVEL: 'silent' });
    assert.is(worker.code, 1);
    assert.match(oneLine(worker.stderr), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use .*LENDPAY_API_PORT \\(or --port\\)`));
    const sandbox = await lendpay(['sandbox', 'serve', '--port', String(port)], { LENDPAY_SANDBOX_ADMIN_TOKEN: 'sandbox-admin-0123456789abcdef' });
    assert.is(sandbox.code, 1);
    assert.match(oneLine(sandbox.stderr), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*--port`));
  } finally {
    server.close();
  }
});

test('loan apply --amount 0.00 is refused at the CLI edge: no loan, no loan number used', async () => {
  const seq = async () => Number((await t.pool.query<{ v: string }>('select last_value as v from loan_numbers')).rows[0]!.v);
  const before = await seq();
  for (const amount of ['0.00', '0']) {
    const res = await lendpay(['loan', 'apply', '--customer', 'E1', '--amount', amount, '--to', 'balance', '--request-id', `zero-${amount}`]);
    assert.is(res.code, 1);
    assert.match(oneLine(res.stderr), /--amount: expected an amount above 0\.00/);
  }
  assert.is(await seq(), before, 'no loan number was taken');
  assert.is(Number((await t.pool.query('select count(*) as n from loans')).rows[0].n), 0);
  for (const args of [['repay', '--loan', 'L1', '--card', 'K1', '--amount', '0.00', '--request-id', 'r0'], ['sandbox', 'withdraw', '--account', 'A', '--amount', '0.00']]) {
    const res = await lendpay(args);
    assert.is(res.code, 1);
    assert.match(oneLine(res.stderr), /--amount: expected an amount above 0\.00/);
  }
});

test('reprocess batch: a run that does not exist is an error, a malformed one names a run id', async () => {
  const missing = await lendpay(['reprocess', 'batch', '999']);
  assert.is(missing.code, 1);
  assert.match(oneLine(missing.stderr), /no batch run 999/);
  const bad = await lendpay(['reprocess', 'batch', 'abc']);
  assert.is(bad.code, 1);
  assert.match(oneLine(bad.stderr), /run: expected a batch run id/);
});

test('ops confirm, ops reject and reprocess order take an idempotency key as order show does', async () => {
  for (const cmd of [['ops', 'confirm', 'disburse:L9:payout', '--by', 'ann'], ['ops', 'reject', 'disburse:L9:payout', '--by', 'ann', '--reason', 'test'], ['reprocess', 'order', 'disburse:L9:payout'], ['order', 'show', 'disburse:L9:payout']]) {
    const res = await lendpay(cmd);
    assert.is(res.code, 1, cmd.join(' '));
    assert.match(oneLine(res.stderr), /no order disburse:L9:payout/, cmd.join(' '));
  }
  // a real order by its key: a settled one is left alone, and says so
  await t.pool.query(`insert into orders (idempotency_key, kind, purpose, loan_id, customer_id, amount_fen, source_ref, destination_ref, status)
    values ('repay:errors-test', 'collection', 'repay', null, null, 100, 'K', 'LENDER-BAL', 'succeeded')`).catch((e: Error) => { throw new Error(`the test's order: ${e.message}`); });
  const res = await lendpay(['reprocess', 'order', 'repay:errors-test', '--json']);
  assert.is(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).orders[0].status, 'succeeded');
});

test('explain --help says --date is required, not that it defaults to today', async () => {
  const res = await lendpay(['explain', '--help']);
  assert.match(res.stdout, /--date <YYYY-MM-DD>\s+the business date of the decision \(required\)/);
  assert.not.match(res.stdout, /default today/);
});

test('a nightly date older than the latest run needs --backfill; the same date again is a replay', async () => {
  const file = path.join(tmp, 'c.jsonl');
  fs.writeFileSync(file, [customer('E1'), customer('E2')].join('\n') + '\n');
  assert.is((await lendpay(['import', file])).code, 0);
  const later = await lendpay(['batch', 'nightly', '--date', '2026-12-02', '--no-progress']);
  assert.is(later.code, 0, later.stderr);
  const older = await lendpay(['batch', 'nightly', '--date', '2026-11-26', '--no-progress']);
  assert.is(older.code, 1);
  assert.match(oneLine(older.stderr), /--date 2026-11-26 is older than the latest nightly run \(2026-12-02\): pass --backfill/);
  assert.is(Number((await t.pool.query(`select count(*) as n from batch_runs where business_date = '2026-11-26'`)).rows[0].n), 0, 'nothing was claimed');
  const again = await lendpay(['batch', 'nightly', '--date', '2026-12-02', '--no-progress']);
  assert.is(again.code, 0, 'a date that has its run replays without --backfill');
  const backfill = await lendpay(['batch', 'nightly', '--date', '2026-11-26', '--backfill', '--json']);
  assert.is(backfill.code, 0, backfill.stderr);
  assert.is(JSON.parse(backfill.stdout).status, 'finished');
  const post = await lendpay(['batch', 'post-settlement', '--date', '2026-12-02', '--no-progress']);
  assert.is(post.code, 0, post.stderr);
  const postOlder = await lendpay(['batch', 'post-settlement', '--date', '2026-11-30', '--no-progress']);
  assert.is(postOlder.code, 1);
  assert.match(oneLine(postOlder.stderr), /older than the latest post-settlement run \(2026-12-02\): pass --backfill/);
});

test('long work shows progress on stderr, a line at each tenth, apart from the result on stdout', async () => {
  const res = await lendpay(['batch', 'nightly', '--date', '2026-12-03'], { LENDPAY_CHUNK_SIZE: '1' });
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stderr, /^… nightly 2026-12-03: \d+\/2 chunks, \d+ customers$/m);
  assert.not.match(res.stdout, /…/);
});

test('--version prints the package version', async () => {
  const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
  const res = await lendpay(['--version']);
  assert.is(res.code, 0);
  assert.is(res.stdout.trim(), version);
});

test('one project, one database: the data directory is found by walking up; outside a project it is refused', async () => {
  const root = path.resolve('.');
  assert.is(loadConfig({}, path.join(root, 'rules')).dataDir, path.join(root, '.lendpay'));
  assert.is(loadConfig({}, path.join(root, 'rules', 'tests')).rulesDir, path.join(root, 'rules'));
  assert.is(loadConfig({ LENDPAY_DATA_DIR: 'elsewhere' }, tmp).dataDir, path.join(tmp, 'elsewhere'));
  assert.is(loadConfig({}, tmp).dataDir, null);
  const outside = await lendpay(['rules', 'history'], { DATABASE_URL: '' }, tmp);
  assert.is(outside.code, 1);
  assert.match(oneLine(outside.stderr), /not inside a lendpay project .*cd into your lendpay clone, or set LENDPAY_DATA_DIR \(or DATABASE_URL\)/);
  assert.not.ok(fs.existsSync(path.join(tmp, '.lendpay')), 'no second server was started');
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

test.run();
