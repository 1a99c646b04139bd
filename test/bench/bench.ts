// `npm run bench -- [--sizes 10000,100000] [--stages generate,nightly,replay,limits,loans,disburse,
//                    post-settlement,hold-monitor,collection-replay,collection-limits,import]
//                    [--out file.json] [--seed S] [--date YYYY-MM-DD]
//                    [--due-share 0.3] [--disburse 2000] [--disburse-concurrency 8] [--declared-facts]`
// --declared-facts: nightly (and its limits) with two declared facts in the rules, their
// values imported for the population by the generate stage (test/bench/declared.ts).
// Chunk size and worker concurrency are the CLI's: LENDPAY_CHUNK_SIZE, LENDPAY_WORKER_CONCURRENCY.
// For each size: a fresh database (DATABASE_URL's server, else the embedded default),
// every selected stage in registry order, one table row per measurement, the database
// dropped again. Peak memory is this process's RSS high-water during the stage,
// sampled every 20 ms (Postgres's own memory is not in it).
import { parseArgs as parseArgs_ } from 'node:util';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { resolveDatabaseUrl, openUrl, type OpenDatabase } from '../../db/open.ts';
import { parseBusinessDate } from '../../src/dates.ts';
import { STAGES, type BenchOptions, type StageRow } from './stages.ts';

interface Args {
  sizes: number[];
  stages: string[];
  out: string | null;
  seed: number;
  date: string;
  options: BenchOptions;
  /** leave the databases in place (for EXPLAIN afterwards); their names are printed */
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const { values: o } = parseArgs_({
    args: argv,
    strict: true,
    options: {
      sizes: { type: 'string' }, stages: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, date: { type: 'string' },
      keep: { type: 'boolean' }, 'due-share': { type: 'string' }, disburse: { type: 'string' }, 'disburse-concurrency': { type: 'string' },
      'declared-facts': { type: 'boolean' },
    },
  });
  const whole = (v: string) => Number(v.replace(/_/g, ''));
  const a: Args = {
    sizes: o.sizes === undefined ? [100_000] : o.sizes.split(',').map(whole),
    stages: o.stages === undefined ? STAGES.filter((s) => s.byDefault).map((s) => s.name) : o.stages.split(',').map((s) => s.trim()).filter(Boolean),
    out: o.out ?? null,
    seed: o.seed === undefined ? 42 : Number(o.seed),
    date: o.date ?? '2026-06-15',
    options: {
      dueShare: o['due-share'] === undefined ? 0.3 : Number(o['due-share']),
      disburse: o.disburse === undefined ? 2000 : whole(o.disburse),
      disburseConcurrency: o['disburse-concurrency'] === undefined ? 8 : Number(o['disburse-concurrency']),
      declaredFacts: o['declared-facts'] ?? false,
    },
    keep: o.keep ?? false,
  };
  for (const s of a.sizes) if (!Number.isSafeInteger(s) || s < 1) throw new Error(`--sizes: ${s} is not a positive whole number`);
  if (!(a.options.dueShare > 0 && a.options.dueShare <= 1)) throw new Error('--due-share: expected a number in (0, 1]');
  if (!Number.isSafeInteger(a.options.disburse) || a.options.disburse < 1) throw new Error('--disburse: expected a positive whole number');
  if (!Number.isSafeInteger(a.options.disburseConcurrency) || a.options.disburseConcurrency < 1) throw new Error('--disburse-concurrency: expected a positive whole number');
  if (!Number.isSafeInteger(a.seed)) throw new Error(`--seed: expected a whole number`);
  const known = new Set(STAGES.map((s) => s.name));
  for (const s of a.stages) if (!known.has(s)) throw new Error(`--stages: unknown stage "${s}" (known: ${[...known].join(', ')})`);
  parseBusinessDate(a.date);
  return a;
}

async function admin(url: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** RSS high-water since the last reset, sampled. */
function rssSampler() {
  let peak = process.memoryUsage.rss();
  const t = setInterval(() => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  }, 20);
  t.unref();
  return {
    reset() {
      peak = process.memoryUsage.rss();
    },
    peakMiB() {
      peak = Math.max(peak, process.memoryUsage.rss());
      return peak / 1048576;
    },
    stop() {
      clearInterval(t);
    },
  };
}

interface Row extends StageRow {
  size: number;
  /** this process's CPU time over the whole stage (first row of a stage only): Node does the work, Postgres is the rest */
  nodeCpuSeconds?: number;
  rate: number;
  ratio: number | null;
}

function table(rows: Row[]): string {
  const head = ['size', 'stage', 'items', 'seconds', 'items/s', 'ratio to limit', 'peak RSS MiB', 'node CPU s', 'note'];
  const body = rows.map((r) => [
    String(r.size), r.stage, String(r.items), r.seconds.toFixed(2), Math.round(r.rate).toLocaleString('en-US'),
    r.ratio === null ? '' : `${r.ratio.toFixed(2)} of ${r.limitOf}`, (r.peakRssMiB ?? 0).toFixed(0), r.nodeCpuSeconds === undefined ? '' : r.nodeCpuSeconds.toFixed(1), r.note ?? '',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 5 || i === 8 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const adminUrl = await resolveDatabaseUrl(loadConfig(), log);
  const mem = rssSampler();
  const all: Row[] = [];
  const selected = STAGES.filter((s) => args.stages.includes(s.name));

  for (const size of args.sizes) {
    const created: { name: string; open: OpenDatabase }[] = [];
    const closers: (() => Promise<void>)[] = [];
    const freshDatabase = async (label: string): Promise<OpenDatabase> => {
      const name = `lendpay_bench_${label}_${size}_${randomBytes(3).toString('hex')}`;
      await admin(adminUrl, `create database ${name}`);
      const open = await openUrl(withDatabase(adminUrl, name), true, 8);
      created.push({ name, open });
      return open;
    };
    try {
      const database = await freshDatabase('main');
      const ctx = { size, seed: args.seed, date: parseBusinessDate(args.date), database, freshDatabase, state: new Map<string, unknown>(), log, options: args.options, onClose: (f: () => Promise<void>) => void closers.push(f) };
      const rows: Row[] = [];
      for (const stage of selected) {
        log(`[${size}] ${stage.name} …`);
        mem.reset();
        const cpu0 = process.cpuUsage();
        const out = await stage.run(ctx);
        const cpu = process.cpuUsage(cpu0);
        const peak = mem.peakMiB();
        for (const [i, r] of out.entries()) {
          const row: Row = { ...r, size, rate: r.items / r.seconds, ratio: null, peakRssMiB: r.peakRssMiB ?? peak, ...(i === 0 ? { nodeCpuSeconds: (cpu.user + cpu.system) / 1e6 } : {}) };
          rows.push(row);
          log(`[${size}] ${row.stage}: ${row.items} in ${row.seconds.toFixed(2)} s`);
        }
      }
      // ratios once every limit of this size is known
      for (const r of rows) {
        if (!r.limitOf) continue;
        const lim = rows.find((x) => x.stage === r.limitOf);
        r.ratio = lim ? r.rate / lim.rate : null;
        if (!lim) delete r.limitOf;
      }
      all.push(...rows);
    } finally {
      for (const f of closers.reverse()) await f().catch((e) => log(`cleanup: ${e}`));
      for (const d of created.reverse()) {
        await d.open.close().catch(() => {});
        if (args.keep) {
          log(`kept database ${d.name}`);
          continue;
        }
        await admin(adminUrl, `drop database if exists ${d.name} with (force)`).catch((e) => log(`could not drop ${d.name}: ${e}`));
      }
    }
  }
  mem.stop();
  console.log(table(all));
  if (args.out) {
    const json = { seed: args.seed, date: args.date, cpus: (await import('node:os')).cpus().length, node: process.version, rows: all };
    fs.writeFileSync(args.out, `${JSON.stringify(json, null, 2)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
