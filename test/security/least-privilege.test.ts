// Issue 15, "Least privilege": each item reproduced and fixed, with a regression test
// named after it. Against a real server over a real socket, real Postgres and the
// real sandbox: no data without a token, roles and tokens as the auth contract says,
// operators' actions recorded under the token's name, the dashboard's headers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { world, type World } from '../disbursement/setup.ts';
import { startApi, type ApiServer } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import { loadConfig } from '../../src/config.ts';
import { systemClock } from '../../src/dates.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { withHook, type EscalationDeps } from '../../src/escalation/service.ts';
import { ordersOfLoan } from '../../db/orders.repository.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import type { Fen } from '../../src/money.ts';

const TOKENS = {
  read: 'lp-read-token-0123456789abcdef',
  alice: 'lp-alice-token-0123456789abcdef',
  biz: 'lp-biz-token-0123456789abcdef',
};
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let w: World;
let api: ApiServer;
let esc: EscalationDeps;
let queuedOrder = 0;

/** A payout that failed above the automatic-resend amount: its escalation waits for an operator. */
async function queueForOperator(customer: string, requestId: string): Promise<number> {
  await w.admin('/admin/faults', { seed: 7, rules: [{ op: 'payout', rate: 1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }] });
  const queued = await applyForLoan(withHook(esc), { customerId: customer, amount: 20_000_000 as Fen, rail: 'balance', requestId });
  await w.admin('/admin/faults', { seed: 0, rules: [] });
  assert.ok(queued.ok && queued.loan.status === 'disbursing', JSON.stringify(queued));
  return (await ordersOfLoan(w.t.db, queued.ok ? queued.loan.id : '')).find((o) => o.kind === 'payout')!.id;
}

test.before(async () => {
  w = await world('least_priv');
  const rs = await loadRuleSet(path.resolve('rules'));
  esc = { disburse: w.deps, collection: null, rules: rs.escalation!, ruleSetHash: rs.hash };
  queuedOrder = await queueForOperator('G2', 'lp-queued');
  api = await startApi({
    db: w.t.db, log: makeLogger('silent'), clock: systemClock, host: '127.0.0.1', port: 0, stuckAfterMinutes: 10,
    tokens: [
      { name: 'dash-reader', role: 'read', token: TOKENS.read },
      { name: 'ops-alice', role: 'operator', token: TOKENS.alice },
      { name: 'loan-system', role: 'write', token: TOKENS.biz },
    ],
    disburseDeps: async () => w.deps, escalationDeps: async () => esc,
  });
});
test.after(async () => {
  await api?.close();
  await w?.close();
});

const call = (method: string, route: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) => fetch(`${api.url}${route}`, {
  method,
  headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

test('customer data is readable without a token (regression): every data route answers 401; only /healthz, /openapi.json and the dashboard shell are public, /metrics only with LENDPAY_METRICS_PUBLIC=1', async () => {
  // what the issue reproduced: the credit limit, the decision, the card last-4s and the loans for anyone
  for (const route of ['/customers/G1', '/customers/G1/outflow', '/dashboard/summary', '/ops/queue', '/metrics', '/loans/L1', `/orders/${queuedOrder}`]) {
    const r = await call('GET', route, null);
    assert.is(r.status, 401, `${route} without a token`);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, route);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/, route);
    const body = (await r.json()) as Record<string, unknown>;
    assert.is(body.error, 'UNAUTHORIZED');
    assert.is(body.status, 401);
    assert.not.ok(JSON.stringify(body).includes('G1-K1'), 'nothing of the customer in the refusal');
  }
  // every route the server has, by the table the server itself keeps
  const open = api.app.routeAccess.filter((r) => r.role === null && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`).sort();
  // the dashboard's own static files (script, styles, the chart library) are public like its shell: they hold no data
  const assets = open.filter((r) => /^GET \/dashboard\/[A-Za-z0-9_./-]+\.(js|css)$/.test(r));
  assert.ok(assets.length > 0, 'the dashboard has static assets');
  assert.equal(open.filter((r) => !assets.includes(r)), ['GET /', 'GET /healthz', 'GET /openapi.json'], 'the public routes, besides the dashboard\'s static files');
  for (const a of assets) {
    const r = await call('GET', a.slice(4), null);
    assert.is(r.status, 200, a);
    assert.not.match(r.headers.get('content-type') ?? '', /json/, `${a} is a static file, not data`);
  }
  for (const r of api.app.routeAccess) {
    if (r.role === null || r.method === 'HEAD') continue;
    const url = r.url.replace(/:[A-Za-z]+/g, 'G1');
    const res = await call(r.method, url, null, r.method === 'GET' ? undefined : {});
    assert.is(res.status, 401, `${r.method} ${r.url} without a token`);
  }
  // the public ones hold no data
  assert.is((await call('GET', '/healthz', null)).status, 200);
  assert.is((await call('GET', '/openapi.json', null)).status, 200);
  // /metrics is public only when the setting says so
  const metricsOpen = await startApi({
    db: w.t.db, log: makeLogger('silent'), clock: systemClock, host: '127.0.0.1', port: 0, stuckAfterMinutes: 10,
    tokens: [], metricsPublic: loadConfig({ LENDPAY_METRICS_PUBLIC: '1' }).metricsPublic, disburseDeps: async () => w.deps,
  });
  try {
    assert.is((await fetch(`${metricsOpen.url}/metrics`)).status, 200);
    assert.is((await fetch(`${metricsOpen.url}/customers/G1`)).status, 401, 'no tokens configured: still no data');
  } finally {
    await metricsOpen.close();
  }
});

test('roles: read sees data, operator also acts, write is the loan business system; unknown token 401, too weak a role 403, both problem+json', async () => {
  // read: customer, loan and order views, the queue; no action, no loan
  const c = await call('GET', '/customers/G1', TOKENS.read);
  assert.is(c.status, 200);
  assert.is((await call('GET', '/ops/queue', TOKENS.read)).status, 200);
  assert.is((await call('GET', '/dashboard/summary', TOKENS.read)).status, 200);
  assert.is((await call('GET', '/metrics', TOKENS.read)).status, 200);
  const denied = await call('POST', `/ops/orders/${queuedOrder}/confirm`, TOKENS.read, {});
  assert.is(denied.status, 403);
  assert.match(denied.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const d = (await denied.json()) as Record<string, unknown>;
  assert.is(d.error, 'FORBIDDEN');
  assert.match(String(d.message), /"dash-reader" has the role read; POST \/ops\/orders\/:id\/confirm needs operator/);
  assert.is((await call('POST', '/loans', TOKENS.read, { customerId: 'G1', amount: '10.00', rail: 'balance' }, { 'idempotency-key': 'lp-r1' })).status, 403);
  assert.is((await call('POST', '/eligibility/check', TOKENS.read, { customerId: 'G1' })).status, 403);
  // operator: everything read may, not the business system's writes
  assert.is((await call('GET', '/customers/G1', TOKENS.alice)).status, 200);
  assert.is((await call('POST', '/loans', TOKENS.alice, { customerId: 'G1', amount: '10.00', rail: 'balance' }, { 'idempotency-key': 'lp-o1' })).status, 403);
  // write: eligibility, loans, repayments, and reading loans and orders; not customers, not the queue, not actions
  const loan = await call('POST', '/loans', TOKENS.biz, { customerId: 'G1', amount: '10.00', rail: 'balance' }, { 'idempotency-key': 'lp-w1' });
  assert.is(loan.status, 201);
  const loanId = ((await loan.json()) as { loan: { id: string } }).loan.id;
  assert.is((await call('GET', `/loans/${loanId}`, TOKENS.biz)).status, 200);
  assert.is((await call('GET', `/orders/${queuedOrder}`, TOKENS.biz)).status, 200);
  assert.is((await call('GET', `/loans/${loanId}`, TOKENS.read)).status, 200);
  assert.is((await call('POST', '/eligibility/check', TOKENS.biz, { customerId: 'G1' })).status, 200);
  for (const [m, r] of [['GET', '/customers/G1'], ['GET', '/ops/queue'], ['GET', '/dashboard/summary'], ['POST', `/ops/orders/${queuedOrder}/reprocess`]] as const) {
    assert.is((await call(m, r, TOKENS.biz, m === 'POST' ? {} : undefined)).status, 403, `${m} ${r} with the write token`);
  }
  // tokens travel only in the Authorization header: never from the address
  for (const q of [`?token=${TOKENS.read}`, `?access_token=${TOKENS.read}`, `?authorization=Bearer%20${TOKENS.read}`]) {
    assert.is((await call('GET', `/customers/G1${q}`, null)).status, 401, q);
  }
  assert.is((await call('GET', '/customers/G1', 'lp-unknown-token-0123456789')).status, 401);
});

test('roles and tokens come from LENDPAY_TOKENS_FILE and the LENDPAY_*_TOKEN variables, checked; LENDPAY_API_TOKEN is a write token named api; no token value in any message', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-tokens-'));
  const file = (entries: unknown) => {
    const f = path.join(dir, `t${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(f, JSON.stringify(entries));
    return f;
  };
  const good = file([{ name: 'ops-alice', role: 'operator', token: 'alice-secret-0123456789' }, { name: 'dash', role: 'read', token: 'dash-secret-0123456789ab' }]);
  const c = loadConfig({ LENDPAY_TOKENS_FILE: good, LENDPAY_WRITE_TOKEN: 'write-secret-0123456789', LENDPAY_API_TOKEN: 'api-secret-0123456789ab' });
  assert.equal(c.apiTokens.map((t) => [t.name, t.role]), [['ops-alice', 'operator'], ['dash', 'read'], ['write', 'write'], ['api', 'write']]);
  assert.equal(loadConfig({ LENDPAY_READ_TOKEN: 'read-secret-0123456789ab', LENDPAY_OPERATOR_TOKEN: 'oper-secret-0123456789ab' }).apiTokens.map((t) => [t.name, t.role]), [['read', 'read'], ['operator', 'operator']]);
  const refused: [Record<string, string>, RegExp][] = [
    [{ LENDPAY_TOKENS_FILE: file([{ name: 'a', role: 'read', token: 'short' }]) }, /\[0\]\.token: expected at least 16 characters/],
    [{ LENDPAY_TOKENS_FILE: file([{ name: 'a', role: 'admin', token: 'long-enough-secret-0001' }]) }, /\[0\]\.role: expected one of read, operator, write/],
    [{ LENDPAY_TOKENS_FILE: file([{ name: ' ', role: 'read', token: 'long-enough-secret-0002' }]) }, /\[0\]\.name: expected 1-64 letters/],
    [{ LENDPAY_TOKENS_FILE: file([{ name: 'a', role: 'read', token: 'long-enough-secret-0003' }, { name: 'a', role: 'operator', token: 'long-enough-secret-0004' }]) }, /the name "a" is given twice/],
    [{ LENDPAY_TOKENS_FILE: file([{ name: 'a', role: 'read', token: 'long-enough-secret-0005' }, { name: 'b', role: 'operator', token: 'long-enough-secret-0005' }]) }, /the token of "b" is also another name's token/],
    [{ LENDPAY_TOKENS_FILE: file([{ name: 'a', role: 'read', token: 'long-enough-secret-0006', url: 'x' }]) }, /unknown key "url"/],
    [{ LENDPAY_TOKENS_FILE: file({ name: 'a' }) }, /expected a JSON array/],
    [{ LENDPAY_TOKENS_FILE: path.join(dir, 'missing.json') }, /cannot be read \(ENOENT\)/],
    [{ LENDPAY_TOKENS_FILE: file([{ name: 'read', role: 'read', token: 'long-enough-secret-0007' }]), LENDPAY_READ_TOKEN: 'long-enough-secret-0008' }, /the name "read" is given twice/],
    [{ LENDPAY_OPERATOR_TOKEN: 'short-secret' }, /LENDPAY_OPERATOR_TOKEN: expected at least 16 characters/],
  ];
  for (const [env, why] of refused) {
    const e = (() => { try { loadConfig(env); return null; } catch (x) { return x as Error; } })();
    assert.ok(e, JSON.stringify(env));
    assert.match(e!.message, why);
    assert.not.match(e!.message, /secret/, 'no token value in the message');
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an operator\'s actions are recorded under the token\'s name (regression: {"by": " "} was accepted and the audit row read " ")', async () => {
  const before = await w.t.db.selectFrom('operator_actions' as never).selectAll().execute();
  // the request, and any other `by`: refused naming the field, nothing recorded or done
  for (const body of [{ by: ' ' }, { by: 'mallory' }, { by: 'ops-alice', reason: 'x' }]) {
    const r = await call('POST', `/ops/orders/${queuedOrder}/confirm`, TOKENS.alice, body);
    assert.is(r.status, 400, JSON.stringify(body));
    const p = (await r.json()) as { errors: { path: string }[]; message: string };
    assert.equal(p.errors.map((e) => e.path), ['body.by']);
    assert.match(p.message, /the operator is the name of the token/);
  }
  const reject = await call('POST', `/ops/orders/${queuedOrder}/reject`, TOKENS.alice, { by: ' ', reason: 'no' });
  assert.is(reject.status, 400);
  assert.equal(await w.t.db.selectFrom('operator_actions' as never).selectAll().execute(), before, 'nothing recorded');
  // without `by`: done, and recorded as the token's name
  const ok = await call('POST', `/ops/orders/${queuedOrder}/confirm`, TOKENS.alice, { reason: 'platform back' });
  assert.is(ok.status, 200, await ok.clone().text());
  const done = (await ok.json()) as { by: string; done: boolean };
  assert.is(done.by, 'ops-alice');
  const rows = await w.t.db.selectFrom('operator_actions' as never).selectAll().execute() as { operator: string; action: string; order_id: number }[];
  assert.equal(rows.filter((r) => Number(r.order_id) === queuedOrder).map((r) => [r.operator, r.action]), [['ops-alice', 'confirm']]);
  // reprocessing is an operator action too, recorded the same way
  const again = await call('POST', `/ops/orders/${queuedOrder}/reprocess`, TOKENS.alice, {});
  assert.is(again.status, 200, await again.clone().text());
  assert.is(((await again.json()) as { by: string }).by, 'ops-alice');
  const after = await w.t.db.selectFrom('operator_actions' as never).selectAll().execute() as { operator: string; action: string; order_id: number }[];
  assert.equal(after.filter((r) => Number(r.order_id) === queuedOrder).map((r) => [r.operator, r.action]), [['ops-alice', 'confirm'], ['ops-alice', 'reprocess']]);
  // the database refuses a blank actor too, whatever the caller
  const blank = await w.t.db.insertInto('operator_actions' as never).values({ order_id: queuedOrder, operator: ' ', action: 'confirm' } as never).execute().then(() => null, (e) => e);
  assert.match(String(blank), /operator_actions_operator_named/);
  const blankAudit = await w.t.db.insertInto('audit_log' as never).values({ actor: '\t', action: 'hold.release', subject: 'customer:G1', reason: 'why' } as never).execute().then(() => null, (e) => e);
  assert.match(String(blankAudit), /audit_log_actor_named/);
});

test('dashboard headers (regression: the Content-Security-Policy allowed inline scripts and styles and had no frame-ancestors): the contract\'s CSP, nosniff and no-referrer on the dashboard and on every answer', async () => {
  for (const [route, token] of [['/', null], ['/dashboard/summary', TOKENS.read], ['/customers/G1', TOKENS.read], ['/customers/G1', null], ['/healthz', null], ['/no-such-route', null]] as const) {
    const r = await call('GET', route, token);
    assert.is(r.headers.get('content-security-policy'), CSP, `${route}: CSP`);
    assert.not.match(r.headers.get('content-security-policy') ?? '', /unsafe-inline|unsafe-eval/);
    assert.is(r.headers.get('x-content-type-options'), 'nosniff', route);
    assert.is(r.headers.get('referrer-policy'), 'no-referrer', route);
  }
  // data answers are not kept by shared caches
  assert.is((await call('GET', '/customers/G1', TOKENS.read)).headers.get('cache-control'), 'no-store');
});

test.run();
