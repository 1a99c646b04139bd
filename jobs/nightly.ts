// The nightly eligibility batch: one batch_runs row per business date, one pg-boss
// job per chunk of customers. A chunk loads its facts in one query (the declared facts
// its rules use included, each customer's latest value as of the date), runs the rules
// in memory and writes its decisions in one statement, in the transaction that
// marks the chunk done. Re-running a date, or a job delivered twice, changes nothing.
import type { PgBoss, Job } from 'pg-boss';
import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import { claimBatchRun, finishRunIfComplete, getBatchRun, getChunk, markChunkDone, pendingChunks, type BatchRun } from '../db/batch.repository.ts';
import { customerChunkKeys, insertDecisions, loadEligibilityInputs, summariseDecisions } from '../db/eligibility.repository.ts';
import { monthsBefore, parseBusinessDate, type BusinessDate } from '../src/dates.ts';
import type { EligibilityDecision, EligibilityInput } from '../src/eligibility/types.ts';
import { LendpayError } from '../src/errors.ts';
import { QUEUES } from './boss.ts';

export const NIGHTLY = 'nightly';

/** The evaluation stage, behind one interface so a faster engine can replace it. */
export interface Evaluator {
  readonly flowMonths: number;
  /** declared facts (rules/facts.json) the rules use: each customer's latest value as of the date is loaded */
  readonly declaredFacts?: readonly string[];
  evaluate(input: EligibilityInput, date: BusinessDate): EligibilityDecision;
}

export interface NightlyDeps {
  db: Db;
  /** the evaluator for a pinned rule set (by content hash) */
  evaluatorFor(hash: string): Promise<Evaluator>;
}

export interface ChunkPayload {
  runId: number;
  chunkNo: number;
}

function assertPayload(data: unknown): ChunkPayload {
  const d = data as Partial<ChunkPayload> | null;
  if (!d || !Number.isSafeInteger(d.runId) || !Number.isSafeInteger(d.chunkNo)) {
    throw new LendpayError('INVALID_INPUT', `nightly chunk job: bad payload ${JSON.stringify(data)}`);
  }
  return { runId: d.runId!, chunkNo: d.chunkNo! };
}

/** Claims (or finds) the run for `date` and enqueues every chunk not yet done. */
export async function startNightlyRun(
  db: Db,
  boss: PgBoss,
  date: BusinessDate,
  ruleSetHash: string,
  chunkSize: number,
): Promise<{ run: BatchRun; created: boolean; enqueued: number }> {
  const { run, created } = await claimBatchRun(db, NIGHTLY, date, ruleSetHash, (trx) => customerChunkKeys(trx, chunkSize));
  if (run.status !== 'running') return { run, created, enqueued: 0 };
  const chunks = await pendingChunks(db, run.id);
  for (let i = 0; i < chunks.length; i += 500) {
    await boss.insert(
      QUEUES.nightlyChunk,
      chunks.slice(i, i + 500).map((c) => ({ data: { runId: c.runId, chunkNo: c.chunkNo } satisfies ChunkPayload })),
    );
  }
  // A run over an empty population has no chunk to finish it.
  if (chunks.length === 0) {
    await db.transaction().execute((trx) => finishRunIfComplete(trx, run.id, () => summariseDecisions(trx, date)));
  }
  return { run, created, enqueued: chunks.length };
}

export type ChunkOutcome = 'done' | 'already-done' | 'run-not-running';

export async function runNightlyChunk(deps: NightlyDeps, payload: ChunkPayload): Promise<ChunkOutcome> {
  const { db } = deps;
  const run = await getBatchRun(db, payload.runId);
  if (!run || run.kind !== NIGHTLY || run.status !== 'running') return 'run-not-running';
  const chunk = await getChunk(db, payload.runId, payload.chunkNo);
  if (!chunk) throw new LendpayError('NOT_FOUND', `run ${payload.runId} has no chunk ${payload.chunkNo}`);
  if (chunk.done) return 'already-done';
  if (!run.ruleSetHash) throw new LendpayError('BATCH_FAILED', `run ${run.id} has no rule set`);

  const date = parseBusinessDate(run.businessDate);
  const evaluator = await deps.evaluatorFor(run.ruleSetHash);
  const inputs = await loadEligibilityInputs(db, chunk.fromKey, chunk.toKey, monthsBefore(date, evaluator.flowMonths), { facts: evaluator.declaredFacts ?? [], date });
  const decisions = inputs.map((input) => evaluator.evaluate(input, date));
  const hash = run.ruleSetHash;

  await db.transaction().execute(async (trx) => {
    // No fsync wait at commit: a chunk whose commit is lost in a crash is still pending
    // in batch_chunks (its done mark is in the same transaction), so the job's retry or
    // the next run of the date writes it again; nothing outside this database has seen
    // it. Still WAL-logged and crash-safe: at worst the last few commits are redone.
    await sql`set local synchronous_commit = off`.execute(trx);
    await insertDecisions(trx, date, run.id, hash, decisions);
    if (await markChunkDone(trx, run.id, chunk.chunkNo, inputs.length)) {
      await finishRunIfComplete(trx, run.id, () => summariseDecisions(trx, date));
    }
  });
  return 'done';
}

export function makeNightlyChunkJob(deps: NightlyDeps) {
  return async (jobs: Job<unknown>[]): Promise<void> => {
    for (const job of jobs) await runNightlyChunk(deps, assertPayload(job.data));
  };
}

// A full batch means more work waits: fetch again at once instead of idling a poll.
export const NIGHTLY_WORK = { batchSize: 4, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 } as const;

export async function workNightly(boss: PgBoss, deps: NightlyDeps, concurrency: number): Promise<string> {
  return boss.work(QUEUES.nightlyChunk, { ...NIGHTLY_WORK, localConcurrency: concurrency }, makeNightlyChunkJob(deps));
}
