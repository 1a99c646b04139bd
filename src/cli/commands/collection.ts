// Collection commands: settlement, the post-settlement batch, the hold monitor, card
// repayment, reconciliation of payouts, a customer's position, and the sandbox's
// merchant-side actions used to exercise them.
import fs from 'node:fs';
import readline from 'node:readline';
import { Command, Option } from 'commander';
import { sandboxOf, type Context } from '../context.ts';
import { parseBusinessDate, businessDateAt, systemClock, type BusinessDate } from '../../dates.ts';
import { parseYuan, formatYuan, formatYuanGrouped, type Fen } from '../../money.ts';
import { LendpayError } from '../../errors.ts';
import { activeRuleSetForBatch, batchOutcomeLine, refuseUnaskedBackfill } from '../nightly.ts';
import { storedCollectionRules } from '../../../jobs/evaluators.ts';
import { POST_SETTLEMENT, startPostSettlementRun, workPostSettlement, type PostSettlementSummary } from '../../../jobs/post-settlement.ts';
import { getBatchRun, runProgress, type BatchRun } from '../../../db/batch.repository.ts';
import type { CollectionDeps } from '../../collection/service.ts';
import { progressDisplay } from '../progress.ts';
import { adminPost } from '../../sandbox/admin.ts';
import { sql } from 'kysely';

import { out, err, printJson, roundSeconds } from '../output.ts';
import { positiveYuan } from '../args.ts';

/** Collection runs with the active rule version, as the batches do. */
export async function collectionDeps(ctx: Context): Promise<CollectionDeps> {
  const { db } = await ctx.database();
  const { version } = await activeRuleSetForBatch(db, ctx.config.rulesDir);
  const rules = await storedCollectionRules(db, version.hash);
  const { channel } = await ctx.platform();
  return {
    db, channel, clock: systemClock, collectionRules: rules.collection, notifications: rules.notifications,
    ruleSetHash: version.hash, lender: { accountId: ctx.config.lenderAccountId },
  };
}

export async function runPostSettlement(ctx: Context, date: BusinessDate, opts: { work: boolean; progress: boolean; backfill?: boolean }): Promise<{ run: BatchRun; created: boolean; requeued: number; seconds: number }> {
  const started = performance.now();
  const { db } = await ctx.database();
  if (!opts.backfill) await refuseUnaskedBackfill(db, POST_SETTLEMENT, 'post-settlement', date);
  const { version } = await activeRuleSetForBatch(db, ctx.config.rulesDir);
  const { channel } = await ctx.platform();
  const boss = await ctx.boss();
  const { run, created, enqueued } = await startPostSettlementRun(db, boss, date, version.hash, ctx.config.chunkSize);
  const requeued = created ? 0 : enqueued;
  if (run.status === 'running' && opts.work) {
    await workPostSettlement(boss, { db, channel, clock: systemClock, lender: { accountId: ctx.config.lenderAccountId } }, ctx.config.workerConcurrency);
  }
  const display = opts.progress ? progressDisplay(`post-settlement ${date}`) : null;
  for (;;) {
    const now = await getBatchRun(db, run.id);
    const p = await runProgress(db, run.id);
    display?.update(p.doneChunks, p.totalChunks, `chunks, ${p.items} borrowers`);
    if (now && now.status !== 'running') {
      display?.stop();
      return { run: now, created, requeued, seconds: (performance.now() - started) / 1000 };
    }
    if (!opts.work) return { run, created, requeued, seconds: 0 };
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function formatPostSettlement(s: PostSettlementSummary): string {
  const lines = [
    `loans with something due   ${s.loans}`,
    `due                        ${formatYuanGrouped(s.dueFen).padStart(20)} CNY`,
    `collected                  ${formatYuanGrouped(s.collectedFen).padStart(20)} CNY`,
    `put on hold (挂账)          ${formatYuanGrouped(s.heldFen).padStart(20)} CNY`,
    'by step:',
  ];
  for (const [step, v] of Object.entries(s.byStep)) lines.push(`  ${step.padEnd(16)} ${String(v.loans).padStart(7)} loans   planned ${formatYuanGrouped(v.plannedFen).padStart(18)}   held ${formatYuanGrouped(v.heldFen).padStart(16)}`);
  lines.push(`open holds                 ${s.openHolds} (${formatYuanGrouped(s.openHoldFen)} CNY); borrowers with outflow blocked: ${s.blockedBorrowers}`);
  return lines.join('\n');
}

export function registerCollectionCommands(program: Command, ctx: Context): void {
  const dateOption = () => new Option('--date <YYYY-MM-DD>', 'business date (Asia/Shanghai); default today').argParser((v) => parseBusinessDate(v, '--date'));
  const today = () => businessDateAt(systemClock.now());

  const batch = program.commands.find((c) => c.name() === 'batch') ?? program.command('batch');
  batch
    .command('post-settlement')
    .description('collect what is due on or before the date: own balance, cross-account, hold (idempotent per date)')
    .addOption(dateOption())
    .option('--no-work', 'only enqueue the chunks; running workers do them')
    .option('--no-progress', 'no progress display')
    .option('--backfill', 'run a date older than the latest post-settlement run')
    .option('--json', 'as JSON')
    .action(async (o: { date?: BusinessDate; work: boolean; progress: boolean; backfill?: boolean; json?: boolean }) => {
      const date = o.date ?? today();
      const res = await runPostSettlement(ctx, date, { work: o.work, progress: o.progress && !o.json, backfill: o.backfill === true });
      if (o.json) return printJson({ runId: res.run.id, businessDate: date, status: res.run.status, created: res.created, requeued: res.requeued, seconds: roundSeconds(res.seconds), summary: res.run.summary });
      if (res.run.status === 'running' && res.created) return out(`post-settlement ${date}: run ${res.run.id} enqueued; workers will finish it`);
      out(batchOutcomeLine('post-settlement', date, res));
      if (res.run.status === 'running') return;
      out(formatPostSettlement(res.run.summary as PostSettlementSummary));
    });

  const sandbox = program.commands.find((c) => c.name() === 'sandbox') ?? program.command('sandbox');
  sandbox
    .command('settle')
    .description('credit merchants\' balance accounts as the marketplace does each morning, then run the post-settlement batch')
    .requiredOption('--file <settlement.jsonl>', 'lines {"accountId","amount":"yuan"}')
    .addOption(dateOption())
    .option('--no-work', 'only record the settlement and enqueue the batch')
    .option('--backfill', 'settle a date older than the latest post-settlement run')
    .option('--json', 'as JSON')
    .action(async (o: { file: string; date?: BusinessDate; work: boolean; backfill?: boolean; json?: boolean }) => {
      const date = o.date ?? today();
      const lines = await readSettlement(o.file);
      const { db } = await ctx.database();
      // refused before the platform is credited, not after
      if (!o.backfill) await refuseUnaskedBackfill(db, POST_SETTLEMENT, 'post-settlement', date);
      const sandbox = sandboxOf(await ctx.platform());
      await adminPost(sandbox, '/admin/settle', { lines: lines.map((l) => ({ accountId: l.accountId, amount: l.amount })) });
      const total = lines.reduce((s, l) => s + l.amount, 0);
      await db.insertInto('settlements').values({ business_date: date, lines: lines.length, total_fen: total }).onConflict((oc) => oc.column('business_date').doNothing()).execute();
      if (!o.json) out(`settled ${lines.length} accounts, ${formatYuanGrouped(total)} CNY, for ${date}`);
      const res = await runPostSettlement(ctx, date, { work: o.work, progress: !o.json, backfill: true });
      if (!o.json) {
        if (res.run.status !== 'running') out(formatPostSettlement(res.run.summary as PostSettlementSummary));
        else out(`post-settlement ${date}: run ${res.run.id} enqueued`);
      }
      let monitor = null;
      if (o.work) {
        // settlement money may also cover borrowers already on hold: the monitor runs right after
        const { monitorHolds } = await import('../../collection/monitor.ts');
        monitor = await monitorHolds(await collectionDeps(ctx), `settlement:${date}`);
        if (!o.json) out(`hold monitor after settlement: ${monitor.borrowers} borrowers on hold, collected ${formatYuanGrouped(monitor.collectedFen)} CNY, ${monitor.cleared} holds cleared`);
      }
      if (o.json) {
        printJson({
          settlement: { businessDate: date, accounts: lines.length, totalFen: total },
          postSettlement: { runId: res.run.id, status: res.run.status, created: res.created, seconds: roundSeconds(res.seconds), summary: res.run.summary },
          holdMonitor: monitor,
        });
      }
    });
  sandbox
    .command('withdraw')
    .description('a merchant withdraws from its balance account to its card (refused with OUTFLOW_BLOCKED while a hold is open)')
    .requiredOption('--account <id>', 'balance account')
    .requiredOption('--amount <yuan>', 'amount', (v) => positiveYuan(v, '--amount'))
    .option('--card <id>', 'the merchant\'s card (default: its first bound card)')
    .option('--json', 'as JSON')
    .action(async (o: { account: string; amount: Fen; card?: string; json?: boolean }) => {
      const { db } = await ctx.database();
      const acct = await db.selectFrom('customer_accounts').select('customer_id').where('id', '=', o.account).executeTakeFirst();
      if (!acct) throw new LendpayError('NOT_FOUND', `no balance account ${o.account}`);
      const card = o.card ?? (await db.selectFrom('customer_bank_cards').select('id').where('customer_id', '=', acct.customer_id).orderBy('id').executeTakeFirst())?.id;
      if (!card) throw new LendpayError('NOT_FOUND', `customer ${acct.customer_id} has no bank card to withdraw to`);
      const { channel } = await ctx.platform();
      const r = await channel.withdraw({ requestId: `withdraw:${o.account}:${Date.now()}`, accountId: o.account, cardId: card, amount: o.amount });
      const code = r.status === 'succeeded' ? null : r.status === 'failed' || r.status === 'rejected' ? r.code : r.status;
      if (code !== null) process.exitCode = 3;
      if (o.json) return printJson({ ok: code === null, accountId: o.account, cardId: card, amount: formatYuan(o.amount), ...(code === null ? {} : { code }) });
      if (code === null) out(`withdrew ${formatYuan(o.amount)} from ${o.account} to ${card}`);
      else err(`refused: ${code}`);
    });
  sandbox
    .command('inject-duplicate')
    .description('make the sandbox pay a payout a second time (for reconciliation tests)')
    .requiredOption('--request-id <id>', 'the payout request id, e.g. disburse:L1001:payout#1')
    .action(async (o: { requestId: string }) => {
      const sandbox = sandboxOf(await ctx.platform());
      out(JSON.stringify(await adminPost(sandbox, '/admin/duplicate-payout', { requestId: o.requestId })));
    });

  const holds = program.command('holds').description('holds (挂账) and the outflow block');
  holds
    .command('monitor')
    .description('one pass of the hold monitor: debit what has arrived for every open hold')
    .option('--slot <slot>', 'the tick this pass belongs to (a repeated slot sends nothing twice)')
    .option('--json', 'as JSON')
    .action(async (o: { slot?: string; json?: boolean }) => {
      const { monitorHolds } = await import('../../collection/monitor.ts');
      const r = await monitorHolds(await collectionDeps(ctx), o.slot ?? new Date().toISOString().slice(0, 16));
      if (o.json) return printJson(r);
      out(`hold monitor: ${r.borrowers} borrowers, ${r.debits} debits, collected ${formatYuanGrouped(r.collectedFen)} CNY, ${r.cleared} holds cleared, ${r.unblocked} unblocked`);
    });

  const repay = program
    .command('repay')
    .description('the borrower repays from a bound bank card (a collection 代收 order); --prepay: a prepayment (提前还款), by default the payoff')
    .requiredOption('--loan <id>', 'loan')
    .requiredOption('--card <id>', 'bound card')
    .option('--amount <yuan>', 'amount (with --prepay: default the payoff quote, which closes the loan)', (v) => positiveYuan(v, '--amount'))
    .requiredOption('--request-id <id>', 'idempotency')
    .option('--prepay', 'pay ahead: what is due first, then principal off the last installments (with the product\'s fee); the payoff closes the loan')
    .option('--json', 'as JSON');
  repay.action(async (o: { loan: string; card: string; amount?: Fen; requestId: string; prepay?: boolean; json?: boolean }) => {
      if (o.prepay) return prepayCommand(await collectionDeps(ctx), { ...o, amount: o.amount }, out);
      if (o.amount === undefined) repay.error("error: required option '--amount <yuan>' not specified (or --prepay for the payoff)", { exitCode: 2, code: 'commander.missingMandatoryOptionValue' });
      const { repayFromCard } = await import('../../collection/repay.ts');
      const r = await repayFromCard(await collectionDeps(ctx), { loanId: o.loan, cardId: o.card, amount: o.amount!, requestId: o.requestId });
      if (!r.ok) process.exitCode = 3;
      if (o.json) return printJson(r.ok ? { ok: true, replay: r.replay, order: { id: r.order.id, status: r.order.status, amount: formatYuan(r.order.amount) }, holdCleared: r.holdCleared } : r);
      if (!r.ok) return err(`refused: ${r.code}: ${r.message}`);
      out(`${r.replay ? 'replay: ' : ''}repayment order ${r.order.id} ${r.order.status}: ${formatYuan(r.order.amount)} from ${o.card}${r.holdCleared ? '; hold cleared, outflow unblocked' : ''}`);
    });

  program
    .command('reconcile')
    .description('compare the platform\'s payouts with lendpay\'s orders; a duplicate becomes a recovery receivable, collected at once')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { reconcilePayouts, sandboxStatement } = await import('../../collection/reconcile.ts');
      const { url } = await ctx.platform();
      const r = await reconcilePayouts(await collectionDeps(ctx), sandboxStatement(url));
      if (o.json) return printJson(reconcileJson(r));
      out(`reconciled ${r.statementLines} payout lines: ${r.matched} matched, ${r.duplicates.length} duplicates, ${r.unmatched} without an owner`);
      for (const d of r.duplicates) out(`  ${d.platformRef} (request ${d.requestId}) ${formatYuan(d.amountFen)} → ${d.customerId ?? 'unknown'}: receivable ${d.receivable ?? '-'}`);
      if (r.collection) out(`  collected ${formatYuanGrouped(r.collection.collected)} CNY, put on hold ${formatYuanGrouped(r.collection.held)} CNY`);
    });

  const customer = program.commands.find((c) => c.name() === 'customer') ?? program.command('customer').description('customers');
  customer
    .command('show <id>')
    .description('loans, what is due, open holds and whether outflow is blocked')
    .option('--json', 'as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const { db } = await ctx.database();
      const c = await db.selectFrom('customers').select(['id', 'segment', 'real_name_verified']).where('id', '=', id).executeTakeFirst();
      if (!c) throw new LendpayError('NOT_FOUND', `no customer ${id}`);
      const { loanPositions } = await import('../../../db/loans.repository.ts');
      const loans = await loanPositions(db, id, today());
      const hold = await db.selectFrom('holds').selectAll().where('customer_id', '=', id).where('status', '=', 'open').executeTakeFirst();
      const block = await db.selectFrom('outflow_blocks').select('blocked').where('customer_id', '=', id).executeTakeFirst();
      const view = {
        customerId: c.id, segment: c.segment, realNameVerified: c.real_name_verified,
        loans: loans.map((l) => ({
          id: l.id, kind: l.kind, status: l.status, product: l.productId, principal: formatYuan(l.principal), unpaid: formatYuan(l.unpaid),
          penalty: formatYuan(l.penalty), dueNow: formatYuan(l.dueNow), nextDue: l.nextDue,
        })),
        hold: hold ? { id: hold.id, amount: formatYuan(hold.amount_fen), asOf: hold.as_of_date, openedAt: hold.opened_at } : null,
        outflowBlocked: block?.blocked ?? false,
      };
      if (o.json) return printJson(view);
      out(`customer ${view.customerId} (${view.segment}${view.realNameVerified ? '' : ', real-name missing'})`);
      for (const l of view.loans) out(`  ${l.kind} ${l.id}${l.product ? ` (${l.product})` : ''} ${l.status}: principal ${l.principal}, unpaid ${l.unpaid}${l.penalty !== '0.00' ? ` (penalty ${l.penalty})` : ''}, due now ${l.dueNow}${l.nextDue ? `, next due ${l.nextDue}` : ''}`);
      out(view.hold ? `  hold ${view.hold.id}: ${view.hold.amount} since ${view.hold.asOf}` : '  no open hold');
      out(`  outflow ${view.outflowBlocked ? 'BLOCKED' : 'allowed'}`);
    });
}

function reconcileJson(r: import('../../collection/reconcile.ts').ReconcileReport) {
  const c = r.collection;
  return {
    ...r,
    collection: c && {
      ...c,
      due: formatYuan(c.due), planned: formatYuan(c.planned), collected: formatYuan(c.collected), held: formatYuan(c.held),
      byStep: Object.fromEntries(Object.entries(c.byStep).map(([k, v]) => [k, { loans: v.loans, amount: formatYuan(v.amount) }])),
    },
  };
}

async function readSettlement(file: string): Promise<{ accountId: string; amount: Fen }[]> {
  if (!fs.existsSync(file)) throw new LendpayError('NOT_FOUND', `settlement file ${file} does not exist`);
  const lines: { accountId: string; amount: Fen }[] = [];
  const errors: string[] = [];
  let n = 0;
  for await (const raw of readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    n++;
    if (raw.trim() === '') continue;
    try {
      const j = JSON.parse(raw) as { accountId?: unknown; amount?: unknown };
      if (typeof j.accountId !== 'string' || j.accountId === '') throw new LendpayError('INVALID_INPUT', 'accountId: expected an account id');
      lines.push({ accountId: j.accountId, amount: parseYuan(j.amount, 'amount') });
    } catch (e) {
      errors.push(`line ${n}: ${e instanceof SyntaxError ? 'not valid JSON' : (e as Error).message}`);
      if (errors.length >= 20) break;
    }
  }
  if (errors.length > 0) throw new LendpayError('IMPORT_INVALID', `${file}: ${errors.length} bad line(s); nothing was settled`, { details: errors });
  return lines;
}

async function prepayCommand(deps: CollectionDeps, o: { loan: string; card: string; amount?: Fen | undefined; requestId: string; json?: boolean }, out: (l: string) => void): Promise<void> {
  const { prepayFromCard } = await import('../../collection/prepay.ts');
  const r = await prepayFromCard(deps, { loanId: o.loan, cardId: o.card, amount: o.amount, requestId: o.requestId });
  if (o.json) {
    return out(JSON.stringify(r.ok
      ? { ok: true, replay: r.replay, order: { id: r.order.id, status: r.order.status, amount: formatYuan(r.order.amount) }, prepayment: r.description, loanClosed: r.loanClosed, holdCleared: r.holdCleared }
      : r));
  }
  if (!r.ok) {
    process.stderr.write(`refused: ${r.code}: ${r.message}\n`);
    process.exitCode = 3;
    return;
  }
  out(`${r.replay ? 'replay: ' : ''}prepayment order ${r.order.id} ${r.order.status}: ${formatYuan(r.order.amount)} from ${o.card}`);
  if (r.description) out(`  ${r.description}`);
  if (r.loanClosed) out(`  loan ${o.loan} closed${r.holdCleared ? '; hold cleared, outflow unblocked' : ''}`);
}
