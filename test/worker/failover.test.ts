// Issue 15, "Failover in seconds, not in ten minutes": a job held by a `lendpay worker`
// killed with SIGKILL is finished by a live worker within FAILOVER_BOUND_SECONDS of the
// kill, whatever the queue. Real worker processes, a real sandbox platform process, the
// production queue settings (pg-boss job heartbeats): before them a nightly chunk held by
// a dead worker waited out its 600 s expiry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import type { PgBoss } from 'pg-boss';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { spawnCli, runCli, waitFor, type Child } from '../chaos/procs.ts';
import { startBoss, ensureQueue, QUEUES, FAILOVER_BOUND_SECONDS, HEARTBEAT_SECONDS, RETRY_DELAY_MAX_SECONDS } from '../../jobs/boss.ts';
import { ESCALATION_QUEUES, ensureEscalationQueues } from '../../jobs/escalation.ts';
import { startNightlyRun } from '../../jobs/nightly.ts';
import { POST_SETTLEMENT } from '../../jobs/post-settlement.ts';
import { activeRuleSetForBatch } from '../../jobs/active-rules.ts';
import { claimBatchRun, findBatchRun, getBatchRun } from '../../db/batch.repository.ts';
import { importCustomersFile } from '../../db/import.ts';
import { openImportedOnSandbox, randomAdminToken } from '../../src/sandbox/admin.ts';
import { businessDateAt, monthsBefore, parseBusinessDate } from '../../src/dates.ts';

const N = 120;
const CHUNK = 5;
let t: TestDatabase;
let boss: PgBoss;
let sandbox: Child;
let platformUrl = '';
let sandboxToken = '';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-failover-'));
const children: Child[] = [];

test.before(async () => {
  t = await freshDatabase('failover');
  const today = businessDateAt(new Date());
  const flows = Object.fromEntries(monthsBefore(today, 6).map((m) => [m, '100000.00']));
  const lines = Array.from({ length: N }, (_, i) => JSON.stringify({
    id: `F${String(i).padStart(3, '0')}`, name: 'n', segment: 'open_platform', realNameVerified: true, whitelist: null,
    accounts: [{ id: `F${i}-A`, primary: true, balance: '1000.00' }], bankCards: [], monthlyFlow: flows,
  }));
  fs.writeFileSync(path.join(tmp, 'c.jsonl'), lines.join('\n') + '\n');
  await importCustomersFile(t.db, path.join(tmp, 'c.jsonl'));
  // the test only sends: the live workers' own supervisors must notice the dead one
  boss = await startBoss(t.url, { supervise: false });
  await ensureEscalationQueues(boss);
  const port = await freePort();
  platformUrl = `http://127.0.0.1:${port}`;
  // the sandbox's admin routes take a token of their own: the test opens the accounts with it
  const adminToken = randomAdminToken();
  sandbox = spawnCli(['sandbox', 'serve', '--port', String(port)], { DATABASE_URL: t.url, LENDPAY_LOG_LEVEL: 'warn', LENDPAY_SANDBOX_ADMIN_TOKEN: adminToken });
  if (!(await waitFor(sandbox, /listening on (http:\/\/\S+?) /, 30_000))) throw new Error(`the sandbox did not start: ${sandbox.output()}`);
  await openImportedOnSandbox(t.db, { url: platformUrl, adminToken });
  sandboxToken = adminToken;
});
test.after(async () => {
  for (const c of [...children, sandbox]) if (c?.alive()) c.proc.kill('SIGKILL');
  await boss.stop({ graceful: false, close: true }).catch(() => {});
  await t.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function worker(extra: Record<string, string> = {}): Child {
  const c = spawnCli(['worker', '--no-schedule', '--no-http'], {
    DATABASE_URL: t.url, LENDPAY_CHANNEL_URL: platformUrl, LENDPAY_SANDBOX_ADMIN_TOKEN: sandboxToken, LENDPAY_DATA_DIR: tmp, LENDPAY_CHUNK_SIZE: String(CHUNK),
    LENDPAY_WORKER_CONCURRENCY: '1', LENDPAY_LOG_LEVEL: 'info', ...extra,
  });
  children.push(c);
  return c;
}

async function started(c: Child): Promise<void> {
  if (!(await waitFor(c, /"msg":"worker started"/, 30_000))) throw new Error(`the worker did not start:\n${c.output().slice(-3000)}`);
}

/** Dies by its crash point (SIGKILL) within 30 s; returns when. */
async function killedAt(victim: Child): Promise<number> {
  const timer = setTimeout(() => victim.proc.kill('SIGTERM'), 30_000);
  const { signal } = await victim.exited;
  clearTimeout(timer);
  assert.is(signal, 'SIGKILL', `the victim was killed -9 holding its job, not stopped:\n${victim.output().slice(-2000)}`);
  return Date.now();
}

/** Waits for `done` until the bound after the kill; the seconds it took, or a failure naming the queue. */
async function finishedWithinBound(queue: string, kill: number, done: () => Promise<boolean>): Promise<number> {
  const end = kill + FAILOVER_BOUND_SECONDS * 1000;
  for (;;) {
    if (await done().catch(() => false)) return (Date.now() - kill) / 1000;
    if (Date.now() > end) {
      const jobs = await t.pool.query(`select state, retry_count, heartbeat_seconds, output from pgboss.job where name = $1 order by created_on`, [queue]);
      assert.unreachable(`${queue}: not finished ${FAILOVER_BOUND_SECONDS} s after the kill; jobs: ${JSON.stringify(jobs.rows)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function heldBy(queue: string): Promise<number> {
  const r = await t.pool.query(`select count(*)::int as n from pgboss.job where name = $1 and state = 'active'`, [queue]);
  return r.rows[0].n as number;
}

async function stop(c: Child): Promise<void> {
  c.proc.kill('SIGTERM');
  assert.is((await c.exited).code, 0, c.output().slice(-2000));
}

test('failover-in-seconds: every lendpay queue carries job heartbeats, so a dead worker is noticed in seconds', async () => {
  for (const q of [...Object.values(QUEUES), ESCALATION_QUEUES.tick, ESCALATION_QUEUES.reprocess]) {
    assert.is((await boss.getQueue(q))?.heartbeatSeconds, HEARTBEAT_SECONDS, q);
  }
});

test('failover-in-seconds: a queue made before heartbeats (an earlier lendpay\'s database) is brought up to them; what an operator tuned stays', async () => {
  await boss.createQueue('made-before', { retryLimit: 7, retryDelay: 2, retryBackoff: true, expireInSeconds: 600 });
  await boss.createQueue('made-before-fixed-delay', { retryLimit: 7, retryDelay: 1, expireInSeconds: 600 });
  for (const name of ['made-before', 'made-before-fixed-delay']) {
    assert.is((await boss.getQueue(name))?.heartbeatSeconds ?? null, null, 'pg-boss made it without');
    await ensureQueue(boss, name, { retryLimit: 3, retryDelay: 2, expireInSeconds: 600 });
    const q = await boss.getQueue(name);
    assert.is(q?.heartbeatSeconds, HEARTBEAT_SECONDS, name);
    assert.is(q?.retryLimit, 7, 'the retry limit it had');
  }
  assert.is((await boss.getQueue('made-before'))?.retryDelayMax, RETRY_DELAY_MAX_SECONDS, 'backoff capped');
  assert.is((await boss.getQueue('made-before-fixed-delay'))?.retryBackoff, false, 'a fixed delay stays fixed (pg-boss takes no maximum for it)');
});

test(`failover-in-seconds: two workers on a nightly batch, one killed -9 mid-batch: the live one finishes it within ${FAILOVER_BOUND_SECONDS} s of the kill`, async () => {
  const date = parseBusinessDate('2026-06-15');
  const live = worker();
  const victim = worker({ LENDPAY_CRASH_POINT: 'worker.nightly-chunk@2' });
  await Promise.all([started(live), started(victim)]);
  const { version } = await activeRuleSetForBatch(t.db, path.resolve('rules'));
  const { run } = await startNightlyRun(t.db, boss, date, version.hash, CHUNK);
  assert.is(run.totalChunks, N / CHUNK);
  const kill = await killedAt(victim);
  assert.ok(await heldBy(QUEUES.nightlyChunk) >= 1, 'the victim died with chunks in hand');
  await finishedWithinBound(QUEUES.nightlyChunk, kill, async () => (await getBatchRun(t.db, run.id))?.status === 'finished');
  await stop(live);
  const decided = await t.pool.query('select count(*)::int as n from eligibility_decisions where business_date = $1', [date]);
  assert.is(decided.rows[0].n, N, 'every customer decided once');
});

const jobState = async (id: string | null) => (await t.pool.query(`select state from pgboss.job where id = $1`, [id])).rows[0]?.state as string | undefined;

test(`failover-in-seconds: a post-settlement chunk, an escalation tick and an operator's reprocess job held by a worker killed -9 are finished by a live worker within ${FAILOVER_BOUND_SECONDS} s`, async () => {
  const { version } = await activeRuleSetForBatch(t.db, path.resolve('rules'));
  // a real order to reprocess: a loan paid out through the platform
  const today = businessDateAt(new Date());
  const env = { DATABASE_URL: t.url, LENDPAY_CHANNEL_URL: platformUrl, LENDPAY_SANDBOX_ADMIN_TOKEN: sandboxToken, LENDPAY_DATA_DIR: tmp, LENDPAY_LOG_LEVEL: 'warn' };
  const nightly = await runCli(['batch', 'nightly', '--date', today, '--no-progress'], env);
  assert.is(nightly.code, 0, nightly.out);
  const loan = await runCli(['loan', 'apply', '--customer', 'F001', '--amount', '1000.00', '--request-id', 'failover-1', '--json'], env);
  assert.is(loan.code, 0, loan.out);
  const orderId = Number((await t.pool.query(`select id from orders order by id desc limit 1`)).rows[0].id);
  // a post-settlement run of one chunk over every borrower (nobody owes anything: the chunk only has to run)
  const date = parseBusinessDate('2026-06-16');
  const { run } = await claimBatchRun(t.db, POST_SETTLEMENT, date, version.hash, async () => ['']);

  // The victim holds every job it takes (never returns from it, heartbeats going) until it is killed.
  const victim = worker({ LENDPAY_CRASH_POINT: 'hold:job:*' });
  await started(victim);
  const jobs = {
    [QUEUES.postSettlementChunk]: await boss.send(QUEUES.postSettlementChunk, { runId: run.id, chunkNo: 0 }),
    [ESCALATION_QUEUES.tick]: await boss.send(ESCALATION_QUEUES.tick, { job: 'escalation-tick', slot: 'test', businessDate: date }),
    [ESCALATION_QUEUES.reprocess]: await boss.send(ESCALATION_QUEUES.reprocess, { orderId }),
  };
  for (const [queue, id] of Object.entries(jobs)) {
    const end = Date.now() + 20_000;
    while ((await jobState(id)) !== 'active') {
      if (Date.now() > end) assert.unreachable(`${queue}: the victim never took its job`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  victim.proc.kill('SIGKILL');
  await victim.exited;
  const kill = Date.now();
  const live = worker();
  await Promise.all([
    finishedWithinBound(QUEUES.postSettlementChunk, kill, async () => (await findBatchRun(t.db, POST_SETTLEMENT, date))?.status === 'finished'),
    finishedWithinBound(ESCALATION_QUEUES.tick, kill, async () => (await jobState(jobs[ESCALATION_QUEUES.tick]!)) === 'completed'),
    finishedWithinBound(ESCALATION_QUEUES.reprocess, kill, async () => (await jobState(jobs[ESCALATION_QUEUES.reprocess]!)) === 'completed'),
  ]);
  await stop(live);
});

// After a kill, an operator re-runs the batch: the command puts the dead worker's chunks
// back on the queue and must say so (it said "nothing changed").
test('a-re-run-that-requeues-says-what-it-did: nightly and post-settlement re-runs of an unfinished run say how many chunks they requeued', async () => {
  const env = { DATABASE_URL: t.url, LENDPAY_CHANNEL_URL: platformUrl, LENDPAY_SANDBOX_ADMIN_TOKEN: sandboxToken, LENDPAY_DATA_DIR: tmp, LENDPAY_LOG_LEVEL: 'warn', LENDPAY_CHUNK_SIZE: String(CHUNK) };
  const { version } = await activeRuleSetForBatch(t.db, path.resolve('rules'));
  const date = parseBusinessDate('2026-07-01');
  // a run whose chunk jobs were lost with their worker: claimed, chunks pending, nothing on the queue
  const { run } = await claimBatchRun(t.db, 'nightly', date, version.hash, async () => Array.from({ length: 4 }, (_, i) => `F${String(i * 30).padStart(3, '0')}`));
  const first = await runCli(['batch', 'nightly', '--date', date, '--no-progress'], env);
  assert.is(first.code, 0, first.out);
  assert.match(first.out, new RegExp(`^nightly ${date}: run ${run.id} was still running with 4 of 4 chunks not done: requeued them; it finished in \\d+\\.\\d s$`, 'm'));
  const again = await runCli(['batch', 'nightly', '--date', date, '--no-progress'], env);
  assert.match(again.out, new RegExp(`^nightly ${date} already finished as run ${run.id}: nothing changed$`, 'm'));

  const d2 = parseBusinessDate('2026-07-02');
  const post = (await claimBatchRun(t.db, POST_SETTLEMENT, d2, version.hash, async () => [''])).run;
  const rerun = await runCli(['batch', 'post-settlement', '--date', d2, '--no-progress'], env);
  assert.is(rerun.code, 0, rerun.out);
  assert.match(rerun.out, new RegExp(`^post-settlement ${d2}: run ${post.id} was still running with 1 of 1 chunks not done: requeued them; it finished in \\d+\\.\\d s$`, 'm'));
  const json = await runCli(['batch', 'post-settlement', '--date', d2, '--json'], env);
  assert.is(JSON.parse(json.out.slice(json.out.indexOf('{'))).requeued, 0, 'and a re-run of a finished run requeues nothing');
});

test.run();
