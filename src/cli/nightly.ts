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
  const { run, created } = await startNightlyRun(db, boss, date, version.hash, ctx.config.chunkSize);
  if (run.status !== 'running') return { run, created, seconds: (performance.now() - started) / 1000 };
  if (opts.work) await workNightly(boss, { db, evaluatorFor: makeEvaluatorCache(db) }, ctx.config.workerConcurrency);

  const display = opts.progress ? progressDisplay(`nightly ${date}`) : null;
  for (;;) {
    const p = await runProgress(db, run.id);
    display?.update(p.doneChunks, p.totalChunks, `chunks, ${p.items} customers`);
    const now = await getBatchRun(db, run.id);
    if (now && now.status !== 'running') {
      display?.stop();
      if (now.status === 'failed') throw new LendpayError('BATCH_FAILED', `nightly run ${run.id} failed`);
      return { run: now, created, seconds: (performance.now() - started) / 1000 };
    }
    // Two small indexed queries a tick; 100 ms keeps the command's own lag under a chunk's time.
    await new Promise((r) => setTimeout(r, 100));
  }
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
