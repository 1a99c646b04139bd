// The API's guards: every route declares who may call it (a route that does not cannot
// even be registered), tokens are compared in constant time, requests are rate
// limited per token / per address (429 with Retry-After), bodies are size limited (413).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApi, type ApiDeps } from '../../src/api/server.ts';
import { makeAuthenticator, mayCall } from '../../src/api/auth.ts';
import { makeLogger } from '../../src/api/log.ts';
import { systemClock } from '../../src/dates.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

const TOKEN = 'sec-token-0123456789abcdef';
const READ = 'sec-read-token-0123456789abcdef';
let t: TestDatabase;
const apps: FastifyInstance[] = [];

async function app(extra: Partial<ApiDeps> = {}): Promise<FastifyInstance> {
  const a = await buildApi({
    db: t.db, log: makeLogger('silent'), clock: systemClock, host: '127.0.0.1', port: 0, apiToken: TOKEN,
    tokens: [{ name: 'reader', role: 'read', token: READ }], stuckAfterMinutes: 10,
    disburseDeps: async () => { throw new Error('not in this test'); }, ...extra,
  });
  await a.ready();
  apps.push(a);
  return a;
}

test.before(async () => {
  t = await freshDatabase('sec_api');
});
test.after(async () => {
  for (const a of apps) await a.close();
  await t.drop();
});

test('every write route in /openapi.json refuses a request without the token (401)', async () => {
  const a = await app();
  const spec = (await a.inject({ method: 'GET', url: '/openapi.json' })).json();
  const writes: [string, string][] = [];
  for (const [p, ops] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
    for (const m of Object.keys(ops)) if (!['get', 'head', 'options'].includes(m)) writes.push([m.toUpperCase(), p.replace(/\{[^}]+\}/g, 'X1')]);
  }
  assert.ok(writes.length >= 6, JSON.stringify(writes));
  for (const [method, url] of writes) {
    for (const headers of [{}, { authorization: 'Bearer wrong-wrong-wrong-wrong' }]) {
      const r = await a.inject({ method: method as 'POST', url, payload: {}, headers: { ...headers, 'idempotency-key': 'k1' } });
      assert.is(r.statusCode, 401, `${method} ${url}: ${r.body}`);
    }
  }
});

test('a route without config.role (or config.public) cannot be registered: the server fails closed', async () => {
  for (const [method, url] of [['post', '/oops'], ['get', '/oops-read']] as const) {
    const err = await app({ extensions: { routes: [(a) => { a[method](url, async () => ({ ok: true })); }] } }).then(() => null, (e) => e);
    assert.ok(err instanceof Error && new RegExp(`${url}: a route must declare config\\.role`).test(err.message), String(err));
  }
  const both = await app({ extensions: { routes: [(a) => { a.get('/both', { config: { public: true, role: 'read' } }, async () => ({})); }] } }).then(() => null, (e) => e);
  assert.match(String(both), /either public or has a role/);
  const publicWrite = await app({ extensions: { routes: [(a) => { a.post('/open-write', { config: { public: true } }, async () => ({})); }] } }).then(() => null, (e) => e);
  assert.match(String(publicWrite), /cannot be public/);
  const ok = await app({ extensions: { routes: [(a) => { a.post('/fine', { config: { role: 'write' } }, async () => ({ ok: true })); }] } });
  assert.is((await ok.inject({ method: 'POST', url: '/fine', payload: {} })).statusCode, 401);
  assert.is((await ok.inject({ method: 'POST', url: '/fine', payload: {}, headers: { authorization: `Bearer ${READ}` } })).statusCode, 403);
  assert.is((await ok.inject({ method: 'POST', url: '/fine', payload: {}, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200);
});

test('tokens are compared in constant time (hashes through timingSafeEqual, every token tried), exact match only', () => {
  const auth = makeAuthenticator([{ name: 'a', role: 'read', token: TOKEN }, { name: 'b', role: 'write', token: READ }]);
  assert.equal(auth(`Bearer ${TOKEN}`), { name: 'a', role: 'read' });
  assert.equal(auth(`bearer ${READ}`), { name: 'b', role: 'write' });
  for (const h of [undefined, '', 'Bearer', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Bearer x${TOKEN}`, `Basic ${TOKEN}`, `Bearer ${TOKEN} ${TOKEN}`, TOKEN]) {
    assert.is(auth(h), null, String(h));
  }
  assert.is(makeAuthenticator([])(`Bearer ${TOKEN}`), null, 'no token configured: nothing matches');
  // The comparison itself: both sides hashed to 32 bytes, compared with timingSafeEqual,
  // and the loop does not stop at a match, so the time says nothing about which token.
  const src = fs.readFileSync('src/api/auth.ts', 'utf8');
  const body = src.slice(src.indexOf('export function makeAuthenticator'), src.indexOf('export function bearer'));
  assert.match(body, /timingSafeEqual\(h, k\.hash\)/);
  assert.match(body, /for \(const k of known\) if \(timingSafeEqual\(h, k\.hash\) && found === null\)/);
  assert.not.match(body, /presented\s*[!=]==?\s*(?!null)\w|[!=]==?\s*presented\b|\.token\s*[!=]==/, 'no early-exit string compare of the token');
});

test('roles: an operator may do what a reader may; write is the business system only', () => {
  assert.ok(mayCall({ name: 'x', role: 'operator' }, 'read'));
  assert.ok(mayCall({ name: 'x', role: 'operator' }, 'operator'));
  assert.not.ok(mayCall({ name: 'x', role: 'read' }, 'operator'));
  assert.not.ok(mayCall({ name: 'x', role: 'write' }, 'read'));
  assert.not.ok(mayCall({ name: 'x', role: 'read' }, 'write'));
  assert.not.ok(mayCall({ name: 'x', role: 'operator' }, 'write'));
  assert.ok(mayCall({ name: 'x', role: 'write' }, ['read', 'write']));
  assert.ok(mayCall({ name: 'x', role: 'read' }, ['read', 'write']));
});

test('writes are rate limited per token and per address (429 with Retry-After); reads with a token are not — regression: a wrong token was never rate limited (the token check ran before the limiter)', async () => {
  const a = await app({ limits: { writesPerMinute: 3, bodyLimitBytes: 64 * 1024 } });
  const check = (auth?: string) => a.inject({ method: 'POST', url: '/eligibility/check', payload: { customerId: 'NOPE' }, headers: auth ? { authorization: auth } : {} });
  for (let i = 0; i < 3; i++) assert.is((await check(`Bearer ${TOKEN}`)).statusCode, 404);
  const limited = await check(`Bearer ${TOKEN}`);
  assert.is(limited.statusCode, 429, limited.body);
  assert.is(limited.json().error, 'RATE_LIMITED');
  assert.match(limited.headers['content-type'] as string, /^application\/problem\+json/);
  assert.ok(Number(limited.headers['retry-after']) > 0, JSON.stringify(limited.headers));
  // guessing tokens from one address is limited too, on its own budget, on reads as on writes
  for (let i = 0; i < 3; i++) assert.is((await check(`Bearer guess-${i}-0123456789abcdef`)).statusCode, 401);
  assert.is((await check('Bearer guess-9-0123456789abcdef')).statusCode, 429);
  assert.is((await a.inject({ method: 'GET', url: '/customers/NOPE', headers: { authorization: 'Bearer guess-10-0123456789abcdef' } })).statusCode, 429);
  // reads with a valid token, and the public routes, go on
  for (let i = 0; i < 10; i++) assert.is((await a.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  for (let i = 0; i < 5; i++) assert.is((await a.inject({ method: 'GET', url: '/customers/NOPE', headers: { authorization: `Bearer ${READ}` } })).statusCode, 404);
});

test('request bodies over the limit are refused with 413 before parsing', async () => {
  const a = await app({ limits: { writesPerMinute: 100, bodyLimitBytes: 2048 } });
  const r = await a.inject({ method: 'POST', url: '/eligibility/check', payload: JSON.stringify({ customerId: 'x'.repeat(4096) }), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
  assert.is(r.statusCode, 413, r.body);
  const ok = await a.inject({ method: 'POST', url: '/eligibility/check', payload: { customerId: 'NOPE' }, headers: { authorization: `Bearer ${TOKEN}` } });
  assert.is(ok.statusCode, 404);
});

test('config: the limits are settings, validated', async () => {
  const { loadConfig } = await import('../../src/config.ts');
  const c = loadConfig({ LENDPAY_API_WRITES_PER_MINUTE: '10', LENDPAY_API_BODY_LIMIT_BYTES: '4096' });
  assert.equal([c.apiWritesPerMinute, c.apiBodyLimitBytes], [10, 4096]);
  assert.equal([loadConfig({}).apiWritesPerMinute, loadConfig({}).apiBodyLimitBytes], [600, 262144]);
  assert.throws(() => loadConfig({ LENDPAY_API_WRITES_PER_MINUTE: '0' }), /LENDPAY_API_WRITES_PER_MINUTE/);
  assert.throws(() => loadConfig({ LENDPAY_API_BODY_LIMIT_BYTES: '1e9' }), /LENDPAY_API_BODY_LIMIT_BYTES/);
});

test.run();
