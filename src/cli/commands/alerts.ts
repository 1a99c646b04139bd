// `lendpay alerts`: what is wrong right now, by the alert rules in rules/alerts.json.
import type { Command } from 'commander';
import type { Context } from '../context.ts';
import { systemClock } from '../../dates.ts';
import { LendpayError } from '../../errors.ts';

import { out, printJson } from '../output.ts';

export function registerAlertCommands(program: Command, ctx: Context): void {
  const alerts = program.command('alerts').description('open alerts; `alerts check` runs the alert rules once');
  alerts
    .command('list', { isDefault: true })
    .description('the open alerts, newest first')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { openAlerts } = await import('../../../db/alerts.repository.ts');
      const { db } = await ctx.database();
      const list = await openAlerts(db);
      if (o.json) return printJson(list);
      if (list.length === 0) return out('no open alerts');
      for (const a of list) out(`${a.createdAt.toISOString()}  ${(a.severity ?? 'warning').padEnd(8)} ${(a.rule ?? a.kind).padEnd(22)} ${a.message}`);
    });
  alerts
    .command('check')
    .description('run every alert rule now: store, log and send (LENDPAY_ALERT_WEBHOOK) what fires, resolve what stopped')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { checkAlerts } = await import('../../alerts/check.ts');
      const rules = (await ctx.rules()).alerts;
      if (!rules) throw new LendpayError('RULES_INVALID', `${ctx.config.rulesDir}/alerts.json is missing`);
      const { db } = await ctx.database();
      const r = await checkAlerts({
        db, rules, now: systemClock.now(), webhook: ctx.config.alertWebhook,
        log: (a) => process.stderr.write(`alert: ${a.severity} ${a.rule}: ${a.message}\n`),
      });
      if (o.json) return printJson(r);
      out(`alerts: ${r.opened.length} new, ${r.resolved} resolved, ${r.open} open`);
    });
}
