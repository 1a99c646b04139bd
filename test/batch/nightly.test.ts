// The nightly batch through real pg-boss jobs on a real database: decisions to the
// fen, one row per customer, and a second run (or a job delivered twice) changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PgBoss } from 'pg-boss';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { startBoss } from '../../jobs/boss.ts';
import { runNightlyChunk, startNightlyRun, workNightly } from '../../jobs/nightly.ts';
import { makeEvaluatorCache } from '../../jobs/evaluators.ts';
import { importCustomersFile } from '../../db/import.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { saveRuleSet } from '../../db/rulesets.repository.ts';
import { getBatchRun, runProgress } from '../../db/batch.repository.ts';
import { getDecision } from '../../db/eligibility.repository.ts';
import { parseBusinessDate } from '../../src/dates.ts';

const D = parseBusinessDate('2026-11-24');
const six = ['2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10'];
const flow = (months: string[], amount = '100000.00') => Object.fromEntries(months.map((m) => [m, amount]));
const acct = (id: string) => [{ id: `${id}-A`, primary: true, balance: '10.00' }];
const customers = [
  { id: 'C1', name: 'n', segment: 'open_platform', realNameVerified: true, whitelist: null, accounts: acct('C1'), bankCards: [], monthlyFlow: flow(six) },
  { id: 'C2', name: 'n', segment: 'supply_chain', realNameVerified: true, whitelist: null, accounts: acct('C2'), bankCards: [], monthlyFlow: flow(six.slice(1)) },
  { id: 'C3', name: 'n', segment: 'external', realNameVerified: true, whitelist: { limit: '800000.00', reason: 'partner', expiresOn: '2026-11-24' }, accounts: acct('C3'), bankCards: [], monthlyFlow: {} },
  { id: 'C4', name: 'n', segment: 'external', realNameVerified: true, whitelist: { limit: '800000.00', reason: 'partner', expiresOn: '2026-11-23' }, accounts: acct('C4'), bankCards: [], monthlyFlow: {} },
  { id: 'C5', name: 'n', segment: 'open_platform', realNameVerified: false, whitelist: null, accounts: acct('C5'), bankCards: [], monthlyFlow: flow(six, '99999999.99') },
];

let t: TestDatabase;
let boss: PgBoss;
let hash: string;

test.before(async () => {
  t = await freshDatabase('nightly');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-')), 'c.jsonl');
  fs.writeFileSync(file, customers.map((c) => JSON.stringify(c)).join('\n') + '\n');
  await importCustomersFile(t.db, file);
  const ruleSet = await loadRuleSet(path.resolve('rules'));
  hash = ruleSet.hash;
  await saveRuleSet(t.db, hash, 'rules', ruleSet.files);
  boss = await startBoss(t.url);
});

test.after(async () => {
  await boss.stop({ graceful: false, timeout: 2000 }).catch(() => {});
  await t.drop();
});

async function waitFinished(runId: number) {
  for (let i = 0; i < 200; i++) {
    const run = await getBatchRun(t.db, runId);
    if (run?.status === 'finished') return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${runId} did not finish`);
}

test('the nightly batch decides every customer through pg-boss chunk jobs', async () => {
  const { run, created, enqueued } = await startNightlyRun(t.db, boss, D, hash, 2);
  assert.ok(created);
  assert.is(enqueued, 3, '5 customers in chunks of 2');
  await workNightly(boss, { db: t.db, evaluatorFor: makeEvaluatorCache(t.db) }, 2);
  const finished = await waitFinished(run.id);
  const p = await runProgress(t.db, run.id);
  assert.equal(p, { totalChunks: 3, doneChunks: 3, items: 5 });
  const summary = finished.summary as { decisions: number; eligible: number };
  assert.is(summary.decisions, 5);
  assert.is(summary.eligible, 2);

  const c1 = await getDecision(t.db, 'C1', D);
  assert.equal([c1?.eligible, c1?.door, c1?.limit, c1?.reasons], [true, 'auto_tag', 30_000_000, []]);
  assert.is(c1?.ruleSetHash, hash);
  assert.ok((c1?.fired.length ?? 0) > 0, 'records the rules that fired');
  const c2 = await getDecision(t.db, 'C2', D);
  assert.equal([c2?.eligible, c2?.limit, c2?.reasons], [false, 0, ['INSUFFICIENT_FLOW_HISTORY']]);
  const c3 = await getDecision(t.db, 'C3', D);
  assert.equal([c3?.eligible, c3?.door, c3?.limit], [true, 'whitelist', 80_000_000]);
  const c4 = await getDecision(t.db, 'C4', D);
  assert.equal(c4?.reasons, ['NOT_IN_ECOSYSTEM', 'WHITELIST_EXPIRED']);
  const c5 = await getDecision(t.db, 'C5', D);
  assert.equal([c5?.eligible, c5?.reasons], [false, ['REAL_NAME_MISSING']]);
});

test('running the same date again changes nothing', async () => {
  const before = await t.db.selectFrom('eligibility_decisions').select(['customer_id', 'decided_at', 'limit_fen']).orderBy('customer_id').execute();
  const again = await startNightlyRun(t.db, boss, D, hash, 2);
  assert.not.ok(again.created);
  assert.is(again.enqueued, 0);
  assert.is(again.run.status, 'finished');
  const after = await t.db.selectFrom('eligibility_decisions').select(['customer_id', 'decided_at', 'limit_fen']).orderBy('customer_id').execute();
  assert.equal(after, before);
});

test('a chunk job delivered twice is a no-op the second time', async () => {
  const run = (await t.db.selectFrom('batch_runs').select('id').executeTakeFirstOrThrow()).id;
  const outcome = await runNightlyChunk({ db: t.db, evaluatorFor: makeEvaluatorCache(t.db) }, { runId: run, chunkNo: 0 });
  assert.is(outcome, 'run-not-running');
  const n = await t.db.selectFrom('eligibility_decisions').select(t.db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.is(Number(n.n), 5);
});

test.run();
