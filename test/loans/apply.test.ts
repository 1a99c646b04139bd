// Applying for a product through the API and the CLI, against real Postgres and the
// real sandbox: the product's schedule recorded with the loan, the default product
// as today's loan, refusals (422 / exit 1) naming the field with nothing written,
// the request's own schedule, and `loan show --json`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { world, type World } from '../disbursement/setup.ts';
import { apiWithRules, runLendpay } from '../helpers/lendpay.ts';
import { readHeaders } from '../helpers/lendpay.ts';
import { businessDateAt, systemClock } from '../../src/dates.ts';
import { loadRuleSet, type RuleSet } from '../../src/rules/load.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { applyForProduct } from '../../src/loans/apply.ts';
import { addMonthsClamped } from '../../src/loans/methods.ts';
import { addDays, generateSchedule } from '../../src/loans/schedule.ts';
import { parseYuan } from '../../src/money.ts';

const TOKEN = 'test-token-0123456789abcdef';
let w: World;
let rules: RuleSet;
let app: FastifyInstance;
const today = businessDateAt(systemClock.now());

test.before(async () => {
  w = await world('apply-products', { customers: 12 });
  rules = await loadRuleSet(path.resolve('rules'));
  app = await apiWithRules(w, rules, TOKEN);
});
test.after(async () => {
  await app.close();
  await w.close();
});

const post = (body: unknown, key: string) => app.inject({
  method: 'POST', url: '/loans', payload: body as object,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': key },
});
const count = async (table: 'loans' | 'orders' | 'installments') =>
  Number((await sql<{ n: number }>`select count(*)::int8 as n from ${sql.table(table)}`.execute(w.t.db)).rows[0]!.n);
const platformRequests = async () => Number((await sql<{ n: number }>`select count(*)::int8 as n from sandbox.requests`.execute(w.t.db)).rows[0]!.n);

const lendpay = (args: string[]) => runLendpay(w, args);

test('POST /loans with a product and a term: its schedule, month-end clamped, recorded with the loan', async () => {
  const r = await post({ customerId: 'G1', amount: '10000.00', rail: 'card', product: 'monthly-equal', term: 12 }, 'p-monthly');
  assert.is(r.statusCode, 201, r.body);
  const loan = r.json().loan;
  assert.is(loan.status, 'disbursed');
  assert.is(loan.disbursedOn, today);
  assert.is(loan.product.id, 'monthly-equal');
  assert.is(loan.product.term, 12);
  assert.is(loan.product.annualRateBp, 1800);
  assert.is(loan.installments.length, 12);
  assert.equal(loan.installments.map((i: { dueDate: string }) => i.dueDate), Array.from({ length: 12 }, (_, i) => addMonthsClamped(today, i + 1)));
  // 等额本息 10,000.00 at 18 %: 916.80 a month but the last (see the README)
  assert.equal(loan.installments.slice(0, 2).map((i: Record<string, string>) => [i.principal, i.interest, i.penalty, i.paid, i.status]),
    [['766.80', '150.00', '0.00', '0.00', 'upcoming'], ['778.30', '138.50', '0.00', '0.00', 'upcoming']]);
  const row = await w.t.db.selectFrom('loans').select(['product_id', 'product', 'disbursed_on']).where('id', '=', loan.id).executeTakeFirstOrThrow();
  assert.is(row.product_id, 'monthly-equal');
  assert.is((row.product as { penaltyDailyRatePpm: number }).penaltyDailyRatePpm, 500);
  const got = await app.inject({ method: 'GET', url: `/loans/${loan.id}`, headers: readHeaders(TOKEN) });
  assert.equal(got.json().loan.installments, loan.installments);
});

test('POST /loans naming no product: the default product, to the fen today\'s 30 daily installments', async () => {
  const r = await post({ customerId: 'G2', amount: '3000.00', rail: 'balance' }, 'p-default');
  assert.is(r.statusCode, 201, r.body);
  const loan = r.json().loan;
  assert.is(loan.product.id, 'daily-30');
  const today30 = generateSchedule({ principal: parseYuan('3000.00'), startDate: today, termDays: 30, dailyRatePpm: 500 });
  assert.equal(loan.installments.map((i: Record<string, string>) => [i.dueDate, i.principal, i.interest]),
    today30.map((i) => [i.dueDate, (i.principal / 100).toFixed(2), (i.interest / 100).toFixed(2)]));
  // and applyForLoan without a product (no products.json) still makes that same schedule
  const plain = await applyForLoan(w.deps, { customerId: 'G3', amount: parseYuan('3000.00'), rail: 'balance', requestId: 'p-plain' });
  assert.ok(plain.ok);
  const inst = await w.t.db.selectFrom('installments').select(['due_date', 'principal_fen', 'interest_fen']).where('loan_id', '=', plain.ok ? plain.loan.id : '').orderBy('no').execute();
  assert.equal(inst.map((i) => [i.due_date, Number(i.principal_fen), Number(i.interest_fen)]), today30.map((i) => [i.dueDate, i.principal, i.interest]));
});

test('POST /loans refusals: unknown product, amount out of range, rail not allowed, term not allowed — 422 naming the field, nothing written', async () => {
  const before = { loans: await count('loans'), orders: await count('orders'), installments: await count('installments'), platform: await platformRequests() };
  let r = await post({ customerId: 'G4', amount: '1000.00', rail: 'balance', product: 'gold' }, 'p-r1');
  assert.is(r.statusCode, 422);
  assert.is(r.json().error, 'UNKNOWN_PRODUCT');
  assert.equal(r.json().errors.map((e: { path: string }) => e.path), ['body.product']);
  r = await post({ customerId: 'G4', amount: '250000.00', rail: 'balance', product: 'bullet-7' }, 'p-r2');
  assert.is(r.statusCode, 422);
  assert.is(r.json().error, 'AMOUNT_OUT_OF_RANGE');
  assert.equal(r.json().errors, [{ path: 'body.amount', message: "250000.00 is outside product bullet-7's range 1000.00..200000.00" }]);
  r = await post({ customerId: 'G4', amount: '5000.00', rail: 'card', product: 'bullet-7', term: 45 }, 'p-r3');
  assert.is(r.statusCode, 422);
  assert.is(r.json().error, 'RAIL_NOT_ALLOWED');
  assert.equal(r.json().errors.map((e: { path: string }) => e.path), ['body.rail', 'body.term']);
  r = await post({ customerId: 'G4', amount: '60000.00', rail: 'card', product: 'interest-first-6', term: 3 }, 'p-r4');
  assert.is(r.statusCode, 422);
  assert.is(r.json().error, 'TERM_NOT_ALLOWED');
  assert.equal(r.json().errors, [{ path: 'body.term', message: 'product interest-first-6 has a fixed term of 6 months, got 3' }]);
  assert.equal({ loans: await count('loans'), orders: await count('orders'), installments: await count('installments'), platform: await platformRequests() }, before);
});

test('POST /loans with its own schedule: checked (400 naming the installment), then recorded as sent', async () => {
  const before = await count('loans');
  const bad = await post({ customerId: 'G5', amount: '1000.00', rail: 'balance', schedule: [
    { dueDate: today, principal: '600.00', interest: '9.00' }, { dueDate: addDays(today, 30), principal: '300.00', interest: '1.00' },
  ] }, 'p-own');
  assert.is(bad.statusCode, 400, bad.body);
  assert.equal(bad.json().errors.map((e: { path: string }) => e.path), ['body.schedule[0].dueDate']);
  assert.is(await count('loans'), before);
  // a 400 is not stored: the same key with the schedule fixed goes through
  const own = [{ dueDate: addDays(today, 10), principal: '600.00', interest: '9.00' }, { dueDate: addDays(today, 40), principal: '400.00', interest: '4.00' }];
  const ok = await post({ customerId: 'G5', amount: '1000.00', rail: 'balance', product: 'bullet-7', schedule: own }, 'p-own');
  assert.is(ok.statusCode, 201, ok.body);
  const loan = ok.json().loan;
  assert.equal(loan.installments.map((i: Record<string, string>) => ({ dueDate: i.dueDate, principal: i.principal, interest: i.interest })), own);
  assert.equal([loan.product.id, loan.product.term, loan.product.schedule, loan.product.penaltyDailyRatePpm], ['bullet-7', null, 'request', 600]);
});

test('a request id reused for another product is refused, the same request is a replay', async () => {
  const deps = w.deps;
  const a = { customerId: 'G6', amount: parseYuan('20000.00'), rail: 'balance' as const, requestId: 'p-same' };
  const first = await applyForProduct(deps, rules.products, { ...a, product: 'monthly-equal', term: 3 });
  assert.ok(first.ok && !first.replay);
  const again = await applyForProduct(deps, rules.products, { ...a, product: 'monthly-equal', term: 3 });
  assert.ok(again.ok && again.replay && first.ok && again.loan.id === first.loan.id);
  const other = await applyForProduct(deps, rules.products, { ...a, product: 'monthly-equal', term: 6 });
  assert.is(other.ok ? 'ok' : other.code, 'REQUEST_ID_REUSED');
});

test('CLI: loan apply --product --term; refusals exit 1 naming the option, nothing written; loan show --json', async () => {
  const before = await count('loans');
  let r = await lendpay(['loan', 'apply', '--customer', 'G7', '--amount', '500.00', '--request-id', 'cli-1', '--product', 'bullet-7']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /refused: AMOUNT_OUT_OF_RANGE: nothing was written/);
  assert.match(r.stderr, /--amount: 500\.00 is outside product bullet-7's range 1000\.00\.\.200000\.00/);
  r = await lendpay(['loan', 'apply', '--customer', 'G7', '--amount', '5000.00', '--request-id', 'cli-1', '--product', 'nope', '--to', 'card']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--product: no product "nope"/);
  r = await lendpay(['loan', 'apply', '--customer', 'G7', '--amount', '5000.00', '--request-id', 'cli-1', '--product', 'bullet-7', '--to', 'card']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--to: product bullet-7 pays out to balance only, not card/);
  assert.is(await count('loans'), before);
  r = await lendpay(['loan', 'apply', '--customer', 'G7', '--amount', '5000.00', '--request-id', 'cli-2', '--product', 'bullet-7', '--term', '14', '--json']);
  assert.is(r.code, 0, r.stderr);
  const id = JSON.parse(r.stdout).loan.id as string;
  r = await lendpay(['loan', 'show', id, '--json']);
  assert.is(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout).loan;
  assert.is(shown.product.id, 'bullet-7');
  assert.is(shown.disbursedOn, today);
  // 5,000.00 × 0.04 % × 14 days = 28.00
  assert.equal(shown.installments, [{ number: 1, dueDate: addDays(today, 14), principal: '5000.00', interest: '28.00', penalty: '0.00', paid: '0.00', status: 'upcoming' }]);
  r = await lendpay(['loan', 'show', id]);
  assert.match(r.stdout, /product bullet-7 到期还本付息·7至30天 \(bullet, 14 days\), disbursed on/);
});

test('products.json is versioned with the other rule files: activate, then rules diff shows a product\'s change by id', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-products-rules-'));
  fs.cpSync(path.resolve('rules'), dir, { recursive: true });
  const env = { LENDPAY_RULES_DIR: dir };
  const act = await runLendpay(w, ['rules', 'activate', '--by', 'alice', '--note', 'products on sale'], env);
  assert.is(act.code, 0, act.stderr);
  const file = path.join(dir, 'products.json');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"annualRateBp": 1800', '"annualRateBp": 2000'));
  const diff = await runLendpay(w, ['rules', 'diff', '1', 'working'], env);
  assert.is(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /version 1 .*→ working/, diff.stdout);
  assert.match(diff.stdout, /~ products\.json \$\.products\[id=monthly-equal\]\.annualRateBp: 1800 → 2000/, diff.stdout);
  const bad = fs.readFileSync(file, 'utf8').replace('"defaultProduct": "daily-30"', '"defaultProduct": "daily-31"');
  fs.writeFileSync(file, bad);
  const v = await runLendpay(w, ['rules', 'validate', dir]);
  assert.is(v.code, 1);
  assert.match(v.stderr + v.stdout, /products\.json: \$\.defaultProduct: no product has the id "daily-31"/);
});

test.run();
