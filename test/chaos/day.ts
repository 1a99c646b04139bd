// One seeded chaos day: a whole business day in a fresh database, with real worker
// processes, the sandbox platform as its own process and a seeded mix of faults;
// then the faults stop, recovery runs, and the invariants are checked against the
// platform's own records. What is drawn from the seed: the population, the loans,
// the requests sent twice, and the chaos schedule — each fault's kind, target and
// moment (milliseconds after the chaos starts, or after a restarted worker is
// spawned for a drop during its start-up), the downtime of a restart. Two streams:
// the chaos schedule draws from its own, so how long the day's own steps take does
// not shift it. What real processes still decide: which job a worker holds when the
// moment comes.
//
// Some days (drawn from the seed) run on a PostgreSQL server of their own, started
// for the day from the embedded binaries on its own port, so that server can be
// restarted mid-day (stopped as by a crash, started again after a seeded pause)
// without touching the machine's shared server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { PgBoss } from 'pg-boss';
import { openUrl, resolveDatabaseUrl, type OpenDatabase } from '../../db/open.ts';
import { loadConfig } from '../../src/config.ts';
import { importCustomersFile } from '../../db/import.ts';
import { writePopulationJsonl } from '../../src/demo/population.ts';
import { businessDateAt, systemClock, type BusinessDate, type Clock } from '../../src/dates.ts';
import { addDays } from '../../src/loans/schedule.ts';
import { adminGet as sandboxAdminGet, adminPost, openImportedOnSandbox, openLenderAccounts, randomAdminToken } from '../../src/sandbox/admin.ts';
import { activeRuleSetForBatch } from '../../src/cli/nightly.ts';
import { storedCollectionRules } from '../../jobs/evaluators.ts';
import { QUEUES, FAILOVER_BOUND_SECONDS } from '../../jobs/boss.ts';
import { ESCALATION_QUEUES } from '../../jobs/escalation.ts';
import { isConnectionLoss } from '../../jobs/start.ts';
import { ensureEmbeddedPostgres, restartEmbeddedPostgres, stopEmbeddedPostgres } from '../../db/embedded.ts';
import { WORKER_QUEUES } from '../../jobs/worker.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { createHttpChannel } from '../../src/channel/http-channel.ts';
import type { CollectionDeps } from '../../src/collection/service.ts';
import { repayFromCard } from '../../src/collection/repay.ts';
import { monitorHolds } from '../../src/collection/monitor.ts';
import { reconcilePayouts, sandboxStatement } from '../../src/collection/reconcile.ts';
import { recoverCollectionAttempts } from '../../src/collection/recovery.ts';
import { recoverOpenAttempts, type DisburseDeps } from '../../src/disbursement/disburse.ts';
import { runEscalationTick, withHook, type EscalationDeps } from '../../src/escalation/service.ts';
import { operatorQueue } from '../../db/escalation.repository.ts';
import { Rng } from '../helpers/fuzz.ts';
import { ROOT, runCli, sleep, spawnCli, waitFor, withApp, type Child } from './procs.ts';
import type { Fen } from '../../src/money.ts';

export interface DayOptions {
  /** small: ~120 merchants, ~12 loans (CI); normal: ~300 merchants, ~30 loans */
  size: 'small' | 'normal';
  workers?: number;
  /** keep the database (and print its name) instead of dropping it */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface DayResult {
  seed: number;
  violations: string[];
  seconds: number;
  stats: Record<string, number>;
  events: string[];
  database: string;
  /** seconds from the faults stopping to every batch and job finished (null: the day did not get there) */
  settledSeconds: number | null;
}

/** After the faults stop, every batch and job is finished within this (a killed worker's jobs included). */
export const SETTLE_BOUND_SECONDS = FAILOVER_BOUND_SECONDS;

const LENDER = { accountId: 'LENDER-BAL', cardId: 'LENDER-CARD' };
const TOKEN = 'chaos-token-0123456789abcdef';
const CHANNEL_TIMEOUT_MS = 1000;
const LENDPAY_QUEUES = [QUEUES.nightlyChunk, QUEUES.postSettlementChunk, ...Object.values(WORKER_QUEUES), ESCALATION_QUEUES.tick, ESCALATION_QUEUES.reprocess];

class Violations {
  readonly list: string[] = [];
  add(invariant: string, detail: string): void {
    if (this.list.length < 50) this.list.push(`${invariant}: ${detail}`);
  }
}

// The server the days' databases are made on: DATABASE_URL when set, else the embedded
// default (started once, as the tests do), so the harness needs nothing but Node.
let admin_: Promise<string> | null = null;
function adminUrl(): Promise<string> {
  admin_ ??= resolveDatabaseUrl(loadConfig());
  return admin_;
}

/**
 * Connections one day holds at its peak, as sampled (pg_stat_activity by database): a
 * normal day 16–24 with three workers, a small one fewer with two. The pools allow more,
 * so these are what the runner plans with, with room to spare.
 */
export const DAY_CONNECTIONS = { small: 22, normal: 30 } as const;

/** Connections the days may still open on the server: max_connections less the reserved and those in use. */
export async function serverConnectionRoom(): Promise<{ max: number; room: number }> {
  const [r] = await adminQuery<{ max: number; reserved: number; used: number }>(
    `select current_setting('max_connections')::int as max, current_setting('superuser_reserved_connections')::int as reserved,
            (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as used`);
  return { max: r!.max, room: r!.max - r!.reserved - r!.used };
}

/** One statement on the server itself (create or drop a day's database, read its settings), on a connection of its own. */
async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: string, server?: string): Promise<R[]> {
  const c = new pg.Client({ connectionString: server ?? await adminUrl() });
  await c.connect();
  try {
    return (await c.query<R>(statement)).rows;
  } finally {
    await c.end();
  }
}

/**
 * The harness's own step (a query, an admin call to the sandbox), tried again while the
 * day's server restarts or the sandbox is down: the harness is not what is under test.
 */
async function steady<T>(fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      const passing = isConnectionLoss(e) || (e as { retryable?: boolean }).retryable === true || /HTTP 5\d\d/.test((e as Error).message);
      if (!passing || Date.now() > end) throw e;
      await sleep(250);
    }
  }
}

/** A failing command's message, whole: its `error:` line and the detail lines under it, else its last lines. */
export function failureOf(output: string): string {
  const lines = output.split('\n').filter((l) => l.trim());
  const at = lines.findLastIndex((l) => l.startsWith('error:'));
  if (at < 0) return lines.slice(-3).join(' | ');
  let end = at + 1;
  while (end < lines.length && lines[end]!.startsWith('  ')) end++;
  return lines.slice(at, end).join(' | ');
}

async function until(what: string, ms: number, fn: () => Promise<boolean>): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn().catch(() => false)) return true;
    if (Date.now() > end) return false;
    await sleep(150);
  }
}

export async function runChaosDay(seed: number, opts: DayOptions): Promise<DayResult> {
  const t0 = performance.now();
  const rng = new Rng(seed);
  // the chaos schedule's own stream: what the day does (and how long it takes) never shifts it
  const crng = new Rng((seed ^ 0x5bd1e995) >>> 0);
  const log = opts.log ?? (() => {});
  const v = new Violations();
  const events: string[] = [];
  const event = (e: string) => {
    events.push(`${((performance.now() - t0) / 1000).toFixed(1)}s ${e}`);
    log(`  [${seed}] ${events.at(-1)}`);
  };
  const stats: Record<string, number> = { kills: 0, terminated: 0, faultPlans: 0, brokenRules: 0, duplicateJobs: 0, concurrentRequests: 0, loans: 0, repayments: 0, duplicatePayouts: 0, serverRestarts: 0, sandboxKills: 0 };
  const size = opts.size === 'small' ? 120 : 300;
  const nLoans = opts.size === 'small' ? 12 : 30;
  const nWorkers = opts.workers ?? (opts.size === 'small' ? 2 : 3);
  // a day of its own server (which the chaos may restart), or one on the shared server
  const ownServer = crng.chance(0.4);
  // the last fault (a worker killed mid-batch as the faults stop): whom, and when
  const lastWho = crng.int(nWorkers), lastDelay = crng.int(400);
  let settledSeconds: number | null = null;

  const T = businessDateAt(new Date());
  const D = addDays(T, 3) as BusinessDate; // the post-settlement date: three daily installments have fallen due
  const name = `lendpay_chaos_${seed}_${randomBytes(3).toString('hex')}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-chaos-'));
  // the server's directory apart from tmp: its postgres user must be able to reach it
  const pgDir = ownServer ? fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-chaos-pg-')) : null;
  if (pgDir) fs.chmodSync(pgDir, 0o755);
  const rulesDir = path.join(tmp, 'rules');
  fs.cpSync(path.join(ROOT, 'rules'), rulesDir, { recursive: true });

  let open: OpenDatabase | null = null;
  let boss: PgBoss | null = null;
  let sandbox = null as Child | null; // (assigned in a closure: a restart replaces it)
  const killedSandboxes = new Set<Child>();
  const workers: { i: number; child: Child | null; url: string | null; starting: Promise<void> | null; expectExit: boolean }[] = [];
  let chaosOn = false;
  let chaosLoop: Promise<void> | null = null;
  const pendingTimers = new Set<Promise<void>>();
  const later = (p: Promise<unknown>) => {
    const q: Promise<void> = p.then(() => {}, (e) => event(`${(e as Error).message}`)).finally(() => pendingTimers.delete(q));
    pendingTimers.add(q);
  };
  let server: string | null = null;
  let url = '';

  try {
    server = pgDir ? await ensureEmbeddedPostgres(pgDir) : await adminUrl();
    if (pgDir) event(`the day runs on a PostgreSQL server of its own (${new URL(server).host})`);
    url = (() => {
      const u = new URL(server!);
      u.pathname = `/${name}`;
      u.search = '';
      return u.toString();
    })();
    await adminQuery(`create database ${name}`, server);
    open = await openUrl(withApp(url, 'chaos-harness'), true, 6);
    const db = open.db;

    // ---- the population, the platform, the rules ----
    const file = path.join(tmp, 'population.jsonl');
    await writePopulationJsonl(file, { seed, size, asOf: T });
    await importCustomersFile(db, file);
    const { version } = await activeRuleSetForBatch(db, rulesDir);
    const ruleSet = await loadRuleSet(rulesDir);

    // The sandbox is its own process on a fixed port, so a killed one comes back where
    // the workers (told LENDPAY_CHANNEL_URL explicitly) look for it.
    const port = await freePort();
    const platformUrl = `http://127.0.0.1:${port}`;
    // the sandbox's admin routes take a token of their own: the harness and the workers are given it
    const platformAdmin = { url: platformUrl, adminToken: randomAdminToken() };
    const startSandbox = async (): Promise<void> => {
      let child: Child;
      // the sandbox does not wait for its database (a server restarting): the harness tries again
      for (let tries = 1; ; tries++) {
        child = spawnCli(['sandbox', 'serve', '--port', String(port)], { DATABASE_URL: withApp(url, 'chaos-sandbox'), LENDPAY_RULES_DIR: rulesDir, LENDPAY_LOG_LEVEL: 'warn', LENDPAY_SANDBOX_ADMIN_TOKEN: platformAdmin.adminToken });
        sandbox = child;
        if (await waitFor(child, /listening on (http:\/\/\S+?) /, 30_000)) break;
        killedSandboxes.add(child);
        child.proc.kill('SIGKILL');
        if (tries >= 20) throw new Error(`the sandbox did not start: ${failureOf(child.output())}`);
        event(`the sandbox did not start (try ${tries}): ${failureOf(child.output())}`);
        await sleep(500);
      }
      void child.exited.then(({ code, signal }) => {
        if (killedSandboxes.has(child)) return;
        // not lendpay's fault, but the day needs its platform back
        event(`the sandbox platform died by itself (${signal ?? `exit ${code}`}): ${failureOf(child.output())}`);
        later(startSandbox().then(() => event('sandbox platform restarted')));
      });
    };
    const sandboxUp = (async () => {
      await startSandbox();
      await openLenderAccounts(platformAdmin, LENDER);
      await openImportedOnSandbox(db, platformAdmin);
    })();
    const channel = createHttpChannel({ baseUrl: platformUrl, timeoutMs: CHANNEL_TIMEOUT_MS });
    const admin = (route: string, body: unknown) => steady(() => adminPost(platformAdmin, route, body)) as Promise<any>;
    const adminGet = (route: string) => sandboxAdminGet(platformAdmin, route) as Promise<any>;

    // ---- pg-boss: the harness only enqueues; the workers' own supervisors fail a dead worker's jobs ----
    boss = new PgBoss({ connectionString: withApp(url, 'chaos-harness'), schema: 'pgboss', supervise: false, max: 3 });
    boss.on('error', () => {});
    await boss.start();
    const send = (queue: string, data: object) => steady(() => boss!.send(queue, data));

    // ---- the workers ----
    const workerEnv = (i: number): Record<string, string> => ({
      DATABASE_URL: withApp(url, `chaos-worker-${i}`), LENDPAY_CHANNEL_URL: platformUrl, LENDPAY_RULES_DIR: rulesDir,
      LENDPAY_API_TOKEN: TOKEN, LENDPAY_SANDBOX_ADMIN_TOKEN: platformAdmin.adminToken, LENDPAY_CHANNEL_TIMEOUT_MS: String(CHANNEL_TIMEOUT_MS), LENDPAY_CHUNK_SIZE: '20', LENDPAY_LOG_LEVEL: 'info',
      LENDPAY_DATA_DIR: tmp, LENDPAY_API_WRITES_PER_MINUTE: '100000', LENDPAY_WORKER_CONCURRENCY: '2',
    });
    const dropConnections = async (pattern: string): Promise<number> => {
      const res = await open!.pool.query(
        `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name like $1`, [pattern]);
      stats.terminated! += res.rows[0].n;
      return res.rows[0].n as number;
    };
    /** dropAfterMs: the worker's connections are terminated that long after it is spawned (a drop during its start-up). */
    const startWorker = (w: (typeof workers)[number], dropAfterMs: number | null = null): Promise<void> => {
      w.starting ??= (async () => {
        for (let tries = 0; ; tries++) {
          const child = spawnCli(['worker', '--no-schedule', '--port', '0'], workerEnv(w.i));
          if (dropAfterMs !== null && tries === 0) {
            // the seeded moment counts from the worker's first connection (how long node
            // takes to boot is the machine's, not the seed's)
            const ms = dropAfterMs;
            later((async () => {
              const connected = await until('a first connection', 20_000, async () => child.alive() && (await open!.pool.query(
                `select 1 from pg_stat_activity where datname = current_database() and application_name = $1`, [`chaos-worker-${w.i}`])).rowCount! > 0);
              if (!connected || !child.alive()) return;
              await sleep(ms);
              const n = await dropConnections(`chaos-worker-${w.i}`);
              event(`terminated ${n} connections of worker ${w.i} ${ms} ms after its first connection (while it ${/"msg":"listening"/.test(child.output()) ? 'ran' : 'started'})`);
            })());
          }
          const api = await waitFor(child, /"msg":"listening"/, 60_000);
          const m = /"api":"(http:[^"]+)"[^\n]*"msg":"listening"/.exec(child.output()) ?? /"msg":"listening"[^\n]*"api":"(http:[^"]+)"/.exec(child.output());
          if (api && m && child.alive()) {
            w.child = child;
            w.url = m[1]!;
            w.expectExit = false;
            void child.exited.then(({ code, signal }) => {
              if (w.expectExit || w.child !== child) return;
              const tail = child.output().split('\n').filter((l) => l.trim()).slice(-4).join(' | ');
              const dump = path.join(os.tmpdir(), `lendpay-chaos-${seed}-worker${w.i}-${Date.now()}.log`);
              fs.writeFileSync(dump, child.output());
              event(`worker ${w.i} died by itself (${signal ?? `exit ${code}`}; output in ${dump}): ${tail}`);
              v.add('a worker survives the faults', `worker ${w.i} exited (${signal ?? `exit ${code}`}) without being killed: ${failureOf(child.output())}`);
              later(startWorker(w));
            });
            break;
          }
          const gaveUp = !child.alive();
          child.proc.kill('SIGKILL');
          const why = failureOf(child.output());
          const dump = path.join(os.tmpdir(), `lendpay-chaos-${seed}-worker${w.i}-start-${Date.now()}.log`);
          fs.writeFileSync(dump, child.output());
          event(`worker ${w.i} ${gaveUp ? 'exited while starting' : 'did not start in 60 s'} (try ${tries + 1}; output in ${dump}): ${why}`);
          // a slow start (a loaded machine) is not a finding; a worker that gives up or dies while starting is
          if (gaveUp) v.add('a worker starts whatever the faults', `worker ${w.i} exited while starting (try ${tries + 1}): ${why}`);
          if (/^error:.*(RULES_INVALID|problems? in rules)/.test(why) && !/could not be read instead/.test(why)) v.add('a broken rule file does not stop a worker', `worker ${w.i} refused to start: ${why}`);
          if (tries >= 6) throw new Error(`worker ${w.i} cannot start: ${why}`);
          await sleep(500);
        }
      })().finally(() => { w.starting = null; });
      return w.starting;
    };
    for (let i = 0; i < nWorkers; i++) workers.push({ i, child: null, url: null, starting: null, expectExit: false });
    await Promise.all([sandboxUp, ...workers.map((w) => startWorker(w))]);
    // The chaos drops connections far more often than a production day: the harness gives
    // the jobs retries to match. How fast a dead worker's job comes back (heartbeat,
    // supervisor, retry delay) is the production setting, which the settle bound checks.
    for (const q of LENDPAY_QUEUES) {
      if (await boss.getQueue(q)) await boss.updateQueue(q, { retryLimit: 20 });
    }
    const aliveUrls = () => workers.filter((w) => w.child?.alive() && w.url).map((w) => w.url!);

    // ---- the chaos: a schedule drawn from crng, each fault at its seeded moment ----
    const faultPlan = (r: Rng) => {
      const rules: unknown[] = [];
      if (r.chance(0.8)) rules.push({ op: '*', rate: 0.02 + r.next() * 0.08, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' });
      if (r.chance(0.6)) rules.push({ op: r.pick(['*', 'payout', 'debit', 'collect']), rate: 0.02 + r.next() * 0.06, kind: 'timeout', applied: true, ms: CHANNEL_TIMEOUT_MS + 300 });
      if (r.chance(0.6)) rules.push({ op: r.pick(['*', 'payout', 'debit', 'collect']), rate: 0.02 + r.next() * 0.06, kind: 'timeout', applied: false, ms: CHANNEL_TIMEOUT_MS + 300 });
      if (r.chance(0.5)) rules.push({ op: '*', rate: 0.1 + r.next() * 0.2, kind: 'delay', ms: 50 + r.int(300) });
      if (r.chance(0.3)) rules.push({ op: 'payout', rate: 0.05, kind: 'fail', code: 'CARD_INVALID' });
      if (r.chance(0.3)) rules.push({ op: 'query', rate: 0.1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' });
      return { seed: r.int(1_000_000), rules };
    };
    const ruleFiles = ['eligibility.json', 'collection.json', 'escalation.json', 'calendar.json'];
    let broken: { file: string; original: string } | null = null;
    const restoreRules = () => {
      if (broken) {
        fs.writeFileSync(path.join(rulesDir, broken.file), broken.original);
        event(`rule file ${broken.file} restored`);
        broken = null;
      }
    };
    const kill = (w: (typeof workers)[number], delay: number, dropAfterMs: number | null) => {
      if (!w.child?.alive() || w.starting) return;
      w.expectExit = true;
      w.child.proc.kill('SIGKILL');
      stats.kills!++;
      event(`kill -9 worker ${w.i}; restart in ${delay} ms${dropAfterMs === null ? '' : `, its connections dropped ${dropAfterMs} ms after its first connection`}`);
      later((async () => {
        await w.child!.exited;
        await sleep(delay);
        await startWorker(w, dropAfterMs);
        event(`worker ${w.i} restarted`);
      })());
    };
    let serverDown: Promise<void> | null = null;
    const restartServer = (downMs: number) => {
      if (!pgDir || serverDown) return;
      stats.serverRestarts!++;
      event(`PostgreSQL server stopped (immediate, as a crash); back in ${downMs} ms`);
      serverDown = restartEmbeddedPostgres(pgDir, downMs).then(() => event('PostgreSQL server restarted')).finally(() => { serverDown = null; });
      later(serverDown);
    };
    let sandboxDown: Promise<void> | null = null;
    const killSandbox = (downMs: number) => {
      if (!sandbox?.alive() || sandboxDown) return;
      const dying = sandbox;
      killedSandboxes.add(dying);
      dying.proc.kill('SIGKILL');
      stats.sandboxKills!++;
      event(`kill -9 the sandbox platform; back in ${downMs} ms`);
      sandboxDown = (async () => {
        await dying.exited;
        await sleep(downMs);
        await startSandbox();
        event('sandbox platform restarted');
      })().finally(() => { sandboxDown = null; });
      later(sandboxDown);
    };
    const chaosStart = performance.now();
    const chaos = async () => {
      let at = 0;
      while (chaosOn) {
        // Every tick draws the same numbers whatever happens, so the schedule is the seed's alone.
        at += 200 + crng.int(600);
        const r = crng.next(), who = crng.int(nWorkers), a = crng.next(), b = crng.next(), sub = new Rng(crng.int(2 ** 31));
        const wait = chaosStart + at - performance.now();
        if (wait > 0) await sleep(wait);
        if (!chaosOn) break;
        try {
          if (r < 0.2) {
            if (stats.kills! < (opts.size === 'small' ? 3 : 5)) kill(workers[who]!, 100 + Math.floor(a * 900), b < 0.5 ? Math.floor((b / 0.5) * 2000) : null);
          } else if (r < 0.38) {
            const target = a < 0.3 ? 'chaos-worker-%' : `chaos-worker-${who}`;
            event(`terminated ${await dropConnections(target)} connections of ${a < 0.3 ? 'every worker' : `worker ${who}`}`);
          } else if (r < 0.64) {
            const plan = faultPlan(sub);
            await admin('/admin/faults', plan);
            stats.faultPlans!++;
            event(`fault plan ${JSON.stringify(plan.rules.map((x: any) => `${x.op}:${x.kind}${x.code ? `:${x.code}` : ''}${x.applied !== undefined ? `:applied=${x.applied}` : ''}`))}`);
          } else if (r < 0.76) {
            if (broken) restoreRules();
            else {
              const f = ruleFiles[Math.floor(a * ruleFiles.length)]!;
              const original = fs.readFileSync(path.join(rulesDir, f), 'utf8');
              broken = { file: f, original };
              fs.writeFileSync(path.join(rulesDir, f), b < 0.5 ? original.slice(0, Math.floor(original.length / 2)) : '{"rules": [{"conditions": 42}]}');
              stats.brokenRules!++;
              event(`rule file ${f} replaced with a broken one`);
            }
          } else if (r < 0.84) {
            await admin('/admin/faults', { seed: 0, rules: [] });
            event('faults cleared for a while');
          } else if (r < 0.88) {
            if (stats.sandboxKills! < 2) killSandbox(200 + Math.floor(a * 2000));
          } else if (r < 0.92) {
            if (stats.serverRestarts! < 2) restartServer(300 + Math.floor(a * 3000));
          }
        } catch (e) {
          event(`chaos step failed: ${(e as Error).message}`);
        }
      }
    };
    chaosOn = true;
    chaosLoop = chaos();

    // ---- nightly decisions (workers) ----
    await send(WORKER_QUEUES.scheduleNightly, { job: 'nightly-eligibility', slot: T, businessDate: T });
    const nightlyDone = await until('nightly', 90_000, async () => {
      const r = await db.selectFrom('batch_runs').select(['id', 'status']).where('kind', '=', 'nightly').where('business_date', '=', T).executeTakeFirst();
      if (r && stats.duplicateJobs === 0) {
        // a chunk delivered twice
        const job = await sql<{ data: unknown }>`select data from pgboss.job where name = ${QUEUES.nightlyChunk} limit 1`.execute(db);
        if (job.rows[0]) {
          await boss!.send(QUEUES.nightlyChunk, job.rows[0].data as object);
          stats.duplicateJobs!++;
          event('a nightly chunk job sent twice');
        }
      }
      return r?.status === 'finished';
    });
    if (!nightlyDone) throw new Error('the nightly batch did not finish in 90 s');
    event('nightly finished');

    // ---- disbursements through the API, some requests sent concurrently ----
    const candidates = await steady(() => db.selectFrom('eligibility_decisions')
      .select((eb) => ['customer_id', 'limit_fen', eb.exists(eb.selectFrom('customer_bank_cards as k').select('k.id').whereRef('k.customer_id', '=', 'eligibility_decisions.customer_id')).as('has_card')])
      .where('business_date', '=', T).where('eligible', '=', true).where('limit_fen', '>=', 100_000).orderBy('customer_id').execute());
    const chosen = candidates.filter(() => rng.chance(0.5)).slice(0, nLoans);
    const requests = chosen.map((c, i) => ({
      key: `chaos-${seed}-${i}`,
      body: {
        customerId: c.customer_id,
        amount: (Math.max(1000, Math.floor((c.limit_fen * (10 + rng.int(50))) / 100 / 10_000) * 100)).toFixed(2),
        rail: c.has_card && rng.chance(0.3) ? 'card' : 'balance',
      },
      copies: rng.chance(0.3) ? 2 + rng.int(2) : 1,
    }));
    // A client retries with the same key until it is answered. While the chaos lasts a
    // request may go unanswered for a while (its worker killed, its claim waiting out the
    // lease, its connections dropped); what must hold is that once the faults stop every
    // request is answered (the retry below, after the chaos).
    const unanswered = new Map<string, { body: object; last: string }>();
    const postLoan = async (key: string, body: object, first: number, ms: number): Promise<{ status: number | null; last: string }> => {
      const end = Date.now() + ms;
      let last = 'no worker alive';
      for (let k = first; Date.now() < end; k++) {
        const urls = aliveUrls();
        if (urls.length === 0) {
          await sleep(200);
          continue;
        }
        try {
          const res = await fetch(`${urls[k % urls.length]}/loans`, {
            method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': key }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000),
          });
          last = `${res.status} ${(await res.text()).slice(0, 160)}`;
          if (res.status === 200 || res.status === 201 || res.status === 422) return { status: res.status, last };
          if (res.status === 400 || res.status === 401) return { status: res.status, last };
        } catch (e) {
          // the worker died under the request: the client retries with the same key
          last = (e as Error).message;
        }
        await sleep(300);
      }
      return { status: null, last };
    };
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(Array.from({ length: 5 }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const r = requests[i]!;
        if (r.copies > 1) stats.concurrentRequests!++;
        const answers = await Promise.all(Array.from({ length: r.copies }, (_, c) => postLoan(r.key, r.body, i + c, 40_000)));
        for (const a of answers) {
          if (a.status === null) unanswered.set(r.key, { body: r.body, last: a.last });
          else statuses.push(a.status);
        }
      }
    }));
    stats.loans = await steady(() => db.selectFrom('loans').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).then((r) => r.n);
    event(`disbursement requests answered: ${statuses.length} (${[...new Set(statuses)].join(',')}), unanswered for now ${unanswered.size}`);

    // ---- settlement: what is left in the accounts, what the marketplace pays ----
    const dues = await steady(() => sql<{ customer_id: string; due: number }>`
      select l.customer_id, sum((i.principal_fen - i.paid_principal_fen) + (i.interest_fen - i.paid_interest_fen) + (i.penalty_fen - i.paid_penalty_fen))::int8 as due
      from loans l join installments i on i.loan_id = l.id
      where l.status = 'disbursed' and i.due_date <= ${D}::date group by l.customer_id order by l.customer_id`.execute(db));
    const accounts = await steady(() => db.selectFrom('customer_accounts').select(['id', 'customer_id', 'is_primary']).where('customer_id', 'in', dues.rows.length ? dues.rows.map((d) => d.customer_id) : ['']).execute());
    const spent: { id: string; customerId: string; balance: number }[] = [];
    const lines: { accountId: string; amount: number }[] = [];
    for (const d of dues.rows) {
      const mine = accounts.filter((a) => a.customer_id === d.customer_id);
      for (const a of mine) spent.push({ id: a.id, customerId: a.customer_id, balance: Math.floor(d.due * rng.next() * (a.is_primary ? 0.3 : 0.6)) });
      const roll = rng.next();
      const amount = roll < 0.5 ? d.due + Math.floor(d.due * rng.next()) : roll < 0.8 ? Math.floor(d.due * 0.4 * rng.next()) : 0;
      const primary = mine.find((a) => a.is_primary);
      if (amount > 0 && primary) lines.push({ accountId: primary.id, amount });
    }
    if (spent.length) await admin('/admin/accounts', { accounts: spent });
    if (lines.length) await admin('/admin/settle', { lines });
    await steady(() => db.insertInto('settlements').values({ business_date: D, lines: lines.length, total_fen: lines.reduce((s, l) => s + l.amount, 0) }).onConflict((oc) => oc.column('business_date').doNothing()).execute());
    event(`settlement ${D}: ${lines.length} merchants`);

    // ---- post-settlement collection (workers), one chunk delivered twice ----
    await send(WORKER_QUEUES.postSettlement, { job: 'post-settlement-fallback', slot: D, businessDate: D });
    let dupPost = false;
    const postDone = await until('post-settlement', 90_000, async () => {
      if (!dupPost) {
        const job = await sql<{ data: unknown }>`select data from pgboss.job where name = ${QUEUES.postSettlementChunk} limit 1`.execute(db);
        if (job.rows[0]) {
          await boss!.send(QUEUES.postSettlementChunk, job.rows[0].data as object);
          dupPost = true;
          stats.duplicateJobs!++;
          event('a post-settlement chunk job sent twice');
        }
      }
      const r = await db.selectFrom('batch_runs').select('status').where('kind', '=', 'post_settlement').where('business_date', '=', D).executeTakeFirst();
      return r !== undefined && r.status !== 'running';
    });
    if (!postDone) v.add('batches finish', `the post-settlement batch for ${D} did not finish in 90 s`);
    event('post-settlement finished');

    // ---- money arrives for some borrowers on hold; the hold monitor (worker) sweeps it ----
    const { collection: collectionRules, notifications } = await steady(() => storedCollectionRules(db, version.hash));
    const cDeps = (clock: Clock): CollectionDeps => ({ db, channel, clock, collectionRules, notifications, ruleSetHash: version.hash, lender: { accountId: LENDER.accountId } });
    const held = await steady(() => db.selectFrom('holds').innerJoin('customer_accounts', 'customer_accounts.customer_id', 'holds.customer_id')
      .select(['holds.customer_id', 'customer_accounts.id as account', 'holds.amount_fen']).where('holds.status', '=', 'open').where('customer_accounts.is_primary', '=', true).orderBy('holds.customer_id').execute());
    const arriving = held.filter(() => rng.chance(0.4)).map((h) => ({ accountId: h.account, amount: rng.chance(0.5) ? h.amount_fen : Math.max(1, Math.floor(h.amount_fen * rng.next())) }));
    if (arriving.length) await admin('/admin/settle', { lines: arriving });
    const monitorJob = await send(WORKER_QUEUES.holdMonitor, { job: 'hold-monitor', slot: `${D}T10:00`, businessDate: D });
    const jobDone = (id: string | null) => until('job', 45_000, async () => {
      const r = await sql<{ state: string }>`select state from pgboss.job where id = ${id}::uuid`.execute(db);
      return r.rows[0]?.state === 'completed' || r.rows[0]?.state === 'failed';
    });
    if (!(await jobDone(monitorJob))) v.add('batches finish', 'the hold monitor job did not complete in 45 s');
    event(`hold monitor: ${arriving.length} borrowers got money`);

    // ---- card repayments (the business system's instruction), some sent twice at once ----
    const onHold = await steady(() => db.selectFrom('holds').innerJoin('customer_bank_cards as k', 'k.customer_id', 'holds.customer_id')
      .select(['holds.customer_id', 'holds.amount_fen', 'k.id as card']).where('holds.status', '=', 'open').orderBy('holds.customer_id').execute());
    const payers = [...new Map(onHold.map((h) => [h.customer_id, h])).values()].filter(() => rng.chance(0.5));
    if (payers.length) await admin('/admin/accounts', { cards: payers.map((p) => ({ id: p.card, customerId: p.customer_id, bank: 'CMB', last4: '0000', balance: p.amount_fen * 2 })) }).catch((e) => event(`card top-up failed: ${(e as Error).message}`));
    await Promise.all(payers.map(async (p, i) => {
      const loan = await steady(() => db.selectFrom('loans').select('id').where('customer_id', '=', p.customer_id).where('status', '=', 'disbursed').where('kind', '=', 'loan').orderBy('id').executeTakeFirst());
      if (!loan) return;
      const amount = (rng.chance(0.6) ? p.amount_fen : Math.max(1, Math.floor(p.amount_fen / 2))) as Fen;
      const input = { loanId: loan.id, cardId: p.card, amount, requestId: `chaos-repay-${seed}-${i}` };
      const copies = rng.chance(0.3) ? 2 : 1;
      await Promise.all(Array.from({ length: copies }, () => repayFromCard(cDeps(systemClock), input).catch((e) => event(`repay ${input.requestId} threw ${(e as Error).message}`))));
      stats.repayments!++;
    }));
    event(`card repayments: ${payers.length}`);

    // ---- a payout the platform makes twice; reconciliation (worker) ----
    const paid = await steady(() => sql<{ request_id: string; amount_fen: number }>`
      select a.request_id, o.amount_fen from order_attempts a join orders o on o.id = a.order_id
      where o.kind = 'payout' and a.status = 'succeeded' order by a.request_id`.execute(db));
    // the platform pays the duplicate out of the lender's balance: only what it can cover
    const lenderBalance = await steady(() => channel.balance(LENDER.accountId));
    let room = lenderBalance.found ? lenderBalance.balance : 0;
    const dupes = paid.rows.filter((p) => rng.chance(0.5) && p.amount_fen <= room && (room -= p.amount_fen) >= 0).slice(0, 2);
    for (const p of dupes) {
      try {
        await admin('/admin/duplicate-payout', { requestId: p.request_id });
        stats.duplicatePayouts!++;
        event(`the platform paid ${p.request_id} twice`);
      } catch (e) {
        event(`duplicate payout of ${p.request_id} refused: ${(e as Error).message.slice(0, 120)}`);
      }
    }
    const reconJob = await send(WORKER_QUEUES.reconciliation, { job: 'reconciliation', slot: D, businessDate: D });
    if (!(await jobDone(reconJob))) event('the reconciliation job did not complete in 45 s (recovery reconciles again)');

    // ---- the last fault: a worker killed -9 in the middle of a batch as the faults stop ----
    // (the next day's nightly re-tagging: decisions only, no money). The chunks it held
    // must come back by heartbeat, within the settle bound below, not by expiry.
    const nextDay = addDays(T, 1) as BusinessDate;
    await send(WORKER_QUEUES.scheduleNightly, { job: 'nightly-eligibility', slot: nextDay, businessDate: nextDay });
    await until('chunks in hand', 30_000, async () => {
      const r = await sql<{ n: number }>`select count(*)::int as n from pgboss.job where name = ${QUEUES.nightlyChunk} and state = 'active'`.execute(db);
      return r.rows[0]!.n > 0;
    });
    await sleep(lastDelay);
    kill(workers[lastWho]!, 100 + lastDelay, null);

    // ---- the faults stop; the workers finish what is in hand and stop ----
    chaosOn = false;
    const faultsStopped = performance.now();
    event('the faults stop');
    await chaosLoop;
    chaosLoop = null;
    // the last restarts (a worker, the sandbox, the server) come back before anything else
    while (pendingTimers.size) await Promise.all([...pendingTimers]);
    await admin('/admin/faults', { seed: 0, rules: [] });
    restoreRules();
    for (const w of workers) if (!w.child?.alive()) await startWorker(w);
    // Every batch and job, a killed worker's included, finished within the bound (the
    // failover promise): a job held by a worker killed just before the faults stopped
    // must come back by heartbeat, not wait out its expiry.
    let pending = '';
    const settled = await until('batches and jobs', 90_000, async () => {
      const jobs = await sql<{ name: string; state: string; n: number }>`select name, state::text, count(*)::int as n from pgboss.job where name = any(${LENDPAY_QUEUES}::text[]) and state in ('created', 'retry', 'active') group by 1, 2 order by 1, 2`.execute(db);
      const runs = await sql<{ kind: string; business_date: string }>`select kind, business_date::text from batch_runs where status = 'running'`.execute(db);
      pending = [...jobs.rows.map((j) => `${j.n} ${j.name} ${j.state}`), ...runs.rows.map((r) => `${r.kind} run of ${r.business_date} running`)].join(', ');
      return jobs.rows.length === 0 && runs.rows.length === 0;
    });
    if (settled) {
      settledSeconds = (performance.now() - faultsStopped) / 1000;
      event(`every batch and job finished ${settledSeconds.toFixed(1)} s after the faults stopped (bound ${SETTLE_BOUND_SECONDS} s)`);
      if (settledSeconds > SETTLE_BOUND_SECONDS) v.add(`every batch finished within ${SETTLE_BOUND_SECONDS} s after the faults stop`, `took ${settledSeconds.toFixed(1)} s`);
    } else {
      v.add(`every batch finished within ${SETTLE_BOUND_SECONDS} s after the faults stop`, `still not after 90 s: ${pending}`);
    }
    // the requests the chaos left unanswered, retried by their client now that it is over
    await Promise.all([...unanswered].map(async ([key, u], i) => {
      const a = await postLoan(key, u.body, i, 60_000);
      if (a.status === null) v.add('every API request is answered', `POST /loans with Idempotency-Key ${key} got no answer in 60 s of retries after the faults stopped (last: ${a.last}; during the chaos: ${u.last})`);
      else event(`request ${key} answered ${a.status} after the faults stopped (during the chaos the last answer was: ${u.last.slice(0, 120)})`);
    }));
    if (unanswered.size) stats.loans = await db.selectFrom('loans').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow().then((r) => r.n);
    await Promise.all(workers.map(async (w) => {
      if (!w.child?.alive()) return;
      w.expectExit = true;
      w.child.proc.kill('SIGTERM');
      const timer = setTimeout(() => w.child?.proc.kill('SIGKILL'), 20_000);
      const { code } = await w.child.exited;
      clearTimeout(timer);
      if (code !== 0) v.add('workers stop cleanly', `worker ${w.i} exited ${code} on SIGTERM`);
    }));
    event('workers stopped');

    // ---- recovery: the escalation ladder, recovery, hold monitor, reconciliation until quiet ----
    let offset = 0;
    const hoursLater: Clock = { now: () => new Date(Date.now() + offset) };
    const rs = await loadRuleSet(rulesDir);
    const disburse: DisburseDeps = { db, channel, clock: hoursLater, calendar: rs.calendar!, pricing: rs.pricing!, lender: LENDER, allowLegacyMode: false };
    const eDeps: EscalationDeps = { disburse, collection: cDeps(hoursLater), rules: rs.escalation!, ruleSetHash: rs.hash };
    let quietRounds = 0;
    for (let round = 0; round < 12 && quietRounds < 2; round++) {
      offset += 3600_000;
      const tick = await runEscalationTick(eDeps);
      const d = await recoverOpenAttempts(withHook(eDeps), { olderThanMs: 0 });
      const c = await recoverCollectionAttempts(cDeps(hoursLater), { olderThanMs: 0 });
      const m = await monitorHolds(cDeps(hoursLater), `recovery-${seed}-${round}`);
      const r = await reconcilePayouts(cDeps(hoursLater), sandboxStatement(platformUrl));
      const open = await openNotQueued(db);
      const moved = tick.ladder.queried + tick.executed + tick.sent + tick.loansDriven + d.checked + c.checked + m.debits + r.duplicates.length;
      quietRounds = open === 0 && moved === 0 ? quietRounds + 1 : 0;
    }
    event('recovery quiet');

    // ---- the invariants, against the platform's own records ----
    await checkInvariants({ db, platformUrl, adminGet, channel: channel, url, rulesDir, D, v, T });
    return { seed, violations: v.list, seconds: (performance.now() - t0) / 1000, stats, events, database: pgDir ? `${name} on its own server (stopped; data in ${pgDir})` : name, settledSeconds };
  } catch (e) {
    v.add('the day runs', `${(e as Error).stack ?? String(e)}`);
    return { seed, violations: v.list, seconds: (performance.now() - t0) / 1000, stats, events, database: pgDir ? `${name} on its own server (stopped; data in ${pgDir})` : name, settledSeconds };
  } finally {
    chaosOn = false;
    await chaosLoop?.catch(() => {});
    await Promise.allSettled([...pendingTimers]);
    for (const w of workers) {
      w.expectExit = true;
      if (w.child?.alive()) w.child.proc.kill('SIGKILL');
    }
    if (sandbox?.alive()) {
      killedSandboxes.add(sandbox);
      sandbox.proc.kill('SIGTERM');
      await Promise.race([sandbox.exited, sleep(3000)]);
      if (sandbox.alive()) sandbox.proc.kill('SIGKILL');
    }
    await boss?.stop({ graceful: false, close: true, timeout: 2000 } as never).catch(() => {});
    await open?.close().catch(() => {});
    if (pgDir) {
      // a day's own server goes with the day (--keep keeps it, stopped, with its directory)
      await stopEmbeddedPostgres(pgDir).catch(() => {});
      if (!opts.keep) fs.rmSync(pgDir, { recursive: true, force: true });
    } else if (!opts.keep && server) {
      await adminQuery(`drop database if exists ${name} with (force)`, server).catch(() => {});
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function openNotQueued(db: OpenDatabase['db']): Promise<number> {
  const q = await operatorQueue(db);
  const queued = q.items.filter((i) => i.alerts.length > 0).map((i) => i.orderId);
  const r = await db.selectFrom('orders').select(sql<number>`count(*)::int`.as('n'))
    .where('status', 'in', ['created', 'submitted', 'unknown'])
    .$if(queued.length > 0, (qb) => qb.where('id', 'not in', queued)).executeTakeFirstOrThrow();
  return r.n;
}

interface CheckCtx {
  db: OpenDatabase['db'];
  platformUrl: string;
  adminGet(route: string): Promise<any>;
  channel: ReturnType<typeof createHttpChannel>;
  url: string;
  rulesDir: string;
  D: BusinessDate;
  T: BusinessDate;
  v: Violations;
}

async function allPages<T extends { requestId?: string; id?: number }>(adminGet: CheckCtx['adminGet'], route: string, field: string, cursor: (x: any) => string): Promise<T[]> {
  const out: T[] = [];
  for (let after: string | null = null; ;) {
    const page = (await adminGet(`${route}?limit=10000${after === null ? '' : `&after=${encodeURIComponent(after)}`}`))[field] as T[];
    out.push(...page);
    if (page.length < 10000) return out;
    after = cursor(page[page.length - 1]);
  }
}

export async function checkInvariants(x: CheckCtx): Promise<void> {
  const { db, v } = x;
  const queue = await operatorQueue(db);
  const queued = new Set(queue.items.filter((i) => i.alerts.length > 0).map((i) => i.orderId));
  const orders = await db.selectFrom('orders').selectAll().execute();
  const orderById = new Map(orders.map((o) => [o.id, o]));
  const attempts = await db.selectFrom('order_attempts').selectAll().execute();
  const attemptByRequest = new Map(attempts.map((a) => [a.request_id, a]));
  const loans = await db.selectFrom('loans').selectAll().execute();

  // 1. every order final or in the operator queue with an alert
  for (const o of orders) {
    const final = o.status === 'succeeded' || o.status === 'failed' || o.status === 'voided';
    if (!final && !queued.has(o.id)) v.add('every order final or queued with an alert', `order ${o.id} ${o.idempotency_key} is ${o.status}`);
  }
  const queuedCustomers = new Set<string>();
  for (const o of orders) if (o.customer_id && (queued.has(o.id) || !['succeeded', 'failed', 'voided'].includes(o.status))) queuedCustomers.add(o.customer_id);
  for (const o of orders) if (o.loan_id && queued.has(o.id)) {
    const l = loans.find((l) => l.id === o.loan_id);
    if (l) queuedCustomers.add(l.customer_id);
  }

  // 2. the platform's requests and movements against lendpay's attempts
  const requests = await allPages<any>(x.adminGet, '/admin/requests', 'requests', (r) => r.requestId);
  const movements = await allPages<any>(x.adminGet, '/admin/movements', 'movements', (m) => String(m.id));
  for (const r of requests) {
    const a = attemptByRequest.get(r.requestId);
    if (!a) {
      if (/#\d+$/.test(r.requestId)) v.add('every platform request known to lendpay', `${r.op} ${r.requestId} (${r.status}) has no attempt in lendpay`);
      continue;
    }
    const inQueue = queued.has(a.order_id);
    if (r.status === 'succeeded' && a.status !== 'succeeded' && !inQueue) v.add('platform and lendpay agree', `${r.requestId}: the platform applied it, lendpay says ${a.status}`);
    if (r.status !== 'succeeded' && a.status === 'succeeded') v.add('platform and lendpay agree', `${r.requestId}: lendpay says succeeded, the platform ${r.status}`);
  }
  const platformOk = new Set(requests.filter((r) => r.status === 'succeeded').map((r) => r.requestId));
  for (const a of attempts) {
    if (a.status === 'succeeded' && !platformOk.has(a.request_id)) v.add('every lendpay payment known to the platform', `attempt ${a.request_id} succeeded in lendpay, not on the platform`);
  }
  const payoutByLoan = new Map<string, number>();
  for (const m of movements) {
    if (m.kind === 'payout_duplicate') {
      const recovery = loans.find((l) => l.kind === 'recovery' && l.request_id === `recon:${m.platformRef}`);
      if (!recovery) v.add('a duplicate payout becomes a recovery receivable', `payout_duplicate ${m.platformRef} of ${m.requestId} has no recovery loan`);
      continue;
    }
    if (!['payout', 'debit', 'collect'].includes(m.kind)) continue;
    const a = attemptByRequest.get(m.requestId);
    if (!a) {
      v.add('every platform movement known to lendpay', `${m.kind} ${m.requestId} ${m.amount} has no attempt in lendpay`);
      continue;
    }
    if (a.status !== 'succeeded' && !queued.has(a.order_id)) v.add('every platform movement known to lendpay', `${m.kind} ${m.requestId}: moved on the platform, attempt ${a.status}`);
    const o = orderById.get(a.order_id);
    if (m.kind === 'payout' && o?.loan_id) payoutByLoan.set(o.loan_id, (payoutByLoan.get(o.loan_id) ?? 0) + m.amount);
  }

  // 3. no loan disbursed twice
  for (const l of loans.filter((l) => l.kind === 'loan')) {
    const out = payoutByLoan.get(l.id) ?? 0;
    if (out > l.principal_fen) v.add('no loan disbursed twice', `loan ${l.id}: paid out ${out} for a principal of ${l.principal_fen}`);
    if ((l.status === 'disbursed' || l.status === 'closed') && out !== l.principal_fen) v.add('no loan disbursed twice', `loan ${l.id} is ${l.status} but the platform paid out ${out} of ${l.principal_fen}`);
    if (l.status === 'failed' && out !== 0) v.add('no loan disbursed twice', `loan ${l.id} failed but the platform paid out ${out}`);
  }
  const perKey = await sql<{ request_id: string; n: number }>`select request_id, count(*)::int as n from loans group by request_id having count(*) > 1`.execute(db);
  for (const r of perKey.rows) v.add('no loan disbursed twice', `request ${r.request_id} made ${r.n} loans`);

  // 4. collected + held = due, for every borrower the post-settlement batch saw
  const rows = await sql<{ customer_id: string; unpaid: number; held: number | null }>`
    with due as (
      select l.customer_id, sum((i.principal_fen - i.paid_principal_fen) + (i.interest_fen - i.paid_interest_fen) + (i.penalty_fen - i.paid_penalty_fen))::int8 as unpaid
      from loans l join installments i on i.loan_id = l.id
      where l.status = 'disbursed' and i.due_date <= ${x.D}::date
        and (l.kind = 'recovery' or exists (select 1 from collection_items c where c.loan_id = l.id and c.business_date = ${x.D}::date))
      group by l.customer_id
    )
    select coalesce(d.customer_id, h.customer_id) as customer_id, coalesce(d.unpaid, 0)::int8 as unpaid, h.amount_fen as held
    from due d full join (select customer_id, amount_fen from holds where status = 'open') h on h.customer_id = d.customer_id`.execute(db);
  for (const r of rows.rows) {
    if (queuedCustomers.has(r.customer_id)) continue;
    if (r.unpaid !== (r.held ?? 0)) v.add('collected + held = due', `${r.customer_id}: unpaid of what fell due ${r.unpaid}, held ${r.held ?? 'nothing'}`);
  }

  // 5. blocked on the platform exactly while a hold is open
  const open = new Set((await db.selectFrom('holds').select('customer_id').where('status', '=', 'open').execute()).map((h) => h.customer_id));
  const borrowers = await db.selectFrom('customer_accounts').select(['id', 'customer_id'])
    .where('is_primary', '=', true).where('customer_id', 'in', [...new Set([...loans.map((l) => l.customer_id), ...open, ''])]).execute();
  for (const a of borrowers) {
    const b = await x.channel.balance(a.id);
    if (!b.found) continue;
    if (b.frozenOutflow !== open.has(a.customer_id)) v.add('blocked exactly while a hold is open', `${a.customer_id}: frozenOutflow ${b.frozenOutflow}, open hold ${open.has(a.customer_id)}`);
  }

  // 6. the trial balance, through the CLI
  const tb = await runCli(['ledger', 'trial-balance', '--json'], { DATABASE_URL: withApp(x.url, 'chaos-check'), LENDPAY_CHANNEL_URL: x.platformUrl, LENDPAY_RULES_DIR: x.rulesDir, LENDPAY_LOG_LEVEL: 'warn' });
  try {
    const c = JSON.parse(tb.out.slice(tb.out.indexOf('{'))) as { balanced: boolean; platform: { agrees: boolean; account?: string }[]; totalDebit: number; totalCredit: number };
    if (!c.balanced) v.add('the trial balance is zero', `debits ${c.totalDebit} credits ${c.totalCredit}`);
    for (const p of c.platform) if (!p.agrees) v.add('the trial balance is zero', `lendpay disagrees with the platform: ${JSON.stringify(p)}`);
    if (tb.code !== 0) v.add('the trial balance is zero', `lendpay ledger trial-balance exited ${tb.code}`);
  } catch {
    v.add('the trial balance is zero', `lendpay ledger trial-balance --json: ${tb.out.slice(-500)}`);
  }
}
