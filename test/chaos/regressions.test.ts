// Regression tests for the faults the chaos harness (npm run chaos) found, each named
// after the fault. The harness itself runs in test/chaos/chaos.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { claimIdempotencyKey, completeIdempotencyKey, IDEMPOTENCY_CLAIM_LEASE_SECONDS } from '../../db/api.repository.ts';
import { createContext } from '../../src/cli/context.ts';
import { activeRuleSetForBatch } from '../../src/cli/nightly.ts';
import { createPool } from '../../db/connection.ts';
import { failureOf } from './day.ts';

let t: TestDatabase;
test.before(async () => {
  t = await freshDatabase('chaos_regressions');
});
test.after(async () => {
  await t.drop();
});

test('api-idempotency-claim-orphaned-by-crash: a claim whose worker was killed mid-request is taken over after the lease, so the retry is answered', async () => {
  const claim = () => claimIdempotencyKey(t.db, 'k-orphan', 'POST', '/loans', 'h1');
  assert.is((await claim()).kind, 'claimed', 'the first request claims the key');
  // the worker holding it is killed (kill -9): nothing ever completes or releases the claim
  assert.is((await claim()).kind, 'in-progress', 'within the lease a retry waits for the first request');
  await sql`update api_idempotency set created_at = now() - make_interval(secs => ${IDEMPOTENCY_CLAIM_LEASE_SECONDS + 1}) where key = 'k-orphan'`.execute(t.db);
  assert.is((await claim()).kind, 'claimed', 'past the lease the retry takes the claim over');
  assert.is((await claim()).kind, 'in-progress', 'and holds it as its own');
  assert.is((await claimIdempotencyKey(t.db, 'k-orphan', 'POST', '/loans', 'h2')).kind, 'mismatch', 'another body under the key is still refused');
  await completeIdempotencyKey(t.db, 'k-orphan', 201, { ok: true });
  assert.equal(await claim(), { kind: 'replay', statusCode: 201, response: { ok: true } });
  // a completed key is never taken over, however old
  await sql`update api_idempotency set created_at = now() - interval '1 day' where key = 'k-orphan'`.execute(t.db);
  assert.is((await claim()).kind, 'replay');
});

test('worker-start-with-broken-rule-file: a broken working copy does not stop a worker (re)starting; the active version is used', async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-rules-')), 'rules');
  fs.cpSync(path.resolve('rules'), dir, { recursive: true });
  const file = path.join(dir, 'collection.json');
  const good = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, good.slice(0, Math.floor(good.length / 2))); // the risk team's half-saved edit
  const env = { DATABASE_URL: t.url, LENDPAY_RULES_DIR: dir, LENDPAY_LOG_LEVEL: 'silent' };

  const before = createContext(env);
  const err = await before.rules().then(() => null, (e: Error) => e);
  await before.close();
  assert.match(String(err?.message), /problem/, 'with no version active the broken working copy is an error, as before');

  fs.writeFileSync(file, good);
  const { version } = await activeRuleSetForBatch(t.db, dir);
  fs.writeFileSync(file, good.slice(0, Math.floor(good.length / 2)));
  const ctx = createContext(env);
  const stderr = process.stderr.write.bind(process.stderr);
  let said = '';
  process.stderr.write = ((chunk: string) => { said += chunk; return true; }) as never;
  try {
    const rules = await ctx.rules();
    assert.is(rules.hash, version.hash, 'the active version, not the broken working copy');
    assert.ok(rules.collection && rules.calendar && rules.escalation);
  } finally {
    process.stderr.write = stderr;
    await ctx.close();
  }
  assert.match(said, /do not load.*using the active version 1/, 'and it says so');
});

test('worker-start-broken-rules-while-database-unreachable: the refusal says both why the rules did not load and why the active version could not be read instead', async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-rules-')), 'rules');
  fs.cpSync(path.resolve('rules'), dir, { recursive: true });
  const file = path.join(dir, 'escalation.json');
  fs.writeFileSync(file, '{"rules": [{"conditions": 42}]}');
  // nothing listens on port 1: every try to read the active version fails
  const ctx = createContext({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', LENDPAY_RULES_DIR: dir, LENDPAY_LOG_LEVEL: 'silent' });
  const err = await ctx.rules().then(() => null, (e: Error & { code?: string; details?: readonly string[] }) => e);
  await ctx.close().catch(() => {});
  assert.is(err?.code, 'RULES_INVALID');
  assert.match(String(err?.message), /problem/, 'what is wrong with the rules');
  assert.match(String(err?.message), /the active version could not be read instead: .*ECONNREFUSED|the active version could not be read instead: \S/, 'and why the fallback did not help');
  assert.ok((err?.details ?? []).some((d) => d.includes('escalation.json')), 'the problems still name the file');
});

test('worker-crash-on-dropped-connection: a backend terminated under a checked-out client (mid-transaction) is an error for its query, not an uncaught exception', async () => {
  const pool = createPool(`${t.url}${t.url.includes('?') ? '&' : '?'}application_name=chaos-victim`, 2);
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  // uvu would die with the process: catch what would have crashed a worker
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onUncaught);
  try {
    const client = await pool.connect();
    await client.query('begin');
    await client.query('select 1');
    await t.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'chaos-victim'`);
    await new Promise((r) => setTimeout(r, 300));
    const next = await client.query('select 1').then(() => 'ok', (e: Error) => e.message);
    assert.match(next, /terminat|Connection|not queryable/i, 'the next query on the client fails, to be handled by its caller');
    client.release(true);
    assert.is((await pool.query('select 1 as n')).rows[0].n, 1, 'the pool goes on with a new connection');
  } finally {
    process.removeListener('uncaughtException', onUncaught);
    for (const l of listeners) process.on('uncaughtException', l);
    await pool.end();
  }
  assert.equal(uncaught.map(String), [], 'nothing was thrown at the process');
});

test('chaos-failure-message-whole (seed 70028): a worker\'s failure is told by its whole error line and details, never a cut-off tail', () => {
  // what seed 70028 printed: the last 300 characters, which began in the middle of a word
  const out = [
    '{"level":30,"msg":"starting"}',
    'worker start: the database connection failed while starting pg-boss (terminating connection due to administrator command); trying again in 0.25 s (try 2; giving up 120 s after the first failure)',
    'error: worker not started: the database connection failed while starting pg-boss and did not come back in 120 s (9 tries; last error: terminating connection due to administrator command)',
    '  a detail line',
    'pg-boss: terminating connection due to administrator command',
  ].join('\n');
  assert.is(failureOf(out), 'error: worker not started: the database connection failed while starting pg-boss and did not come back in 120 s (9 tries; last error: terminating connection due to administrator command) |   a detail line');
  // no error line: the last lines, whole
  assert.is(failureOf('a\nterminating connection due to administrator command\npg-boss: terminating connection due to administrator command\n'), 'a | terminating connection due to administrator command | pg-boss: terminating connection due to administrator command');
});

test.run();
