// `lendpay batch nightly`: claim the run, enqueue its chunks, work them in this
// process (other `lendpay worker` processes share the queue), show progress, summarise.
import type { Context } from './context.ts';
import type { BusinessDate } from '../dates.ts';
import { activeRuleSetForBatch } from '../../jobs/active-rules.ts';
import { findBatchRun, getBatchRun, latestRunDate, runProgress, type BatchRun } from '../../db/batch.repository.ts';
import { NIGHTLY, startNightlyRun, workNightly } from '../../jobs/nightly.ts';
import type { Db } from '../../db/connection.ts';
import { makeEvaluatorCache } from '../../jobs/evaluators.ts';
import { progressDisplay } from './progress.ts';
import { LendpayError } from '../errors.ts';

export interface NightlyResult {
  run: BatchRun;
  created: boolean;
  /** chunks of an earlier, unfinished run of the date that this command put back on the queue */
  requeued: number;
  seconds: number;
}

export async function runNightlyCommand(ctx: Context, date: BusinessDate, opts: { work: boolean; progress: boolean; backfill?: boolean }): Promise<NightlyResult> {
  const started = performance.now();
  const { db } = await ctx.database();
  if (!opts.backfill) await refuseUnaskedBackfill(db, NIGHTLY, 'nightly', date);
  const { version } = await activeRuleSetForBatch(db, ctx.config.rulesDir, (line) => process.stderr.write(`${line}\n`));
  const boss = await ctx.boss();
  // The run row pins the active version's hash at claim time; every chunk evaluates
  // with that stored rule set, so an activation during the run lands on the next one.
  const { run, created, enqueued } = await startNightlyRun(db, boss, date, version.hash, ctx.config.chunkSize);
  const requeued = created ? 0 : enqueued;
  if (run.status !== 'running') return { run, created, requeued, seconds: (performance.now() - started) / 1000 };
  if (opts.work) await workNightly(boss, { db, evaluatorFor: makeEvaluatorCache(db) }, ctx.config.workerConcurrency);

  const display = opts.progress ? progressDisplay(`nightly ${date}`) : null;
  for (;;) {
    const p = await runProgress(db, run.id);
    display?.update(p.doneChunks, p.totalChunks, `chunks, ${p.items} customers`);
    const now = await getBatchRun(db, run.id);
    if (now && now.status !== 'running') {
      display?.stop();
      if (now.status === 'failed') throw new LendpayError('BATCH_FAILED', `nightly run ${run.id} failed`);
      return { run: now, created, requeued, seconds: (performance.now() - started) / 1000 };
    }
    // Two small indexed queries a tick; 100 ms keeps the command's own lag under a chunk's time.
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What a batch command did, in one line: ran the date, found it finished (nothing
 * changed), or found it unfinished (its worker killed, say) and put its pending
 * chunks back on the queue. Shared by the nightly and post-settlement commands.
 */
export function batchOutcomeLine(kind: string, date: string, res: { run: BatchRun; created: boolean; requeued: number; seconds: number }): string {
  if (res.created) return `${kind} ${date}: run ${res.run.id} ${res.run.status} in ${res.seconds.toFixed(1)} s`;
  if (res.requeued > 0) {
    const then = res.run.status === 'running' ? 'workers will finish it' : `it ${res.run.status} in ${res.seconds.toFixed(1)} s`;
    return `${kind} ${date}: run ${res.run.id} was still running with ${res.requeued} of ${res.run.totalChunks} chunks not done: requeued them; ${then}`;
  }
  if (res.run.status === 'running') return `${kind} ${date}: run ${res.run.id} was already running with every chunk on the queue; workers will finish it`;
  return `${kind} ${date} already finished as run ${res.run.id}: nothing changed`;
}

/**
 * A run for a date older than the latest run of its kind is a backfill: a nightly run
 * for 2026-11-26 after one for 2026-12-02 puts its decisions between newer ones, and
 * a customer's history reads v1 → v2 → v1. Refused unless asked for with --backfill;
 * re-running a date that already has its run is a replay and changes nothing.
 */
export async function refuseUnaskedBackfill(db: Db, kind: string, label: string, date: BusinessDate): Promise<void> {
  const latest = await latestRunDate(db, kind);
  if (latest === null || date >= latest) return;
  if (await findBatchRun(db, kind, date)) return;
  throw new LendpayError('INVALID_INPUT', `--date ${date} is older than the latest ${label} run (${latest}): pass --backfill to run it anyway`);
}

// Batches pin the active rule version; the lookup lives with the jobs that use it.
export { activeRuleSetForBatch };
