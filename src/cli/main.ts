// The lendpay CLI. Commands are thin: parse and check arguments, call one use-case,
// print. A LendpayError becomes one clear line and exit code 1; bad usage exits 2.
// Whatever a command printed reaches its reader before the process exits.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { createContext, type Context } from './context.ts';
import { LendpayError } from '../errors.ts';
import { businessDateAt, parseBusinessDate, systemClock } from '../dates.ts';
import { formatYuan, formatYuanGrouped, type Fen } from '../money.ts';
import type { Loan } from '../../db/loans.repository.ts';
import type { LedgerCheck } from '../ledger/reconcile.ts';
import { formatNightlySummary } from './format.ts';
import { batchOutcomeLine, runNightlyCommand } from './nightly.ts';
import { registerRulesCommands } from './commands/rules.ts';
import { registerDecisionsCommand } from './commands/decisions.ts';
import { registerFactsCommands } from './commands/facts.ts';
import { registerWorkerCommands } from './commands/worker.ts';
import { registerCollectionCommands } from './commands/collection.ts';
import { registerOpsCommands } from './commands/ops.ts';
import { registerAlertCommands } from './commands/alerts.ts';
import { registerHoldsAdminCommands } from './commands/holds-admin.ts';
import { registerVoucherCommands } from './commands/vouchers.ts';
import { registerLoanCommands } from './commands/loans.ts';
import { registerImportCommand } from './commands/import.ts';
import type { NightlySummary } from '../../db/eligibility.repository.ts';
import { flushOutput, out, printJson, roundSeconds } from './output.ts';
import { MAX_POPULATION, positiveInt, positiveIntOrZero, positiveYuan } from './args.ts';

const ctx: Context = createContext();
// `lendpay decisions … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

function dateOption(): Option {
  return new Option('--date <YYYY-MM-DD>', 'business date (Asia/Shanghai); default today').argParser((v) => parseBusinessDate(v, '--date'));
}

const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('lendpay')
  .description('lendpay: eligibility, disbursement and collection for a micro-loan business')
  .version(version, '-V, --version', 'print lendpay\'s version')
  .showHelpAfterError()
  .exitOverride();

const db = program.command('db').description('the database');
db.command('migrate')
  .description('apply pending migrations')
  .action(async () => {
    const { url } = await ctx.database();
    out(`migrated ${redact(url)}`);
  });
db.command('url')
  .description('print the database URL in use (starting the embedded server if needed)')
  .action(async () => out((await ctx.database()).url));
db.command('stop')
  .description('stop the embedded PostgreSQL server')
  .action(async () => {
    const { stopEmbeddedPostgres } = await import('../../db/embedded.ts');
    const { requireDataDir } = await import('../config.ts');
    out((await stopEmbeddedPostgres(requireDataDir(ctx.config))) ? 'embedded PostgreSQL stopped' : 'embedded PostgreSQL was not running');
  });

registerImportCommand(program, ctx);

program
  .command('generate')
  .description('write a seeded synthetic population as JSON lines')
  .requiredOption('--out <file>', 'output file')
  .option('--size <n>', 'customers', (v) => positiveInt(v, '--size', MAX_POPULATION), 10_000)
  .option('--seed <n>', 'seed', (v) => positiveInt(v, '--seed'), 42)
  .addOption(dateOption())
  .action(async (o: { out: string; size: number; seed: number; date?: string }) => {
    const { writePopulationJsonl } = await import('../demo/population.ts');
    const asOf = (o.date ?? businessDateAt(systemClock.now())) as ReturnType<typeof parseBusinessDate>;
    const n = await writePopulationJsonl(o.out, { seed: o.seed, size: o.size, asOf });
    out(`wrote ${n} customers to ${o.out}`);
  });

registerRulesCommands(program, ctx);

const batch = program.command('batch').description('batch runs');
batch
  .command('nightly')
  .description('re-tag the whole population with the eligibility rules (idempotent per date)')
  .addOption(dateOption())
  .option('--no-work', 'only enqueue the chunks; running workers do them')
  .option('--no-progress', 'no progress display')
  .option('--backfill', 'run a date older than the latest nightly run (its decisions then sit between newer ones in each customer\'s history)')
  .option('--json', 'print the result as JSON')
  .action(async (o: { date?: string; work: boolean; progress: boolean; backfill?: boolean; json?: boolean }) => {
    const date = parseBusinessDate(o.date ?? businessDateAt(systemClock.now()));
    const res = await runNightlyCommand(ctx, date, { work: o.work, progress: o.progress && !o.json, backfill: o.backfill === true });
    if (o.json) return printJson({ runId: res.run.id, businessDate: date, status: res.run.status, created: res.created, requeued: res.requeued, seconds: roundSeconds(res.seconds), summary: res.run.summary });
    if (res.run.status === 'running') return out(`nightly ${date}: run ${res.run.id} enqueued; workers will finish it`);
    out(batchOutcomeLine('nightly', date, res));
    out(formatNightlySummary(res.run.summary as NightlySummary));
  });

registerDecisionsCommand(program, ctx);
registerFactsCommands(program, ctx);
registerWorkerCommands(program, ctx);

program
  .command('explain <customer>')
  .description('show a decision, the facts it saw and each condition\'s result, against the rules that made it')
  .addOption(new Option('--date <YYYY-MM-DD>', 'the business date of the decision (required)').argParser((v) => parseBusinessDate(v, '--date')).makeOptionMandatory())
  .option('--json', 'as JSON')
  .action(async (customer: string, o: { date: string; json?: boolean }) => {
    const { explainStoredDecision } = await import('./explain.ts');
    const { db } = await ctx.database();
    const res = await explainStoredDecision(db, customer, parseBusinessDate(o.date));
    if (o.json) printJson(res.json);
    else out(res.text);
  });

const loan = program.command('loan').description('loans');
loan
  .command('apply')
  .description('apply for a loan and disburse it: collection into the lender account, then payout to the borrower')
  .requiredOption('--customer <id>', 'customer id')
  .requiredOption('--amount <yuan>', 'principal, e.g. 50000.00', (v) => positiveYuan(v, '--amount'))
  .addOption(new Option('--to <rail>', 'where the money goes').choices(['balance', 'card']).default('balance'))
  .option('--destination <id>', 'the balance account or card id (default: primary account / first card)')
  .requiredOption('--request-id <id>', 'the loan business system\'s request id (idempotency)')
  .addOption(new Option('--mode <mode>', 'disbursement mode').choices(['compliant', 'legacy']).default('compliant'))
  .option('--product <id>', 'a product of rules/products.json (default: its default product)')
  .option('--term <n>', 'days or months, as the product counts them, where it allows a range (default: the product\'s)', (v) => positiveInt(v, '--term'))
  .option('--json', 'as JSON')
  .action(async (o: { customer: string; amount: Fen; to: 'balance' | 'card'; destination?: string; requestId: string; mode: 'compliant' | 'legacy'; product?: string; term?: number; json?: boolean }) => {
    const { applyForProduct } = await import('../loans/apply.ts');
    const res = await applyForProduct(await ctx.disburseDeps(), (await ctx.rules()).products, {
      customerId: o.customer, amount: o.amount, rail: o.to, requestId: o.requestId, destinationId: o.destination ?? null, mode: o.mode, product: o.product, term: o.term,
    });
    if (!res.ok && 'problems' in res) {
      const flag = { product: '--product', term: '--term', amount: '--amount', rail: '--to', schedule: '--schedule' } as const;
      throw new LendpayError('INVALID_INPUT', `refused: ${res.code}: nothing was written`, { details: res.problems.map((p) => `${flag[p.field]}: ${p.message}`) });
    }
    if (!res.ok) {
      if (o.json) printJson({ ok: false, code: res.code, message: res.message });
      else process.stderr.write(`refused: ${res.code}: ${res.message}\n`);
      process.exitCode = 3;
      return;
    }
    const l = res.loan;
    if (o.json) return printJson({ ok: true, replay: res.replay, loan: loanJson(l) });
    out(`${res.replay ? 'replay of ' : ''}loan ${l.id}: ${l.status}, ${formatYuan(l.principal)} to ${l.rail} ${l.destinationId}` +
      (l.expectedArrivalAt ? `, expected to arrive ${l.expectedArrivalAt.toISOString()}` : ''));
  });
loan
  .command('show <id>')
  .description('a loan and its orders')
  .option('--json', 'as JSON')
  .action(async (id: string, o: { json?: boolean }) => {
    const { getLoan, installmentsOf } = await import('../../db/loans.repository.ts');
    const { ordersOfLoan } = await import('../../db/orders.repository.ts');
    const { loanScheduleView } = await import('../loans/view.ts');
    const { db } = await ctx.database();
    const l = await getLoan(db, id);
    if (!l) throw new LendpayError('NOT_FOUND', `no loan ${id}`);
    const orders = await ordersOfLoan(db, id);
    const sched = loanScheduleView(l, await installmentsOf(db, id), businessDateAt(systemClock.now()));
    if (o.json) return printJson({ loan: { ...loanJson(l), ...sched }, orders: orders.map((x) => ({ ...x, amount: formatYuan(x.amount) })) });
    out(`loan ${l.id} (${l.customerId}) ${l.status}: ${formatYuan(l.principal)} ${l.mode} to ${l.rail} ${l.destinationId}, request ${l.requestId}`);
    const p = sched.product;
    out(`  product ${p ? `${p.id} ${p.name} (${p.method}${p.term === null ? ', its own schedule' : `, ${p.term} ${p.termUnit}`})` : '-'}, disbursed on ${sched.disbursedOn}`);
    for (const i of sched.installments) out(`  ${String(i.number).padStart(4)}  ${i.dueDate}  principal ${i.principal.padStart(12)}  interest ${i.interest.padStart(10)}  penalty ${i.penalty.padStart(9)}  paid ${i.paid.padStart(12)}  ${i.status}`);
    for (const x of orders) out(`  order ${x.id} ${x.idempotencyKey.padEnd(28)} ${x.kind.padEnd(10)} ${formatYuan(x.amount).padStart(14)} ${x.status}${x.errorCode ? ` ${x.errorCode}` : ''}`);
  });

program
  .command('recover')
  .description('resolve every attempt whose outcome is unknown by querying the platform, then move its loan on')
  .option('--older-than <seconds>', 'only attempts submitted at least this long ago', (v) => positiveIntOrZero(v, '--older-than'), 30)
  .option('--json', 'as JSON')
  .action(async (o: { olderThan: number; json?: boolean }) => {
    const { recoverOpenAttempts } = await import('../disbursement/disburse.ts');
    const r = await recoverOpenAttempts(await ctx.disburseDeps(), { olderThanMs: o.olderThan * 1000 });
    const { recoverCollectionAttempts } = await import('../collection/recovery.ts');
    const { collectionDeps } = await import('./commands/collection.ts');
    const c = await recoverCollectionAttempts(await collectionDeps(ctx), { olderThanMs: o.olderThan * 1000 });
    if (o.json) return printJson({ disbursement: r, collection: c });
    out(`disbursement: checked ${r.checked} attempts: ${r.resolved} resolved, ${r.resent} resent under the same request id, ${r.stillUnknown} still unknown; ${r.loansDriven} loans moved on`);
    out(`collection: checked ${c.checked} attempts: ${c.resolved} resolved, ${c.resent} resent under the same request id, ${c.stillUnknown} still unknown`);
  });

const ledger = program.command('ledger').description('the double-entry journal');
ledger
  .command('trial-balance')
  .description('debits equal credits, and lendpay agrees with the platform on the lender account')
  .option('--json', 'as JSON')
  .action(async (o: { json?: boolean }) => {
    const { checkLedger } = await import('../ledger/reconcile.ts');
    const { db } = await ctx.database();
    const { channel } = await ctx.platform();
    const c = await checkLedger(db, channel, ctx.config.lenderAccountId);
    if (o.json) printJson(trialBalanceJson(c));
    else out(formatTrialBalance(c));
    if (!c.balanced || c.platform.some((p) => !p.agrees)) process.exitCode = 1;
  });

const sandbox = program.command('sandbox').description('the sandbox payment platform');
sandbox
  .command('serve')
  .description('run the sandbox platform as an HTTP service (state in the "sandbox" schema of the database)')
  .option('--port <n>', 'port (0: any free port)', (v) => positiveIntOrZero(v, '--port'), 0)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .action(async (o: { port: number; host: string }) => {
    const { startSandbox } = await import('../sandbox/server.ts');
    const rulesNow = await ctx.rules();
    if (!rulesNow.calendar) throw new LendpayError('RULES_INVALID', 'rules/calendar.json is required');
    const { listenError } = await import('./listen.ts');
    // Its admin routes (faults, clock, accounts, settlement) take a token of their own.
    const adminToken = ctx.config.sandboxAdminToken;
    if (adminToken === null) throw new LendpayError('INVALID_CONFIG', 'sandbox serve: set LENDPAY_SANDBOX_ADMIN_TOKEN (at least 16 characters): the sandbox\'s admin routes (/admin/*) take it as a bearer token, and so must its callers');
    const server = await startSandbox({ databaseUrl: (await ctx.database()).url, port: o.port, host: o.host, calendar: rulesNow.calendar, adminToken })
      .catch((e: unknown) => { throw listenError(e, o.host, o.port, '--port'); });
    out(`sandbox platform listening on ${server.url} (LENDPAY_CHANNEL_URL=${server.url}); Ctrl-C stops it`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
  });

program
  .command('demo')
  .description('a seeded population through the nightly batch, on the embedded default')
  .option('--size <n>', 'customers', (v) => positiveInt(v, '--size', MAX_POPULATION), 10_000)
  .option('--seed <n>', 'seed', (v) => positiveInt(v, '--seed'), 42)
  .option('--loans <n>', 'loans to disburse', (v) => positiveIntOrZero(v, '--loans'), 500)
  .addOption(dateOption())
  .option('--allow-existing-data', 'with DATABASE_URL: add the demo to a database that holds other data than an earlier demo')
  .action(async (o: { size: number; seed: number; loans: number; date?: string; allowExistingData?: boolean }) => {
    const { runDemo } = await import('./demo.ts');
    await runDemo(ctx, {
      size: o.size, seed: o.seed, loans: o.loans, date: parseBusinessDate(o.date ?? businessDateAt(systemClock.now())), allowExistingData: o.allowExistingData === true,
    }, out);
  });

function loanJson(l: Loan) {
  return { ...l, principal: formatYuan(l.principal), limit: formatYuan(l.limit) };
}

function trialBalanceJson(c: LedgerCheck) {
  return {
    balanced: c.balanced,
    entries: c.entries,
    unbalancedEntries: c.unbalancedEntries,
    totalDebit: formatYuan(c.totalDebit),
    totalCredit: formatYuan(c.totalCredit),
    accounts: c.accounts.map((a) => ({ account: a.account, debit: formatYuan(a.debit), credit: formatYuan(a.credit), balance: formatYuan(a.balance) })),
    platform: c.platform.map((p) => ({ accountId: p.accountId, ledger: formatYuan(p.ledger), platform: p.platform === null ? null : formatYuan(p.platform), agrees: p.agrees })),
  };
}

function formatTrialBalance(c: LedgerCheck): string {
  const lines = [`${'account'.padEnd(28)} ${'debit'.padStart(20)} ${'credit'.padStart(20)} ${'balance'.padStart(20)}`];
  for (const a of c.accounts) lines.push(`${a.account.padEnd(28)} ${formatYuanGrouped(a.debit).padStart(20)} ${formatYuanGrouped(a.credit).padStart(20)} ${formatYuanGrouped(a.balance).padStart(20)}`);
  lines.push(`${'total'.padEnd(28)} ${formatYuanGrouped(c.totalDebit).padStart(20)} ${formatYuanGrouped(c.totalCredit).padStart(20)} ${formatYuanGrouped(c.totalDebit - c.totalCredit).padStart(20)}`);
  lines.push(`${c.entries} journal entries, ${c.unbalancedEntries} unbalanced: ${c.balanced ? 'trial balance is zero' : 'TRIAL BALANCE IS NOT ZERO'}`);
  for (const p of c.platform) {
    lines.push(`platform account ${p.accountId}: ledger ${formatYuanGrouped(p.ledger)}, platform ${p.platform === null ? 'not found' : formatYuanGrouped(p.platform)}: ${p.agrees ? 'agree' : 'DISAGREE'}`);
  }
  return lines.join('\n');
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}

// after the built-in groups (batch, sandbox) exist: it adds subcommands to them
registerCollectionCommands(program, ctx);
registerOpsCommands(program, ctx);
registerAlertCommands(program, ctx);
registerHoldsAdminCommands(program, ctx);
registerVoucherCommands(program, ctx);
registerLoanCommands(program, ctx);

/** One error, as a person reads it: one line (plus its details), the stack only with LENDPAY_DEBUG=1. */
function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  let debug = false;
  try {
    debug = ctx.config.debug;
  } catch {
    // the settings themselves are what failed
  }
  if (err instanceof LendpayError) {
    process.stderr.write(`error: ${err.message}\n`);
    for (const d of err.details) process.stderr.write(`  ${d}\n`);
    if (debug) writeStack(err);
    return 1;
  }
  // Not a LendpayError: a bug or a failure nothing anticipated. Say what it was in
  // one line; the stack only when asked for, never by default.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: unexpected failure: ${message.split('\n')[0]}\n`);
  if (debug) writeStack(err);
  else process.stderr.write('  (set LENDPAY_DEBUG=1 for the stack trace)\n');
  return 1;
}

function writeStack(err: unknown): void {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    process.stderr.write(`${depth === 0 ? '' : 'caused by: '}${e.stack ?? e.message}\n`);
  }
}

async function exit(code: number): Promise<never> {
  await flushOutput();
  process.exit(code);
}

// A failure outside any command's await (a timer, a stray promise) is reported like any other.
process.on('uncaughtException', (err) => void exit(report(err)));
process.on('unhandledRejection', (err) => void exit(report(err)));

async function main(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    return report(err);
  } finally {
    await ctx.close().catch(() => {});
  }
}

await exit(await main());
