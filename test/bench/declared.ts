// `--declared-facts`: the nightly batch with two declared facts in the rules. The
// generate stage then also writes the rules (rules/facts.json's consumptionScore and
// refundRate used by the auto-tag door: refund rate below 0.2, limit scaled by score
// bands) and imports a feed for the population through `lendpay facts import`'s path:
// two dated values a customer (40 and 5 days before the date), ~5% without a score,
// ~10% with a value dated after it (not used). The limits stage's predicate then does
// the same arithmetic by hand.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { importFactsFile } from '../../db/facts-import.ts';
import { loadFactsCatalog } from '../../src/rules/load.ts';
import { rulesCopy } from '../rules/fixtures/declared.ts';
import { mulberry32 } from '../collection/fixtures/random.ts';
import type { StageContext, StageRow } from './stages.ts';

export const DECLARED_RULES_DIR = 'declaredRulesDir';

const shift = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

export async function prepareDeclaredFacts(ctx: StageContext): Promise<StageRow[]> {
  const dir = rulesCopy({ declared: true });
  ctx.state.set(DECLARED_RULES_DIR, dir);
  ctx.onClose(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const catalog = (await loadFactsCatalog(dir))!;
  const ids = (await sql<{ id: string }>`select id from customers order by id`.execute(ctx.database.db)).rows.map((r) => r.id);
  const rnd = mulberry32(ctx.seed);
  const files = [shift(ctx.date, -40), shift(ctx.date, -5)].map((asOf, k) => {
    const lines: string[] = [];
    for (const id of ids) {
      if (rnd() < 0.05) continue;
      const rate = `0.${String(Math.floor(rnd() * (k === 0 ? 4000 : 2600))).padStart(4, '0')}`;
      lines.push(JSON.stringify({ customerId: id, asOf, facts: { consumptionScore: 300 + Math.floor(rnd() * 601), refundRate: rate } }));
      if (k === 1 && rnd() < 0.1) lines.push(JSON.stringify({ customerId: id, asOf: shift(ctx.date, 3), facts: { consumptionScore: 300 } }));
    }
    const file = path.join(os.tmpdir(), `lendpay-bench-facts-${process.pid}-${k}.jsonl`);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    return { file, lines: lines.length };
  });
  const rows: StageRow[] = [];
  try {
    for (const [k, f] of files.entries()) {
      const t0 = performance.now();
      const res = await importFactsFile(ctx.database.db, f.file, catalog);
      rows.push({ stage: `facts:import-${k === 0 ? 'older' : 'recent'}`, items: res.lines, seconds: (performance.now() - t0) / 1000, note: `${res.values} values; items are lines` });
    }
  } finally {
    for (const f of files) fs.rmSync(f.file, { force: true });
  }
  await sql`analyze customer_facts`.execute(ctx.database.db);
  return rows;
}
