// `lendpay facts …`: the values of the facts the risk team declares in rules/facts.json,
// as other teams' feeds deliver them. Parse, call, format: the checks are in
// src/eligibility/feed.ts, the writes in db/facts-import.ts.
import path from 'node:path';
import type { Command } from 'commander';
import type { Context } from '../context.ts';
import { LendpayError } from '../../errors.ts';

const out = (text: string): void => { process.stdout.write(text.endsWith('\n') ? text : `${text}\n`); };
const err = (text: string): void => { process.stderr.write(text.endsWith('\n') ? text : `${text}\n`); };

export function registerFactsCommands(program: Command, ctx: Context): void {
  const facts = program.command('facts').description('values of the facts declared in rules/facts.json: import a feed, show a customer\'s values');

  facts
    .command('import <file>')
    .description('import a feed of declared-fact values, one {"customerId", "asOf", "facts"} a line; refused whole if any line is bad')
    .option('--dir <dir>', 'the rules directory whose facts.json declares the facts (default: rules/)')
    .action(async (file: string, o: { dir?: string }) => {
      const { loadFactsCatalog } = await import('../../rules/load.ts');
      const { importFactsFile } = await import('../../../db/facts-import.ts');
      const dir = o.dir ? path.resolve(o.dir) : ctx.config.rulesDir;
      const catalog = await loadFactsCatalog(dir);
      if (catalog === null) throw new LendpayError('NOT_FOUND', `${path.join(dir, 'facts.json')} does not exist: declare the facts there first (see rules/README.md)`);
      const { db } = await ctx.database();
      const t = performance.now();
      const res = await importFactsFile(db, file, catalog);
      const per = Object.entries(res.byFact).map(([k, v]) => `${k} ${v}`).join(', ');
      out(`imported ${res.values} values (${per}) from ${res.lines} lines in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      // Batches read the values through the declaration of the version they run on.
      const { activeVersion } = await import('../../../db/rule-versions.repository.ts');
      const { getRuleSetContent } = await import('../../../db/rulesets.repository.ts');
      const active = await activeVersion(db);
      const content = active ? ((await getRuleSetContent(db, active.hash)) as Record<string, unknown> | null) : null;
      const declared = new Set(Object.keys(((content?.['facts.json'] as { facts?: object } | undefined)?.facts) ?? {}));
      const inactive = Object.keys(res.byFact).filter((f) => !declared.has(f));
      if (active && inactive.length > 0) {
        err(`note: the active rules (version ${active.version}) do not declare ${inactive.join(', ')} yet: batches use these values once a version that declares them is activated`);
      }
    });

  facts
    .command('show <customer>')
    .description('a customer\'s values of every declared fact, newest first, with the date each is as of')
    .option('--json', 'as JSON')
    .action(async (customer: string, o: { json?: boolean }) => {
      const { customerFactHistory } = await import('../../../db/facts.repository.ts');
      const { customerExists } = await import('../../../db/rule-versions.repository.ts');
      const { db } = await ctx.database();
      const rows = await customerFactHistory(db, customer);
      if (rows.length === 0 && !(await customerExists(db, customer))) throw new LendpayError('NOT_FOUND', `no customer ${customer}`);
      if (o.json) return out(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return out(`customer ${customer} has no declared-fact values yet (lendpay facts import FILE)`);
      out(`${'fact'.padEnd(24)} ${'as of'.padEnd(10)}  value`);
      for (const r of rows) out(`${r.fact.padEnd(24)} ${r.asOf}  ${JSON.stringify(r.value)}`);
    });
}
