// The HTTP API against real Postgres and the real sandbox: idempotency (replay, 409),
// validation (400 naming the field), the token (401), reads (role read), /openapi.json, /metrics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { world, type World } from '../disbursement/setup.ts';
import { buildApi, fieldPath } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import { systemClock } from '../../src/dates.ts';
import type { FastifyInstance } from 'fastify';

const TOKEN = 'test-token-0123456789abcdef';
const READ = 'test-read-token-0123456789abcdef';
let w: World;
let app: FastifyInstance;
const logLines: string[] = [];

test.before(async () => {
  w = await world('api');
  app = await buildApi({
    db: w.t.db, log: makeLogger('info', { write: (s: string) => { logLines.push(s); } }), clock: systemClock, host: '127.0.0.1', port: 0,
    apiToken: TOKEN, tokens: [{ name: 'dashboard', role: 'read', token: READ }], stuckAfterMinutes: 10, disburseDeps: async () => w.deps,
  });
  await app.ready();
});
test.after(async () => {
  await app.close();
  await w.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const reader = { authorization: `Bearer ${READ}` };
const get = (url: string) => app.inject({ url, headers: reader });
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: body as object, headers: { 'content-type': 'application/json', ...headers } });

test('fieldPath names the field a client must fix', () => {
  assert.is(fieldPath('body', '/amount', {}), 'body.amount');
  assert.is(fieldPath('body', '', { missingProperty: 'rail' }), 'body.rail');
  assert.is(fieldPath('headers', '', { missingProperty: 'idempotency-key' }), 'headers.idempotency-key');
});

test('POST /loans without a token or with a wrong one: 401, nothing written', async () => {
  const body = { customerId: 'G1', amount: '100.00', rail: 'balance' };
  let r = await post('/loans', body, { 'idempotency-key': 'k-noauth' });
  assert.is(r.statusCode, 401);
  assert.is(r.json().error, 'UNAUTHORIZED');
  r = await post('/loans', body, { 'idempotency-key': 'k-noauth', authorization: 'Bearer nope-nope-nope-nope' });
  assert.is(r.statusCode, 401);
  r = await post('/eligibility/check', { customerId: 'G1' });
  assert.is(r.statusCode, 401);
  const n = await w.t.db.selectFrom('loans').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.is(Number(n.n), 0);
});

test('POST /loans: bad bodies get 400 with the field path', async () => {
  const h = { ...auth, 'idempotency-key': 'k-bad' };
  let r = await post('/loans', { customerId: 'G1', amount: 100.5, rail: 'balance' }, h);
  assert.is(r.statusCode, 400);
  assert.is(r.json().errors[0].path, 'body.amount');
  r = await post('/loans', { customerId: 'G1', amount: '1.234', rail: 'balance' }, h);
  assert.is(r.json().errors[0].path, 'body.amount');
  r = await post('/loans', { customerId: 'G1', amount: '0.00', rail: 'balance' }, h);
  assert.is(r.statusCode, 400);
  assert.is(r.json().errors[0].path, 'body.amount');
  r = await post('/loans', { customerId: 'G1', amount: '10.00' }, h);
  assert.is(r.json().errors[0].path, 'body.rail');
  r = await post('/loans', { customerId: 'G1', amount: '10.00', rail: 'bitcoin' }, h);
  assert.is(r.json().errors[0].path, 'body.rail');
  r = await post('/loans', { customerId: 'G1', amount: '10.00', rail: 'balance', extra: 1 }, h);
  assert.is(r.json().errors[0].path, 'body.extra');
  r = await post('/loans', { customerId: 'G1', amount: '10.00', rail: 'balance' }, auth);
  assert.is(r.statusCode, 400);
  assert.is(r.json().errors[0].path, 'headers.idempotency-key');
  r = await post('/loans', { customerId: 'G1', amount: '10.00', rail: 'balance' }, { ...auth, 'idempotency-key': 'bad key with spaces' });
  assert.is(r.json().errors[0].path, 'headers.idempotency-key');
  // A 400 is not stored: the same key with a good body goes through later.
  const ok = await post('/loans', { customerId: 'G2', amount: '10.00', rail: 'balance' }, h);
  assert.is(ok.statusCode, 201, ok.body);
});

test('POST /loans: created once; a replay returns the first response; the same key with another body is 409', async () => {
  const h = { ...auth, 'idempotency-key': 'biz-req-1' };
  const body = { customerId: 'G1', amount: '1000.00', rail: 'balance' };
  const first = await post('/loans', body, h);
  assert.is(first.statusCode, 201, first.body);
  const loan = first.json().loan;
  assert.is(loan.status, 'disbursed');
  assert.is(loan.principal, '1000.00');
  assert.is(loan.requestId, 'biz-req-1');

  const again = await post('/loans', body, h);
  assert.is(again.statusCode, 201);
  assert.is(again.headers['idempotent-replayed'], 'true');
  assert.equal(again.json(), first.json());

  const other = await post('/loans', { ...body, amount: '2000.00' }, h);
  assert.is(other.statusCode, 409);
  assert.is(other.json().error, 'IDEMPOTENCY_KEY_REUSED');

  // Concurrent replays while the first may still run: one loan, one answer.
  const h2 = { ...auth, 'idempotency-key': 'biz-req-2' };
  const rs = await Promise.all(Array.from({ length: 5 }, () => post('/loans', { customerId: 'G3', amount: '500.00', rail: 'balance' }, h2)));
  const ids = new Set(rs.map((r) => r.json().loan?.id));
  assert.is(ids.size, 1, rs.map((r) => r.body).join('\n'));
  assert.ok(rs.every((r) => r.statusCode === 201));
  const n = await w.t.db.selectFrom('loans').select((eb) => eb.fn.countAll<number>().as('n')).where('request_id', '=', 'biz-req-2').executeTakeFirstOrThrow();
  assert.is(Number(n.n), 1);
  assert.equal(await w.ledgerOk(), { balanced: true, agrees: true });
});

test('POST /loans: a refusal is an answer too (422), and is replayed as such', async () => {
  const h = { ...auth, 'idempotency-key': 'biz-req-x1' };
  const r = await post('/loans', { customerId: 'X1', amount: '100.00', rail: 'balance' }, h);
  assert.is(r.statusCode, 422);
  assert.is(r.json().error, 'INELIGIBLE');
  const again = await post('/loans', { customerId: 'X1', amount: '100.00', rail: 'balance' }, h);
  assert.is(again.statusCode, 422);
  assert.is(again.headers['idempotent-replayed'], 'true');
  const nf = await post('/loans', { customerId: 'NOPE', amount: '100.00', rail: 'balance' }, { ...auth, 'idempotency-key': 'biz-req-nf' });
  assert.is(nf.statusCode, 404);
});

test('reads: eligibility, customer, outflow, loan, order timeline', async () => {
  const e = await post('/eligibility/check', { customerId: 'G1' }, auth);
  assert.is(e.statusCode, 200, e.body);
  assert.is(e.json().eligible, true);
  assert.is(e.json().outstanding, '1000.00');
  assert.is(e.json().available, '299000.00');
  assert.is((await post('/eligibility/check', { customerId: 'X1' }, auth)).json().eligible, false);
  assert.is((await post('/eligibility/check', { customerId: 'NOPE' }, auth)).statusCode, 404);
  assert.is((await post('/eligibility/check', {}, auth)).json().errors[0].path, 'body.customerId');

  const c = await get('/customers/G1');
  assert.is(c.statusCode, 200);
  assert.not.ok('name' in c.json(), 'no names in the API');
  assert.is(c.json().bankCards[0].last4, '9651');
  assert.is(c.json().loans.length, 1);
  assert.is((await get('/customers/NOPE')).statusCode, 404);

  const o = await get('/customers/G1/outflow');
  assert.equal(o.json(), { customerId: 'G1', allowed: true, reason: null, holds: [] });

  const loanId = c.json().loans[0].id;
  const l = await get(`/loans/${loanId}`);
  assert.is(l.statusCode, 200);
  const payout = l.json().orders.find((x: any) => x.kind === 'payout');
  assert.ok(payout);
  for (const ref of [String(payout.id), encodeURIComponent(payout.idempotencyKey)]) {
    const t = await get(`/orders/${ref}`);
    assert.is(t.statusCode, 200, t.body);
    const j = t.json();
    assert.is(j.order.status, 'succeeded');
    assert.is(j.attempts[0].requestId, `${payout.idempotencyKey}#1`);
    // the decision and the loan behind the order open its timeline (issue 5: decision and rule hash first)
    assert.equal(j.timeline.map((x: any) => x.kind).filter((k: string) => k !== 'state'), ['decision', 'loan', 'created', 'attempt.submitted', 'attempt.resolved', 'journal']);
    assert.ok(j.journal[0].lines.length >= 2);
  }
  assert.is((await get('/orders/999999')).statusCode, 404);
  assert.is((await get('/loans/L0')).statusCode, 404);
});

test('/openapi.json is generated from the route schemas', async () => {
  const r = await app.inject({ url: '/openapi.json' });
  assert.is(r.statusCode, 200);
  const doc = r.json();
  assert.is(doc.openapi, '3.0.3');
  for (const p of ['/loans', '/loans/{id}', '/orders/{id}', '/customers/{id}', '/customers/{id}/outflow', '/eligibility/check']) assert.ok(doc.paths[p], p);
  const loanPost = doc.paths['/loans'].post;
  assert.ok(loanPost.parameters.some((p: any) => p.in === 'header' && p.name === 'idempotency-key' && p.required));
  assert.ok(loanPost.requestBody.content['application/json'].schema.properties.amount);
  assert.equal(loanPost.security, [{ bearer: [] }]);
  assert.ok(doc.paths['/metrics'].get.responses['200'].content['text/plain'], '/metrics is documented as text');
});

test('/healthz and /metrics', async () => {
  assert.equal((await app.inject({ url: '/healthz' })).json(), { ok: true });
  const m = await get('/metrics');
  assert.is(m.statusCode, 200);
  assert.match(m.headers['content-type'] as string, /text\/plain/);
  const text = m.body;
  assert.match(text, /lendpay_orders\{kind="payout",state="succeeded"\} \d+/);
  assert.match(text, /lendpay_order_attempts\{outcome="succeeded",error_code=""\} \d+/);
  assert.match(text, /lendpay_holds_open 0/);
  assert.match(text, /lendpay_operator_queue_size 0/);
  assert.match(text, /lendpay_orders_stuck 0/);
});

test('logs are JSON and carry no token, name or body', async () => {
  await post('/loans', { customerId: 'G4', amount: '10.00', rail: 'balance' }, { ...auth, 'idempotency-key': 'biz-log-1' });
  assert.ok(logLines.length > 0);
  for (const line of logLines) {
    JSON.parse(line);
    assert.not.ok(line.includes(TOKEN), 'token in logs');
    assert.not.ok(line.includes('"amount"'), 'body in logs');
  }
});

test.run();
