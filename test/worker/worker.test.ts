// Real workers on real Postgres: three workers and a real cron tick start one nightly
// batch once; a worker killed (SIGKILL) with a chunk in hand has that chunk finished by
// another; a missed tick is caught up once; SIGTERM exits 0.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { PgBoss } from 'pg-boss';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { startBoss, QUEUES } from '../../jobs/boss.ts';
import { startWorker, WORKER_QUEUES, type RunningWorker, type WorkerDeps } from '../../jobs/worker.ts';
import { parseSchedule, slotOf, startSchedule, tick, lastScheduledAt, type Schedule } from '../../jobs/schedule.ts';
import { startNightlyRun } from '../../jobs/nightly.ts';
import { importCustomersFile } from '../../db/import.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { saveRuleSet } from '../../db/rulesets.repository.ts';
import { findBatchRun, runProgress } from '../../db/batch.repository.ts';
import { cronTicks } from '../../db/api.repository.ts';
import { businessDateAt, monthsBefore, systemClock, parseBusinessDate } from '../../src/dates.ts';
import { makeLogger } from '../../src/api/log.ts';

const N = 60;
const CHUNK = 5;
const silent = makeLogger('silent');
let t: TestDatabase;
const bosses: PgBoss[] = [];

test.before(async () => {
  t = await freshDatabase('worker');
  const today = businessDateAt(new Date());
  const flows = Object.fromEntries(monthsBefore(today, 6).map((m) => [m, '100000.00']));
  const lines = Array.from({ length: N }, (_, i) => JSON.stringify({
    id: `W${String(i).padStart(3, '0')}`, name: 'n', segment: 'open_platform', realNameVerified: true, whitelist: null,
    accounts: [{ id: `W${i}-A`, primary: true, balance: '0.00' }], bankCards: [], monthlyFlow: flows,
  }));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-')), 'c.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  await importCustomersFile(t.db, file);
});
test.after(async () => {
  for (const b of bosses) await b.stop({ graceful: false, close: true }).catch(() => {});
  await t.drop();
});

async function boss(): Promise<PgBoss> {
  const b = await startBoss(t.url);
  bosses.push(b);
  return b;
}

function workerDeps(b: PgBoss, id: string, schedule: Schedule | null): WorkerDeps {
  return {
    db: t.db, boss: b, clock: systemClock, log: silent, workerId: id, rulesDir: path.resolve('rules'), chunkSize: CHUNK, concurrency: 2,
    disburseDeps: async () => { throw new Error('not in this test'); }, schedule, http: null,
  };
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function count(q: string, ...params: unknown[]): Promise<number> {
  const r = await t.pool.query(q, params);
  return Number(r.rows[0].n);
}

test('slots are derived from the scheduled time in Asia/Shanghai', () => {
  const at = new Date('2026-07-01T17:30:05Z'); // 01:30:05 on 2 July in Shanghai
  assert.equal(slotOf('day', at, 'Asia/Shanghai'), { slot: '2026-07-02', businessDate: '2026-07-02' });
  assert.is(slotOf('minute', at, 'Asia/Shanghai').slot, '2026-07-02T01:30');
  const job = parseSchedule({ timezone: 'Asia/Shanghai', jobs: { n: { cron: '30 1 * * *', queue: 'q', slot: 'day' } } }, 'x').jobs[0]!;
  assert.equal(lastScheduledAt(job, 'Asia/Shanghai', new Date('2026-07-02T03:00:00Z')), new Date('2026-07-01T17:30:00Z'));
  assert.throws(() => parseSchedule({ timezone: 'Asia/Shanghai', jobs: { n: { cron: 'every day', queue: 'q', slot: 'day' } } }, 'x'), /jobs\/n\/cron/);
  assert.throws(() => parseSchedule({ timezone: 'Asia/Shanghai', jobs: { n: { cron: '* * * * *', queue: 'q', slot: 'week' } } }, 'x'), /slot/);
});

test('the shipped schedule parses', async () => {
  const { loadSchedule } = await import('../../jobs/schedule.ts');
  const s = loadSchedule(path.resolve('jobs/schedule.json'));
  assert.is(s.timezone, 'Asia/Shanghai');
  assert.ok(s.jobs.find((j) => j.name === 'nightly-eligibility' && j.enabled && j.catchUp));
  // the escalation ladder queries unknown outcomes every minute; the blunt recover-unknown pass is off
  assert.ok(s.jobs.find((j) => j.name === 'escalation-tick' && j.enabled && j.slot === 'minute'));
  assert.ok(s.jobs.find((j) => j.name === 'recover-unknown' && !j.enabled));
  for (const name of ['post-settlement-fallback', 'hold-monitor', 'reconciliation', 'notifications', 'alerts']) {
    assert.ok(s.jobs.find((j) => j.name === name && j.enabled), `${name} is scheduled`);
  }
});

test('three workers and a real cron tick (every second) start one nightly batch, once', async () => {
  const schedule = parseSchedule({
    timezone: 'Asia/Shanghai',
    jobs: { 'nightly-eligibility': { cron: '* * * * * *', queue: WORKER_QUEUES.scheduleNightly, slot: 'day' } },
  }, 'test schedule');
  const workers: RunningWorker[] = [];
  for (const id of ['w1', 'w2', 'w3']) workers.push(await startWorker(workerDeps(await boss(), id, schedule)));
  const today = businessDateAt(new Date());
  const run = await until('the nightly run to finish', async () => {
    const r = await findBatchRun(t.db, 'nightly', today);
    return r?.status === 'finished' ? r : null;
  });
  // Let several more ticks fire on all three workers: still one claim, one job, one run.
  await new Promise((r) => setTimeout(r, 2500));
  await Promise.all(workers.map((w) => w.stop()));

  assert.equal((await cronTicks(t.db, 'nightly-eligibility')).map((x) => x.slot), [today]);
  assert.is(await count('select count(*) as n from batch_runs'), 1);
  assert.is(await count('select count(*) as n from pgboss.job where name = $1', WORKER_QUEUES.scheduleNightly), 1);
  assert.is(run.totalChunks, N / CHUNK);
  assert.is(await count('select count(*) as n from pgboss.job where name = $1', QUEUES.nightlyChunk), N / CHUNK);
  assert.equal(await runProgress(t.db, run.id), { totalChunks: N / CHUNK, doneChunks: N / CHUNK, items: N });
  assert.is(await count('select count(*) as n from eligibility_decisions where business_date = $1', today), N);
});

test('concurrent ticks of one slot: exactly one enqueues', async () => {
  const b = await boss();
  await b.createQueue('test-tick').catch(() => {});
  const schedule = parseSchedule({ timezone: 'Asia/Shanghai', jobs: { 'test-tick': { cron: '*/5 * * * *', queue: 'test-tick', slot: 'minute' } } }, 'x');
  const job = schedule.jobs[0]!;
  const at = new Date('2026-03-02T02:05:00Z');
  const results = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => tick({ db: t.db, boss: b, workerId: id }, schedule, job, at)));
  assert.is(results.filter(Boolean).length, 1);
  assert.is(await count(`select count(*) as n from pgboss.job where name = 'test-tick' and singleton_key = 'test-tick:2026-03-02T10:05'`), 1);
});

test('on start, a worker catches up the tick it missed, once across workers', async () => {
  const b = await boss();
  await b.createQueue('test-catchup').catch(() => {});
  const schedule = parseSchedule({ timezone: 'Asia/Shanghai', jobs: { 'test-catchup': { cron: '0 0 * * *', queue: 'test-catchup', slot: 'day', catchUp: true } } }, 'x');
  const deps = { db: t.db, boss: b, clock: systemClock, log: silent };
  const s1 = await startSchedule({ ...deps, workerId: 'c1' }, schedule);
  const s2 = await startSchedule({ ...deps, workerId: 'c2' }, schedule);
  await s1.stop();
  await s2.stop();
  const ticks = await cronTicks(t.db, 'test-catchup');
  assert.equal(ticks.map((x) => x.slot), [businessDateAt(new Date())]);
  assert.is(await count(`select count(*) as n from pgboss.job where name = 'test-catchup'`), 1);
});

function spawnWorker(env: Record<string, string>, args: string[]) {
  const child = spawn(process.execPath, ['src/cli/bin.js', 'worker', ...args], {
    env: { ...process.env, DATABASE_URL: t.url, LENDPAY_LOG_LEVEL: 'info', LENDPAY_SANDBOX_IN_PROCESS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

test('a worker killed (SIGKILL) with a chunk in hand: another worker finishes its chunks', async () => {
  const date = parseBusinessDate('2026-06-15');
  // A supervisor that expires abandoned jobs every second; the chunk queue expires jobs after 3 s.
  const supervisor = new PgBoss({ connectionString: t.url, schema: 'pgboss', superviseIntervalSeconds: 1, monitorIntervalSeconds: 1, max: 2 });
  supervisor.on('error', () => {});
  await supervisor.start();
  bosses.push(supervisor);
  await supervisor.updateQueue(QUEUES.nightlyChunk, { expireInSeconds: 3, retryDelay: 0, retryBackoff: false, retryLimit: 5 });

  const ruleSet = await loadRuleSet(path.resolve('rules'));
  await saveRuleSet(t.db, ruleSet.hash, 'rules', ruleSet.files);
  const { run } = await startNightlyRun(t.db, supervisor, date, ruleSet.hash, CHUNK);

  // The child does two chunks, then dies with its third chunk (and its fetched batch) in hand.
  const victim = spawnWorker({ LENDPAY_CRASH_POINT: 'worker.nightly-chunk@3', LENDPAY_WORKER_CONCURRENCY: '1' }, ['--no-schedule', '--no-http']);
  const { signal } = await victim.exited;
  assert.is(signal, 'SIGKILL', victim.output());
  const before = await runProgress(t.db, run.id);
  assert.is(before.doneChunks, 2, 'the victim finished two chunks before it died');
  // Its fetched batch (the chunk in hand and the ones behind it) is stranded as active.
  const stranded = await count(`select count(*) as n from pgboss.job where name = $1 and state = 'active'`, QUEUES.nightlyChunk);
  assert.ok(stranded >= 1, 'jobs were left in the dead worker\'s hands');

  const rescuer = await startWorker(workerDeps(await boss(), 'rescuer', null));
  await until('the run to finish', async () => (await findBatchRun(t.db, 'nightly', date))?.status === 'finished', 25_000);
  await rescuer.stop();
  assert.equal(await runProgress(t.db, run.id), { totalChunks: N / CHUNK, doneChunks: N / CHUNK, items: N });
  assert.is(await count('select count(*) as n from eligibility_decisions where business_date = $1', date), N);
  assert.ok(await count(`select count(*) as n from pgboss.job where name = $1 and retry_count > 0`, QUEUES.nightlyChunk) >= stranded, 'every abandoned job was retried');
  await supervisor.updateQueue(QUEUES.nightlyChunk, { expireInSeconds: 600, retryDelay: 2, retryBackoff: true, retryLimit: 3 });
});

test('SIGTERM: the worker process stops taking work and exits 0', async () => {
  const w = spawnWorker({ LENDPAY_SCHEDULE_FILE: path.resolve('jobs/schedule.json') }, ['--port', '0']);
  await until('the worker to listen', async () => /"msg":"listening"/.test(w.output()), 20_000);
  const url = /"api":"(http:[^"]+)"/.exec(w.output())![1]!;
  assert.equal(await (await fetch(`${url}/healthz`)).json(), { ok: true });
  w.child.kill('SIGTERM');
  const { code } = await w.exited;
  assert.is(code, 0, w.output());
  assert.match(w.output(), /worker stopped/);
});

test.run();
