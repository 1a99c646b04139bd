// `npm start`: a whole business day on the embedded default. A seeded population is
// imported and re-tagged by the nightly batch; ten days ago a share of the eligible
// merchants borrowed (compliant disbursement through the sandbox platform); this
// morning the marketplace settles to its merchants, the post-settlement batch collects
// what has fallen due (own balance, cross-account, hold with outflow blocked), more
// money arrives and the hold monitor sweeps it. Re-running it on the same day replays
// every step idempotently and changes nothing.
//
// With DATABASE_URL it refuses a database that holds anything but an earlier demo
// (--allow-existing-data overrides). Long steps show progress on stderr (a bar on a
// terminal, a line every tenth elsewhere); stdout is the day's story, the same on
// every run of the same size, seed and date but for timings.
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { sandboxOf, type Context } from './context.ts';
import { businessDateAt, systemClock, type BusinessDate, type Clock } from '../dates.ts';
import { runNightlyCommand } from './nightly.ts';
import { formatNightlySummary } from './format.ts';
import type { NightlySummary } from '../../db/eligibility.repository.ts';
import { applyForProduct } from '../loans/apply.ts';
import type { ProductRules } from '../loans/products.ts';
import { exportVouchers } from '../ledger/export.ts';
import { vouchersToCsv, voucherNumber } from '../ledger/vouchers.ts';
import { checkLedger } from '../ledger/reconcile.ts';
import { formatYuanGrouped, type Fen } from '../money.ts';
import { addDays } from '../loans/schedule.ts';
import { adminPost, openImportedOnSandbox } from '../sandbox/admin.ts';
import { collectionDeps, formatPostSettlement, runPostSettlement } from './commands/collection.ts';
import type { PostSettlementSummary } from '../../jobs/post-settlement.ts';
import { monitorHolds } from '../collection/monitor.ts';
import { mulberry32 } from '../demo/population.ts';
import { sql } from 'kysely';
import { LendpayError } from '../errors.ts';
import { progressDisplay } from './progress.ts';
import { checkReachable, describeServer } from '../../db/open.ts';
import { inspectForDemo, recordDemoRun } from '../../db/demo.repository.ts';

export interface DemoOptions {
  size: number;
  /** how many loans to disburse */
  loans: number;
  seed: number;
  date: BusinessDate;
  /** with DATABASE_URL: go ahead in a database that holds other data than an earlier demo */
  allowExistingData?: boolean;
}

const LOAN_AGE_DAYS = 10;

export async function runDemo(ctx: Context, opts: DemoOptions, out: (line: string) => void): Promise<void> {
  const { writePopulationJsonl } = await import('../demo/population.ts');
  const { importCustomersFile } = await import('../../db/import.ts');
  const t0 = performance.now();
  const seconds = () => ((performance.now() - t0) / 1000).toFixed(1).padStart(5);
  const D = opts.date;
  const disbursedOn = addDays(D, -LOAN_AGE_DAYS);

  if (ctx.config.databaseUrl !== null && !opts.allowExistingData) await refuseOtherData(ctx.config.databaseUrl);
  // The demo runs against the sandbox platform inside this process: it asks for it.
  ctx.allowInProcessSandbox('the demo (lendpay demo, npm start)');
  const { url, db } = await ctx.database();
  const embedded = ctx.config.databaseUrl === null;
  out(`lendpay demo — business day ${D} (loans made ${disbursedOn}), ${embedded ? 'the embedded PostgreSQL' : `database ${describeServer(url)}`}`);
  out('');
  await recordDemoRun(db, { businessDate: D, seed: opts.seed, size: opts.size });

  // 1. the population
  const dir = ctx.config.dataDir === null ? fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-demo-')) : path.join(ctx.config.dataDir, 'demo');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `population-${opts.seed}-${opts.size}-${D}.jsonl`);
  const n = await writePopulationJsonl(file, { seed: opts.seed, size: opts.size, asOf: D });
  const importing = progressDisplay('importing merchants');
  const imported = await importCustomersFile(db, file, { onProgress: (lines) => importing.update(lines, n, 'lines') });
  importing.stop();
  // outside a project (DATABASE_URL from anywhere) the file was only a means to import
  if (ctx.config.dataDir === null) fs.rmSync(dir, { recursive: true, force: true });
  const platform = await ctx.platform();
  const sandbox = sandboxOf(platform);
  await openImportedOnSandbox(db, sandbox);
  out(`[${seconds()} s] imported ${n} seeded merchants (seed ${opts.seed}): ${imported.accounts} balance accounts, ${imported.cards} bank cards, opened on the sandbox platform`);

  // 2. ten days ago: nightly decisions, then loans
  // backfill: a demo run the day before has a later nightly run than this one
  const earlier = await runNightlyCommand(ctx, disbursedOn, { work: true, progress: true, backfill: true });
  out(`[${seconds()} s] nightly eligibility for ${disbursedOn}: run ${earlier.run.id} ${earlier.created ? `in ${earlier.seconds.toFixed(1)} s` : '(already done)'}`);
  const then: Clock = { now: () => new Date(`${disbursedOn}T10:00:00+08:00`) };
  const deps = { ...(await ctx.disburseDeps()), clock: then };
  const borrowers = await db
    .selectFrom('eligibility_decisions')
    .select((eb) => ['customer_id', 'limit_fen', eb.exists(eb.selectFrom('customer_bank_cards as k').select('k.id').whereRef('k.customer_id', '=', 'eligibility_decisions.customer_id')).as('has_card')])
    .where('business_date', '=', disbursedOn)
    .where('eligible', '=', true)
    .where('limit_fen', '>=', 100_000)
    .orderBy('customer_id')
    .execute();
  const chosen = borrowers.filter((_, i) => i % 5 === 0).slice(0, opts.loans);
  const tDisburse = performance.now();
  const results: { customer: string; rail: 'balance' | 'card'; amount: number; product: string; status: string }[] = [];
  const products = (await ctx.rules()).products;
  const lending = progressDisplay(`loans of ${disbursedOn}`);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < chosen.length; i = next++) {
      const c = chosen[i]!;
      // 30% to a bank card, the rest to the balance account; 10–60% of the limit in whole hundreds of yuan
      const rail = i % 10 < 3 && c.has_card ? 'card' as const : 'balance' as const;
      const amount = Math.max(10_000, Math.floor((c.limit_fen * (10 + ((i * 37) % 51))) / 100 / 10_000) * 10_000) as Fen;
      const pick = products ? demoProduct(products, i, amount, rail) : {};
      const r = await applyForProduct(deps, products, { customerId: c.customer_id, amount, rail, requestId: `demo:${disbursedOn}:${c.customer_id}`, ...pick });
      results.push({ customer: c.customer_id, rail, amount, product: pick.product ?? products?.defaultProduct.id ?? '-', status: r.ok ? r.loan.status : `refused ${r.code}` });
      lending.update(results.length, chosen.length, 'loans');
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  lending.stop();
  out(`[${seconds()} s] ${results.length} loans applied for on ${disbursedOn} in ${((performance.now() - tDisburse) / 1000).toFixed(1)} s: collection 代收 into the lender account, then payout 代付`);
  for (const rail of ['balance', 'card'] as const) {
    const ok = results.filter((r) => r.rail === rail && r.status === 'disbursed');
    out(`         payouts to ${(rail === 'balance' ? 'balance accounts' : 'bank cards').padEnd(18)} ${String(ok.length).padStart(6)}   ${formatYuanGrouped(ok.reduce((a, r) => a + r.amount, 0)).padStart(18)} CNY`);
  }
  const sold = new Map<string, { n: number; amount: number }>();
  for (const r of results.filter((x) => x.status === 'disbursed')) {
    const e = sold.get(r.product) ?? { n: 0, amount: 0 };
    e.n++;
    e.amount += r.amount;
    sold.set(r.product, e);
  }
  for (const [id, e] of [...sold].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out(`         product ${id.padEnd(26)} ${String(e.n).padStart(6)}   ${formatYuanGrouped(e.amount).padStart(18)} CNY`);
  }
  const other = results.filter((r) => r.status !== 'disbursed');
  if (other.length) out(`         not disbursed: ${other.length} (${[...new Set(other.map((r) => r.status))].join(', ')})`);

  // 3. this morning: the merchants spent most of the loan; the marketplace settles
  const settled = await db.selectFrom('settlements').select('business_date').where('business_date', '=', D).executeTakeFirst();
  if (!settled) {
    const rnd = mulberry32(opts.seed ^ 0x5e771e);
    const dues = await sql<{ customer_id: string; due: number }>`
      select l.customer_id, sum((i.principal_fen - i.paid_principal_fen) + (i.interest_fen - i.paid_interest_fen) + (i.penalty_fen - i.paid_penalty_fen))::int8 as due
      from loans l join installments i on i.loan_id = l.id
      where l.status = 'disbursed' and i.due_date <= ${D}::date group by l.customer_id order by l.customer_id
    `.execute(db);
    const accounts = await db.selectFrom('customer_accounts').select(['id', 'customer_id', 'is_primary']).where('customer_id', 'in', dues.rows.length ? dues.rows.map((d) => d.customer_id) : ['']).execute();
    const spent: { id: string; customerId: string; balance: number }[] = [];
    const lines: { accountId: string; amount: number }[] = [];
    for (const d of dues.rows) {
      const mine = accounts.filter((a) => a.customer_id === d.customer_id);
      const roll = rnd();
      // what is left in the accounts after ten days of business
      for (const a of mine) spent.push({ id: a.id, customerId: a.customer_id, balance: Math.floor(d.due * rnd() * (a.is_primary ? 0.3 : 0.6)) });
      const primary = mine.find((a) => a.is_primary)!;
      // 60% are settled enough to pay today, 25% part of it, 15% nothing
      const amount = roll < 0.6 ? d.due + Math.floor(d.due * rnd()) : roll < 0.85 ? Math.floor(d.due * 0.4 * rnd()) : 0;
      if (amount > 0) lines.push({ accountId: primary.id, amount });
    }
    for (let i = 0; i < spent.length; i += 5000) await adminPost(sandbox, '/admin/accounts', { accounts: spent.slice(i, i + 5000) });
    for (let i = 0; i < lines.length; i += 5000) await adminPost(sandbox, '/admin/settle', { lines: lines.slice(i, i + 5000) });
    await db.insertInto('settlements').values({ business_date: D, lines: lines.length, total_fen: lines.reduce((s, l) => s + l.amount, 0) }).onConflict((oc) => oc.column('business_date').doNothing()).execute();
    out(`[${seconds()} s] marketplace settlement for ${D}: ${lines.length} merchants credited ${formatYuanGrouped(lines.reduce((s, l) => s + l.amount, 0))} CNY`);
  } else {
    out(`[${seconds()} s] marketplace settlement for ${D} already received`);
  }

  // 4. post-settlement collection of everything due by today
  const post = await runPostSettlement(ctx, D, { work: true, progress: true, backfill: true });
  out(`[${seconds()} s] post-settlement batch for ${D}: run ${post.run.id} ${post.created ? `in ${post.seconds.toFixed(1)} s` : '(already done; nothing changed)'}`);
  for (const line of formatPostSettlement(post.run.summary as PostSettlementSummary).split('\n')) out(`         ${line}`);

  // 5. money arrives for some of the borrowers on hold; the hold monitor sweeps it
  const open = await db.selectFrom('holds').innerJoin('customer_accounts', 'customer_accounts.customer_id', 'holds.customer_id')
    .select(['customer_accounts.id as account', 'holds.amount_fen']).where('holds.status', '=', 'open').where('customer_accounts.is_primary', '=', true).orderBy('holds.customer_id').execute();
  const arriving = open.filter((_, i) => i % 3 === 0).map((h) => ({ accountId: h.account, amount: h.amount_fen }));
  if (arriving.length > 0 && !settled) await adminPost(sandbox, '/admin/settle', { lines: arriving });
  const cDeps = await collectionDeps(ctx);
  const m = await monitorHolds(cDeps, `demo:${D}`);
  out(`[${seconds()} s] hold monitor: ${m.borrowers} borrowers on hold, ${m.debits} debits, collected ${formatYuanGrouped(m.collectedFen)} CNY, ${m.cleared} holds cleared and unblocked`);

  // 6. tonight's nightly re-tagging
  const res = await runNightlyCommand(ctx, D, { work: true, progress: true, backfill: true });
  out(`[${seconds()} s] nightly eligibility for ${D}: run ${res.run.id} ${res.created ? `in ${res.seconds.toFixed(1)} s` : '(already done; nothing changed)'}`);
  out('');
  out(formatNightlySummary(res.run.summary as NightlySummary));
  out('');

  const holds = await sql<{ n: number; amt: number; blocked: number }>`
    select (select count(*) from holds where status = 'open')::int8 as n, (select coalesce(sum(amount_fen), 0) from holds where status = 'open')::int8 as amt,
           (select count(*) from outflow_blocks where blocked)::int8 as blocked
  `.execute(db);
  const h = holds.rows[0]!;
  out(`end of day: ${h.n} borrowers on hold (${formatYuanGrouped(h.amt)} CNY), ${h.blocked} with every outflow blocked`);
  const ledger = await checkLedger(db, platform.channel, ctx.config.lenderAccountId);
  out(`trial balance: debits ${formatYuanGrouped(ledger.totalDebit)} = credits ${formatYuanGrouped(ledger.totalCredit)} over ${ledger.entries} entries — ${ledger.balanced ? 'zero' : 'NOT ZERO'}; the lender's platform account ${ledger.platform.every((p) => p.agrees) ? 'agrees with the platform' : 'DISAGREES with the platform'}`);
  // 7. the vouchers for the finance system, of both days (entries are dated by when they were posted)
  const posted = businessDateAt(systemClock.now());
  const rules = await ctx.rules();
  if (rules.accounts) {
    for (const day of [...new Set([disbursedOn, D, posted])].sort()) {
      const v = await exportVouchers(db, rules.accounts, day, 'type');
      if (v.vouchers.length === 0) continue;
      const csv = path.join(dir, `vouchers-${day}.csv`);
      fs.writeFileSync(csv, vouchersToCsv('type', v.vouchers));
      const booked = v.vouchers.reduce((s, x) => s + x.lines.reduce((t, l) => t + l.debit, 0), 0);
      out(`vouchers of ${day}: ${v.vouchers.length} (${v.numberedNow} numbered now), ${v.vouchers.map((x) => `${voucherNumber(x.word, x.number)} ${x.summary.slice(day.length + 1)}`).join('; ')}`);
      out(`         debits = credits = ${formatYuanGrouped(booked)} CNY, equal account by account to the journal; CSV for the finance package: ${csv}`);
    }
  }
  out('');
  out(`done in ${seconds().trim()} s. The demo's business day is ${D}; its loans were made on ${disbursedOn}. Try:`);
  out(`  npx lendpay decisions --date ${D} | head`);
  out(`  npx lendpay explain M0000001 --date ${D}`);
  // the first borrower by id: the loans finish in any order, the suggestion is the same every run
  out(`  npx lendpay customer show ${results.filter((r) => r.status === 'disbursed').map((r) => r.customer).sort()[0] ?? 'M0000001'}`);
  out(`  LENDPAY_SANDBOX_IN_PROCESS=1 npx lendpay ledger trial-balance   # the demo's sandbox, in that command's process`);
  out(`  npx lendpay ledger vouchers --date ${posted} --group entry --format csv | head`);
  if (embedded) out('The embedded PostgreSQL keeps running for those commands; stop it with: npx lendpay db stop');
}

/**
 * Which product the demo's i-th borrower buys: mostly today's daily loan, some
 * 7-day bullets (due three days before today, so collected this morning) and some
 * monthly 等额本息 over 3, 6 or 12 months; the default where the amount or rail does
 * not fit the product.
 */
function demoProduct(products: ProductRules, i: number, amount: Fen, rail: 'balance' | 'card'): { product?: string; term?: number } {
  const want = i % 5 === 1 ? { product: 'bullet-7' } : i % 5 === 3 ? { product: 'monthly-equal', term: [3, 6, 12][i % 3]! } : null;
  const p = want && products.products.find((x) => x.id === want.product);
  if (!want || !p || amount < p.minAmount || amount > p.maxAmount || !p.rails.includes(rail)) return {};
  if (want.term !== undefined && (want.term < p.term.min || want.term > p.term.max)) return { product: want.product };
  return want;
}

/** DATABASE_URL may name a database with real data: the demo adds to it only to an empty one or an earlier demo's. */
async function refuseOtherData(url: string): Promise<void> {
  await checkReachable(url, 'DATABASE_URL');
  const contents = await inspectForDemo(url);
  if (contents.kind !== 'other') return;
  throw new LendpayError('CONFLICT', `not running the demo in ${describeServer(url)} (DATABASE_URL): it holds ${contents.what}, and the demo would add thousands of fake merchants and loans to it. Use an empty database, or say so: npm start -- --allow-existing-data`);
}
