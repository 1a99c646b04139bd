// `lendpay loan payoff L [--date D] [--json]`: what closes a loan on a date (提前还款
// quote). Added to the `loan` group; `loan apply --product` and `loan show` are in main.ts.
import { Option, type Command } from 'commander';
import type { Context } from '../context.ts';
import { parseBusinessDate, systemClock } from '../../dates.ts';

export function registerLoanCommands(program: Command, ctx: Context): void {
  const loan = program.commands.find((c) => c.name() === 'loan') ?? program.command('loan').description('loans');
  loan
    .command('payoff <id>')
    .description('what closes the loan on a date: principal outstanding, interest due and of the current period up to the date, penalty, the product\'s prepayment fee')
    .addOption(new Option('--date <YYYY-MM-DD>', 'business date (Asia/Shanghai); default today').argParser((v) => parseBusinessDate(v, '--date')))
    .option('--json', 'as JSON')
    .action(async (id: string, o: { date?: string; json?: boolean }) => {
      const { quotePayoff } = await import('../../collection/prepay.ts');
      const { payoffView } = await import('../../loans/view.ts');
      const { db } = await ctx.database();
      const v = payoffView(await quotePayoff({ db, clock: systemClock }, id, o.date));
      if (o.json) return void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
      const lines = [
        `payoff of loan ${v.loanId} on ${v.date}: ${v.total}`,
        `  principal outstanding        ${v.principal.padStart(14)}   (${v.prepaidPrincipal} of it not yet due)`,
        `  interest due                 ${v.interestDue.padStart(14)}`,
        `  interest of the period so far${v.interestAccrued.padStart(14)}${v.currentPeriod ? `   (installment ${v.currentPeriod.no}: ${v.currentPeriod.elapsed} of ${v.currentPeriod.days} days since ${v.currentPeriod.from})` : ''}`,
        `  penalty                      ${v.penalty.padStart(14)}`,
        `  prepayment fee               ${v.fee.padStart(14)}`,
        `  total                        ${v.total.padStart(14)}`,
        `pay it with: lendpay repay --loan ${v.loanId} --card <card> --prepay --request-id <id>`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
