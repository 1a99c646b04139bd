// Regression (issue 18, "A chunk uses one loan's waterfall for all"): in one chunk,
// each loan's money is allocated by the waterfall its own collection decision chose,
// not by whichever loan of the chunk was planned last.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { sql } from 'kysely';
import { world, LENDER, type World } from '../disbursement/setup.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { collectBorrowers, type CollectionDeps } from '../../src/collection/service.ts';
import { parseCollectionRules } from '../../src/collection/rules.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import type { BusinessDate, Clock } from '../../src/dates.ts';
import type { Fen } from '../../src/money.ts';

const D = '2026-11-24' as BusinessDate;
const clock: Clock = { now: () => new Date('2026-11-24T09:30:00+08:00') };
let w: World;
let c: CollectionDeps;

test.before(async () => {
  w = await world('waterfall-per-loan', { clock, customers: 2 });
  await sql`update customers set segment = 'supply_chain' where id = 'G2'`.execute(w.t.db);
  const rs = await loadRuleSet(path.resolve('rules'));
  const parsed = parseCollectionRules({
    rules: [
      { name: 'plan', conditions: { all: [] }, event: { type: 'plan', params: { steps: [{ step: 'hold', sweep: true, order: 'primary_then_largest' }] } } },
      { name: 'supply-chain-principal-first', priority: 2, conditions: { all: [{ fact: 'segment', operator: 'equal', value: 'supply_chain' }] }, event: { type: 'waterfall', params: { order: 'oldest_first_principal_first' } } },
      { name: 'others-interest-first', conditions: { all: [] }, event: { type: 'waterfall', params: { order: 'oldest_first_interest_first' } } },
    ],
  }, 'collection.json');
  assert.equal(parsed.errors, []);
  c = { db: w.t.db, channel: w.deps.channel, clock, collectionRules: parsed.value!, notifications: rs.notifications!, ruleSetHash: rs.hash, lender: LENDER };
});
test.after(async () => {
  await w.close();
});

test('a-chunk-allocates-each-loan-by-its-own-waterfall: two segments in one chunk, each loan paid in its own order', async () => {
  const loans: Record<string, string> = {};
  for (const customer of ['G1', 'G2']) {
    // one installment due on D: 100.00 principal and 10.00 interest
    const res = await applyForLoan(w.deps, {
      customerId: customer, amount: 10_000 as Fen, rail: 'balance', requestId: `wf-${customer}`,
      schedule: [{ no: 1, dueDate: D, principal: 10_000 as Fen, interest: 1_000 as Fen }],
    });
    assert.ok(res.ok && res.loan.status === 'disbursed', JSON.stringify(res));
    if (res.ok) loans[customer] = res.loan.id;
    // the borrower keeps 50.00 of it: half of what is due can be collected
    await w.admin('/admin/accounts', { accounts: [
      { id: `${customer}-A`, customerId: customer, balance: 5_000 }, { id: `${customer}-B`, customerId: customer, balance: 0 }, { id: `${customer}-C`, customerId: customer, balance: 0 },
    ] });
  }
  // both borrowers in one chunk, the supply-chain one planned last
  const r = await collectBorrowers(c, { ids: ['G1', 'G2'] }, { date: D, runId: null, keyPrefix: 'collect', purpose: 'collect.batch', openHolds: true });
  assert.is(r.collected, 10_000);
  const paid = await w.t.db.selectFrom('installments').select(['loan_id', 'paid_principal_fen', 'paid_interest_fen']).where('loan_id', 'in', [loans.G1!, loans.G2!]).execute();
  const of = (id: string) => paid.find((p) => p.loan_id === id)!;
  assert.equal([of(loans.G1!).paid_interest_fen, of(loans.G1!).paid_principal_fen], [1_000, 4_000], 'open platform: interest first, then principal');
  assert.equal([of(loans.G2!).paid_interest_fen, of(loans.G2!).paid_principal_fen], [0, 5_000], 'supply chain: principal first');
  const income = await sql<{ loan_id: string; interest: number }>`
    select loan_id, sum(credit_fen)::int8 as interest from journal_lines where account = 'interest.income' and loan_id in (${loans.G1!}, ${loans.G2!}) group by loan_id
  `.execute(w.t.db);
  assert.equal(income.rows.map((x) => [x.loan_id === loans.G1 ? 'G1' : 'G2', x.interest]), [['G1', 1_000]], 'the journal agrees: interest income only from G1');
});

test.run();
