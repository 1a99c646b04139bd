// One `lendpay worker` process: the pg-boss workers, the cron schedule and the HTTP
// server (API, dashboard, /metrics). Any number of them share one database: chunks
// are handed out by pg-boss (SKIP LOCKED), cron ticks are claimed by a table row.
// stop() is the SIGTERM path: no new ticks, no new jobs, the jobs in hand finish.
import type { PgBoss, Job } from 'pg-boss';
import type { Logger } from 'pino';
import type { Db } from '../db/connection.ts';
import { activeRuleSetForBatch } from './active-rules.ts';
import { startPostSettlementRun, workPostSettlement } from './post-settlement.ts';
import { storedCollectionRules } from './evaluators.ts';
import type { CollectionDeps } from '../src/collection/service.ts';
import { monitorHolds } from '../src/collection/monitor.ts';
import { reconcilePayouts, sandboxStatement } from '../src/collection/reconcile.ts';
import { sendNotifications } from './notifications.ts';
import { workEscalation } from './escalation.ts';
import type { EscalationDeps } from '../src/escalation/service.ts';
import { checkAlerts } from '../src/alerts/check.ts';
import type { AlertRules } from '../src/alerts/rules.ts';
import type { NotificationSender } from '../src/notifications/sender.ts';
import { parseBusinessDate, type Clock } from '../src/dates.ts';
import { LendpayError } from '../src/errors.ts';
import { recoverOpenAttempts, type DisburseDeps } from '../src/disbursement/disburse.ts';
import { QUEUES } from './boss.ts';
import { startNightlyRun, workNightly } from './nightly.ts';
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

  // A nightly tick: pin the active rule version, claim the run for the tick's date, enqueue its chunks.
  await boss.work(WORKER_QUEUES.scheduleNightly, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
    const tickData = assertTick(job!.data, WORKER_QUEUES.scheduleNightly);
    const date = parseBusinessDate(tickData.businessDate);
    const { version } = await activeRuleSetForBatch(db, deps.rulesDir, (line) => log.info(line));
    const res = await startNightlyRun(db, boss, date, version.hash, deps.chunkSize);
    log.info({ job: 'nightly-eligibility', businessDate: date, runId: res.run.id, created: res.created, chunks: res.enqueued }, 'nightly run started');
  });
  queues.push(WORKER_QUEUES.scheduleNightly);

  await boss.work(WORKER_QUEUES.recoverUnknown, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
    assertTick(job!.data, WORKER_QUEUES.recoverUnknown);
    const r = await recoverOpenAttempts(await deps.disburseDeps(), { olderThanMs: deps.recoverOlderThanMs ?? 30_000 });
    if (r.checked > 0) log.info({ job: 'recover-unknown', ...r }, 'recovery pass');
  });
  queues.push(WORKER_QUEUES.recoverUnknown);

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
  await ensureQueue(boss, QUEUES.postSettlementChunk, { retryLimit: 3, expireInSeconds: 600 });
  await workPostSettlement(boss, platformDeps, deps.concurrency);
  queues.push(QUEUES.postSettlementChunk);
  for (const q of [WORKER_QUEUES.postSettlement, WORKER_QUEUES.holdMonitor, WORKER_QUEUES.reconciliation, WORKER_QUEUES.notifications]) {
    await ensureQueue(boss, q, { retryLimit: 2, expireInSeconds: 900 });
  }
  await boss.work(WORKER_QUEUES.postSettlement, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
    const tick = assertTick(job!.data, WORKER_QUEUES.postSettlement);
    const date = parseBusinessDate(tick.businessDate);
    const settled = await db.selectFrom('settlements').select('business_date').where('business_date', '=', date).executeTakeFirst();
    if (!settled) log.warn({ job: 'post-settlement-fallback', businessDate: date }, 'no settlement event arrived by the fallback time: running the post-settlement batch anyway');
    const { version } = await activeRuleSetForBatch(db, deps.rulesDir);
    const res = await startPostSettlementRun(db, boss, date, version.hash, deps.chunkSize);
    log.info({ job: 'post-settlement', businessDate: date, runId: res.run.id, created: res.created, chunks: res.enqueued, fallback: !settled }, 'post-settlement run');
  });
  await boss.work(WORKER_QUEUES.holdMonitor, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
    const tick = assertTick(job!.data, WORKER_QUEUES.holdMonitor);
    const r = await monitorHolds(await collection(), tick.slot);
    if (r.borrowers > 0) log.info({ job: 'hold-monitor', slot: tick.slot, ...r }, 'hold monitor pass');
  });
  await boss.work(WORKER_QUEUES.reconciliation, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
    assertTick(job!.data, WORKER_QUEUES.reconciliation);
    const c = await collection();
    const r = await reconcilePayouts(c, sandboxStatement(deps.platformUrl ? await deps.platformUrl() : ''));
    log.info({ job: 'reconciliation', lines: r.statementLines, duplicates: r.duplicates.length, unmatched: r.unmatched }, 'reconciliation');
  });
  const sender = deps.notificationSender;
  if (sender) {
    await boss.work(WORKER_QUEUES.notifications, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
      assertTick(job!.data, WORKER_QUEUES.notifications);
      const n = await sendNotifications(db, sender, deps.clock.now());
      if (n > 0) log.info({ job: 'notifications', sent: n }, 'notifications sent');
    });
    queues.push(WORKER_QUEUES.notifications);
  }
  queues.push(WORKER_QUEUES.postSettlement, WORKER_QUEUES.holdMonitor, WORKER_QUEUES.reconciliation);
  if (deps.escalationDeps) {
    queues.push(...(await workEscalation(boss, await deps.escalationDeps(), deps.concurrency)));
  }
  if (deps.alerts) {
    const alertCfg = deps.alerts;
    await ensureQueue(boss, WORKER_QUEUES.alerts, { retryLimit: 0, expireInSeconds: 300 });
    await boss.work(WORKER_QUEUES.alerts, { batchSize: 1 }, async ([job]: Job<unknown>[]) => {
      assertTick(job!.data, WORKER_QUEUES.alerts);
      const r = await checkAlerts({
        db, rules: alertCfg.rules, now: deps.clock.now(), webhook: alertCfg.webhook,
        log: (a) => log.warn({ alert: { id: a.id, rule: a.rule, kind: a.kind, severity: a.severity, subject: a.subject, orderId: a.orderId } }, a.message),
      });
      if (r.resolved > 0) log.info({ job: 'alerts', resolved: r.resolved, open: r.open }, 'alerts resolved');
    });
    queues.push(WORKER_QUEUES.alerts);
  }

  const schedule = deps.schedule
    ? await startSchedule({ db, boss, workerId: deps.workerId, clock: deps.clock, log }, deps.schedule)
    : null;
  const api = deps.http
    ? await startApi({
      db, log, clock: deps.clock, host: deps.http.host, port: deps.http.port, apiToken: deps.http.apiToken, tokens: deps.http.tokens ?? [], metricsPublic: deps.http.metricsPublic ?? false,
      stuckAfterMinutes: deps.http.stuckAfterMinutes, disburseDeps: deps.disburseDeps, ...(deps.escalationDeps ? { escalationDeps: deps.escalationDeps } : {}), collectionDeps: collection, ...(deps.http.limits ? { limits: deps.http.limits } : {}), ...(deps.http.extensions ? { extensions: deps.http.extensions } : {}),
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
