// Issue 15, "The sandbox's admin routes open inside every worker": the sandbox's admin
// routes take a token of their own, and no command starts the sandbox in-process unless
// asked (LENDPAY_SANDBOX_IN_PROCESS=1, or the demo), saying so loudly on stderr.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { startHarness, type Harness } from './setup.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

const BIN = path.resolve('src/cli/bin.js');
let h: Harness;
let t: TestDatabase;

test.before(async () => {
  h = await startHarness('sandbox_admin');
  t = await freshDatabase('sandbox_inproc');
});
test.after(async () => {
  await h.close();
  await t.drop();
});

const ADMIN: [string, string, unknown?][] = [
  ['POST', '/admin/faults', { seed: 1, rules: [{ op: 'payout', rate: 1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }] }],
  ['POST', '/admin/clock', { now: '2030-01-01T00:00:00Z' }],
  ['POST', '/admin/duplicate-payout', { requestId: 'nothing' }],
  ['POST', '/admin/accounts', { accounts: [{ id: 'EVIL', customerId: 'evil', balance: 100_000_000 }] }],
  ['POST', '/admin/settle', { lines: [{ accountId: 'EVIL', amount: 1 }] }],
  ['POST', '/admin/limits', { payout: 1 }],
  ['GET', '/admin/requests'],
  ['GET', '/admin/movements'],
  ['GET', '/admin/cards/X'],
  ['GET', '/admin/no-such-route'],
];

test('the sandbox\'s admin routes open to anyone (regression: /admin/faults, /admin/clock, /admin/duplicate-payout and /admin/accounts answered without credentials): each needs the sandbox\'s admin token', async () => {
  for (const [method, route, body] of ADMIN) {
    for (const auth of [null, 'Bearer wrong-token-0123456789abcdef', `Basic ${h.server.adminToken}`, `Bearer ${h.server.adminToken}x`]) {
      const res = await fetch(`${h.server.url}${route}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth ? { authorization: auth } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      assert.is(res.status, 401, `${method} ${route} with ${auth ?? 'no token'}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  }
  // nothing of it happened: no account, no fault, no clock moved
  assert.is((await h.t.db.selectFrom('sandbox.accounts' as never).selectAll().where('id' as never, '=', 'EVIL' as never).execute()).length, 0);
  const clock = await h.admin('POST', '/admin/clock', { now: null });
  assert.is(clock.status, 200, 'with the token it answers');
  assert.is(clock.body.fixed, false, 'the clock was never moved');
  // the platform API itself is what lendpay calls: no admin token there
  assert.is((await fetch(`${h.server.url}/v1/statement/payouts`)).status, 200);
  const t1 = await h.channel.balances(['NOPE']);
  assert.equal(t1.map((b) => b.found), [false]);
});

test('the admin token: the one given, or a random one of 64 hex characters per sandbox', async () => {
  assert.match(h.server.adminToken, /^[0-9a-f]{64}$/);
  const { startSandbox } = await import('../../src/sandbox/server.ts');
  const { calendar } = await import('./setup.ts');
  const other = await startSandbox({ databaseUrl: h.t.url, port: 0, calendar });
  const given = await startSandbox({ databaseUrl: h.t.url, port: 0, calendar, adminToken: 'given-admin-token-0123456789' });
  try {
    assert.is.not(other.adminToken, h.server.adminToken);
    assert.is((await fetch(`${other.url}/admin/requests`, { headers: { authorization: `Bearer ${h.server.adminToken}` } })).status, 401, 'another sandbox\'s token does not open it');
    assert.is((await fetch(`${given.url}/admin/requests`, { headers: { authorization: 'Bearer given-admin-token-0123456789' } })).status, 200);
  } finally {
    await other.close();
    await given.close();
  }
  const short = await startSandbox({ databaseUrl: h.t.url, port: 0, calendar, adminToken: 'short' }).then(() => null, (e) => e);
  assert.match(String(short), /at least 16 characters/);
});

function lendpay(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const base = { ...process.env };
    delete base.LENDPAY_CHANNEL_URL;
    delete base.LENDPAY_SANDBOX_IN_PROCESS;
    delete base.LENDPAY_SANDBOX_ADMIN_TOKEN;
    execFile(process.execPath, [BIN, ...args], { env: { ...base, DATABASE_URL: t.url, LENDPAY_LOG_LEVEL: 'warn', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('a worker starts the sandbox platform in-process by itself (regression: with no LENDPAY_CHANNEL_URL every worker and command opened the sandbox and its admin routes on a local port): refused unless asked, and said loudly when asked', async () => {
  const worker = await lendpay(['worker', '--no-schedule', '--port', '0'], {});
  assert.is(worker.code, 1, worker.stderr);
  assert.match(worker.stderr, /no payment platform: set LENDPAY_CHANNEL_URL/);
  assert.match(worker.stderr, /LENDPAY_SANDBOX_IN_PROCESS=1/);
  assert.not.match(worker.stderr + worker.stdout, /listening/);
  for (const args of [['ledger', 'trial-balance'], ['recover'], ['reconcile']]) {
    const r = await lendpay(args, {});
    assert.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /no payment platform/, args.join(' '));
    assert.not.match(r.stderr, /SANDBOX payment platform is running/);
  }
  // asked for: it runs, and says so on stderr before anything else happens
  const asked = await lendpay(['ledger', 'trial-balance'], { LENDPAY_SANDBOX_IN_PROCESS: '1' });
  assert.is(asked.code, 0, asked.stderr);
  assert.match(asked.stderr, /WARNING: the SANDBOX payment platform is running inside this process at http:\/\/127\.0\.0\.1:\d+ \(asked by LENDPAY_SANDBOX_IN_PROCESS=1\)/);
  // a platform at LENDPAY_CHANNEL_URL is used as it is: nothing in-process
  const external = await lendpay(['ledger', 'trial-balance'], { LENDPAY_CHANNEL_URL: h.server.url, LENDPAY_SANDBOX_ADMIN_TOKEN: h.server.adminToken });
  assert.is(external.code, 0, external.stderr);
  assert.not.match(external.stderr, /running inside this process/);
});

test('sandbox serve needs LENDPAY_SANDBOX_ADMIN_TOKEN; commands that drive the sandbox\'s admin side say what they need', async () => {
  const serve = await lendpay(['sandbox', 'serve', '--port', '0'], {});
  assert.is(serve.code, 1);
  assert.match(serve.stderr, /sandbox serve: set LENDPAY_SANDBOX_ADMIN_TOKEN/);
  const dup = await lendpay(['sandbox', 'inject-duplicate', '--request-id', 'x'], { LENDPAY_CHANNEL_URL: h.server.url });
  assert.is(dup.code, 1);
  assert.match(dup.stderr, /set LENDPAY_SANDBOX_ADMIN_TOKEN to the admin token of the sandbox at/);
});

test.run();
