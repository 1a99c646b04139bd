// `npm start` with DATABASE_URL: the demo writes thousands of fake merchants and loans,
// so it runs only in an empty database or one an earlier demo made, unless the user
// says so (--allow-existing-data). A database that is not lendpay's is refused before
// anything, even lendpay's schema, is written to it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import pg from 'pg';
import { admin, freshDatabase, withDatabase, type TestDatabase } from '../helpers/db.ts';

const BIN = path.resolve('src/cli/bin.js');
const DEMO = ['demo', '--size', '40', '--loans', '2'];
let t: TestDatabase;
let other: TestDatabase;
let foreign: { url: string; drop(): Promise<void> };
let tmp: string;

function lendpay(args: string[], url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: url, LENDPAY_CHANNEL_URL: '' }, timeout: 300_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test.before(async () => {
  t = await freshDatabase('demo_db');
  other = await freshDatabase('demo_db_other');
  // a database another application owns: created bare, never migrated by lendpay
  const name = `lendpay_t_foreign_${randomBytes(4).toString('hex')}`;
  const server = withDatabase(t.url, 'postgres');
  await admin(server, `create database ${name}`);
  const url = withDatabase(t.url, name);
  await admin(url, 'create table app_users (id serial primary key, email text); insert into app_users (email) values (\'a@example.com\')');
  foreign = { url, drop: () => admin(server, `drop database if exists ${name} with (force)`) };
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-demo-db-'));
});
test.after(async () => {
  await foreign.drop();
  await t.drop();
  await other.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('an empty database takes the demo, and so does one an earlier demo made', async () => {
  const first = await lendpay(DEMO, t.url);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout, /business day \d{4}-\d{2}-\d{2} \(loans made \d{4}-\d{2}-\d{2}\), database postgres@/);
  assert.not.match(first.stdout, /db stop/, 'not lendpay\'s server to stop');
  const again = await lendpay(DEMO, t.url);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /already done; nothing changed/);
});

test('a lendpay database with data no demo wrote is refused, naming what it holds and the flag', async () => {
  const file = path.join(tmp, 'c.jsonl');
  fs.writeFileSync(file, JSON.stringify({
    id: 'REAL1', name: 'x', segment: 'external', realNameVerified: true, whitelist: null,
    accounts: [{ id: 'REAL1-A', primary: true, balance: '1.00' }], bankCards: [], monthlyFlow: {},
  }) + '\n');
  assert.is((await lendpay(['import', file], other.url)).code, 0);
  const res = await lendpay(DEMO, other.url);
  assert.is(res.code, 1);
  assert.match(res.stderr, /^error: not running the demo in postgres@[^ ]+ \(DATABASE_URL\): it holds lendpay data no demo wrote: 1 customers, 0 loans, 0 batch runs.*npm start -- --allow-existing-data\n$/);
  assert.is(Number((await other.pool.query('select count(*) as n from customers')).rows[0].n), 1, 'nothing was added');
  const yes = await lendpay([...DEMO, '--allow-existing-data'], other.url);
  assert.is(yes.code, 0, yes.stderr);
});

test('another application\'s database is refused before lendpay writes anything to it', async () => {
  const res = await lendpay(DEMO, foreign.url);
  assert.is(res.code, 1);
  assert.match(res.stderr, /it holds 1 table that are not lendpay's \(e\.g\. public\.app_users\)/);
  const c = new pg.Client({ connectionString: foreign.url });
  await c.connect();
  const tables = (await c.query<{ n: string }>(`select count(*) as n from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`)).rows[0]!.n;
  await c.end();
  assert.is(Number(tables), 1, 'no migration ran: only the application\'s own table is there');
});

test.run();
