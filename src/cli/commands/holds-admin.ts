// `lendpay holds release <customer> --by NAME --reason "…"`: the audited operator
// action that lifts an open hold and its outflow block without the debt being paid.
import type { Command } from 'commander';
import type { Context } from '../context.ts';
import { systemClock } from '../../dates.ts';
import { formatYuan, type Fen } from '../../money.ts';
import { out, printJson } from '../output.ts';

export function registerHoldsAdminCommands(program: Command, ctx: Context): void {
  // `holds` is made by the collection commands (monitor); add to it, or make it.
  const holds = program.commands.find((c) => c.name() === 'holds') ?? program.command('holds').description('holds (挂账) and the outflow block');
  holds
    .command('release <customer>')
    .description('operator: clear the customer\'s open hold and lift the outflow block (audited; the debt stays owed)')
    .requiredOption('--by <name>', 'the operator doing it (recorded)')
    .requiredOption('--reason <text>', 'why (recorded)')
    .option('--json', 'as JSON')
    .action(async (customer: string, o: { by: string; reason: string; json?: boolean }) => {
      const { releaseHold } = await import('../../collection/release.ts');
      const { db } = await ctx.database();
      const { channel } = await ctx.platform();
      const r = await releaseHold({ db, channel, clock: systemClock }, { customerId: customer, by: o.by, reason: o.reason });
      if (o.json) return printJson({ ...r, by: o.by });
      out(`hold ${r.holdId} of ${customer} (${formatYuan(r.amountFen as Fen)} CNY) released by operator:${o.by}; audit #${r.auditId}; outflow ${r.unblocked ? 'unblocked' : 'was not blocked'}`);
    });
}
