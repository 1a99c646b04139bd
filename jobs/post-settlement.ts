// The post-settlement batch: after the marketplace settles to its merchants, collect
// what is due on or before the business date. One batch_runs row per date, one job per
// chunk of borrowers; a chunk reads balances in bulk, plans under the borrowers' locks,
// debits through the platform's batch operation and records outcomes set-based.
// Re-running a date, or a chunk delivered twice, sends nothing twice: each plan is
// recorded once per (date, loan) and each debit order once per idempotency key.
import type { PgBoss, Job } from 'pg-boss';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Db } from '../db/connection.ts';
import { claimBatchRun, finishRunIfComplete, getBatchRun, getChunk, markChunkDone, pendingChunks, type BatchRun } from '../db/batch.repository.ts';
import { dueBorrowerKeys, lap } from '../db/collection.repository.ts';
import { collectBorrowers, type CollectionDeps } from '../src/collection/service.ts';
import { storedCollectionRules } from './evaluators.ts';
import { accrueChunkPenalties } from '../src/loans/accrue.ts';
import type { PaymentChannel } from '../src/channel/types.ts';
import type { BusinessDate, Clock } from '../src/dates.ts';
import { LendpayError } from '../src/errors.ts';
import { QUEUES } from './boss.ts';
import { madeOnFirstUse } from './lazy.ts';

export const POST_SETTLEMENT = 'post_settlement';

export interface PostSettlementDeps {
  db: Db;
  channel: PaymentChannel;
  clock: Clock;
  lender: { accountId: string };
}

export async function startPostSettlementRun(db: Db, boss: PgBoss, date: BusinessDate, ruleSetHash: string, chunkSize: number): Promise<{ run: BatchRun; created: boolean; enqueued: number }> {
  const { run, created } = await claimBatchRun(db, POST_SETTLEMENT, date, ruleSetHash, (trx) => dueBorrowerKeys(trx, date, chunkSize));
  if (run.status !== 'running') return { run, created, enqueued: 0 };
  const chunks = await pendingChunks(db, run.id);
  for (let i = 0; i < chunks.length; i += 500) {
    await boss.insert(QUEUES.postSettlementChunk, chunks.slice(i, i + 500).map((c) => ({ data: { runId: c.runId, chunkNo: c.chunkNo } })));
  }
  if (chunks.length === 0) await db.transaction().execute((trx) => finishRunIfComplete(trx, run.id, () => summarisePostSettlement(trx, date)));
  return { run, created, enqueued: chunks.length };
}

export async function runPostSettlementChunk(deps: PostSettlementDeps, payload: { runId: number; chunkNo: number }): Promise<'done' | 'already-done' | 'run-not-running'> {
  const run = await getBatchRun(deps.db, payload.runId);
  if (!run || run.kind !== POST_SETTLEMENT || run.status !== 'running') return 'run-not-running';
  const chunk = await getChunk(deps.db, run.id, payload.chunkNo);
  if (!chunk) throw new LendpayError('NOT_FOUND', `run ${run.id} has no chunk ${payload.chunkNo}`);
  if (chunk.done) return 'already-done';
  if (!run.ruleSetHash) throw new LendpayError('BATCH_FAILED', `run ${run.id} has no rule set`);
  const rules = await storedCollectionRules(deps.db, run.ruleSetHash);
  const collection: CollectionDeps = {
    db: deps.db, channel: deps.channel, clock: deps.clock, lender: deps.lender,
    collectionRules: rules.collection, notifications: rules.notifications, ruleSetHash: run.ruleSetHash,
  };
  // the overdue penalty of the date first (part of what is due today), then the collection
  const t = performance.now();
  await accrueChunkPenalties(deps.db, run.businessDate as BusinessDate, { fromKey: chunk.fromKey, toKey: chunk.toKey }, deps.clock.now());
  lap('penalties', t);
  const report = await collectBorrowers(collection, { fromKey: chunk.fromKey, toKey: chunk.toKey }, {
    date: run.businessDate, runId: run.id, keyPrefix: 'collect', purpose: 'collect.batch', openHolds: true,
  });
  await deps.db.transaction().execute(async (trx) => {
    if (await markChunkDone(trx, run.id, chunk.chunkNo, report.borrowers)) {
      await finishRunIfComplete(trx, run.id, () => summarisePostSettlement(trx, run.businessDate));
    }
  });
  return 'done';
}

export interface PostSettlementSummary {
  loans: number;
  dueFen: number;
  plannedFen: number;
  heldFen: number;
  collectedFen: number;
  byStep: Record<string, { loans: number; plannedFen: number; heldFen: number }>;
  openHolds: number;
  openHoldFen: number;
  blockedBorrowers: number;
}

export async function summarisePostSettlement(db: Db | Transaction<Database>, date: string): Promise<PostSettlementSummary> {
  const steps = await sql<{ step: string; n: number; due: number; planned: number; held: number }>`
    select step, count(*)::int8 as n, sum(due_fen)::int8 as due, sum(planned_fen)::int8 as planned, sum(held_fen)::int8 as held
    from collection_items where business_date = ${date}::date group by step order by step
  `.execute(db);
  const collected = await sql<{ c: number }>`
    select coalesce(sum(o.amount_fen), 0)::int8 as c from orders o
    where o.purpose = 'collect.batch' and o.status = 'succeeded' and o.idempotency_key like ${`collect:%:${date}:%`}
  `.execute(db);
  const holds = await sql<{ n: number; amt: number; blocked: number }>`
    select (select count(*) from holds where status = 'open')::int8 as n,
           (select coalesce(sum(amount_fen), 0) from holds where status = 'open')::int8 as amt,
           (select count(*) from outflow_blocks where blocked)::int8 as blocked
  `.execute(db);
  const byStep: PostSettlementSummary['byStep'] = {};
  let loans = 0, due = 0, planned = 0, held = 0;
  for (const s of steps.rows) {
    byStep[s.step] = { loans: s.n, plannedFen: s.planned, heldFen: s.held };
    loans += s.n; due += s.due; planned += s.planned; held += s.held;
  }
  return {
    loans, dueFen: due, plannedFen: planned, heldFen: held, collectedFen: collected.rows[0]?.c ?? 0, byStep,
    openHolds: holds.rows[0]?.n ?? 0, openHoldFen: holds.rows[0]?.amt ?? 0, blockedBorrowers: holds.rows[0]?.blocked ?? 0,
  };
}

export const POST_SETTLEMENT_WORK = { batchSize: 2, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 } as const;

/** deps may be made on first use (a worker that never sees a chunk never starts a platform client). */
export function makePostSettlementChunkJob(deps: PostSettlementDeps | (() => Promise<PostSettlementDeps>)) {
  const get = typeof deps === 'function' ? madeOnFirstUse(deps) : () => Promise.resolve(deps);
  return async (jobs: Job<unknown>[]): Promise<void> => {
    for (const job of jobs) {
      const d = job.data as { runId?: unknown; chunkNo?: unknown };
      if (!Number.isSafeInteger(d?.runId) || !Number.isSafeInteger(d?.chunkNo)) throw new LendpayError('INVALID_INPUT', `post-settlement chunk job: bad payload ${JSON.stringify(job.data)}`);
      await runPostSettlementChunk(await get(), { runId: d.runId as number, chunkNo: d.chunkNo as number });
    }
  };
}

export async function workPostSettlement(boss: PgBoss, deps: PostSettlementDeps | (() => Promise<PostSettlementDeps>), concurrency: number): Promise<string> {
  return boss.work(QUEUES.postSettlementChunk, { ...POST_SETTLEMENT_WORK, localConcurrency: concurrency }, makePostSettlementChunkJob(deps));
}
