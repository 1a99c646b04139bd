// The alert rules against a real database: each kind fires once per subject, resolves
// by itself when its condition stops, and reaches the webhook (retried when it is down).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { checkAlerts } from '../../src/alerts/check.ts';
import { parseAlertRules, type AlertRules } from '../../src/alerts/rules.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { openAlerts } from '../../db/alerts.repository.ts';
import { createOrder } from '../../db/orders.repository.ts';
import type { Fen } from '../../src/money.ts';

let t: TestDatabase;
let rules: AlertRules;
const at = (local: string) => new Date(local);
const logged: string[] = [];
const run = (now: Date, webhook: string | null = null) => checkAlerts({ db: t.db, rules, now, webhook, log: (a) => logged.push(`${a.rule}:${a.subject}`) });

test.before(async () => {
  t = await freshDatabase('alerts');
  rules = (await loadRuleSet(path.resolve('rules'))).alerts!;
});
test.after(async () => {
  await t.drop();
});

test('the shipped alert rules parse; a bad rule is refused with its JSON path', () => {
  assert.ok(rules.rules.length >= 5);
  const bad = parseAlertRules({ rules: [{ name: 'x', kind: 'batch_late', params: { batch: 'nightly', deadline: '25:00' } }, { name: 'y', kind: 'nope', params: {} }] }, 'alerts.json');
  assert.equal(bad.errors, [
    'alerts.json: $.rules[0].params.deadline: expected a time HH:MM (Asia/Shanghai), got "25:00"',
    'alerts.json: $.rules[1].kind: unknown kind "nope"; expected one of order_stuck, failure_rate, batch_late, trial_balance_nonzero, settlement_missing',
  ]);
});

test('a late batch and a missing settlement raise one alert each, once, and resolve when done', async () => {
  const before = await run(at('2026-11-24T05:59:00+08:00'));
  assert.is(before.opened.length, 0, 'nothing is late before its deadline');
  const late = await run(at('2026-11-24T12:30:00+08:00'));
  assert.equal(late.opened.map((a) => a.subject).sort(), ['nightly:2026-11-24', 'post_settlement:2026-11-24', 'settlement:2026-11-24']);
  const again = await run(at('2026-11-24T12:31:00+08:00'));
  assert.is(again.opened.length, 0, 'stored once per rule and subject');
  await t.db.insertInto('batch_runs').values({ kind: 'nightly', business_date: '2026-11-24', status: 'finished', rule_set_hash: null }).execute();
  await t.db.insertInto('settlements').values({ business_date: '2026-11-24', lines: 1, total_fen: 100 }).execute();
  const after = await run(at('2026-11-24T12:32:00+08:00'));
  assert.is(after.resolved, 2);
  assert.equal((await openAlerts(t.db)).map((a) => a.subject), ['post_settlement:2026-11-24']);
  assert.ok(logged.includes('nightly-late:nightly:2026-11-24'), 'each new alert is logged');
});

test('an order stuck in submitted alerts, and resolves when it settles', async () => {
  const o = await createOrder(t.db, { idempotencyKey: 'x:1', kind: 'payout', purpose: 'disburse.payout', loanId: null, customerId: null, amount: 100 as Fen, sourceRef: 'account:A', destinationRef: 'account:B' });
  await t.db.updateTable('orders').set({ status: 'submitted', updated_at: at('2026-11-24T12:00:00+08:00') }).where('id', '=', o.id).execute();
  const r = await run(at('2026-11-24T12:11:00+08:00'));
  assert.equal(r.opened.map((a) => [a.rule, a.orderId]), [['order-stuck', o.id]]);
  await t.db.updateTable('orders').set({ status: 'succeeded' }).where('id', '=', o.id).execute();
  const r2 = await run(at('2026-11-24T12:12:00+08:00'));
  assert.ok(r2.resolved >= 1);
  assert.not.ok((await openAlerts(t.db)).some((a) => a.orderId === o.id));
});

test('a failure rate above the threshold alerts; below it, not', async () => {
  const now = at('2026-11-24T12:20:00+08:00');
  for (let i = 0; i < 20; i++) {
    const o = await createOrder(t.db, { idempotencyKey: `f:${i}`, kind: 'debit', purpose: 'collect.batch', loanId: null, customerId: null, amount: 1 as Fen, sourceRef: 'account:A', destinationRef: 'account:B' });
    await t.db.insertInto('order_attempts').values({ order_id: o.id, attempt_no: 1, request_id: `f:${i}#1`, status: i < 4 ? 'failed' : 'succeeded', submitted_at: now, resolved_at: now }).execute();
  }
  assert.is((await run(now)).opened.filter((a) => a.rule === 'failure-rate').length, 0, '4 of 20 is exactly 1/5: not above');
  await t.db.updateTable('order_attempts').set({ status: 'failed' }).where('request_id', '=', 'f:4#1').execute();
  assert.is((await run(now)).opened.filter((a) => a.rule === 'failure-rate').length, 1, '5 of 20 is above 1/5');
});

test('a trial balance that is not zero alerts (a corrupted journal, written with the guard off)', async () => {
  await sql`alter table journal_lines disable trigger journal_lines_balanced`.execute(t.db);
  const e = await t.db.insertInto('journal_entries').values({ order_id: null, kind: 'corrupt', memo: 'test' }).returning('id').executeTakeFirstOrThrow();
  await t.db.insertInto('journal_lines').values({ entry_id: e.id, line_no: 1, account: 'lender.platform_balance', customer_id: null, loan_id: null, debit_fen: 5, credit_fen: 0 }).execute();
  await sql`alter table journal_lines enable trigger journal_lines_balanced`.execute(t.db);
  const r = await run(at('2026-11-24T12:40:00+08:00'));
  assert.equal(r.opened.filter((a) => a.rule === 'trial-balance').map((a) => a.subject), ['ledger']);
});

test('new alerts are POSTed to the webhook; when it is down they wait for the next pass', async () => {
  const received: any[] = [];
  let up = false;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (!up) {
        res.statusCode = 503;
        return res.end();
      }
      received.push(JSON.parse(body));
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  try {
    await t.db.deleteFrom('settlements').execute();
    await sql`update alerts set resolved_at = now() where resolved_at is null`.execute(t.db);
    await run(at('2026-11-25T12:30:00+08:00'), url);
    assert.ok((await openAlerts(t.db)).every((a) => a.notifiedAt === null), 'webhook down: nothing marked as sent');
    up = true;
    await run(at('2026-11-25T12:31:00+08:00'), url);
    const sent = received.flatMap((b) => b.alerts.map((a: { subject: string }) => a.subject));
    assert.ok(sent.includes('settlement:2026-11-25'), 'the alert missed while the webhook was down is sent now');
    assert.ok((await openAlerts(t.db)).every((a) => a.notifiedAt !== null));
    await run(at('2026-11-25T12:32:00+08:00'), url);
    assert.is(received.length, 1, 'and only once');
  } finally {
    server.close();
  }
});

test.run();
