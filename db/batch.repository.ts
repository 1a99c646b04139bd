// batch_runs is the second layer of batch idempotency: one row per (kind, business
// date), claimed with insert … on conflict do nothing. batch_chunks records which
// chunk is done, in the same transaction as the chunk's writes.
import { sql } from 'kysely';
import type { Db } from './connection.ts';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './types.ts';

export interface BatchRun {
  id: number;
  kind: string;
  businessDate: string;
  status: 'running' | 'finished' | 'failed';
  ruleSetHash: string | null;
  totalChunks: number;
  startedAt: Date;
  finishedAt: Date | null;
  summary: unknown;
}

export interface Chunk {
  runId: number;
  chunkNo: number;
  fromKey: string;
  /** exclusive; null = to the end */
  toKey: string | null;
}

type Q = Kysely<Database> | Transaction<Database>;

function toRun(r: {
  id: number; kind: string; business_date: string; status: 'running' | 'finished' | 'failed'; rule_set_hash: string | null;
  total_chunks: number; started_at: Date; finished_at: Date | null; summary: unknown;
}): BatchRun {
  return {
    id: r.id, kind: r.kind, businessDate: r.business_date, status: r.status, ruleSetHash: r.rule_set_hash,
    totalChunks: r.total_chunks, startedAt: r.started_at, finishedAt: r.finished_at, summary: r.summary,
  };
}

/**
 * Claims the run for (kind, date) and plans its chunks in one transaction, so a crash
 * never leaves a run without chunks. `keys` are the chunk start keys, ascending.
 * Returns the existing run untouched when it was claimed before.
 */
export async function claimBatchRun(
  db: Db,
  kind: string,
  businessDate: string,
  ruleSetHash: string | null,
  planKeys: (trx: Transaction<Database>) => Promise<string[]>,
): Promise<{ run: BatchRun; created: boolean }> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('batch_runs')
      .values({ kind, business_date: businessDate, status: 'running', rule_set_hash: ruleSetHash })
      .onConflict((oc) => oc.columns(['kind', 'business_date']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) {
      const existing = await trx.selectFrom('batch_runs').selectAll().where('kind', '=', kind).where('business_date', '=', businessDate).executeTakeFirstOrThrow();
      return { run: toRun(existing), created: false };
    }
    const keys = await planKeys(trx);
    if (keys.length > 0) {
      const nos = keys.map((_, i) => i);
      const tos = keys.map((_, i) => keys[i + 1] ?? null);
      await sql`
        insert into batch_chunks (run_id, chunk_no, from_key, to_key, status)
        select ${inserted.id}, n, f, t, 'pending'
        from unnest(${nos}::int[], ${keys}::text[], ${tos}::text[]) as u(n, f, t)
      `.execute(trx);
    }
    const run = await trx
      .updateTable('batch_runs')
      .set({ total_chunks: keys.length })
      .where('id', '=', inserted.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { run: toRun(run), created: true };
  });
}

export async function getBatchRun(db: Q, id: number): Promise<BatchRun | null> {
  const r = await db.selectFrom('batch_runs').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toRun(r) : null;
}

export async function findBatchRun(db: Q, kind: string, businessDate: string): Promise<BatchRun | null> {
  const r = await db.selectFrom('batch_runs').selectAll().where('kind', '=', kind).where('business_date', '=', businessDate).executeTakeFirst();
  return r ? toRun(r) : null;
}

/** The latest business date a run of `kind` was claimed for, or null when none was. */
export async function latestRunDate(db: Q, kind: string): Promise<string | null> {
  const r = await db.selectFrom('batch_runs').select('business_date').where('kind', '=', kind).orderBy('business_date', 'desc').limit(1).executeTakeFirst();
  return r ? r.business_date : null;
}

export async function pendingChunks(db: Q, runId: number): Promise<Chunk[]> {
  const rows = await db
    .selectFrom('batch_chunks')
    .select(['run_id', 'chunk_no', 'from_key', 'to_key'])
    .where('run_id', '=', runId)
    .where('status', '=', 'pending')
    .orderBy('chunk_no')
    .execute();
  return rows.map((r) => ({ runId: r.run_id, chunkNo: r.chunk_no, fromKey: r.from_key, toKey: r.to_key }));
}

export async function getChunk(db: Q, runId: number, chunkNo: number): Promise<(Chunk & { done: boolean }) | null> {
  const r = await db.selectFrom('batch_chunks').selectAll().where('run_id', '=', runId).where('chunk_no', '=', chunkNo).executeTakeFirst();
  return r ? { runId: r.run_id, chunkNo: r.chunk_no, fromKey: r.from_key, toKey: r.to_key, done: r.status === 'done' } : null;
}

/** Marks a chunk done; false when another delivery of the same job got there first. */
export async function markChunkDone(trx: Transaction<Database>, runId: number, chunkNo: number, items: number): Promise<boolean> {
  const res = await trx
    .updateTable('batch_chunks')
    .set({ status: 'done', items, done_at: new Date() })
    .where('run_id', '=', runId)
    .where('chunk_no', '=', chunkNo)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export interface Progress {
  totalChunks: number;
  doneChunks: number;
  items: number;
}

export async function runProgress(db: Q, runId: number): Promise<Progress> {
  const r = await db
    .selectFrom('batch_chunks')
    .select((eb) => [
      eb.fn.countAll<number>().as('total'),
      eb.fn.count<number>('chunk_no').filterWhere('status', '=', 'done').as('done'),
      eb.fn.coalesce(eb.fn.sum<number>('items'), sql<number>`0`).as('items'),
    ])
    .where('run_id', '=', runId)
    .executeTakeFirstOrThrow();
  return { totalChunks: Number(r.total), doneChunks: Number(r.done), items: Number(r.items) };
}

/** Finishes the run once, when no chunk is pending; returns true for the caller that did it. */
export async function finishRunIfComplete(trx: Transaction<Database>, runId: number, summary: () => Promise<unknown>): Promise<boolean> {
  // Lock the run row so two last chunks finishing together serialise here. FOR NO KEY
  // UPDATE, not FOR UPDATE: every chunk's decision and chunk rows hold FOR KEY SHARE on
  // this row through their foreign keys, which FOR UPDATE waits for, so two chunks
  // committing together deadlocked (1 s deadlock_timeout, then a pg-boss retry): the
  // 100k bench ran 45 s instead of 4. NO KEY UPDATE still excludes itself.
  const run = await trx.selectFrom('batch_runs').select('status').where('id', '=', runId).forNoKeyUpdate().executeTakeFirst();
  if (!run || run.status !== 'running') return false;
  const pending = await trx.selectFrom('batch_chunks').select('chunk_no').where('run_id', '=', runId).where('status', '=', 'pending').limit(1).executeTakeFirst();
  if (pending) return false;
  await trx
    .updateTable('batch_runs')
    .set({ status: 'finished', finished_at: new Date(), summary: JSON.stringify(await summary()) })
    .where('id', '=', runId)
    .execute();
  return true;
}
