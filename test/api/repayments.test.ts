// POST /loans/{id}/repayments and the operator/alert gauges of /metrics, over HTTP
// against the real sandbox.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { world, LENDER, type World } from '../disbursement/setup.ts';
import { startApi, type ApiServer } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import { systemClock } from '../../src/dates.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import type { CollectionDeps } from '../../src/collection/service.ts';
import type { Fen } from '../../src/money.ts';

const TOKEN = 'repayments-test-token-0123456789';
const READ = 'repayments-read-token-0123456789';
let w: World;
let api: ApiServer;
let loanId = '';

test.before(async () => {
  w = await world('api_repay');
  const rs = await loadRuleSet(path.resolve('rules'));
  const c: CollectionDeps = { db: w.t.db, channel: w.deps.channel, clock: systemClock, collectionRules: rs.collection!, notifications: rs.notifications!, ruleSetHash: rs.hash, lender: LENDER };
  const res = await applyForLoan(w.deps, { customerId: 'G1', amount: 100_000 as Fen, rail: 'balance', requestId: 'api-repay-loan' });
  assert.ok(res.ok);
  loanId = res.ok ? res.loan.id : '';
  await w.admin('/admin/accounts', { cards: [{ id: 'G1-K1', customerId: 'G1', bank: 'CMB', last4: '9651', balance: 500_000 }] });
  api = await startApi({
    db: w.t.db, log: makeLogger('silent'), clock: systemClock, host: '127.0.0.1', port: 0, apiToken: TOKEN, tokens: [{ name: 'reader', role: 'read', token: READ }], stuckAfterMinutes: 10,
    disburseDeps: async () => w.deps, collectionDeps: async () => c,
  });
});
test.after(async () => {
  await api.close();
  await w.close();
});

const post = (route: string, body: unknown, key: string | null, token: string | null = TOKEN) => fetch(`${api.url}${route}`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});

test('a card repayment is collected once; its key replays; a reused key with another body is 409', async () => {
  const first = await post(`/loans/${loanId}/repayments`, { cardId: 'G1-K1', amount: '100.00' }, 'rp-1');
  assert.is(first.status, 201);
  const body = (await first.json()) as any;
  assert.is(body.order.status, 'succeeded');
  assert.is(body.order.amount, '100.00');
  const replay = await post(`/loans/${loanId}/repayments`, { cardId: 'G1-K1', amount: '100.00' }, 'rp-1');
  assert.is(replay.status, 201, 'the first response, replayed');
  assert.equal(((await replay.json()) as any).order.id, body.order.id);
  const reused = await post(`/loans/${loanId}/repayments`, { cardId: 'G1-K1', amount: '200.00' }, 'rp-1');
  assert.is(reused.status, 409);
  const collected = await w.t.db.selectFrom('orders').select('amount_fen').where('purpose', '=', 'repay.card').execute();
  assert.equal(collected.map((o) => o.amount_fen), [10_000]);
  assert.equal(await w.ledgerOk(), { balanced: true, agrees: true });
});

test('a repayment above what is owed is refused (422); bad bodies name the field; no token is 401', async () => {
  const over = await post(`/loans/${loanId}/repayments`, { cardId: 'G1-K1', amount: '9999.00' }, 'rp-2');
  assert.is(over.status, 422);
  assert.is(((await over.json()) as any).error, 'OVERPAYMENT');
  const bad = await post(`/loans/${loanId}/repayments`, { cardId: 'G1-K1', amount: '1.234' }, 'rp-3');
  assert.is(bad.status, 400);
  assert.match(JSON.stringify(await bad.json()), /body\.amount/);
  assert.is((await post(`/loans/${loanId}/repayments`, { cardId: 'G1-K1', amount: '1.00' }, 'rp-4', null)).status, 401);
  assert.is((await post('/loans/NOPE/repayments', { cardId: 'G1-K1', amount: '1.00' }, 'rp-5')).status, 404);
});

test('/metrics reports the operator queue and open alerts', async () => {
  await w.t.db.insertInto('alerts' as never).values({ kind: 'order_stuck', message: 'test', rule: 'order-stuck', subject: 'x', severity: 'critical' } as never).execute();
  const text = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${READ}` } })).text();
  assert.match(text, /lendpay_operator_queue_size 0/);
  assert.match(text, /lendpay_alerts_open\{rule="order-stuck",severity="critical"\} 1/);
});

test.run();
