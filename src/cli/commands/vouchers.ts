// `lendpay ledger vouchers --date D`: the day's vouchers for the finance system, as
// JSON or as the CSV a finance package imports (UTF-8 with BOM), to stdout or a file.
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type { Context } from '../context.ts';
import { parseBusinessDate } from '../../dates.ts';
import { formatYuanGrouped } from '../../money.ts';

export function registerVoucherCommands(program: Command, ctx: Context): void {
  const ledger = program.commands.find((c) => c.name() === 'ledger') ?? program.command('ledger').description('the double-entry journal');
  ledger
    .command('vouchers')
    .description('the vouchers (记账凭证) of a date for the finance system: numbered 记-0001… per day, the same numbers on every re-export')
    .addOption(new Option('--date <YYYY-MM-DD>', 'the business date (journal entries posted that day, Asia/Shanghai)').argParser((v) => parseBusinessDate(v, '--date')).makeOptionMandatory())
    .addOption(new Option('--group <how>', 'type: one voucher per business event type; entry: one per journal entry, with customer and loan').choices(['type', 'entry']).default('type'))
    .addOption(new Option('--format <f>', 'json, or csv with the columns a finance package imports').choices(['json', 'csv']).default('json'))
    .option('--out <file>', 'write there instead of to stdout')
    .action(async (o: { date: string; group: 'type' | 'entry'; format: 'json' | 'csv'; out?: string }) => {
      const { exportVouchers } = await import('../../ledger/export.ts');
      const { vouchersToCsv, vouchersToJson } = await import('../../ledger/vouchers.ts');
      const { db } = await ctx.database();
      const day = await exportVouchers(db, (await ctx.rules()).accounts, o.date, o.group);
      const json = vouchersToJson(day.date, day.grouping, day.vouchers, day.numberedNow);
      const text = o.format === 'csv' ? vouchersToCsv(day.grouping, day.vouchers) : `${JSON.stringify(json, null, 2)}\n`;
      if (!o.out) return void process.stdout.write(text);
      await writeFile(o.out, text);
      const total = (side: 'debit' | 'credit') => formatYuanGrouped(day.vouchers.reduce((s, v) => s + v.lines.reduce((t, l) => t + l[side], 0), 0));
      process.stdout.write(`${day.vouchers.length} vouchers of ${day.date} (${day.numberedNow} numbered now) written to ${o.out}: debits ${total('debit')} = credits ${total('credit')}\n`);
    });
}
