// pg-boss setup shared by the CLI, the worker and the tests: one schema, the queues
// lendpay uses, and their retry and failover policy. The queue delivers at least once;
// exactly once comes from our own unique keys (batch_chunks, decisions, orders).
import { PgBoss } from 'pg-boss';

export const QUEUES = {
  nightlyChunk: 'nightly-eligibility-chunk',
  postSettlementChunk: 'post-settlement-chunk',
} as const;

/**
 * Failover: a job whose worker died (kill -9, a lost host) goes back to the queue once
 * its heartbeat is this old. pg-boss's minimum; the worker refreshes it every half of it
 * while the handler runs. Without it a dead worker's job waited out `expireInSeconds`
 * (ten minutes for a chunk).
 */
export const HEARTBEAT_SECONDS = 10;
/**
 * How often each process's pg-boss supervisor looks for stale heartbeats (pg-boss's
 * default is 60 s, which alone would eat the bound below). The look is one claimed
 * row per queue, so many processes share it rather than each repeating it.
 */
export const SUPERVISE_SECONDS = 2;
/** The longest a retry waits, backoff or not: a dead worker's job is a retry too. */
export const RETRY_DELAY_MAX_SECONDS = 8;
/**
 * The promise, for every lendpay queue: a job held by a worker killed at t is finished by
 * a live worker by t + this. Heartbeat (≤ 10 s stale) + a supervisor pass (≤ 2 × 2 s) +
 * the retry's delay (≤ 8 s) + a poll, with room for the job itself.
 */
export const FAILOVER_BOUND_SECONDS = 30;

export interface QueuePolicy {
  retryLimit: number;
  /** seconds before the first retry; doubled (with jitter) on each, up to RETRY_DELAY_MAX_SECONDS */
  retryDelay: number;
  /** the most a job may run; a live worker that takes longer loses it */
  expireInSeconds: number;
  deadLetter?: string;
  /** NOTIFY the workers when a job is sent (someone waits for it) */
  notify?: boolean;
}

/**
 * Creates the queue with lendpay's policy, or brings a queue made before up to it.
 * pg-boss's createQueue leaves an existing queue as it is, so a database made by an
 * earlier lendpay would keep its queues without heartbeats: those get updateQueue. What
 * this does not change on an existing queue (retry limit, delay, expiry) is an
 * operator's to tune and stays. A job takes the queue's options when it is sent, so
 * jobs queued before the update keep the old expiry.
 */
export async function ensureQueue(boss: PgBoss, name: string, policy: QueuePolicy): Promise<void> {
  const q = await boss.getQueue(name);
  if (!q) {
    await boss.createQueue(name, {
      retryLimit: policy.retryLimit, retryDelay: policy.retryDelay, retryBackoff: true, retryDelayMax: RETRY_DELAY_MAX_SECONDS,
      expireInSeconds: policy.expireInSeconds, heartbeatSeconds: HEARTBEAT_SECONDS,
      ...(policy.deadLetter ? { deadLetter: policy.deadLetter } : {}), ...(policy.notify ? { notify: true } : {}),
    });
    return;
  }
  const update: { heartbeatSeconds?: number; retryBackoff?: true; retryDelayMax?: number; notify?: boolean } = {};
  if (q.heartbeatSeconds !== HEARTBEAT_SECONDS) update.heartbeatSeconds = HEARTBEAT_SECONDS;
  // pg-boss takes a maximum only with backoff, said in the same call; a fixed delay stays fixed
  if (q.retryBackoff && q.retryDelayMax !== RETRY_DELAY_MAX_SECONDS) Object.assign(update, { retryBackoff: true, retryDelayMax: RETRY_DELAY_MAX_SECONDS });
  if (policy.notify && !q.notify) update.notify = true;
  if (Object.keys(update).length > 0) await boss.updateQueue(name, update);
}

/** The chunk queues every process that enqueues a batch needs. */
const CHUNK_POLICY: QueuePolicy = { retryLimit: 3, retryDelay: 2, expireInSeconds: 600 };

export interface BossOptions {
  schema?: string;
  onError?: (err: Error) => void;
  /** false: this process only sends and works; others fail the jobs of dead workers (tests of failover) */
  supervise?: boolean;
}

/** The schema pg-boss keeps its jobs in. */
export const BOSS_SCHEMA = 'pgboss';

export async function startBoss(url: string, opts: BossOptions = {}): Promise<PgBoss> {
  // No LISTEN/NOTIFY (useListenNotify): pg-boss 12.38's listener connection, dropped while
  // its worker starts or runs, can emit 'error' after pg-boss took its listeners off it,
  // an uncaught exception that kills the process (a pg_terminate_backend of a starting
  // worker's connections did it one time in twenty). Every queue is polled every 0.5 s
  // instead, the operators' reprocess queue too, which is as quick for someone waiting.
  const boss = new PgBoss({
    connectionString: url, schema: opts.schema ?? BOSS_SCHEMA, max: 4, application_name: 'lendpay-boss',
    superviseIntervalSeconds: SUPERVISE_SECONDS, monitorIntervalSeconds: SUPERVISE_SECONDS, supervise: opts.supervise ?? true,
  });
  boss.on('error', opts.onError ?? (() => {}));
  try {
    await boss.start();
    for (const name of Object.values(QUEUES)) await ensureQueue(boss, name, CHUNK_POLICY);
  } catch (err) {
    // half started (the database went away under it): its timers and pool must not
    // outlive the failure, or a caller that tries again holds two
    await boss.stop({ graceful: false, close: true, timeout: 1000 }).catch(() => {});
    throw err;
  }
  return boss;
}
