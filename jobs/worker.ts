// One `lendpay worker` process: the pg-boss workers, the cron schedule and the HTTP
// server (API, dashboard, /metrics). Any number of them share one database: chunks
// are handed out by pg-boss (SKIP LOCKED), cron ticks are claimed by a table row.
// stop() is the SIGTERM path: no new ticks, no new jobs, the jobs in hand finish.
import type { Wakeups } from './wakeup.ts';
import type { PgBoss, Job, WorkOptions } from 'pg-boss';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.ts';
import { activeRuleSetForBatch } from './active-rules.ts';
import { makePostSettlementChunkJob, POST_SETTLEMENT_WORK, startPostSettlementRun } from './post-settlement.ts';
import { storedCollectionRules } from './evaluators.ts';
import type { CollectionDeps } from '../src/collection/service.ts';
import { monitorHolds } from '../src/collection/monitor.ts';
import { reconcilePayouts, sandboxStatement } from '../src/collection/reconcile.ts';
import { sendNotifications } from './notifications.ts';
import { ensureEscalationQueues, escalationJobs, wakeOnReprocess, ESCALATION_QUEUES, ESCALATION_WORK } from './escalation.ts';
import type { EscalationDeps } from '../src/escalation/service.ts';
import { checkAlerts } from '../src/alerts/check.ts';
import type { AlertRules } from '../src/alerts/rules.ts';
import type { RuleSet } from '../src/rules/load.ts';
import type { NotificationSender } from '../src/notifications/sender.ts';
import { parseBusinessDate, type Clock } from '../src/dates.ts';
import { LendpayError } from '../src/errors.ts';
import { recoverOpenAttempts, type DisburseDeps } from '../src/disbursement/disburse.ts';
import { QUEUES, ensureQueue } from './boss.ts';
import type { StartStep } from './start.ts';
import { makeNightlyChunkJob, NIGHTLY_WORK, startNightlyRun } from './nightly.ts';
import { makeEvaluatorCache } from './evaluators.ts';
import { startSchedule, type RunningSchedule, type Schedule, type TickPayload } from './schedule.ts';
import { startApi, type ApiServer, type ApiExtensions, type ApiLimits } from '../src/api/server.ts';
import type { ApiToken } from '../src/config.ts';

/** Queues the worker registers itself; the schedule's other queues belong to their issues. */
export const WORKER_QUEUES = {
  scheduleNightly: 'schedule-nightly-eligibility',
  recoverUnknown: 'recover-unknown',
  postSettlement: 'post-settlement',
  holdMonitor: 'hold-monitor',
  reconciliation: 'reconciliation',
  notifications: 'notifications-send',
  alerts: 'alerts-check',
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
  /** the working copy of the rules (products for POST /loans, accounts for vouchers); none: the API sells no products */
  rules?: () => Promise<RuleSet>;
  /** escalation (the unknown-outcome ladder, escalation steps, reprocessing); none: not in this worker */
  escalationDeps?: () => Promise<EscalationDeps>;
  /** the alert rules and webhook; none: this worker does not check alerts */
  alerts?: { rules: AlertRules; webhook: string | null };
  /** where notifications go; none: this worker does not send them */
  notificationSender?: NotificationSender;
  /** null: no cron in this process (e.g. a worker that only takes chunks) */
  schedule: Schedule | null;
  /** null: no HTTP server in this process */
  http: { host: string; port: number; apiToken: string | null; tokens?: readonly ApiToken[]; metricsPublic?: boolean; stuckAfterMinutes: number; limits?: ApiLimits; extensions?: ApiExtensions } | null;
  /** the platform's base URL, for its statement of payouts (reconciliation) */
  platformUrl?: () => Promise<string>;
  /** recovery only looks at attempts at least this old (a live request may still be answering) */
  recoverOlderThanMs?: number;
  /** fault injection for the crash tests: called with a named point (and `job:<queue>` as each job arrives); may kill the process */
  crashPoint?: (point: string) => void | Promise<void>;
  /** lendpay's database, for the wake-up listener of the queues operators wait on (absent: those are polled) */
  databaseUrl?: string;
  /** told as start-up enters each step (names the step a lost connection interrupted; tests cut the database there) */
  onStartStep?: (step: StartStep) => void | Promise<void>;
}

export interface RunningWorker {
  api: ApiServer | null;
  schedule: RunningSchedule | null;
  stop(): Promise<void>;
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
  const queues: string[] = [];
  let schedule: RunningSchedule | null = null;
  let api: ApiServer | null = null;
  // Every handler is told its queue's crash point first: the failover tests kill a worker
  // the moment it holds a job of a given queue.
  let wakeups: Wakeups | null = null;
  const work = async (queue: string, opts: WorkOptions, handler: (jobs: Job<unknown>[]) => Promise<unknown>) => {
    const id = await boss.work(queue, opts, async (jobs: Job<unknown>[]) => {
      await deps.crashPoint?.(`job:${queue}`);
      return handler(jobs);
    });
    queues.push(queue);
    return id;
  };
  try {
    await deps.onStartStep?.('queues');
    await ensureQueue(boss, WORKER_QUEUES.scheduleNightly, { retryLimit: 3, retryDelay: 5, expireInSeconds: 600 });
    await ensureQueue(boss, WORKER_QUEUES.recoverUnknown, { retryLimit: 0, retryDelay: 5, expireInSeconds: 300 });
    for (const q of [WORKER_QUEUES.postSettlement, WORKER_QUEUES.holdMonitor, WORKER_QUEUES.reconciliation, WORKER_QUEUES.notifications]) {
      await ensureQueue(boss, q, { retryLimit: 2, retryDelay: 5, expireInSeconds: 900 });
    }
    if (deps.alerts) await ensureQueue(boss, WORKER_QUEUES.alerts, { retryLimit: 0, retryDelay: 5, expireInSeconds: 300 });

    // The nightly chunks. The crash point sits where a chunk is in hand and nothing of
    // it is written: the test kills a worker there and another must finish the chunk.
    const evaluators = makeEvaluatorCache(db);
    const nightly = makeNightlyChunkJob({
      db,
      evaluatorFor: (hash) => {
        deps.crashPoint?.('worker.nightly-chunk');
        return evaluators(hash);
      },
    });
    await work(QUEUES.nightlyChunk, { ...NIGHTLY_WORK, localConcurrency: deps.concurrency }, nightly);

    // A nightly tick: pin the active rule version, claim the run for the tick's date, enqueue its chunks.
    await work(WORKER_QUEUES.scheduleNightly, { batchSize: 1 }, async ([job]) => {
      const tickData = assertTick(job!.data, WORKER_QUEUES.scheduleNightly);
      const date = parseBusinessDate(tickData.businessDate);
      const { version } = await activeRuleSetForBatch(db, deps.rulesDir, (line) => log.info(line));
      const res = await startNightlyRun(db, boss, date, version.hash, deps.chunkSize);
      log.info({ job: 'nightly-eligibility', businessDate: date, runId: res.run.id, created: res.created, chunks: res.enqueued }, 'nightly run started');
    });

    await work(WORKER_QUEUES.recoverUnknown, { batchSize: 1 }, async ([job]) => {
      assertTick(job!.data, WORKER_QUEUES.recoverUnknown);
      const r = await recoverOpenAttempts(await deps.disburseDeps(), { olderThanMs: deps.recoverOlderThanMs ?? 30_000 });
      if (r.checked > 0) log.info({ job: 'recover-unknown', ...r }, 'recovery pass');
    });

    // Collection: post-settlement chunks, the fallback tick, the hold monitor,
    // reconciliation and the notification outbox. The platform is made on first use.
    const platformDeps = async () => {
      const d = await deps.disburseDeps();
      return { db, channel: d.channel, clock: deps.clock, lender: { accountId: d.lender.accountId } };
    };
    const collection = async (): Promise<CollectionDeps> => {
      const p = await platformDeps();
      const { version } = await activeRuleSetForBatch(db, deps.rulesDir);
      const rules = await storedCollectionRules(db, version.hash);
      return { ...p, collectionRules: rules.collection, notifications: rules.notifications, ruleSetHash: version.hash };
    };
    await work(QUEUES.postSettlementChunk, { ...POST_SETTLEMENT_WORK, localConcurrency: deps.concurrency }, makePostSettlementChunkJob(platformDeps));
    await work(WORKER_QUEUES.postSettlement, { batchSize: 1 }, async ([job]) => {
      const tick = assertTick(job!.data, WORKER_QUEUES.postSettlement);
      const date = parseBusinessDate(tick.businessDate);
      const settled = await db.selectFrom('settlements').select('business_date').where('business_date', '=', date).executeTakeFirst();
      if (!settled) log.warn({ job: 'post-settlement-fallback', businessDate: date }, 'no settlement event arrived by the fallback time: running the post-settlement batch anyway');
      const { version } = await activeRuleSetForBatch(db, deps.rulesDir);
      const res = await startPostSettlementRun(db, boss, date, version.hash, deps.chunkSize);
      log.info({ job: 'post-settlement', businessDate: date, runId: res.run.id, created: res.created, chunks: res.enqueued, fallback: !settled }, 'post-settlement run');
    });
    await work(WORKER_QUEUES.holdMonitor, { batchSize: 1 }, async ([job]) => {
      const tick = assertTick(job!.data, WORKER_QUEUES.holdMonitor);
      const r = await monitorHolds(await collection(), tick.slot);
      if (r.borrowers > 0) log.info({ job: 'hold-monitor', slot: tick.slot, ...r }, 'hold monitor pass');
    });
    await work(WORKER_QUEUES.reconciliation, { batchSize: 1 }, async ([job]) => {
      assertTick(job!.data, WORKER_QUEUES.reconciliation);
      const c = await collection();
      const r = await reconcilePayouts(c, sandboxStatement(deps.platformUrl ? await deps.platformUrl() : ''));
      log.info({ job: 'reconciliation', lines: r.statementLines, duplicates: r.duplicates.length, unmatched: r.unmatched }, 'reconciliation');
    });
    const sender = deps.notificationSender;
    if (sender) {
      await work(WORKER_QUEUES.notifications, { batchSize: 1 }, async ([job]) => {
        assertTick(job!.data, WORKER_QUEUES.notifications);
        const n = await sendNotifications(db, sender, deps.clock.now());
        if (n > 0) log.info({ job: 'notifications', sent: n }, 'notifications sent');
      });
    }
    if (deps.escalationDeps) {
      // made on the first escalation job, not at start: a worker starts while the platform is away
      await ensureEscalationQueues(boss);
      const jobs = escalationJobs(deps.escalationDeps);
      const reprocessWorker = await work(ESCALATION_QUEUES.reprocess, { ...ESCALATION_WORK, localConcurrency: deps.concurrency }, jobs.reprocess);
      // an operator waits on a reprocess: woken by NOTIFY on lendpay's own listener, not at the next poll
      if (deps.databaseUrl) wakeups = wakeOnReprocess(boss, reprocessWorker, deps.databaseUrl);
      await work(ESCALATION_QUEUES.tick, { ...ESCALATION_WORK, localConcurrency: deps.concurrency }, jobs.tick);
    }
    if (deps.alerts) {
      const alertCfg = deps.alerts;
      await work(WORKER_QUEUES.alerts, { batchSize: 1 }, async ([job]) => {
        assertTick(job!.data, WORKER_QUEUES.alerts);
        const r = await checkAlerts({
          db, rules: alertCfg.rules, now: deps.clock.now(), webhook: alertCfg.webhook,
          log: (a) => log.warn({ alert: { id: a.id, rule: a.rule, kind: a.kind, severity: a.severity, subject: a.subject, orderId: a.orderId } }, a.message),
        });
        if (r.resolved > 0) log.info({ job: 'alerts', resolved: r.resolved, open: r.open }, 'alerts resolved');
      });
    }

    await deps.onStartStep?.('schedule');
    schedule = deps.schedule
      ? await startSchedule({ db, boss, workerId: deps.workerId, clock: deps.clock, log }, deps.schedule)
      : null;
    api = deps.http
      ? await startApi({
        db, log, clock: deps.clock, host: deps.http.host, port: deps.http.port, apiToken: deps.http.apiToken, tokens: deps.http.tokens ?? [], metricsPublic: deps.http.metricsPublic ?? false,
        stuckAfterMinutes: deps.http.stuckAfterMinutes, disburseDeps: deps.disburseDeps, ...(deps.rules ? { rules: deps.rules } : {}), ...(deps.escalationDeps ? { escalationDeps: deps.escalationDeps } : {}), collectionDeps: collection, ...(deps.http.limits ? { limits: deps.http.limits } : {}), ...(deps.http.extensions ? { extensions: deps.http.extensions } : {}),
      })
      : null;
  } catch (err) {
    // A start that failed half-way (its connection lost) leaves nothing running: the
    // caller may try again in the same process.
    await schedule?.stop().catch(() => {});
    await wakeups?.close();
    await api?.close().catch(() => {});
    await Promise.all(queues.map((q) => boss.offWork(q).catch(() => {})));
    throw err;
  }
  log.info({ workerId: deps.workerId, queues, schedule: schedule?.active.map((j) => j.name) ?? [], api: api?.url ?? null }, 'worker started');

  let stopping: Promise<void> | null = null;
  return {
    api,
    schedule,
    stop() {
      stopping ??= (async () => {
        log.info({ workerId: deps.workerId }, 'worker stopping: no new work, finishing the jobs in hand');
        await schedule?.stop();
        await wakeups?.close();
        // offWork with wait: stop fetching, and return when the jobs in hand are done.
        await Promise.all(queues.map((q) => boss.offWork(q, { wait: true }).catch((err: unknown) => log.error({ err, queue: q }, 'offWork failed'))));
        await api?.close();
        log.info({ workerId: deps.workerId }, 'worker stopped');
      })();
      return stopping;
    },
  };
}
