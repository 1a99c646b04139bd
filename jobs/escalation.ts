// Escalation on pg-boss: the ladder tick (query due unknowns, decide failures, carry
// out due steps), ad-hoc reprocessing of orders, and the dead letter for jobs that
// exhausted their retries (kept by pg-boss and mirrored into dead_letters, which
// `lendpay ops queue` shows).
import { listenForJobs, type Wakeups } from './wakeup.ts';
import type { Job, PgBoss } from 'pg-boss';
import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { recordDeadLetter } from '../db/escalation.repository.ts';
import { reprocessOrder, runEscalationTick, type EscalationDeps } from '../src/escalation/service.ts';
import { LendpayError } from '../src/errors.ts';
import { BOSS_SCHEMA, ensureQueue } from './boss.ts';
import { madeOnFirstUse } from './lazy.ts';

export const ESCALATION_QUEUES = {
  tick: 'escalation-tick',
  reprocess: 'reprocess-order',
  deadLetter: 'escalation-dead-letter',
} as const;

export const RETRY_LIMIT = 2;

export async function ensureEscalationQueues(boss: PgBoss): Promise<void> {
  if (!(await boss.getQueue(ESCALATION_QUEUES.deadLetter))) await boss.createQueue(ESCALATION_QUEUES.deadLetter, { retryLimit: 0 });
  const policy = { retryLimit: RETRY_LIMIT, retryDelay: 1, expireInSeconds: 600, deadLetter: ESCALATION_QUEUES.deadLetter };
  await ensureQueue(boss, ESCALATION_QUEUES.tick, policy);
  // an operator who reprocesses an order is waiting for it: the queue NOTIFYs a listener
  // (lendpay's workers do not listen, see startBoss; they poll it every 0.5 s)
  await ensureQueue(boss, ESCALATION_QUEUES.reprocess, { ...policy, notify: true });
}

/** One job per order; a second request while one waits is the same job (singleton key). */
export async function enqueueReprocess(boss: PgBoss, orderIds: readonly number[]): Promise<number> {
  await ensureEscalationQueues(boss);
  let n = 0;
  for (const id of orderIds) {
    if (await boss.send(ESCALATION_QUEUES.reprocess, { orderId: id }, { singletonKey: `order:${id}` })) n++;
  }
  return n;
}

/** The orders of one post-settlement (or other) batch run; `failed`: only those that did not succeed. */
export async function ordersOfBatchRun(db: Db, runId: number, failedOnly: boolean): Promise<number[]> {
  const r = await sql<{ id: number }>`
    select o.id from orders o join collection_items ci on ci.loan_id = o.loan_id and ci.run_id = ${runId}
    where o.purpose = 'collect.batch' and o.idempotency_key like 'collect:' || o.loan_id || ':' || ci.business_date::text || ':%'
      and (${!failedOnly} or o.status in ('failed', 'unknown', 'submitted', 'created'))
    order by o.id
  `.execute(db);
  return r.rows.map((x) => Number(x.id));
}

async function deadLetterOnLastTry(db: Db, queue: string, job: Job<unknown>, err: unknown): Promise<void> {
  if (job.retryCount >= RETRY_LIMIT) {
    await recordDeadLetter(db, { queue, jobId: job.id, payload: job.data, error: err instanceof Error ? err.message : String(err) }).catch(() => {});
  }
}

export function makeReprocessJob(deps: EscalationDeps) {
  return async (jobs: Job<unknown>[]) => {
    const out = [];
    for (const job of jobs) {
      const d = job.data as { orderId?: unknown };
      try {
        if (!Number.isSafeInteger(d?.orderId)) throw new LendpayError('INVALID_INPUT', `reprocess job: bad payload ${JSON.stringify(job.data)}`);
        out.push(await reprocessOrder(deps, d.orderId as number));
      } catch (err) {
        await deadLetterOnLastTry(deps.disburse.db, ESCALATION_QUEUES.reprocess, job, err);
        throw err;
      }
    }
    return out;
  };
}

export function makeTickJob(deps: EscalationDeps) {
  return async (jobs: Job<unknown>[]) => {
    for (const job of jobs) {
      try {
        return await runEscalationTick(deps);
      } catch (err) {
        await deadLetterOnLastTry(deps.disburse.db, ESCALATION_QUEUES.tick, job, err);
        throw err;
      }
    }
    return null;
  };
}

export const ESCALATION_WORK = { batchSize: 1, pollingIntervalSeconds: 0.5 } as const;

/** The two handlers over deps made on the first job (and made again after a failure). */
export function escalationJobs(deps: () => Promise<EscalationDeps>) {
  const get = madeOnFirstUse(deps);
  return {
    reprocess: async (jobs: Job<unknown>[]) => makeReprocessJob(await get())(jobs),
    tick: async (jobs: Job<unknown>[]) => makeTickJob(await get())(jobs),
  };
}

/** Polls the reprocess queue now whenever a job is sent to it (lendpay's own listener, see wakeup.ts). */
export function wakeOnReprocess(boss: PgBoss, reprocessWorkerId: string, databaseUrl: string): Wakeups {
  return listenForJobs(databaseUrl, BOSS_SCHEMA, (q) => {
    if (q === ESCALATION_QUEUES.reprocess) boss.notifyWorker(reprocessWorkerId);
  });
}

/** Registers the escalation workers (tests and the CLI; the worker process registers escalationJobs itself). */
export async function workEscalation(boss: PgBoss, deps: EscalationDeps, concurrency = 1): Promise<string[]> {
  await ensureEscalationQueues(boss);
  const opts = { ...ESCALATION_WORK, localConcurrency: concurrency };
  return [
    await boss.work(ESCALATION_QUEUES.reprocess, opts, makeReprocessJob(deps)),
    await boss.work(ESCALATION_QUEUES.tick, opts, makeTickJob(deps)),
  ];
}
