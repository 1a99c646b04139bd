// The stage registry. A stage runs against the fresh database of one size and returns
// rows for the table; stages run in registry order, and a later stage may use what an
// earlier one left in `state` (e.g. the nightly run id). Disbursement and collection
// register here once they exist: add an entry, nothing else changes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { OpenDatabase } from '../../db/open.ts';
import { createContext } from '../../src/cli/context.ts';
import { runNightlyCommand } from '../../src/cli/nightly.ts';
import { generatePopulationSql } from './generate.ts';
import { findBatchRun, pendingChunks } from '../../db/batch.repository.ts';
import { NIGHTLY } from '../../jobs/nightly.ts';
import { QUEUES } from '../../jobs/boss.ts';
import type { BusinessDate } from '../../src/dates.ts';
import { monthsBefore } from '../../src/dates.ts';
import { predicateLimit } from './predicate.ts';
import { COLLECTION_STAGES } from './collection.ts';
import { DISBURSE_API_STAGE } from './disburse-api.ts';
import { DECLARED_RULES_DIR, prepareDeclaredFacts } from './declared.ts';

export interface StageRow {
  stage: string;
  items: number;
  seconds: number;
  /** name of the stage row this one is held against (its rate is the limit) */
  limitOf?: string;
  /** the limit's rate when it is not another row (e.g. a combination of two) */
  limitRate?: number;
  note?: string;
  peakRssMiB?: number;
}

export interface StageContext {
  size: number;
  seed: number;
  date: BusinessDate;
  database: OpenDatabase;
  /** creates another fresh database (dropped by the harness at the end of the size) */
  freshDatabase(label: string): Promise<OpenDatabase>;
  state: Map<string, unknown>;
  log(line: string): void;
  /** runs when the size is done, before its databases are dropped (last registered first) */
  onClose(f: () => Promise<void>): void;
  options: BenchOptions;
}

export interface BenchOptions {
  /** share of the population with a loan due (the loans stage) */
  dueShare: number;
  /** loans the disburse stage applies for (plus its in-flight probe) */
  disburse: number;
  /** concurrent applications in the disburse stage's main measurement */
  disburseConcurrency: number;
  /** nightly with two declared facts in the rules (test/bench/declared.ts) */
  declaredFacts: boolean;
}

export interface Stage {
  name: string;
  /** run unless --stages names a subset */
  byDefault: boolean;
  run(ctx: StageContext): Promise<StageRow[]>;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** Runs the CLI's own nightly path (rule set saved, pg-boss started, chunks worked in this process, wait loop). */
async function cliNightly(ctx: StageContext) {
  const rulesDir = ctx.state.get(DECLARED_RULES_DIR) as string | undefined;
  const cli = createContext({ ...process.env, DATABASE_URL: ctx.database.url, LENDPAY_LOG_LEVEL: 'warn', ...(rulesDir ? { LENDPAY_RULES_DIR: rulesDir } : {}) });
  try {
    return await runNightlyCommand(cli, ctx.date, { work: true, progress: false });
  } finally {
    await cli.close();
  }
}

/** Everything the nightly batch wrote, as (rows, checksum) per table: a replay must leave these equal. */
export async function nightlyChecksum(db: OpenDatabase['db'], date: string): Promise<Record<string, string>> {
  const q = async (table: string, where: ReturnType<typeof sql>) => {
    const r = await sql<{ n: string; h: string }>`
      select count(*)::text as n, coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text as h from ${sql.table(table)} t where ${where}
    `.execute(db);
    return `${r.rows[0]!.n}:${r.rows[0]!.h}`;
  };
  return {
    eligibility_decisions: await q('eligibility_decisions', sql`business_date = ${date}::date`),
    batch_runs: await q('batch_runs', sql`true`),
    batch_chunks: await q('batch_chunks', sql`true`),
  };
}

export const STAGES: Stage[] = [
  {
    name: 'import',
    byDefault: false,
    // The JSONL path (issue 2): the demo generator's file, streamed through importCustomersFile, in its own database.
    async run(ctx) {
      const { writePopulationJsonl } = await import('../../src/demo/population.ts');
      const { importCustomersFile } = await import('../../db/import.ts');
      const file = path.join(os.tmpdir(), `lendpay-bench-${process.pid}-${ctx.size}.jsonl`);
      try {
        let t0 = performance.now();
        const n = await writePopulationJsonl(file, { seed: ctx.seed, size: ctx.size, asOf: ctx.date });
        const gen = seconds(t0);
        const other = await ctx.freshDatabase('import');
        t0 = performance.now();
        const res = await importCustomersFile(other.db, file);
        return [
          { stage: 'import:write-jsonl', items: n, seconds: gen },
          { stage: 'import', items: res.customers, seconds: seconds(t0), note: `${res.flows} flows, ${res.accounts} accounts, ${res.cards} cards` },
        ];
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
  },
  {
    name: 'generate',
    byDefault: true,
    async run(ctx) {
      const t0 = performance.now();
      const g = await generatePopulationSql(ctx.database.db, { size: ctx.size, seed: ctx.seed, asOf: ctx.date });
      const rows: StageRow[] = [{ stage: 'generate', items: g.customers, seconds: seconds(t0), note: `${g.flows} flows, ${g.accounts} accounts` }];
      return ctx.options.declaredFacts ? [...rows, ...(await prepareDeclaredFacts(ctx))] : rows;
    },
  },
  {
    name: 'nightly',
    byDefault: true,
    async run(ctx) {
      const t0 = performance.now();
      const res = await cliNightly(ctx);
      const s = seconds(t0);
      if (res.run.status !== 'finished') throw new Error(`nightly run ${res.run.id} ended ${res.run.status}`);
      const decisions = (res.run.summary as { decisions: number }).decisions;
      if (decisions !== ctx.size) throw new Error(`nightly wrote ${decisions} decisions for ${ctx.size} customers`);
      ctx.state.set('nightly', { runId: res.run.id, seconds: s, decisions });
      const declared = ctx.options.declaredFacts ? ', 2 declared facts' : '';
      return [{ stage: 'nightly', items: decisions, seconds: s, limitOf: 'limit:write+predicate', note: `${res.run.totalChunks} chunks${declared}` }];
    },
  },
  {
    name: 'replay',
    byDefault: true,
    // Two replays, both must change nothing: the command run again for the date (the run
    // is found finished), and every chunk job delivered again through pg-boss (at least once).
    async run(ctx) {
      const { db } = ctx.database;
      const before = await nightlyChecksum(db, ctx.date);
      let t0 = performance.now();
      const again = await cliNightly(ctx);
      const rerun = seconds(t0);
      if (again.created) throw new Error('replay claimed a new run');

      const run = await findBatchRun(db, NIGHTLY, ctx.date);
      if (!run) throw new Error('no nightly run to replay');
      t0 = performance.now();
      const redelivered = await redeliverChunks(ctx, run.id, run.totalChunks);
      const redeliver = seconds(t0);

      const after = await nightlyChecksum(db, ctx.date);
      for (const k of Object.keys(before)) {
        if (before[k] !== after[k]) throw new Error(`replay changed ${k}: ${before[k]} → ${after[k]}`);
      }
      if ((await pendingChunks(db, run.id)).length !== 0) throw new Error('replay left chunks pending');
      const rows = Number(before['eligibility_decisions']!.split(':')[0]);
      return [
        { stage: 'replay:rerun', items: rows, seconds: rerun, note: 'checksums equal' },
        { stage: 'replay:redeliver', items: rows, seconds: redeliver, note: `${redelivered} jobs, checksums equal` },
      ];
    },
  },
  {
    name: 'limits',
    byDefault: true,
    // What nightly is held against, on the same database: a plain set-based write of the
    // very decision rows, and a hand-written predicate over the very inputs in memory.
    async run(ctx) {
      const { db } = ctx.database;
      await sql`drop table if exists bench_decisions_copy`.execute(db);
      await sql`create table bench_decisions_copy (like eligibility_decisions including all)`.execute(db);
      let t0 = performance.now();
      const w = await sql`insert into bench_decisions_copy select * from eligibility_decisions where business_date = ${ctx.date}::date`.execute(db);
      const write = seconds(t0);
      await sql`drop table bench_decisions_copy`.execute(db);
      const written = Number(w.numAffectedRows ?? 0);
      // the same with the table's three foreign keys (LIKE does not copy them): each is a per-row check
      await sql`create table bench_decisions_copy (like eligibility_decisions including all)`.execute(db);
      await sql`
        alter table bench_decisions_copy add foreign key (customer_id) references customers (id),
          add foreign key (run_id) references batch_runs (id), add foreign key (rule_set_hash) references rule_sets (hash)
      `.execute(db);
      t0 = performance.now();
      await sql`insert into bench_decisions_copy select * from eligibility_decisions where business_date = ${ctx.date}::date`.execute(db);
      const writeFk = seconds(t0);
      await sql`drop table bench_decisions_copy`.execute(db);

      const months = monthsBefore(ctx.date, 6);
      const p = await predicateLimit(db, ctx.date, months, ctx.options.declaredFacts);
      // the predicate must agree with what the nightly batch stored
      const stored = await sql<{ n: number; eligible: number; total: number }>`
        select count(*)::int8 as n, count(*) filter (where eligible)::int8 as eligible, coalesce(sum(limit_fen), 0)::int8 as total
        from eligibility_decisions where business_date = ${ctx.date}::date
      `.execute(db);
      const s = stored.rows[0]!;
      const agree = s.n === p.items && s.eligible === p.eligible && s.total === p.totalLimit;
      if (!agree) throw new Error(`hand-written predicate disagrees with stored decisions: ${JSON.stringify({ stored: s, predicate: p })}`);
      return [
        { stage: 'limit:write', items: written, seconds: write, note: 'insert … select of the decision rows' },
        { stage: 'limit:write-with-fks', items: written, seconds: writeFk, note: 'the same, with the three foreign keys' },
        { stage: 'limit:predicate', items: p.items, seconds: p.seconds, note: `in memory; agrees with stored (${p.eligible} eligible)` },
        // the two in series: a batch that only evaluated and wrote, with nothing else in between
        { stage: 'limit:write+predicate', items: written, seconds: write + p.seconds * (written / p.items) },
      ];
    },
  },
  // disbursement and collection: loans, disburse, post-settlement, hold-monitor, collection-replay, collection-limits
  // disbursement first, on merchants without a loan; then the loans due for collection
  // (the loans stage gives --due-share of everyone a loan, --due-share 1 all of them)
  ...COLLECTION_STAGES.filter((s) => s.name === 'disburse'),
  DISBURSE_API_STAGE,
  ...COLLECTION_STAGES.filter((s) => s.name !== 'disburse'),
];

/** Sends every chunk of the run to the queue again and works them until the queue is empty. */
async function redeliverChunks(ctx: StageContext, runId: number, chunks: number): Promise<number> {
  const { startBoss } = await import('../../jobs/boss.ts');
  const { workNightly } = await import('../../jobs/nightly.ts');
  const { makeEvaluatorCache } = await import('../../jobs/evaluators.ts');
  const boss = await startBoss(ctx.database.url);
  try {
    const { db } = ctx.database;
    for (let i = 0; i < chunks; i += 500) {
      const jobs = [];
      for (let n = i; n < Math.min(chunks, i + 500); n++) jobs.push({ data: { runId, chunkNo: n } });
      await boss.insert(QUEUES.nightlyChunk, jobs);
    }
    await workNightly(boss, { db, evaluatorFor: makeEvaluatorCache(db) }, 2);
    for (;;) {
      const r = await sql<{ n: number }>`
        select count(*)::int8 as n from pgboss.job where name = ${QUEUES.nightlyChunk} and state in ('created', 'retry', 'active')
      `.execute(db);
      if (r.rows[0]!.n === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const failed = await sql<{ n: number }>`select count(*)::int8 as n from pgboss.job where name = ${QUEUES.nightlyChunk} and state = 'failed'`.execute(db);
    if (failed.rows[0]!.n !== 0) throw new Error(`${failed.rows[0]!.n} redelivered chunk jobs failed`);
    return chunks;
  } finally {
    await boss.stop({ graceful: true, timeout: 10_000 });
  }
}
