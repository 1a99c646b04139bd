// Personal data after a demo-like flow (import, loans to balance and to card, the
// post-settlement batch with a hold, a card repayment, the hold monitor,
// reconciliation, the API and dashboard reads): no full card number in any lendpay
// table (every schema but the sandbox's own), in any API answer, in the logs; no
// name in the logs; and no answer of the sandbox platform carries a full card number.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { world, LENDER, type World } from '../disbursement/setup.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { collectBorrowers, type CollectionDeps } from '../../src/collection/service.ts';
import { monitorHolds } from '../../src/collection/monitor.ts';
import { repayFromCard } from '../../src/collection/repay.ts';
import { reconcilePayouts, sandboxStatement } from '../../src/collection/reconcile.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { buildApi } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import type { Clock, BusinessDate } from '../../src/dates.ts';
import type { Fen } from '../../src/money.ts';

const D = '2026-11-24' as BusinessDate;
const clock: Clock = { now: () => new Date('2026-11-24T10:30:00+08:00') };
const TOKEN = 'pii-token-0123456789abcdef';
const READ = 'pii-read-token-0123456789abcdef';
let w: World;
let c: CollectionDeps;
let app: FastifyInstance;
const logs: string[] = [];
const answers: string[] = [];
let cardNumbers: string[] = [];

/**
 * 12-19 digits passing the Luhn check: what a card number looks like. Not part of a
 * decimal (pino's responseTime) and not pino's epoch-millisecond "time".
 */
export function cardLike(text: string): string[] {
  const out: string[] = [];
  for (const m of text.replace(/"time":\d+/g, '').matchAll(/(?<![\d.])\d{12,19}(?![\d.])/g)) {
    const d = m[0];
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      let x = Number(d[d.length - 1 - i]);
      if (i % 2 === 1) { x *= 2; if (x > 9) x -= 9; }
      sum += x;
    }
    if (sum % 10 === 0) out.push(d);
  }
  return out;
}

test.before(async () => {
  w = await world('sec_pii', { clock, customers: 4 });
  const rs = await loadRuleSet(path.resolve('rules'));
  c = { db: w.t.db, channel: w.deps.channel, clock, collectionRules: rs.collection!, notifications: rs.notifications!, ruleSetHash: rs.hash, lender: LENDER };
  // Luhn-valid full numbers on the platform's side, as a real platform holds them
  await w.admin('/admin/accounts', { cards: [
    { id: 'G1-K1', customerId: 'G1', bank: 'CMB', cardNumber: '6225880137749651', balance: 100_000 },
    { id: 'G2-K1', customerId: 'G2', bank: 'CMB', cardNumber: '4111111111111111', balance: 100_000 },
  ] });
  const rows = await sql<{ card_number: string }>`select card_number from sandbox.cards`.execute(w.t.db);
  cardNumbers = rows.rows.map((r) => r.card_number);
  app = await buildApi({
    db: w.t.db, log: makeLogger('debug', { write: (s: string) => { logs.push(s); } }), clock, host: '127.0.0.1', port: 0,
    apiToken: TOKEN, tokens: [{ name: 'pii-reader', role: 'read', token: READ }], stuckAfterMinutes: 10, disburseDeps: async () => w.deps,
  });
  await app.ready();
});
test.after(async () => {
  await app.close();
  await w.close();
});

async function call(method: 'GET' | 'POST', url: string, payload?: object, key?: string) {
  // reads with the read token, the business system's writes with the write one
  const token = method === 'GET' ? READ : TOKEN;
  const r = await app.inject({ method, url, ...(payload ? { payload } : {}), headers: { authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) } });
  answers.push(r.body);
  return r;
}

test('a demo-like flow through the API and the batches', async () => {
  const card = await call('POST', '/loans', { customerId: 'G1', amount: '300.00', rail: 'card', destinationId: 'G1-K1' }, 'pii-card-1');
  assert.ok(card.statusCode < 300, card.body);
  const bal = await call('POST', '/loans', { customerId: 'G3', amount: '200.00', rail: 'balance' }, 'pii-bal-1');
  assert.ok(bal.statusCode < 300, bal.body);
  const due = await applyForLoan(w.deps, { customerId: 'G2', amount: 5000 as Fen, rail: 'balance', requestId: 'pii-due', schedule: [{ no: 1, dueDate: D, principal: 5000 as Fen, interest: 0 as Fen }] });
  assert.ok(due.ok);
  await w.admin('/admin/accounts', { accounts: ['A', 'B', 'C'].map((x, i) => ({ id: `G2-${x}`, customerId: 'G2', balance: i === 0 ? 100 : 0 })) });
  await collectBorrowers(c, { ids: ['G2'] }, { date: D, runId: null, keyPrefix: 'collect', purpose: 'collect.batch', openHolds: true });
  const rep = await repayFromCard(c, { loanId: due.ok ? due.loan.id : '', cardId: 'G2-K1', amount: 1000 as Fen, requestId: 'pii-repay' });
  assert.ok(rep.ok, JSON.stringify(rep));
  await monitorHolds(c, 'pii-tick');
  await reconcilePayouts(c, sandboxStatement(w.server.url));
  for (const url of ['/customers/G1', '/customers/G2', '/customers/G2/outflow', `/loans/${card.json().loan.id}`, '/dashboard/summary', '/metrics', '/openapi.json']) {
    assert.ok((await call('GET', url)).statusCode < 400, url);
  }
  for (const o of card.json().orders) assert.ok((await call('GET', `/orders/${o.id}`)).statusCode === 200);
  await call('POST', '/eligibility/check', { customerId: 'G1' });
  assert.ok(cardNumbers.length >= 5, 'the sandbox holds full numbers for every card');
});

test('no full card number in any column of any lendpay table', async () => {
  const cols = await sql<{ table_schema: string; table_name: string; column_name: string }>`
    select table_schema, table_name, column_name from information_schema.columns
    where table_schema not in ('sandbox', 'pg_catalog', 'information_schema')
      and data_type in ('text', 'character varying', 'character', 'json', 'jsonb')
    order by 1, 2, 3`.execute(w.t.db);
  assert.ok(cols.rows.some((x) => x.table_name === 'customer_bank_cards'), 'scans the customer tables');
  let scanned = 0;
  for (const col of cols.rows) {
    const q = `select ${JSON.stringify(col.column_name)}::text as v from ${JSON.stringify(col.table_schema)}.${JSON.stringify(col.table_name)} where ${JSON.stringify(col.column_name)}::text ~ '[0-9]{12,19}'`;
    // identifiers come from information_schema, quoted; no user input reaches this text
    const rows = await sql<{ v: string }>`${sql.raw(q)}`.execute(w.t.db); // sql-raw-ok: catalog identifiers, quoted
    for (const r of rows.rows) {
      assert.equal(cardLike(r.v), [], `${col.table_schema}.${col.table_name}.${col.column_name}: ${r.v.slice(0, 200)}`);
      for (const n of cardNumbers) assert.not.ok(r.v.includes(n), `${col.table_name}.${col.column_name} holds a full card number`);
    }
    scanned++;
  }
  assert.ok(scanned > 20, `${scanned} columns scanned`);
  const cards = await w.t.db.selectFrom('customer_bank_cards').select(['last4']).execute();
  assert.ok(cards.every((k) => /^\d{4}$/.test(k.last4)), 'only the last four are kept');
});

test('no full card number in any API answer or log line; no name, no token in the logs', async () => {
  assert.ok(answers.length > 10 && logs.length > 10, `${answers.length} answers, ${logs.length} log lines`);
  for (const [what, text] of [['answers', answers.join('\n')], ['logs', logs.join('')]] as const) {
    assert.equal(cardLike(text), [], what);
    for (const n of cardNumbers) assert.not.ok(text.includes(n), `${what} carry a full card number`);
  }
  const log = logs.join('');
  assert.not.ok(log.includes(TOKEN) || log.includes(READ), 'a token in the logs');
  const names = (await w.t.db.selectFrom('customers').select('name').execute()).map((x) => x.name).filter((n) => n.length > 2);
  for (const n of names) assert.not.ok(log.includes(`"${n}"`), `a customer name in the logs: ${n}`);
  // anything logged under a personal key is redacted, whatever the object
  const lines: string[] = [];
  const l = makeLogger('info', { write: (s: string) => { lines.push(s); } });
  l.info({ name: 'Wang Wu', customer: { name: 'Wang Wu', idNumber: '110101199003077777', cardNumber: '6225880137749651' }, card: { cardNumber: '6225880137749651' } }, 'x');
  assert.not.match(lines.join(''), /Wang Wu|6225880137749651|110101199003077777/, lines.join(''));
});

test('no answer of the sandbox platform carries a full card number', async () => {
  const texts: string[] = [];
  const admin = { authorization: `Bearer ${w.server.adminToken}` };
  const get = async (u: string) => { const r = await fetch(`${w.server.url}${u}`, { headers: admin }); texts.push(await r.text()); };
  const post = async (u: string, body: unknown) => {
    const r = await fetch(`${w.server.url}${u}`, { method: 'POST', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify(body) });
    texts.push(await r.text());
  };
  for (const id of ['G1-K1', 'G2-K1', 'G3-K1', 'LENDER-CARD']) await get(`/admin/cards/${id}`);
  await get('/admin/requests');
  await get('/admin/movements?after=0&limit=5000');
  await post('/v1/balances', { accountIds: ['G1-A', 'G2-A', 'G1-K1'] });
  const reqs = await w.t.db.selectFrom('order_attempts').select('request_id').execute();
  for (const r of reqs) await get(`/v1/requests/${encodeURIComponent(r.request_id)}`);
  await post('/v1/requests/query', { requestIds: reqs.map((r) => r.request_id).slice(0, 100) });
  // refusals echo their input: a card id that is not a card, a payout to a bad card
  await post('/v1/payout', { requestId: 'pii-bad-payout', fromAccountId: 'LENDER-BAL', to: { kind: 'card', cardId: 'G1-K1' }, amount: -1 });
  await post('/admin/accounts', { cards: [{ id: 'G9-K9', customerId: 'G9', cardNumber: '12345' }] });
  assert.ok(texts.length > 8);
  const all = texts.join('\n');
  assert.equal(cardLike(all), []);
  for (const n of cardNumbers) assert.not.ok(all.includes(n), 'a sandbox answer carries a full card number');
});

test.run();
