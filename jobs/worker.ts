// One `lendpay worker` process: the pg-boss workers, the cron schedule and the HTTP
// server (API, dashboard, /metrics). Any number of them share one database: chunks
// are handed out by pg-boss (SKIP LOCKED), cron ticks are claimed by a table row.
// stop() is the SIGTERM path: no new ticks, no new jobs, the jobs in hand finish.
import type { PgBoss, Job } from 'pg-boss';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.ts';
import { saveRuleSet } from '../db/rulesets.repository.ts';
import { loadRuleSet } from '../src/rules/load.ts';
import { parseBusinessDate, type Clock } from '../src/dates.ts';
import { LendpayError } from '../src/errors.ts';
import { recoverOpenAttempts, type DisburseDeps } from '../src/disbursement/disburse.ts';
import { QUEUES } from './boss.ts';
import { startNightlyRun, workNightly } from './nightly.ts';
import { makeEvaluatorCache } from './evaluators.ts';
import { startSchedule, type RunningSchedule, type Schedule, type TickPayload } from './schedule.ts';
import { startApi, type ApiServer, type ApiExtensions } from '../src/api/server.ts';

/** Queues the worker registers itself; the schedule's other queues belong to their issues. */
export const WORKER_QUEUES = {
  scheduleNightly: 'schedule-nightly-eligibility',
  recoverUnknown: 'recover-unknown',
} as const;

export interface WorkerDeps {
  db: Db;
  boss: PgBoss;
  clock: Clock;
  log: Logger;
  workerId: string;
  rulesDir: string;
  chunkSize: number;
  concurrency: number;
  /** the payment platform etc., made on first use (recovery needs it, the nightly batch does not) */
  disburseDeps(): Promise<DisburseDeps>;
  /** null: no cron in this process (e.g. a worker that only takes chunks) */
  schedule: Schedule | null;
  /** null: no HTTP server in this process */
  http: { host: string; port: number; apiToken: string | null; stuckAfterMinutes: number; extensions?: ApiExtensions } | null;
  /** recovery only looks at attempts at least this old (a live request may still be answering) */
  recoverOlderThanMs?: number;
  /** fault injection for the crash tests: called with a named point; may kill the process */
  crashPoint?: (point: string) => void;
}

export interface RunningWorker {
  api: ApiServer | null;
  schedule: RunningSchedule | null;
  stop(): Promise<void>;
}

async function ensureQueue(boss: PgBoss, name: string, opts: { retryLimit: number; expireInSeconds: number }): Promise<void> {
  if (!(await boss.getQueue(name))) await boss.createQueue(name, { retryLimit: opts.retryLimit, retryDelay: 5, retryBackoff: true, expireInSeconds: opts.expireInSeconds });
}

function assertTick(data: unknown, queue: string): TickPayload {
  const d = data as Partial<TickPayload> | null;
  if (!d || typeof d.job !== 'string' || typeof d.slot !== 'string' || typeof d.businessDate !== 'string') {
    throw new LendpayError('INVALID_INPUT', `${queue} job: bad payload ${JSON.stringify(data)}`);
  }
  parseBusinessDate(d.businessDate, `${queue} businessDate`);
  return d as TickPayload;
}

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { db, boss, log } = deps;
  await ensureQueue(boss, WORKER_QUEUES.scheduleNightly, { retryLimit: 3, expireInSeconds: 600 });
  await ensureQueue(boss, WORKER_QUEUES.recoverUnknown, { retryLimit: 0, expireInSeconds: 300 });
  const queues: string[] = [];

  // The nightly chunks. The crash point sits where a chunk is in hand and nothing of
  // it is written: the test kills a worker there and another must finish the chunk.
  const evaluators = makeEvaluatorCache(db);
  await workNightly(boss, {
    db,
    evaluatorFor: (hash) => {
      deps.crashPoint?.('worker.nightly-chunk');
      return evaluators(hash);
    },
  }, deps.concurrency);
  queues.push(QUEUES.nightlyChunk);

  // A nightly tick: pin today's rule files, claim the run for the tick's date, enqueue its chunks.
  await boss.work(WORKER_QUEUES.scheduleNightly, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
    const tickData = assertTick(job!.data, WORKER_QUEUES.scheduleNightly);
    const date = parseBusinessDate(tickData.businessDate);
    const ruleSet = await loadRuleSet(deps.rulesDir);
    await saveRuleSet(db, ruleSet.hash, 'rules', ruleSet.files);
    const res = await startNightlyRun(db, boss, date, ruleSet.hash, deps.chunkSize);
    log.info({ job: 'nightly-eligibility', businessDate: date, runId: res.run.id, created: res.created, chunks: res.enqueued }, 'nightly run started');
  });
  queues.push(WORKER_QUEUES.scheduleNightly);

  await boss.work(WORKER_QUEUES.recoverUnknown, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
    assertTick(job!.data, WORKER_QUEUES.recoverUnknown);
    const r = await recoverOpenAttempts(await deps.disburseDeps(), { olderThanMs: deps.recoverOlderThanMs ?? 30_000 });
    if (r.checked > 0) log.info({ job: 'recover-unknown', ...r }, 'recovery pass');
  });
  queues.push(WORKER_QUEUES.recoverUnknown);

  const schedule = deps.schedule
    ? await startSchedule({ db, boss, workerId: deps.workerId, clock: deps.clock, log }, deps.schedule)
    : null;
  const api = deps.http
    ? await startApi({
      db, log, clock: deps.clock, host: deps.http.host, port: deps.http.port, apiToken: deps.http.apiToken,
      stuckAfterMinutes: deps.http.stuckAfterMinutes, disburseDeps: deps.disburseDeps, ...(deps.http.extensions ? { extensions: deps.http.extensions } : {}),
    })
    : null;
  log.info({ workerId: deps.workerId, queues, schedule: schedule?.active.map((j) => j.name) ?? [], api: api?.url ?? null }, 'worker started');

  let stopping: Promise<void> | null = null;
  return {
    api,
    schedule,
    stop() {
      stopping ??= (async () => {
        log.info({ workerId: deps.workerId }, 'worker stopping: no new work, finishing the jobs in hand');
        await schedule?.stop();
        // offWork with wait: stop fetching, and return when the jobs in hand are done.
        await Promise.all(queues.map((q) => boss.offWork(q, { wait: true }).catch((err: unknown) => log.error({ err, queue: q }, 'offWork failed'))));
        await api?.close();
        log.info({ workerId: deps.workerId }, 'worker stopped');
      })();
      return stopping;
    },
  };
}
