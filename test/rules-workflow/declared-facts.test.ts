// A score from another team's feed, from declaration to audit, through the CLI as the
// risk team runs it: the feed is imported, a rule uses the score (a condition, a
// reason and a limit scaled by score bands), the cases test it, simulate predicts
// exactly what the next batch decides, the batch records the value it saw with its
// asOf, and explain shows that value even after the feed corrected it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { importPopulation } from './fixtures/population.ts';
import { mulberry32 } from '../collection/fixtures/random.ts';
import { declaredEligibility } from '../rules/fixtures/declared.ts';
import { cli } from './fixtures/cli.ts';

const D1 = '2026-11-24', D2 = '2026-11-25', D3 = '2026-11-26';
let t: TestDatabase;
let work: string;
const { lendpay, ok } = cli(() => ({ DATABASE_URL: t.url, LENDPAY_RULES_DIR: work }));
const ids: string[] = [];
const score = new Map<string, number>();

type Row = { customer_id: string; eligible: boolean; limit_fen: number; reasons: string[]; facts: Record<string, unknown> };
async function decisions(date: string): Promise<Map<string, Row>> {
  const rows = await t.db.selectFrom('eligibility_decisions').select(['customer_id', 'eligible', 'limit_fen', 'reasons', 'facts'])
    .where('business_date', '=', date).orderBy('customer_id').execute();
  return new Map(rows.map((r) => [r.customer_id, r as Row]));
}
const feedFile = (lines: unknown[]) => {
  const f = path.join(work, '..', `${path.basename(work)}-${Math.random().toString(36).slice(2)}.jsonl`);
  fs.writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return f;
};

test.before(async () => {
  t = await freshDatabase('declared_workflow');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-declared-wf-'));
  fs.cpSync(path.resolve('rules'), work, { recursive: true });
  ids.push(...(await importPopulation(t.db, work, { seed: 11, size: 400, asOf: D1 })));
});
test.after(async () => {
  await t.drop();
});

test('a feed of scores is imported; the values are kept by asOf', async () => {
  await ok(['batch', 'nightly', '--date', D1, '--no-progress']);
  const rnd = mulberry32(5);
  const feed: unknown[] = [];
  for (const id of ids) {
    if (rnd() < 0.05) continue; // no score from the feed at all
    const s = 300 + Math.floor(rnd() * 601);
    score.set(id, s);
    const facts: Record<string, unknown> = { consumptionScore: s };
    if (rnd() < 0.7) facts['refundRate'] = `0.${String(Math.floor(rnd() * 3000)).padStart(4, '0')}`;
    feed.push({ customerId: id, asOf: '2026-11-21', facts });
    // a value dated after every business date of this test is never used by it
    if (rnd() < 0.2) feed.push({ customerId: id, asOf: '2026-12-31', facts: { consumptionScore: 300 } });
  }
  const r = await ok(['facts', 'import', feedFile(feed)]);
  assert.match(r.stdout, new RegExp(`imported \\d+ values \\(consumptionScore \\d+, refundRate \\d+\\) from ${feed.length} lines`));
  const bad = await lendpay(['facts', 'import', feedFile([feed[0], { customerId: ids[1], asOf: '2026-11-21', facts: { consumptionScore: '700' } }])]);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /line 2: facts\.consumptionScore: fact "consumptionScore" is a whole number 300\.\.900, got "700" \(declared in .*facts\.json\)/);
  assert.match(bad.stderr, /nothing was imported/);
  const shown = JSON.parse((await ok(['facts', 'show', ids[0]!, '--json'])).stdout);
  assert.ok(shown.some((x: { fact: string; asOf: string }) => x.fact === 'consumptionScore' && x.asOf === '2026-11-21'));
});

test('a rule uses the score: validated, tested with coverage, simulated, activated, and the batch decides exactly as simulated', async () => {
  fs.writeFileSync(path.join(work, 'eligibility.json'), JSON.stringify(declaredEligibility(), null, 2));
  const failing = await lendpay(['rules', 'test']);
  assert.is(failing.code, 1, 'the old cases have no score: NO_CONSUMPTION_SCORE');
  assert.match(failing.stdout + failing.stderr, /"reasons":\["NO_CONSUMPTION_SCORE"\]/);
  // The cases now give a score (700: band ×1 keeps their limits), and three new ones test the score.
  const tests = JSON.parse(fs.readFileSync(path.join(work, 'tests/eligibility.json'), 'utf8'));
  for (const c of tests.cases) c.customer.facts = { consumptionScore: 700 };
  const six = Object.fromEntries(['2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10'].map((m) => [m, '100000.00']));
  const customer = (facts: Record<string, unknown>) => ({ segment: 'supply_chain', realNameVerified: true, whitelist: null, monthlyFlow: six, facts });
  tests.cases.push(
    { name: 'score 599: half of the half', date: D1, customer: customer({ consumptionScore: 599 }), expect: { eligible: true, limit: '150000.00' } },
    { name: 'score 750: 1.2 times the half', date: D1, customer: customer({ consumptionScore: 750, refundRate: '0.1999' }), expect: { eligible: true, limit: '360000.00' } },
    { name: 'no score: not eligible', date: D1, customer: customer({ refundRate: '0' }), expect: { eligible: false, reasons: ['NO_CONSUMPTION_SCORE'] } },
    { name: 'refund rate 0.2: not eligible', date: D1, customer: customer({ consumptionScore: 800, refundRate: '0.2' }), expect: { eligible: false, reasons: ['HIGH_REFUND_RATE'] } },
  );
  fs.writeFileSync(path.join(work, 'tests/eligibility.json'), JSON.stringify(tests, null, 2));
  await ok(['rules', 'validate']);
  const cov = await ok(['rules', 'test', '--coverage']);
  assert.match(cov.stdout, /coverage of .*eligibility\.json by \d+ test cases:\n  rules fired by some case +8 of 8\n  conditions seen true and false 14 of 14/);

  const sim = JSON.parse((await ok(['rules', 'simulate', '--json'])).stdout);
  assert.ok(sim.warnings.some((w: string) => /did not use consumptionScore, refundRate: their latest values imported as of 2026-11-24 are used/.test(w)), sim.warnings.join('\n'));
  assert.ok(sim.lost > 0 && sim.limitChanged > 0);
  assert.ok(sim.after.ineligibleByReason.NO_CONSUMPTION_SCORE > 0 && sim.after.ineligibleByReason.HIGH_REFUND_RATE > 0);

  await ok(['rules', 'activate', '--by', 'alice', '--note', 'limits by consumption score']);
  await ok(['batch', 'nightly', '--date', D2, '--no-progress']);
  const d2 = await decisions(D2);
  let eligible = 0, total = 0;
  for (const d of d2.values()) if (d.eligible) { eligible++; total += d.limit_fen; }
  assert.is(sim.after.eligible, eligible);
  assert.is(sim.after.totalLimit, (total / 100).toFixed(2));
  assert.is(sim.after.ineligibleByReason.NO_CONSUMPTION_SCORE, [...d2.values()].filter((d) => d.reasons.includes('NO_CONSUMPTION_SCORE')).length);
  for (const [id, d] of d2) {
    const seen = (d.facts['declared'] as Record<string, { value: unknown; asOf: string } | null>)['consumptionScore'];
    assert.equal(seen, score.has(id) ? { value: score.get(id), asOf: '2026-11-21' } : null, id);
  }
});

test('explain shows the value the decision saw, with its asOf, even after the feed corrected it', async () => {
  const d2 = await decisions(D2);
  const id = ids.find((x) => d2.get(x)!.eligible && (score.get(x) ?? 0) >= 750 && (d2.get(x)!.facts['declared'] as Record<string, unknown>)['refundRate'] !== undefined
    && d2.get(x)!.reasons.length === 0 && d2.get(x)!.limit_fen > 0 && d2.get(x)!.limit_fen < 500_000_000)!;
  assert.ok(id, 'an auto-tagged customer with a score of 750 or more');
  const text = (await ok(['explain', id, '--date', D2])).stdout;
  assert.match(text, new RegExp(`consumptionScore +${score.get(id)} +\\(as of 2026-11-21\\)`));
  assert.match(text, /limit = flowTotal\(months=6\) × 1\/2 × by consumptionScore \(below 600: 1\/2, below 750: 1\/1, else: 6\/5\)/);
  assert.match(text, /✓ refundRate lessThan 0\.2000 +\[actual: 0\.\d{4}\]/);
  // the feed corrects the score as of D2; the decision of D2 is still explained with what it saw
  await ok(['facts', 'import', feedFile([{ customerId: id, asOf: D2, facts: { consumptionScore: 310 } }])]);
  const ex = JSON.parse((await ok(['explain', id, '--date', D2, '--json'])).stdout);
  assert.is(ex.reEvaluationAgrees, true);
  assert.equal(ex.facts.declared.consumptionScore, { value: score.get(id), asOf: '2026-11-21' });
  const hist = (await ok(['decisions', '--customer', id])).stdout;
  assert.match(hist, new RegExp(`${D2} +eligible .*consumptionScore=${score.get(id)} refundRate="0\\.\\d{4}"`));
  // the next batch uses the correction: the score 310 halves the half
  await ok(['batch', 'nightly', '--date', D3, '--no-progress']);
  const d3 = (await decisions(D3)).get(id)!;
  assert.equal((d3.facts['declared'] as Record<string, unknown>)['consumptionScore'], { value: 310, asOf: D2 });
  assert.ok(d3.limit_fen < d2.get(id)!.limit_fen);

  const none = ids.find((x) => !score.has(x))!;
  const noneText = (await ok(['explain', none, '--date', D2])).stdout;
  assert.match(noneText, /NOT ELIGIBLE: NO_CONSUMPTION_SCORE/);
  assert.match(noneText, /consumptionScore +no value +\(missing: ineligible, NO_CONSUMPTION_SCORE\)/);
  assert.match(noneText, /Rules: not evaluated/);
});

test.run();
