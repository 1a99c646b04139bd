// `npm start`: a seeded synthetic population imported and evaluated by the nightly
// batch on the embedded default, then a summary. Re-running it on the same day finds
// the day's run finished and changes nothing.
import path from 'node:path';
import fs from 'node:fs';
import type { Context } from './context.ts';
import type { BusinessDate } from '../dates.ts';
import { runNightlyCommand } from './nightly.ts';
import { formatNightlySummary } from './format.ts';
import type { NightlySummary } from '../../db/eligibility.repository.ts';

export interface DemoOptions {
  size: number;
  seed: number;
  date: BusinessDate;
}

export async function runDemo(ctx: Context, opts: DemoOptions, out: (line: string) => void): Promise<void> {
  const { writePopulationJsonl } = await import('../demo/population.ts');
  const { importCustomersFile } = await import('../../db/import.ts');
  const t0 = performance.now();
  const seconds = () => ((performance.now() - t0) / 1000).toFixed(1);

  const { url } = await ctx.database();
  out(`lendpay demo — business date ${opts.date}, database ${url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@')}`);

  const dir = path.join(ctx.config.dataDir, 'demo');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `population-${opts.seed}-${opts.size}-${opts.date}.jsonl`);
  const n = await writePopulationJsonl(file, { seed: opts.seed, size: opts.size, asOf: opts.date });
  out(`[${seconds()} s] generated ${n} merchants (seed ${opts.seed}) → ${path.relative(process.cwd(), file)}`);

  const { db } = await ctx.database();
  const imported = await importCustomersFile(db, file);
  out(`[${seconds()} s] imported ${imported.customers} customers, ${imported.accounts} balance accounts, ${imported.cards} bank cards, ${imported.flows} monthly flows`);

  const res = await runNightlyCommand(ctx, opts.date, { work: true, progress: true });
  out(res.created
    ? `[${seconds()} s] nightly batch run ${res.run.id}: ${res.run.totalChunks} chunks in ${res.seconds.toFixed(1)} s`
    : `[${seconds()} s] nightly batch for ${opts.date} had already run (run ${res.run.id}); nothing changed`);
  out('');
  out(formatNightlySummary(res.run.summary as NightlySummary));
  out('');
  out(`done in ${seconds()} s. Try: npx lendpay decisions --date ${opts.date} --format table | head`);
  out(`                  npx lendpay explain M0000001 --date ${opts.date}`);
}
