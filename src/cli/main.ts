// The lendpay CLI. Commands are thin: parse and check arguments, call one use-case,
// print. A LendpayError becomes a clear message and exit code 1; bad usage exits 2.
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { createContext, type Context } from './context.ts';
import { LendpayError } from '../errors.ts';
import { businessDateAt, parseBusinessDate, systemClock } from '../dates.ts';
import { formatYuan, formatYuanGrouped, parseYuan, type Fen } from '../money.ts';
import type { Loan } from '../../db/loans.repository.ts';
import type { LedgerCheck } from '../ledger/reconcile.ts';
import { formatNightlySummary } from './format.ts';
import { runNightlyCommand } from './nightly.ts';
import { registerRulesCommands } from './commands/rules.ts';
import { registerDecisionsCommand } from './commands/decisions.ts';
import { registerFactsCommands } from './commands/facts.ts';
import { registerWorkerCommands } from './commands/worker.ts';
import { registerCollectionCommands } from './commands/collection.ts';
import { registerOpsCommands } from './commands/ops.ts';
import { registerAlertCommands } from './commands/alerts.ts';
import { registerHoldsAdminCommands } from './commands/holds-admin.ts';
import type { NightlySummary } from '../../db/eligibility.repository.ts';

const ctx: Context = createContext();
// `lendpay decisions … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function dateOption(): Option {
  return new Option('--date <YYYY-MM-DD>', 'business date (Asia/Shanghai); default today').argParser((v) => parseBusinessDate(v, '--date'));
}

const program = new Command()
  .name('lendpay')
  .description('lendpay: eligibility, disbursement and collection for a micro-loan business')
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
    out((await stopEmbeddedPostgres(ctx.config.dataDir)) ? 'embedded PostgreSQL stopped' : 'embedded PostgreSQL was not running');
  });

program
  .command('import <file>')
  .description('import customers from a JSON-lines file (refused whole if any line is bad)')
  .action(async (file: string) => {
    const { importCustomersFile } = await import('../../db/import.ts');
    const { progressDisplay } = await import('./progress.ts');
    const { db } = await ctx.database();
    const t = performance.now();
    let last = 0;
    const display = progressDisplay(`import ${path.basename(file)}`);
    const res = await importCustomersFile(db, file, {
      onProgress: (lines) => {
        if (lines - last >= 10_000) {
          last = lines;
          display.update(lines, Math.max(lines, 1), 'lines');
        }
      },
    });
    display.stop();
    const { openImportedOnSandbox } = await import('../sandbox/admin.ts');
    const opened = await openImportedOnSandbox(db, (await ctx.platform()).url);
    out(`opened ${opened.accounts} balance accounts and ${opened.cards} cards on the platform sandbox`);
    out(`imported ${res.customers} customers, ${res.accounts} accounts, ${res.cards} cards, ${res.flows} monthly flows in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  });

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
  .option('--json', 'print the result as JSON')
  .action(async (o: { date?: string; work: boolean; progress: boolean; json?: boolean }) => {
    const date = parseBusinessDate(o.date ?? businessDateAt(systemClock.now()));
    const res = await runNightlyCommand(ctx, date, { work: o.work, progress: o.progress });
    if (o.json) return out(JSON.stringify({ runId: res.run.id, status: res.run.status, created: res.created, seconds: res.seconds, summary: res.run.summary }));
    if (res.run.status === 'running') return out(`nightly ${date}: run ${res.run.id} enqueued; workers will finish it`);
    out(res.created
      ? `nightly ${date}: run ${res.run.id} ${res.run.status} in ${res.seconds.toFixed(1)} s`
      : `nightly ${date} already finished as run ${res.run.id}: nothing changed`);
    out(formatNightlySummary(res.run.summary as NightlySummary));
  });

registerDecisionsCommand(program, ctx);
registerFactsCommands(program, ctx);
registerWorkerCommands(program, ctx);

program
  .command('explain <customer>')
  .description('show a decision, the facts it saw and each condition\'s result, against the rules that made it')
  .addOption(dateOption().makeOptionMandatory())
  .option('--json', 'as JSON')
  .action(async (customer: string, o: { date: string; json?: boolean }) => {
    const { explainStoredDecision } = await import('./explain.ts');
    const { db } = await ctx.database();
    const res = await explainStoredDecision(db, customer, parseBusinessDate(o.date));
    out(o.json ? JSON.stringify(res.json, null, 2) : res.text);
  });

const loan = program.command('loan').description('loans');
loan
  .command('apply')
  .description('apply for a loan and disburse it: collection into the lender account, then payout to the borrower')
  .requiredOption('--customer <id>', 'customer id')
  .requiredOption('--amount <yuan>', 'principal, e.g. 50000.00', (v) => parseYuan(v, '--amount'))
  .addOption(new Option('--to <rail>', 'where the money goes').choices(['balance', 'card']).default('balance'))
  .option('--destination <id>', 'the balance account or card id (default: primary account / first card)')
  .requiredOption('--request-id <id>', 'the loan business system\'s request id (idempotency)')
  .addOption(new Option('--mode <mode>', 'disbursement mode').choices(['compliant', 'legacy']).default('compliant'))
  .option('--json', 'as JSON')
  .action(async (o: { customer: string; amount: Fen; to: 'balance' | 'card'; destination?: string; requestId: string; mode: 'compliant' | 'legacy'; json?: boolean }) => {
    const { applyForLoan } = await import('../disbursement/disburse.ts');
    const res = await applyForLoan(await ctx.disburseDeps(), {
      customerId: o.customer, amount: o.amount, rail: o.to, requestId: o.requestId, destinationId: o.destination ?? null, mode: o.mode,
    });
    if (!res.ok) {
      if (o.json) out(JSON.stringify({ ok: false, code: res.code, message: res.message }));
      else process.stderr.write(`refused: ${res.code}: ${res.message}\n`);
      process.exitCode = 3;
      return;
    }
    const l = res.loan;
    if (o.json) return out(JSON.stringify({ ok: true, replay: res.replay, loan: loanJson(l) }));
    out(`${res.replay ? 'replay of ' : ''}loan ${l.id}: ${l.status}, ${formatYuan(l.principal)} to ${l.rail} ${l.destinationId}` +
      (l.expectedArrivalAt ? `, expected to arrive ${l.expectedArrivalAt.toISOString()}` : ''));
  });
loan
  .command('show <id>')
  .description('a loan and its orders')
  .option('--json', 'as JSON')
  .action(async (id: string, o: { json?: boolean }) => {
    const { getLoan } = await import('../../db/loans.repository.ts');
    const { ordersOfLoan } = await import('../../db/orders.repository.ts');
    const { db } = await ctx.database();
    const l = await getLoan(db, id);
    if (!l) throw new LendpayError('NOT_FOUND', `no loan ${id}`);
    const orders = await ordersOfLoan(db, id);
    if (o.json) return out(JSON.stringify({ loan: loanJson(l), orders: orders.map((x) => ({ ...x, amount: formatYuan(x.amount) })) }, null, 2));
    out(`loan ${l.id} (${l.customerId}) ${l.status}: ${formatYuan(l.principal)} ${l.mode} to ${l.rail} ${l.destinationId}, request ${l.requestId}`);
    for (const x of orders) out(`  order ${x.id} ${x.idempotencyKey.padEnd(28)} ${x.kind.padEnd(10)} ${formatYuan(x.amount).padStart(14)} ${x.status}${x.errorCode ? ` ${x.errorCode}` : ''}`);
  });

program
  .command('recover')
  .description('resolve every attempt whose outcome is unknown by querying the platform, then move its loan on')
  .option('--older-than <seconds>', 'only attempts submitted at least this long ago', (v) => positiveIntOrZero(v, '--older-than'), 30)
  .action(async (o: { olderThan: number }) => {
    const { recoverOpenAttempts } = await import('../disbursement/disburse.ts');
    const r = await recoverOpenAttempts(await ctx.disburseDeps(), { olderThanMs: o.olderThan * 1000 });
    out(`disbursement: checked ${r.checked} attempts: ${r.resolved} resolved, ${r.resent} resent under the same request id, ${r.stillUnknown} still unknown; ${r.loansDriven} loans moved on`);
    const { recoverCollectionAttempts } = await import('../collection/recovery.ts');
    const { collectionDeps } = await import('./commands/collection.ts');
    const c = await recoverCollectionAttempts(await collectionDeps(ctx), { olderThanMs: o.olderThan * 1000 });
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
    if (o.json) out(JSON.stringify(c, null, 2));
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
    const server = await startSandbox({ databaseUrl: (await ctx.database()).url, port: o.port, host: o.host, calendar: rulesNow.calendar });
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
  .action(async (o: { size: number; seed: number; loans: number; date?: string }) => {
    const { runDemo } = await import('./demo.ts');
    await runDemo(ctx, { size: o.size, seed: o.seed, loans: o.loans, date: parseBusinessDate(o.date ?? businessDateAt(systemClock.now())) }, out);
  });

function positiveInt(v: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new LendpayError('INVALID_INPUT', `${name}: expected a positive whole number, got "${v}"`);
  if (n > max) throw new LendpayError('INVALID_INPUT', `${name}: at most ${max.toLocaleString('en')}, got ${v}`);
  return n;
}

/** A population this size is generated in minutes; more would run for hours and then run out of memory. */
const MAX_POPULATION = 10_000_000;

function positiveIntOrZero(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new LendpayError('INVALID_INPUT', `${name}: expected a whole number ≥ 0, got "${v}"`);
  return n;
}

function loanJson(l: Loan) {
  return { ...l, principal: formatYuan(l.principal), limit: formatYuan(l.limit) };
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

async function main(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof LendpayError) {
      process.stderr.write(`error: ${err.message}\n`);
      for (const d of err.details) process.stderr.write(`  ${d}\n`);
      return 1;
    }
    // Not a LendpayError: a bug or a failure nothing anticipated. Say what it was in
    // one line; the stack only when asked for (LENDPAY_DEBUG=1), never by default.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: unexpected failure: ${message}\n`);
    if (ctx.config.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('  (set LENDPAY_DEBUG=1 for the stack trace)\n');
    return 1;
  } finally {
    await ctx.close().catch(() => {});
  }
}

process.exit(await main());
