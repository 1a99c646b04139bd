// The risk team's workflow end to end, through the CLI as they run it, on a real
// database: first run activates version 1; an activation with a failing test case is
// refused; simulate predicts exactly what the next batch on the new version decides;
// a batch pins the version it started with; rollback restores the old decisions
// exactly; the audit trail and explain use the version that made each decision.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './fixtures/cli.ts';
import type { PgBoss } from 'pg-boss';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { importPopulation } from './fixtures/population.ts';
import { parseBusinessDate } from '../../src/dates.ts';
import { startBoss } from '../../jobs/boss.ts';
import { startNightlyRun, workNightly } from '../../jobs/nightly.ts';
import { makeEvaluatorCache } from '../../jobs/evaluators.ts';
import { getBatchRun } from '../../db/batch.repository.ts';
import { activeRuleSetForBatch } from '../../src/cli/nightly.ts';
import { listVersions } from '../../db/rule-versions.repository.ts';

const D1 = '2026-11-24', D2 = '2026-11-25', D3 = '2026-11-26', D4 = '2026-11-27';
let t: TestDatabase;
let work: string;

const { lendpay, ok } = cli(() => ({ DATABASE_URL: t.url, LENDPAY_RULES_DIR: work }));

type Row = { customer_id: string; eligible: boolean; door: string | null; limit_fen: number; reasons: string[]; rule_set_hash: string };
async function decisions(date: string): Promise<Map<string, Row>> {
  const rows = await t.db.selectFrom('eligibility_decisions')
    .select(['customer_id', 'eligible', 'door', 'limit_fen', 'reasons', 'rule_set_hash'])
    .where('business_date', '=', date).orderBy('customer_id').execute();
  return new Map(rows.map((r) => [r.customer_id, r as Row]));
}
const count = async (table: 'rule_sets' | 'batch_runs') =>
  Number((await t.db.selectFrom(table).select(t.db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

const eligibilityFile = () => path.join(work, 'eligibility.json');
const readRules = () => JSON.parse(fs.readFileSync(eligibilityFile(), 'utf8'));
const writeRules = (r: unknown) => fs.writeFileSync(eligibilityFile(), JSON.stringify(r, null, 2));
let v1Rules: unknown;
let v1Tests: string;

test.before(async () => {
  t = await freshDatabase('rules_workflow');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-rules-'));
  fs.cpSync(path.resolve('rules'), work, { recursive: true });
  v1Rules = readRules();
  v1Tests = fs.readFileSync(path.join(work, 'tests/eligibility.json'), 'utf8');
  await importPopulation(t.db, work, { seed: 7, size: 600, asOf: D1 });
});
test.after(async () => {
  await t.drop();
});

test('the first batch activates the working copy as version 1 by system', async () => {
  await ok(['batch', 'nightly', '--date', D1, '--no-progress']);
  const versions = await listVersions(t.db);
  assert.is(versions.length, 1);
  assert.equal([versions[0]!.version, versions[0]!.activatedBy, versions[0]!.note], [1, 'system', 'first run']);
  const d1 = await decisions(D1);
  assert.is(d1.size, 600);
  assert.ok([...d1.values()].every((d) => d.rule_set_hash === versions[0]!.hash));
  const h = await ok(['rules', 'history']);
  assert.match(h.stdout, /version 1 +[0-9a-f]{12} .* by system +\[active\]/);
});

test('activation is refused while a test case fails, and nothing is stored', async () => {
  const r = readRules();
  r.rules[1].event.params.limit.ratio = { numerator: 1, denominator: 3 };
  writeRules(r);
  const sets = await count('rule_sets');
  const res = await lendpay(['rules', 'activate', '--by', 'alice', '--note', 'a third of the flow']);
  assert.is(res.code, 1);
  assert.match(res.stderr, /not activated: \d+ rule test cases? failed/);
  assert.match(res.stderr, /FAIL .*eligibility\.json/);
  assert.is((await listVersions(t.db)).length, 1);
  assert.is(await count('rule_sets'), sets);
});

test('simulate predicts exactly what the next batch on the new version decides', async () => {
  // The change: a third of the flow, and at least 5,000.00 every month. The cases are updated with it.
  const r = readRules();
  r.rules[1].conditions.all[2].value = '5000.00';
  r.rules[5].conditions.all[1].value = '5000.00';
  writeRules(r);
  const months = ['2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10'];
  fs.writeFileSync(path.join(work, 'tests/eligibility.json'), JSON.stringify({ cases: [
    { name: 'a third of six months of 100,000.00', date: D1, customer: { segment: 'supply_chain', realNameVerified: true, whitelist: null, monthlyFlow: Object.fromEntries(months.map((m) => [m, '100000.00'])) }, expect: { eligible: true, door: 'auto_tag', limit: '200000.00' } },
    { name: '4,999.99 in one month is not enough', date: D1, customer: { segment: 'supply_chain', realNameVerified: true, whitelist: null, monthlyFlow: { ...Object.fromEntries(months.map((m) => [m, '100000.00'])), '2026-07': '4999.99' } }, expect: { eligible: false, reasons: ['INSUFFICIENT_FLOW_HISTORY'] } },
  ] }));
  const sim = JSON.parse((await ok(['rules', 'simulate', '--json'])).stdout);
  assert.is(sim.businessDate, D1);
  assert.is(sim.customers, 600);
  assert.is(sim.baseline.version, 1);
  assert.ok(sim.lost > 0 && sim.limitChanged > 0, 'the change matters for this population');
  const table = await ok(['rules', 'simulate']);
  assert.match(table.stdout, /lose eligibility/);
  assert.match(table.stdout, /nothing was written/);

  const act = await ok(['rules', 'activate', '--by', 'alice', '--note', 'a third of the flow, 5,000.00 a month']);
  assert.match(act.stdout, /activated version 2/);
  assert.match(act.stdout, /~ eligibility\.json \$\.rules\[name=auto-tag-door\]\.event\.params\.limit\.ratio\.denominator: 2 → 3/);
  await ok(['batch', 'nightly', '--date', D2, '--no-progress']);

  const d1 = await decisions(D1);
  const d2 = await decisions(D2);
  let gained = 0, lost = 0, changed = 0, eligible = 0, total = 0;
  for (const [id, a] of d2) {
    const b = d1.get(id)!;
    if (!b.eligible && a.eligible) gained++;
    if (b.eligible && !a.eligible) lost++;
    if (b.eligible && a.eligible && a.limit_fen !== b.limit_fen) changed++;
    if (a.eligible) { eligible++; total += a.limit_fen; }
  }
  assert.equal([sim.gained, sim.lost, sim.limitChanged], [gained, lost, changed]);
  assert.is(sim.after.eligible, eligible);
  assert.is(sim.after.totalLimit, (total / 100).toFixed(2));
  const top = sim.largest[0];
  assert.is(Number(d2.get(top.customerId)!.limit_fen) / 100, Number(top.after.limit));
  assert.is(Number(d1.get(top.customerId)!.limit_fen) / 100, Number(top.before.limit));
  for (const x of sim.largest) {
    assert.ok(Math.abs(Number(x.delta)) <= Math.abs(Number(top.delta)));
  }
});

test('a batch started before an activation finishes on the version it pinned', async () => {
  const boss: PgBoss = await startBoss(t.url);
  try {
    const { version } = await activeRuleSetForBatch(t.db, work);
    assert.is(version.version, 2);
    const { run } = await startNightlyRun(t.db, boss, parseBusinessDate(D3), version.hash, 100);
    // While its chunks wait in the queue, the risk team rolls back to version 1.
    const rb = await ok(['rules', 'rollback', '1', '--by', 'bob', '--note', 'too strict']);
    assert.match(rb.stdout, /activated version 3 .* the content of version 1/);
    await workNightly(boss, { db: t.db, evaluatorFor: makeEvaluatorCache(t.db) }, 2);
    for (let i = 0; i < 300 && (await getBatchRun(t.db, run.id))?.status !== 'finished'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.is((await getBatchRun(t.db, run.id))?.status, 'finished');
    const d3 = await decisions(D3);
    assert.is(d3.size, 600);
    assert.ok([...d3.values()].every((d) => d.rule_set_hash === version.hash), 'every decision carries the pinned hash');
    const d2 = await decisions(D2);
    for (const [id, d] of d3) assert.equal([d.eligible, d.limit_fen, d.reasons], [d2.get(id)!.eligible, d2.get(id)!.limit_fen, d2.get(id)!.reasons]);
  } finally {
    await boss.stop({ graceful: false, timeout: 2000 }).catch(() => {});
  }
});

test('rollback restores the old decisions exactly', async () => {
  writeRules(v1Rules);
  fs.writeFileSync(path.join(work, 'tests/eligibility.json'), v1Tests);
  await ok(['batch', 'nightly', '--date', D4, '--no-progress']);
  const d1 = await decisions(D1);
  const d4 = await decisions(D4);
  assert.is(d4.size, d1.size);
  for (const [id, a] of d1) {
    const b = d4.get(id)!;
    assert.equal([b.eligible, b.door, b.limit_fen, b.reasons, b.rule_set_hash], [a.eligible, a.door, a.limit_fen, a.reasons, a.rule_set_hash], id);
  }
  const h = await ok(['rules', 'history']);
  assert.match(h.stdout, /version 3 .* by bob \(rollback to version 1\) +\[active\]/);
  const diff = await ok(['rules', 'diff', '2', '3']);
  assert.match(diff.stdout, /ratio\.denominator: 3 → 2/);
  // an already active content is not activated twice
  const again = await ok(['rules', 'activate', '--by', 'alice', '--note', 'same']);
  assert.match(again.stdout, /already the active version 3/);
});

test('a customer\'s decisions over time carry the version that made each, and explain uses it', async () => {
  const d2 = await decisions(D2);
  const d1 = await decisions(D1);
  const id = [...d2.keys()].find((k) => d2.get(k)!.eligible && d1.get(k)!.eligible && d2.get(k)!.limit_fen !== d1.get(k)!.limit_fen)!;
  const res = JSON.parse((await ok(['decisions', '--customer', id, '--json'])).stdout);
  assert.equal(res.map((r: { businessDate: string; ruleVersion: number }) => [r.businessDate, r.ruleVersion]), [[D1, 1], [D2, 2], [D3, 2], [D4, 3]]);
  const text = await ok(['decisions', '--customer', id]);
  assert.match(text.stdout, new RegExp(`${D2} +eligible .* v2 +[0-9a-f]{12}`));
  // version 3 (= version 1's content) is active, yet the decision of D2 is explained with version 2
  const ex = JSON.parse((await ok(['explain', id, '--date', D2, '--json'])).stdout);
  assert.is(ex.ruleSetHash, d2.get(id)!.rule_set_hash);
  assert.is(ex.reEvaluationAgrees, true);
  assert.is(ex.decision.limit, (d2.get(id)!.limit_fen / 100).toFixed(2));
  const missing = await lendpay(['decisions', '--customer', 'NOPE']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /no customer NOPE/);
});

test('rules test --coverage and validate with warnings', async () => {
  const cov = await ok(['rules', 'test', '--coverage']);
  assert.match(cov.stdout, /\d+ passed, 0 failed/);
  assert.match(cov.stdout, /rules fired by some case +7 of 7/);
  const r = readRules();
  r.rules[2].event.params.max = '6000000.00';
  writeRules(r);
  const v = await ok(['rules', 'validate']);
  assert.match(v.stderr, /warning: .*\$\.rules\[2\]\.event\.params\.max: cap 6,000,000\.00 is above the 5,000,000\.00 CNY ceiling/);
  writeRules(v1Rules);
});

test.run();
