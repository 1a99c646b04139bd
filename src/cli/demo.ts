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
import { applyForLoan } from '../disbursement/disburse.ts';
import { checkLedger } from '../ledger/reconcile.ts';
import { formatYuanGrouped, type Fen } from '../money.ts';

export interface DemoOptions {
  size: number;
  /** how many loans to disburse */
  loans: number;
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

  // Disbursement: a share of the eligible merchants borrow, through the sandbox platform.
  const { openImportedOnSandbox } = await import('../sandbox/admin.ts');
  const platform = await ctx.platform();
  await openImportedOnSandbox(db, platform.url);
  const deps = await ctx.disburseDeps();
  const borrowers = await db
    .selectFrom('eligibility_decisions')
    .select((eb) => ['customer_id', 'limit_fen', eb.exists(eb.selectFrom('customer_bank_cards as k').select('k.id').whereRef('k.customer_id', '=', 'eligibility_decisions.customer_id')).as('has_card')])
    .where('business_date', '=', opts.date)
    .where('eligible', '=', true)
    .where('limit_fen', '>=', 100_000)
    .orderBy('customer_id')
    .execute();
  const chosen = borrowers.filter((_, i) => i % 5 === 0).slice(0, opts.loans);
  const tDisburse = performance.now();
  const results: { rail: 'balance' | 'card'; amount: number; status: string; replay: boolean }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < chosen.length; i = next++) {
      const c = chosen[i]!;
      // 30% to a bank card, the rest to the balance account; between 10% and 60% of the limit, whole hundreds of yuan
      const rail = i % 10 < 3 && c.has_card ? 'card' as const : 'balance' as const;
      const amount = Math.max(10_000, Math.floor((c.limit_fen * (10 + ((i * 37) % 51))) / 100 / 10_000) * 10_000) as Fen;
      const r = await applyForLoan(deps, { customerId: c.customer_id, amount, rail, requestId: `demo:${opts.date}:${c.customer_id}` });
      results.push({ rail, amount, status: r.ok ? r.loan.status : `refused ${r.code}`, replay: r.ok && r.replay });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const replays = results.filter((r) => r.replay).length;
  out(`[${seconds()} s] ${results.length} loan applications in ${((performance.now() - tDisburse) / 1000).toFixed(1)} s${replays ? ` (${replays} were replays of earlier runs)` : ''}: collection 代收 into the lender account, then payout 代付`);
  for (const rail of ['balance', 'card'] as const) {
    const ok = results.filter((r) => r.rail === rail && r.status === 'disbursed');
    out(`  payouts to ${(rail === 'balance' ? 'balance accounts' : 'bank cards').padEnd(18)} ${String(ok.length).padStart(6)}   ${formatYuanGrouped(ok.reduce((a, r) => a + r.amount, 0)).padStart(20)} CNY`);
  }
  const other = results.filter((r) => r.status !== 'disbursed');
  if (other.length) out(`  not disbursed: ${other.length} (${[...new Set(other.map((r) => r.status))].join(', ')})`);
  const ledger = await checkLedger(db, platform.channel, ctx.config.lenderAccountId);
  out(`  trial balance: debits ${formatYuanGrouped(ledger.totalDebit)} = credits ${formatYuanGrouped(ledger.totalCredit)} (${ledger.entries} entries) — ${ledger.balanced ? 'zero' : 'NOT ZERO'}; lender platform account ${ledger.platform.every((p) => p.agrees) ? 'agrees with the platform' : 'DISAGREES with the platform'}`);
  out('');
  out(`done in ${seconds()} s. Try: npx lendpay decisions --date ${opts.date} --format table | head`);
  out(`                  npx lendpay ledger trial-balance`);
  out(`                  npx lendpay explain M0000001 --date ${opts.date}`);
}
