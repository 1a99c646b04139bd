// Hostile HTTP: random JSON bodies, wrong content types, malformed and huge bodies,
// bad Idempotency-Key headers, bad tokens, odd path parameters and unicode, through
// the real server. Every answer is a 4xx (with a field path for bad input) or a
// proper success, never a 5xx, and /healthz still answers afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import fc from 'fast-check';
import { world, type World } from '../disbursement/setup.ts';
import { startApi, type ApiServer } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import { systemClock } from '../../src/dates.ts';
import { fuzzRuns, fuzzSeed } from '../helpers/fuzz.ts';

const TOKEN = 'fuzz-token-0123456789abcdef';
const READ = 'fuzz-read-token-0123456789abcdef';
const reader = { authorization: `Bearer ${READ}` };
const seed = fuzzSeed();
let w: World;
let api: ApiServer;
const logs: string[] = [];

test.before(async () => {
  w = await world('fuzz_http');
  api = await startApi({
    db: w.t.db, log: makeLogger('info', { write: (s: string) => { logs.push(s); } }), clock: systemClock, host: '127.0.0.1', port: 0,
    apiToken: TOKEN, tokens: [{ name: 'fuzz-reader', role: 'read', token: READ }], stuckAfterMinutes: 10, disburseDeps: async () => w.deps, limits: { writesPerMinute: 1_000_000, bodyLimitBytes: 64 * 1024 },
  });
});
test.after(async () => {
  await api.close();
  await w.close();
});

const inject = (o: InjectOptions): Promise<LightMyRequestResponse> => api.app.inject(o);

function assertAnswer(r: { statusCode: number; body: string }, ctx: string): void {
  assert.ok(r.statusCode < 500, `${ctx}: ${r.statusCode} ${r.body.slice(0, 300)}`);
  if (r.statusCode === 400) {
    const b = JSON.parse(r.body);
    assert.type(b.error, 'string', ctx);
    // bad input names the field: a path (body.x, headers.x, params.x) or the body as a whole
    if (b.errors) for (const e of b.errors) assert.match(e.path, /^(body|headers|params|querystring)(\.|$)/, `${ctx}: ${r.body.slice(0, 300)}`);
  }
}

const WRITES = [
  { url: '/loans', idem: true },
  { url: '/eligibility/check', idem: false },
] as const;

test('random JSON bodies on every write route: 4xx with field paths (or a real answer), never 5xx', async () => {
  const runs = fuzzRuns(300);
  const bodies = fc.oneof(
    fc.jsonValue(),
    fc.record({ customerId: fc.oneof(fc.string(), fc.constantFrom('G1', 'X1', 'NOPE', '\u0000', 'G1'.repeat(100)), fc.jsonValue()), amount: fc.oneof(fc.string(), fc.constantFrom('1.00', '-1.00', '1e5', '99999999999999.99', '0.001', 'NaN'), fc.double(), fc.jsonValue()), rail: fc.oneof(fc.constantFrom('balance', 'card'), fc.jsonValue()) }, { requiredKeys: [] }),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }),
  );
  await fc.assert(fc.asyncProperty(bodies, fc.constantFrom(...WRITES), fc.string({ minLength: 1, maxLength: 10, unit: fc.constantFrom(...'abcdef0123:_.-'.split('')) }), async (body, route, key) => {
    const r = await inject({
      method: 'POST', url: route.url, payload: JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...(route.idem ? { 'idempotency-key': `fz-${key}` } : {}) },
    });
    assertAnswer(r, `${route.url} ${JSON.stringify(body).slice(0, 200)}`);
  }), { seed, numRuns: runs });
});

test('wrong content types, malformed JSON, huge and deep bodies: 4xx', async () => {
  const h = { authorization: `Bearer ${TOKEN}`, 'idempotency-key': 'ct-1' };
  const cases: [string, string | Buffer, number[]][] = [
    ['text/plain', 'customerId=G1', [400, 415]],
    ['application/xml', '<loan/>', [415]],
    ['multipart/form-data; boundary=x', '--x--', [415]],
    ['application/x-www-form-urlencoded', 'a=1', [415]],
    ['application/json', '{"customerId":', [400]],
    ['application/json', '{"customerId":"G1",}', [400]],
    ['application/json', '\ufeff{"customerId":"G1"}', [200, 400, 404]],
    ['application/json', '', [400]],
    ['application/json', 'null', [400]],
    ['application/json', '{"__proto__":{"admin":true},"customerId":"G1"}', [400]],
    ['application/json', '{"constructor":{"prototype":{"x":1}},"customerId":"G1"}', [400]],
    ['application/json', `{"customerId":"G1","amount":"1.00","rail":"balance","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, [400]],
    ['application/json', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), [400]],
    ['application/json', JSON.stringify({ customerId: 'x'.repeat(100_000) }), [413]],
    ['application/json; charset=latin1', '{"customerId":"G1"}', [415, 400, 200, 404]],
  ];
  for (const [ct, payload, want] of cases) {
    for (const url of ['/loans', '/eligibility/check']) {
      const r = await inject({ method: 'POST', url, payload, headers: { ...h, 'content-type': ct } });
      assertAnswer(r, `${url} ${ct} ${String(payload).slice(0, 60)}`);
      assert.ok(want.includes(r.statusCode) || (url === '/eligibility/check' && r.statusCode === 400), `${url} ${ct} ${String(payload).slice(0, 60)}: ${r.statusCode} ${r.body.slice(0, 200)}`);
    }
  }
  // no content type at all
  const none = await inject({ method: 'POST', url: '/loans', payload: '{"a":1}', headers: { ...h, 'content-type': '' } });
  assertAnswer(none, 'no content type');
});

test('bad Idempotency-Key headers: 400 naming headers.idempotency-key', async () => {
  const body = JSON.stringify({ customerId: 'G1', amount: '1.00', rail: 'balance' });
  for (const key of ['', ' ', 'a b', 'k'.repeat(129), 'ключ', '😀', '../../etc', 'a\tb', "'; drop table loans;--", '%00']) {
    const r = await inject({ method: 'POST', url: '/loans', payload: body, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': key } });
    assert.is(r.statusCode, 400, `${JSON.stringify(key)}: ${r.body}`);
    assert.is(r.json().errors[0].path, 'headers.idempotency-key', key);
  }
  const n = await w.t.db.selectFrom('loans').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.is(Number(n.n), 0, 'no loan from any of them');
});

test('bad tokens: 401, whatever their shape', async () => {
  const body = JSON.stringify({ customerId: 'G1' });
  for (const a of ['', 'Bearer', 'Bearer ', `Bearer ${TOKEN} extra`, `bearer  ${TOKEN}x`, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${'x'.repeat(8000)}`, 'Bearer тoken', `Bearer ${TOKEN}\u0000`, `Token ${TOKEN}`]) {
    const r = await inject({ method: 'POST', url: '/eligibility/check', payload: body, headers: { 'content-type': 'application/json', authorization: a } });
    assert.is(r.statusCode, 401, `${JSON.stringify(a.slice(0, 40))}: ${r.statusCode} ${r.body}`);
  }
});

test('odd path parameters and query strings on the reads: 4xx, never 5xx', async () => {
  const ids = ['%00', '%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', 'x'.repeat(300), '%F0%9F%98%80', "'%20or%201=1--", '999999999999999999999', '-1', '1e3', '%3Cscript%3E', '%C0%AF'];
  for (const base of ['/customers/', '/customers/%s/outflow', '/loans/', '/orders/']) {
    for (const id of ids) {
      const url = base.includes('%s') ? base.replace('%s', id) : `${base}${id}`;
      const r = await inject({ method: 'GET', url: `${url}?x=${id}&x=2&__proto__=1`, headers: reader });
      assertAnswer(r, url);
    }
  }
});

test('regression: GET /customers/%00 answered 500 (a NUL reached Postgres); now 400 naming params.id', async () => {
  for (const url of ['/customers/%00', '/customers/a%00b/outflow', '/loans/%00', '/orders/%1F']) {
    const r = await inject({ method: 'GET', url, headers: reader });
    assert.is(r.statusCode, 400, `${url}: ${r.body}`);
    assert.is(r.json().errors[0].path, 'params.id');
  }
  const r = await inject({ method: 'POST', url: '/eligibility/check', payload: { customerId: 'G1\u0000' }, headers: { authorization: `Bearer ${TOKEN}` } });
  assert.is(r.statusCode, 400, r.body);
  assert.is(r.json().errors[0].path, 'body.customerId');
});

test('over a real socket: oversized headers, a broken request line, a slow body: the server lives on', async () => {
  const { port } = new URL(api.url);
  const raw = (text: string) => new Promise<string>((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.end(text));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.setTimeout(3000, () => s.destroy());
  });
  assert.match(await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
  assert.match(await raw('BREW /coffee HTCPCP/1.0\r\n\r\n'), /^HTTP\/1\.1 400/);
  assert.match(await raw(`POST /loans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\nAuthorization: Bearer ${TOKEN}\r\nIdempotency-Key: big\r\n\r\n{`), /^HTTP\/1\.1 413/);
  const res = await fetch(`${api.url}/healthz`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { ok: true });
});

test('no request above crashed or logged a 5xx; the logs carry no token and no body', async () => {
  const r = await inject({ method: 'GET', url: '/healthz' });
  assert.is(r.statusCode, 200);
  const text = logs.join('');
  assert.not.match(text, /"level":50/, 'no error logged');
  assert.not.ok(text.includes(TOKEN), 'the token is never logged');
  assert.not.ok(text.includes('drop table'), 'bodies and headers are never logged');
});

test.run();
