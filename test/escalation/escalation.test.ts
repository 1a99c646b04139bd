// Escalation against the real sandbox with fault injection: each level and each
// default rule, the query ladder, void-and-reissue checked on the platform's own
// records, and a randomized run over seeded fault mixes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { sql } from 'kysely';
import { world, LENDER, type World } from '../disbursement/setup.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { collectBorrowers, type CollectionDeps } from '../../src/collection/service.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { confirmEscalation, rejectEscalation, reprocessOrder, runEscalationTick, withHook, type EscalationDeps } from '../../src/escalation/service.ts';
import { escalationsOf, operatorQueue, orderTimeline, openAlerts } from '../../db/escalation.repository.ts';
import { attemptsOf, ordersOfLoan } from '../../db/orders.repository.ts';
import { getLoan } from '../../db/loans.repository.ts';
import type { Clock, BusinessDate } from '../../src/dates.ts';
import { startBoss } from '../../jobs/boss.ts';
import { ESCALATION_QUEUES, enqueueReprocess, workEscalation } from '../../jobs/escalation.ts';
import type { Fen } from '../../src/money.ts';

const D = '2026-11-24' as BusinessDate;
let offset = 0;
const clock: Clock = { now: () => new Date(Date.parse('2026-11-24T10:00:00+08:00') + offset) };
const advance = (seconds: number) => { offset += seconds * 1000; };
let w: World;
let deps: EscalationDeps;
const yuan = (n: number) => (n * 100) as Fen;

test.before(async () => {
  w = await world('escalation', { clock, customers: 40, timeoutMs: 1500 });
  const rs = await loadRuleSet(path.resolve('rules'));
  const c: CollectionDeps = { db: w.t.db, channel: w.deps.channel, clock, collectionRules: rs.collection!, notifications: rs.notifications!, ruleSetHash: rs.hash, lender: LENDER };
  deps = { disburse: w.deps, collection: c, rules: rs.escalation!, ruleSetHash: rs.hash };
});
test.after(async () => {
  await w.close();
});
test.after.each(async () => {
  await w.admin('/admin/faults', { seed: 0, rules: [] });
  assert.equal(await w.ledgerOk(), { balanced: true, agrees: true }, 'trial balance zero and the lender account agrees with the platform');
});

const faults = (seed: number, rules: unknown[]) => w.admin('/admin/faults', { seed, rules });
const apply = (customer: string, amount: number, rail: 'balance' | 'card', requestId: string) =>
  applyForLoan(withHook(deps), { customerId: customer, amount: yuan(amount), rail, requestId });

async function platformRequests(): Promise<any[]> {
  return (await w.adminGet('/admin/requests?limit=10000')).requests;
}
async function movementsOf(requestId: string): Promise<any[]> {
  return (await w.adminGet(`/admin/movements?requestId=${encodeURIComponent(requestId)}&limit=100`)).movements;
}
async function payoutMovements(loanId: string): Promise<any[]> {
  const all = (await w.adminGet('/admin/movements?limit=10000')).movements as any[];
  return all.filter((m) => m.kind === 'payout' && String(m.requestId).startsWith(`disburse:${loanId}:payout`));
}
async function steps(orderId: number) {
  return (await escalationsOf(w.t.db, orderId)).map((e) => [e.step, e.status]);
}

test('rules: each default rule decides as the business said (compiled = json-rules-engine)', async () => {
  const { compileEscalationRules } = await import('../../src/escalation/evaluate.ts');
  const { evaluateEscalationWithEngine } = await import('../../src/escalation/engine.ts');
  const rules = deps.rules;
  const ev = compileEscalationRules(rules);
  const base = { orderKind: 'payout', family: 'disbursement', purpose: 'disburse.payout', errorCode: 'CHANNEL_UNAVAILABLE', errorKnown: true, errorClass: 'transient', channel: 'card',
    channelResends: 0, systemResends: 0, reissues: 0, minutesSinceCreated: 1, amount: yuan(1000), businessHours: true, hasAlternative: true };
  const cases: [Record<string, unknown>, string, boolean?][] = [
    [{}, 'channel_resend', true],
    [{ amount: yuan(200_000) }, 'channel_resend', false],
    [{ channelResends: 1 }, 'system_resend'],
    [{ channelResends: 1, systemResends: 2 }, 'manual_review'],
    [{ errorCode: 'INSUFFICIENT_FUNDS', errorClass: 'funds', family: 'collection', orderKind: 'debit', purpose: 'collect.batch' }, 'give_up'],
    [{ errorCode: 'CARD_INVALID', errorClass: 'instrument' }, 'void_and_reissue'],
    [{ errorCode: 'CARD_INVALID', errorClass: 'instrument', hasAlternative: false }, 'manual_review'],
    [{ errorCode: 'CARD_INVALID', errorClass: 'instrument', reissues: 1 }, 'manual_review'],
    [{ errorCode: 'SOMETHING_NEW', errorKnown: false, errorClass: 'unknown' }, 'manual_review'],
  ];
  for (const [over, step, automatic] of cases) {
    const f = { ...base, ...over } as never;
    const d = ev(f);
    assert.is(d.step, step, JSON.stringify(over));
    if (automatic !== undefined) assert.is(d.automatic, automatic);
    assert.equal(await evaluateEscalationWithEngine(rules, f), d);
  }
  // differential over random facts
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const codes = [...Object.keys(rules.errorCodes), 'WEIRD'];
  for (let i = 0; i < 300; i++) {
    const code = codes[rnd(codes.length)]!;
    const f = { ...base, errorCode: code, errorKnown: code !== 'WEIRD', errorClass: rules.errorCodes[code]?.class ?? 'unknown', family: rnd(2) ? 'collection' : 'disbursement',
      channelResends: rnd(3), systemResends: rnd(3), reissues: rnd(2), amount: yuan(rnd(300_000)), hasAlternative: rnd(2) === 1, businessHours: rnd(2) === 1 } as never;
    assert.equal(await evaluateEscalationWithEngine(rules, f), ev(f));
  }
});

test('CHANNEL_UNAVAILABLE: level 1 (platform resend, automatic) then level 2 (new attempt after the backoff)', async () => {
  await faults(1, [{ op: 'collect', rate: 1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }]);
  const res = await apply('G1', 1_000, 'balance', 'esc-l12');
  assert.ok(res.ok);
  if (!res.ok) return;
  assert.is(res.loan.status, 'disbursing', 'waits for the backoff, not failed');
  const fund = (await ordersOfLoan(w.t.db, res.loan.id))[0]!;
  assert.equal(await steps(fund.id), [['channel_resend', 'done'], ['system_resend', 'scheduled']]);
  const req = (await platformRequests()).find((r) => r.requestId === `${fund.idempotencyKey}#1`);
  assert.is(req.status, 'failed');
  await faults(0, []);
  await runEscalationTick(deps);
  assert.is((await getLoan(w.t.db, res.loan.id))?.status, 'disbursing', 'backoff not over yet');
  advance(61);
  await runEscalationTick(deps);
  assert.is((await getLoan(w.t.db, res.loan.id))?.status, 'disbursed');
  const atts = await attemptsOf(w.t.db, fund.id);
  assert.equal(atts.map((a) => [a.attemptNo, a.status]), [[1, 'failed'], [2, 'succeeded']]);
  assert.is((await movementsOf(`${fund.idempotencyKey}#1`)).length, 0);
  assert.is((await movementsOf(`${fund.idempotencyKey}#2`)).length, 1);
});

test('level 1 needing an operator: queued with an alert, confirmed and audited, resent under the same request id', async () => {
  await faults(2, [{ op: 'payout', rate: 1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }]);
  const res = await apply('G2', 150_000, 'balance', 'esc-l1-op');
  assert.ok(res.ok && res.loan.status === 'disbursing');
  if (!res.ok) return;
  const payout = (await ordersOfLoan(w.t.db, res.loan.id)).find((o) => o.purpose === 'disburse.payout')!;
  const q = await operatorQueue(w.t.db);
  const item = q.items.find((i) => i.orderId === payout.id)!;
  assert.is(item.proposedStep, 'channel_resend');
  assert.ok(item.alerts.length > 0, 'an alert goes with it');
  await faults(0, []);
  const r = await confirmEscalation(deps, { orderId: payout.id, by: 'alice' });
  assert.ok(r.done, r.message);
  assert.is((await getLoan(w.t.db, res.loan.id))?.status, 'disbursed');
  assert.equal((await attemptsOf(w.t.db, payout.id)).map((a) => [a.attemptNo, a.status]), [[1, 'succeeded']], 'the same request, no new attempt');
  const req = (await platformRequests()).find((x) => x.requestId === `${payout.idempotencyKey}#1`);
  assert.is(req.status, 'succeeded');
  assert.is((await payoutMovements(res.loan.id)).length, 1);
  const acts = await sql<{ operator: string; action: string }>`select operator, action from operator_actions where order_id = ${payout.id}`.execute(w.t.db);
  assert.equal(acts.rows, [{ operator: 'alice', action: 'confirm' }]);
  assert.is((await operatorQueue(w.t.db)).items.filter((i) => i.orderId === payout.id).length, 0);
  const tl = await orderTimeline(w.t.db, payout.id);
  const kinds = new Set(tl!.events.map((e) => e.kind));
  for (const k of ['decision', 'loan', 'order', 'attempt', 'outcome', 'escalation', 'operator', 'journal']) assert.ok(kinds.has(k as never), `timeline has ${k}`);
});

test('CARD_INVALID: level 3 voids the payout once the platform says failed and reissues onto the account: one payout on the platform', async () => {
  await w.admin('/admin/accounts', { cards: [{ id: 'G3-K1', customerId: 'G3', last4: '9651', balance: 0, valid: false }] });
  const res = await apply('G3', 2_000, 'card', 'esc-l3');
  assert.ok(res.ok);
  if (!res.ok) return;
  assert.is(res.loan.status, 'disbursed');
  const payouts = (await ordersOfLoan(w.t.db, res.loan.id)).filter((o) => o.purpose === 'disburse.payout');
  assert.equal(payouts.map((p) => [p.status, p.destinationRef]), [['voided', 'card:G3-K1'], ['succeeded', 'account:G3-A']]);
  assert.is(payouts[1]!.parentOrderId, payouts[0]!.id);
  assert.is(payouts[1]!.idempotencyKey, `${payouts[0]!.idempotencyKey}:r1`);
  assert.equal(await steps(payouts[0]!.id), [['void_and_reissue', 'done']]);
  const moves = await payoutMovements(res.loan.id);
  assert.is(moves.length, 1, 'never two successful payouts');
  assert.is(moves[0].toAccount, 'G3-A');
});

test('CARD_INVALID with nowhere else to go (the lender funding card): manual review; rejected: the loan fails, audited', async () => {
  await faults(3, [{ op: 'collect', rate: 1, kind: 'fail', code: 'CARD_INVALID' }]);
  const res = await apply('G4', 1_000, 'balance', 'esc-card-manual');
  assert.ok(res.ok && res.loan.status === 'disbursing');
  if (!res.ok) return;
  const fund = (await ordersOfLoan(w.t.db, res.loan.id))[0]!;
  assert.equal(await steps(fund.id), [['manual_review', 'awaiting_operator']]);
  assert.ok((await openAlerts(w.t.db, fund.id)).some((a) => a.kind === 'manual_review'));
  await rejectEscalation(deps, { orderId: fund.id, by: 'bob', reason: 'funding card replaced; new loan will follow' });
  assert.is((await getLoan(w.t.db, res.loan.id))?.status, 'failed');
  assert.is((await openAlerts(w.t.db, fund.id)).length, 0);
});

test('INSUFFICIENT_FUNDS on a collection debit: no resend, back to the collection plan (hold)', async () => {
  const res = await applyForLoan(withHook(deps), { customerId: 'G5', amount: yuan(100), rail: 'balance', requestId: 'esc-if', schedule: [{ no: 1, dueDate: D, principal: yuan(100), interest: 0 as Fen }] });
  assert.ok(res.ok && res.loan.status === 'disbursed');
  if (!res.ok) return;
  await faults(4, [{ op: 'debit', rate: 1, kind: 'fail', code: 'INSUFFICIENT_FUNDS' }]);
  await collectBorrowers(deps.collection!, { ids: ['G5'] }, { date: D, runId: null, keyPrefix: 'collect', purpose: 'collect.batch', openHolds: true });
  await faults(0, []);
  await runEscalationTick(deps);
  const debits = (await ordersOfLoan(w.t.db, res.loan.id)).filter((o) => o.kind === 'debit');
  assert.ok(debits.length > 0);
  for (const d of debits) {
    assert.equal(await steps(d.id), [['give_up', 'done']]);
    assert.is((await attemptsOf(w.t.db, d.id)).length, 1, 'not resent');
  }
  const hold = await w.t.db.selectFrom('holds').selectAll().where('customer_id', '=', 'G5').where('status', '=', 'open').executeTakeFirst();
  assert.ok(hold && hold.amount_fen > 0);
  const r = await reprocessOrder(deps, debits[0]!.id);
  assert.is(r.action, 'escalated');
});

test('a payout timeout the platform applied is resolved by query on the ladder, with no second effect', async () => {
  await faults(5, [{ op: 'payout', rate: 1, kind: 'timeout', applied: true, ms: 50 }]);
  const res = await apply('G6', 3_000, 'balance', 'esc-timeout');
  assert.ok(res.ok && res.loan.status === 'disbursing');
  if (!res.ok) return;
  await faults(0, []);
  const payout = (await ordersOfLoan(w.t.db, res.loan.id)).find((o) => o.purpose === 'disburse.payout')!;
  assert.is(payout.status, 'unknown');
  await runEscalationTick(deps);
  assert.is((await getLoan(w.t.db, res.loan.id))?.status, 'disbursing', 'the first rung is 30 s after submission');
  advance(31);
  await runEscalationTick(deps);
  assert.is((await getLoan(w.t.db, res.loan.id))?.status, 'disbursed');
  assert.is((await attemptsOf(w.t.db, payout.id)).length, 1);
  assert.is((await payoutMovements(res.loan.id)).length, 1);
  assert.is((await escalationsOf(w.t.db, payout.id)).length, 0, 'not a failure: nothing escalated');
  const r = await reprocessOrder(deps, payout.id);
  assert.equal([r.action, r.message], ['none', `order ${payout.id} is settled (succeeded): nothing to reprocess`]);
});

test('an unknown the ladder cannot resolve raises an alert and waits for an operator; never resent under a new id', async () => {
  await faults(6, [{ op: 'payout', rate: 1, kind: 'timeout', applied: false, ms: 20 }]);
  const res = await apply('G7', 1_000, 'balance', 'esc-unresolved');
  assert.ok(res.ok && res.loan.status === 'disbursing');
  if (!res.ok) return;
  const payout = (await ordersOfLoan(w.t.db, res.loan.id)).find((o) => o.purpose === 'disburse.payout')!;
  for (let i = 0; i < 6; i++) {
    advance(6 * 3600);
    await runEscalationTick(deps, { orderIds: [payout.id] });
  }
  const q = await operatorQueue(w.t.db);
  const item = q.items.find((i) => i.orderId === payout.id);
  assert.ok(item, 'in the operator queue');
  assert.ok(item!.alerts.some((a) => a.kind === 'unresolved_unknown'));
  assert.equal((await attemptsOf(w.t.db, payout.id)).map((a) => a.requestId), [`${payout.idempotencyKey}#1`], 'only the same request id');
  let refused = false;
  await rejectEscalation(deps, { orderId: payout.id, by: 'carol', reason: 'x' }).catch(() => { refused = true; });
  assert.ok(refused, 'an unknown outcome cannot be given up');
  await faults(0, []);
  const r = await confirmEscalation(deps, { orderId: payout.id, by: 'carol' });
  assert.ok(r.done, r.message);
  await runEscalationTick(deps);
  assert.is((await getLoan(w.t.db, res.loan.id))?.status, 'disbursed');
  assert.is((await payoutMovements(res.loan.id)).length, 1);
});

test('randomized: seeded fault mixes end every order final or in the operator queue with an alert; platform and lendpay agree', async () => {
  const t0 = Date.now();
  let customer = 10;
  for (let seed = 1; seed <= 20; seed++) {
    await faults(seed, [
      { op: '*', rate: 0.15, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' },
      { op: 'payout', rate: 0.1, kind: 'fail', code: 'CARD_INVALID' },
      { op: '*', rate: 0.1, kind: 'timeout', applied: seed % 2 === 0, ms: 20 },
      { op: 'query', rate: 0.1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' },
    ]);
    const loans: string[] = [];
    for (let k = 0; k < 3; k++) {
      const g = `G${10 + ((customer++) % 30)}`;
      const res = await apply(g, 100 + seed * 10 + k, k === 1 ? 'card' : 'balance', `rnd-${seed}-${k}`);
      assert.ok(res.ok, JSON.stringify(res));
      if (res.ok) loans.push(res.loan.id);
    }
    for (let i = 0; i < 4; i++) {
      advance(3600);
      await runEscalationTick(deps);
    }
  }
  await faults(0, []);
  for (let i = 0; i < 8; i++) {
    advance(6 * 3600);
    await runEscalationTick(deps);
  }
  const queue = await operatorQueue(w.t.db);
  const queued = new Set(queue.items.filter((i) => i.alerts.length > 0).map((i) => i.orderId));
  const orders = await w.t.db.selectFrom('orders').selectAll().execute();
  for (const o of orders) {
    const final = o.status === 'succeeded' || o.status === 'failed' || o.status === 'voided';
    assert.ok(final || queued.has(o.id), `order ${o.id} ${o.idempotency_key} is ${o.status} and not in the operator queue`);
    if (o.status === 'failed') {
      const last = (await escalationsOf(w.t.db, o.id)).at(-1);
      const loan = o.loan_id ? await getLoan(w.t.db, o.loan_id) : null;
      assert.ok(!last || last.status !== 'scheduled' || queued.has(o.id) || loan?.status !== 'disbursing', `order ${o.id} failed with a step still scheduled`);
    }
  }
  // the platform and lendpay agree on every request
  const attempts = new Map((await w.t.db.selectFrom('order_attempts').selectAll().execute()).map((a) => [a.request_id, a]));
  for (const r of await platformRequests()) {
    const a = attempts.get(r.requestId);
    if (!a) continue; // the sandbox's own requests from other tests (withdrawals, admin)
    if (r.status === 'succeeded') assert.is(a.status, 'succeeded', `${r.requestId}: platform succeeded, lendpay ${a.status}`);
    if (r.status === 'failed') assert.ok(a.status === 'failed' || queued.has(a.order_id), `${r.requestId}: platform failed, lendpay ${a.status}`);
  }
  for (const a of attempts.values()) {
    if (a.status === 'succeeded') assert.is((await movementsOf(a.request_id)).length, 1, `${a.request_id} moved money once`);
  }
  // never two payouts for one loan
  const all = (await w.adminGet('/admin/movements?limit=10000')).movements as any[];
  const perLoan = new Map<string, number>();
  for (const m of all.filter((x) => x.kind === 'payout')) {
    const loan = String(m.requestId).split(':')[1]!;
    perLoan.set(loan, (perLoan.get(loan) ?? 0) + 1);
  }
  for (const [loan, n] of perLoan) assert.is(n, 1, `loan ${loan} paid out ${n} times`);
  assert.ok(Date.now() - t0 < 120_000, 'fast enough');
});

test('reprocess through pg-boss: the queue wakes its workers by NOTIFY, a job reprocesses its order, and one that keeps failing is dead-lettered', async () => {
  const boss = await startBoss(w.t.url);
  try {
    await workEscalation(boss, deps);
    assert.is((await boss.getQueue(ESCALATION_QUEUES.reprocess))?.notify, true, 'reprocess jobs NOTIFY the workers instead of waiting for a poll');
    const settled = await w.t.db.selectFrom('orders').select('id').where('status', '=', 'succeeded').orderBy('id').executeTakeFirstOrThrow();
    const missing = 9_999_999;
    assert.is(await enqueueReprocess(boss, [settled.id, missing]), 2);
    const state = async (orderId: number) => (await sql<{ state: string; output: any }>`
      select state, output from pgboss.job where name = ${ESCALATION_QUEUES.reprocess} and data->>'orderId' = ${String(orderId)} order by created_on desc limit 1`.execute(w.t.db)).rows[0];
    for (let i = 0; i < 300 && (await state(settled.id))?.state !== 'completed'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.is((await state(settled.id))?.state, 'completed');
    assert.match(JSON.stringify((await state(settled.id))?.output), `order ${settled.id} is settled (succeeded): nothing to reprocess`, 'a settled order: nothing to do, and the job says so');
    // the retries (RETRY_LIMIT) of the job for an order that does not exist end in the dead letter
    for (let i = 0; i < 300 && (await state(missing))?.state !== 'failed'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.is((await state(missing))?.state, 'failed');
    const dead = (await sql<{ payload: unknown; error: string }>`select payload, error from dead_letters where queue = ${ESCALATION_QUEUES.reprocess}`.execute(w.t.db)).rows;
    assert.is(dead.length, 1);
    assert.equal(dead[0]!.payload, { orderId: missing });
    assert.match(dead[0]!.error, `no order ${missing}`);
  } finally {
    await boss.stop({ graceful: false, close: true } as never);
  }
});

test.run();
