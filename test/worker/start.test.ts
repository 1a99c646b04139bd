// A worker and its database coming and going (issue 19, chaos seed 70028): a start that
// loses its connections is tried again at whatever step it was in, a start whose
// database never comes back gives up with one line, and a running worker outlives a
// lost connection. The database is lost for real: a proxy in front of PostgreSQL has
// the server terminate the worker's backends and refuses new connections for a while.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { startCutProxy, type CutProxy } from './cut-proxy.ts';
import { createContext } from '../../src/cli/context.ts';
import { startWorkerCommand } from '../../src/cli/commands/worker.ts';
import { START_STEPS, isConnectionLoss } from '../../jobs/start.ts';
import { LendpayError } from '../../src/errors.ts';
import { startBoss } from '../../jobs/boss.ts';
import { WORKER_QUEUES } from '../../jobs/worker.ts';
import { importCustomersFile } from '../../db/import.ts';
import { findBatchRun } from '../../db/batch.repository.ts';
import { businessDateAt, monthsBefore } from '../../src/dates.ts';
import { addDays } from '../../src/loans/schedule.ts';
import type { PgBoss } from 'pg-boss';

let t: TestDatabase;
let boss: PgBoss;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-start-'));
const scheduleFile = path.join(tmp, 'schedule.json');
const today = businessDateAt(new Date());

test.before(async () => {
  t = await freshDatabase('worker_start');
  const flows = Object.fromEntries(monthsBefore(today, 6).map((m) => [m, '100000.00']));
  const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({
    id: `S${String(i).padStart(3, '0')}`, name: 'n', segment: 'open_platform', realNameVerified: true, whitelist: null,
    accounts: [{ id: `S${i}-A`, primary: true, balance: '0.00' }], bankCards: [], monthlyFlow: flows,
  }));
  fs.writeFileSync(path.join(tmp, 'c.jsonl'), lines.join('\n') + '\n');
  await importCustomersFile(t.db, path.join(tmp, 'c.jsonl'));
  // a schedule whose start touches the database (a catch-up tick), and nothing that needs the platform
  fs.writeFileSync(scheduleFile, JSON.stringify({
    timezone: 'Asia/Shanghai',
    jobs: { 'nightly-eligibility': { cron: '30 1 * * *', queue: WORKER_QUEUES.scheduleNightly, slot: 'day', catchUp: true } },
  }));
  boss = await startBoss(t.url);
});
test.after(async () => {
  await boss.stop({ graceful: false, close: true }).catch(() => {});
  await t.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A nightly run for `date`, started by a tick the worker takes: proof that it works. */
async function nightlyThroughWorker(date: string): Promise<void> {
  await boss.send(WORKER_QUEUES.scheduleNightly, { job: 'nightly-eligibility', slot: date, businessDate: date });
  await until(`the nightly run of ${date}`, async () => (await findBatchRun(t.db, 'nightly', date))?.status === 'finished');
}

function env(url: string): Record<string, string> {
  // no platform is reached while starting; a worker refuses to start without one named or asked for
  return { DATABASE_URL: url, LENDPAY_RULES_DIR: path.resolve('rules'), LENDPAY_DATA_DIR: tmp, LENDPAY_SCHEDULE_FILE: scheduleFile, LENDPAY_LOG_LEVEL: 'silent', LENDPAY_CHUNK_SIZE: '10', LENDPAY_SANDBOX_IN_PROCESS: '1' };
}

test('worker-start-loses-database-at-each-step: a start whose connections are terminated at any step tries again, says so, and the worker then works', async () => {
  const said: string[] = [];
  const stderr = process.stderr.write.bind(process.stderr);
  let day = 10;
  for (const step of START_STEPS) {
    const proxy: CutProxy = await startCutProxy(t.url, `victim-${step}`);
    const ctx = createContext(env(proxy.url));
    let cut = false;
    said.length = 0;
    process.stderr.write = ((chunk: string) => { said.push(String(chunk)); return true; }) as never;
    try {
      const worker = await startWorkerCommand(ctx, { schedule: true, http: true, port: '0', startTimeout: '60' }, {
        onStartStep: async (s) => {
          if (s === step && !cut) {
            cut = true;
            await proxy.cut(800);
          }
        },
      }).catch((e: Error) => {
        // uvu cannot print a LendpayError (its details are a list): say it as text
        throw new Error(`${step}: the worker did not start: ${e.message}`);
      });
      process.stderr.write = stderr;
      assert.ok(cut, `the start went through ${step}`);
      assert.ok(said.some((l) => /^worker start: the database connection failed while .+; trying again in \d/.test(l)), `${step}: the lost connection was said and tried again:\n${said.join('')}`);
      assert.ok(said.every((l) => !/^error:/.test(l)), `${step}: no error`);
      await nightlyThroughWorker(addDays(today, day++));
      await worker.stop();
    } finally {
      process.stderr.write = stderr;
      await ctx.close();
      await proxy.close();
    }
  }
});

test('worker-start-knows-a-lost-connection: what a lost or refused connection says (pg, node, kysely), through causes; nothing else is retried', () => {
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });
  for (const e of [
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('57P03', 'the database system is starting up'),
    pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
    new Error('Connection terminated unexpectedly'),
    new Error('Postgres connection has been discarded'),
    new LendpayError('DATABASE_UNAVAILABLE', 'migration  failed: x', { cause: pgError('08006', 'connection failure') }),
    new LendpayError('RULES_INVALID', '3 problems in rules', { cause: new Error('Connection terminated unexpectedly') }),
  ]) assert.ok(isConnectionLoss(e), e.message);
  for (const e of [
    new LendpayError('RULES_INVALID', '3 problems in rules'),
    new LendpayError('INVALID_CONFIG', 'LENDPAY_API_PORT: expected a whole number'),
    pgError('42P01', 'relation "x" does not exist'),
    new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'),
  ]) assert.not.ok(isConnectionLoss(e), e.message);
});

function spawnWorker(url: string, extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['src/cli/bin.js', 'worker', '--no-schedule', '--no-http'], {
    env: { ...process.env, ...env(url), LENDPAY_LOG_LEVEL: 'info', ...extra }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let alive = true;
  void exited.then(() => { alive = false; });
  return { child, exited, out: () => out, err: () => err, alive: () => alive };
}

test('worker-start-gives-up-with-one-line: a database that never comes back: tries said on stderr, then one error line and exit 1', async () => {
  const proxy = await startCutProxy(t.url, 'victim-never');
  await proxy.cut(120_000);
  const w = spawnWorker(proxy.url, { LENDPAY_WORKER_START_TIMEOUT_SECONDS: '2' });
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 30_000);
  const { code } = await w.exited;
  clearTimeout(timer);
  await proxy.close();
  const lines = w.err().split('\n').filter((l) => l.trim());
  assert.is(code, 1, w.err());
  assert.ok(lines.filter((l) => l.startsWith('worker start: ')).length >= 2, `it tried more than once:\n${w.err()}`);
  const errors = lines.filter((l) => !l.startsWith('worker start: '));
  assert.is(errors.length, 1, `one line when it gives up:\n${w.err()}`);
  assert.match(errors[0]!, /^error: worker not started: the database connection failed while opening the database and did not come back in 2 s \(\d+ tries; last error: .+\)$/);
});

test('worker-keeps-running-when-its-connections-drop: a running worker whose database (pg-boss\'s connections too) goes away for 3 s keeps running and takes the next batch', async () => {
  const proxy = await startCutProxy(t.url, 'victim-running');
  const w = spawnWorker(proxy.url);
  try {
    await until('the worker to start', async () => /"msg":"worker started"/.test(w.out()), 30_000);
    await proxy.cut(3000);
    await new Promise((r) => setTimeout(r, 3500));
    assert.ok(w.alive(), `the worker is still running:\n${w.out().slice(-2000)}\n${w.err()}`);
    await nightlyThroughWorker(addDays(today, 40));
    assert.ok(w.alive(), 'and still running after the batch');
    w.child.kill('SIGTERM');
    assert.is((await w.exited).code, 0, w.err());
  } finally {
    if (w.alive()) w.child.kill('SIGKILL');
    await proxy.close();
  }
});

test.run();
