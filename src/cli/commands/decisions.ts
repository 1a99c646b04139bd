// `lendpay decisions`: every decision of a business date (--date), or one customer's
// decisions over time with the rule version that made each (--customer): the audit trail.
// A table for people; --json for scripts (one JSON line a customer for a date, one
// JSON document for a customer), as every command takes it.
import { Option, type Command } from 'commander';
import type { Context } from '../context.ts';
import { LendpayError } from '../../errors.ts';
import { parseBusinessDate } from '../../dates.ts';
import { formatYuan } from '../../money.ts';

import { out, printJson } from '../output.ts';

export function registerDecisionsCommand(program: Command, ctx: Context): void {
  program
    .command('decisions')
    .description('print the decisions of a business date (--date), or a customer\'s decisions over time (--customer)')
    .addOption(new Option('--date <YYYY-MM-DD>', 'business date (Asia/Shanghai)').argParser((v) => parseBusinessDate(v, '--date')))
    .option('--customer <id>', 'one customer\'s decisions over time, with the rule version and hash that made each')
    .option('--json', 'as JSON: with --date one line a customer {"customerId","eligible","door","limit","reasons","ruleSetHash"}; with --customer one document')
    // the flag these took before --json did it for both: still accepted, not shown
    .addOption(new Option('--format <format>').choices(['jsonl', 'table']).hideHelp())
    .action(async (o: { date?: string; customer?: string; format?: 'jsonl' | 'table'; json?: boolean }) => {
      const json = o.json === true || o.format === 'jsonl';
      if (o.customer !== undefined) return customerHistory(ctx, o.customer, json);
      if (o.date === undefined) throw new LendpayError('INVALID_INPUT', 'give --date YYYY-MM-DD (a day\'s decisions) or --customer ID (one customer over time)');
      const { streamDecisions } = await import('../../../db/eligibility.repository.ts');
      const { db } = await ctx.database();
      let n = 0;
      for await (const d of streamDecisions(db, o.date)) {
        if (n++ === 0 && !json) out(`${'customer'.padEnd(12)} ${'decision'.padEnd(10)} ${'door'.padEnd(9)} ${'limit'.padStart(14)}  reasons`);
        const line = json
          ? JSON.stringify({
            customerId: d.customerId, eligible: d.eligible, door: d.door, limit: formatYuan(d.limit), reasons: d.reasons, ruleSetHash: d.ruleSetHash,
            ...(d.facts['declared'] === undefined ? {} : { declaredFacts: d.facts['declared'] }),
          })
          : `${d.customerId.padEnd(12)} ${d.eligible ? 'eligible  ' : 'ineligible'} ${(d.door ?? '-').padEnd(9)} ${formatYuan(d.limit).padStart(14)}  ${d.reasons.join(',')}`;
        if (!process.stdout.write(`${line}\n`)) await new Promise((r) => process.stdout.once('drain', r));
      }
      if (n === 0) process.stderr.write(`no decisions for ${o.date} (run: lendpay batch nightly --date ${o.date})\n`);
    });
}

async function customerHistory(ctx: Context, customerId: string, json: boolean): Promise<void> {
  const { customerDecisions, customerExists } = await import('../../../db/rule-versions.repository.ts');
  const { db } = await ctx.database();
  const rows = await customerDecisions(db, customerId);
  if (rows.length === 0 && !(await customerExists(db, customerId))) throw new LendpayError('NOT_FOUND', `no customer ${customerId}`);
  if (json) {
    return printJson(rows.map((r) => ({
      businessDate: r.businessDate, eligible: r.eligible, door: r.door, limit: formatYuan(r.limit), reasons: r.reasons,
      fired: r.fired, ruleVersion: r.ruleVersion, ruleSetHash: r.ruleSetHash, runId: r.runId, decidedAt: r.decidedAt,
      ...(r.declared === null ? {} : { declaredFacts: r.declared }),
    })));
  }
  if (rows.length === 0) return out(`customer ${customerId} has no decisions yet`);
  out(`decisions for customer ${customerId} (explain one: lendpay explain ${customerId} --date D)`);
  // Declared facts (rules/facts.json) each decision used, as it saw them: `name=value` (or `name=-` without a value).
  const declared = (r: (typeof rows)[number]) => Object.entries(r.declared ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v === null ? '-' : JSON.stringify(v.value)}`).join(' ');
  const anyDeclared = rows.some((r) => r.declared !== null);
  out(`${'date'.padEnd(12)} ${'decision'.padEnd(10)} ${'door'.padEnd(9)} ${'limit'.padStart(16)}  ${'version'.padEnd(8)} ${'rule set'.padEnd(12)}  ${anyDeclared ? `${'reasons'.padEnd(26)} declared facts` : 'reasons'}`);
  for (const r of rows) {
    const reasons = r.reasons.join(',') || '-';
    out(`${r.businessDate.padEnd(12)} ${(r.eligible ? 'eligible' : 'ineligible').padEnd(10)} ${(r.door ?? '-').padEnd(9)} ${formatYuan(r.limit).padStart(16)}  ${(r.ruleVersion === null ? '-' : `v${r.ruleVersion}`).padEnd(8)} ${r.ruleSetHash.slice(0, 12)}  ${anyDeclared ? `${reasons.padEnd(26)} ${declared(r)}` : reasons}`);
  }
}
