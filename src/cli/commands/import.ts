// `lendpay import <file.jsonl> [--json]`: customers from a JSON-lines file, at COPY
// speed, all or nothing (db/import.ts). Progress on stderr while it reads: a bar in
// a terminal, a line every few seconds otherwise, counting the lines really read
// (the bar's share is the share of the file's bytes read). Then, where lendpay can
// administer a sandbox platform, the imported accounts and cards are opened on it.
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Context } from '../context.ts';
import type { ImportProgress } from '../../../db/import.ts';

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Integer fen (a bigint: sums of a large file pass 2^53) as a yuan string, "1234.50". */
export function yuanOf(fen: bigint): string {
  const sign = fen < 0n ? '-' : '';
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

function grouped(yuan: string): string {
  const [int, dec] = yuan.split('.') as [string, string];
  return `${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${dec}`;
}

const PHASES: Record<ImportProgress['phase'], string> = { reading: 'reading', checking: 'checking across lines', merging: 'writing', done: 'done' };

interface Display {
  update(lines: number, p: ImportProgress): void;
  stop(): void;
}

/** A bar on a terminal; elsewhere (CI logs, pipes) one line every few seconds and at each phase. */
export function importDisplay(label: string, stream: NodeJS.WriteStream = process.stderr, everyMs = 5000): Display {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {lines} lines | {phase}`, stream, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(lines, p) {
        const payload = { lines: lines.toLocaleString('en-US'), phase: PHASES[p.phase] };
        if (!started) {
          bar.start(Math.max(p.totalBytes, 1), 0, payload);
          started = true;
        }
        bar.update(Math.min(p.bytes, Math.max(p.totalBytes, 1)), payload);
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  let phase = '';
  return {
    update(lines, p) {
      const now = Date.now();
      if (p.phase === phase && now - last < everyMs) return;
      last = now;
      phase = p.phase;
      const pct = p.totalBytes === 0 ? 100 : Math.floor((p.bytes / p.totalBytes) * 100);
      stream.write(`${label}: ${lines.toLocaleString('en-US')} lines read (${pct}% of the file), ${PHASES[p.phase]}\n`);
    },
    stop() {},
  };
}

export function registerImportCommand(program: Command, ctx: Context): void {
  program
    .command('import <file>')
    .description('import customers from a JSON-lines file (refused whole, naming line and field, if any line is bad)')
    .option('--json', 'print the result as JSON (amounts as yuan strings)')
    .option('--no-progress', 'no progress display')
    .action(async (file: string, o: { json?: boolean; progress: boolean }) => {
      const { importCustomers } = await import('../../../db/import.ts');
      const { db } = await ctx.database();
      const t = performance.now();
      const display = o.progress ? importDisplay(`import ${path.basename(file)}`) : null;
      let res;
      try {
        res = await importCustomers(db, file, { onProgress: (lines, p) => display?.update(lines, p) });
      } finally {
        display?.stop();
      }
      const seconds = (performance.now() - t) / 1000;

      let opened: { accounts: number; cards: number } | null = null;
      if (ctx.hasSandboxAdmin()) {
        const { openImportedOnSandbox } = await import('../../sandbox/admin.ts');
        const { sandboxOf } = await import('../context.ts');
        opened = await openImportedOnSandbox(db, sandboxOf(await ctx.platform()));
      } else {
        process.stderr.write('note: the accounts and cards were not opened on a platform: lendpay has no sandbox to administer '
          + '(LENDPAY_CHANNEL_URL with LENDPAY_SANDBOX_ADMIN_TOKEN, or LENDPAY_SANDBOX_IN_PROCESS=1); on a real platform merchants open their own\n');
      }

      const totals = { accountBalances: yuanOf(res.totals.accountBalancesFen), cardBalances: yuanOf(res.totals.cardBalancesFen), monthlyFlow: yuanOf(res.totals.monthlyFlowFen) };
      if (o.json) {
        return out(JSON.stringify({
          file, lines: res.lines, customers: res.customers, accounts: res.accounts, cards: res.cards, monthlyFlows: res.flows,
          totals, openedOnSandbox: opened, seconds: Number(seconds.toFixed(1)),
        }));
      }
      if (opened) out(`opened ${opened.accounts} balance accounts and ${opened.cards} cards on the platform sandbox`);
      out(`imported ${res.customers} customers, ${res.accounts} accounts, ${res.cards} cards, ${res.flows} monthly flows from ${res.lines} lines in ${seconds.toFixed(1)} s`);
      out(`  balances: accounts ${grouped(totals.accountBalances)} CNY, cards ${grouped(totals.cardBalances)} CNY; monthly flow ${grouped(totals.monthlyFlow)} CNY`);
    });
}
