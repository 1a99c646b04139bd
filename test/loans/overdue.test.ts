// Penalties and prepayment wired through the real batch, sandbox and API: a loan
// overdue for weeks accrues its penalty day by day in the post-settlement batch (a
// date once; a day that did not run caught up), on hold with the penalty in the hold;
// money that arrives pays penalty, interest, principal in that order; the payoff
// (API) closes the loan, clears its hold and lifts its block; a partial prepayment
// (API) shortens another loan and the CLI pays it off; the day's vouchers book the
// penalty accrual and the prepayments; the trial balance stays zero throughout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { sql } from 'kysely';
import type { PgBoss } from 'pg-boss';
import type { FastifyInstance } from 'fastify';
import { world, LENDER, type World } from '../disbursement/setup.ts';
import { apiWithRules, runLendpay } from '../helpers/lendpay.ts';
import { readHeaders } from '../helpers/lendpay.ts';
import { loadRuleSet, type RuleSet } from '../../src/rules/load.ts';
import { startBoss } from '../../jobs/boss.ts';
import { startPostSettlementRun, workPostSettlement } from '../../jobs/post-settlement.ts';
import { getBatchRun } from '../../db/batch.repository.ts';
import { applyForProduct } from '../../src/loans/apply.ts';
import { accrueChunkPenalties } from '../../src/loans/accrue.ts';
import { monitorHolds } from '../../src/collection/monitor.ts';
import type { CollectionDeps } from '../../src/collection/service.ts';
import { exportVouchers } from '../../src/ledger/export.ts';
import { addMonthsClamped } from '../../src/loans/methods.ts';
import { addDays } from '../../src/loans/schedule.ts';
import { businessDateAt, systemClock, type BusinessDate, type Clock } from '../../src/dates.ts';
import { parseYuan, type Fen } from '../../src/money.ts';
import { creditOfCustomers } from '../../db/loans.repository.ts';
import { repayFromCard } from '../../src/collection/repay.ts';

const TOKEN = 'overdue-test-token-0123456789';
const T = businessDateAt(systemClock.now());
const at = (d: string) => new Date(`${d}T10:00:00+08:00`);
let now = at(addDays(T, -40));
const clock: Clock = { now: () => now };
let w: World;
let rules: RuleSet;
let boss: PgBoss;
let app: FastifyInstance;
let c: CollectionDeps;
let g1 = '';
let g2 = '';

test.before(async () => {
  w = await world('overdue', { clock });
  rules = await loadRuleSet(path.resolve('rules'));
  c = { db: w.t.db, channel: w.deps.channel, clock, collectionRules: rules.collection!, notifications: rules.notifications!, ruleSetHash: rules.hash, lender: LENDER };
  boss = await startBoss(w.t.url);
  await workPostSettlement(boss, { db: w.t.db, channel: w.deps.channel, clock, lender: LENDER }, 1);
  app = await apiWithRules(w, rules, TOKEN, { clock, collectionDeps: async () => c });
});
test.after(async () => {
  await app.close();
  await boss.stop({ graceful: false, timeout: 2000 }).catch(() => {});
  await w.close();
});

async function postSettlement(date: string): Promise<void> {
  now = at(date);
  const { run } = await startPostSettlementRun(w.t.db, boss, date as BusinessDate, rules.hash, 100);
  for (let i = 0; i < 200 && (await getBatchRun(w.t.db, run.id))?.status !== 'finished'; i++) await new Promise((r) => setTimeout(r, 100));
  assert.is((await getBatchRun(w.t.db, run.id))?.status, 'finished', `post-settlement ${date}`);
}

async function installment(loanId: string, no = 1) {
  return w.t.db.selectFrom('installments').selectAll().where('loan_id', '=', loanId).where('no', '=', no).executeTakeFirstOrThrow();
}

async function account(name: string): Promise<number> {
  const r = await sql<{ b: number }>`select coalesce(sum(debit_fen - credit_fen), 0)::int8 as b from journal_lines where account = ${name}`.execute(w.t.db);
  return r.rows[0]!.b;
}

const openHold = (customer: string) => w.t.db.selectFrom('holds').selectAll().where('customer_id', '=', customer).where('status', '=', 'open').executeTakeFirst();

test('a bullet overdue for weeks: penalty from the day after due + grace, day by day in the batch, a day once, a missed stretch caught up', async () => {
  // 10,000.00 for 7 days at 0.04 % a day: due T−33 with 28.00 of interest; penalty 0.06 % a day after one grace day
  const r = await applyForProduct(w.deps, rules.products, { customerId: 'G1', amount: parseYuan('10000.00'), rail: 'balance', requestId: 'ov-g1', product: 'bullet-7' });
  assert.ok(r.ok && r.loan.status === 'disbursed', JSON.stringify(r));
  g1 = r.ok ? r.loan.id : '';
  assert.equal([(await installment(g1)).due_date, Number((await installment(g1)).interest_fen)], [addDays(T, -33), 2_800]);
  await w.admin('/admin/accounts', { accounts: ['A', 'B', 'C'].map((x) => ({ id: `G1-${x}`, customerId: 'G1', balance: 0 })) });

  await postSettlement(addDays(T, -32)); // in grace
  assert.is(Number((await installment(g1)).penalty_fen), 0);
  assert.is(Number((await openHold('G1'))?.amount_fen), 1_002_800);
  for (const [day, total] of [[-31, 600], [-30, 1_200], [-29, 1_800]] as const) {
    await postSettlement(addDays(T, day));
    const i = await installment(g1);
    assert.equal([Number(i.penalty_fen), i.penalty_through], [total, addDays(T, day)], `day ${day}`);
    // the hold is what is unpaid of what fell due, penalty included
    assert.is(Number((await openHold('G1'))?.amount_fen), 1_002_800 + total);
  }
  // the same date again (a chunk delivered twice): nothing more
  const again = await accrueChunkPenalties(w.t.db, addDays(T, -29), { fromKey: '', toKey: null }, now);
  assert.equal(again, { installments: 0, loans: 0, amount: 0 });
  // nineteen days without a batch, then one: caught up at 6.00 a day
  await postSettlement(addDays(T, -10));
  assert.is(Number((await installment(g1)).penalty_fen), 22 * 600);
  // in the books as it accrued: receivable against income, the trial balance zero
  assert.equal([await account('penalty.receivable'), await account('penalty.income')], [13_200, -13_200]);
  assert.equal(await w.ledgerOk(), { balanced: true, agrees: true });
});

test('money that arrives pays the penalty, then the interest, then the principal; the rest keeps accruing on what is still overdue', async () => {
  await w.admin('/admin/settle', { lines: [{ accountId: 'G1-A', amount: 500_000 }] });
  const m = await monitorHolds(c, `ov:${addDays(T, -10)}`);
  assert.is(m.collectedFen, 500_000);
  const i = await installment(g1);
  assert.equal([Number(i.paid_penalty_fen), Number(i.paid_interest_fen), Number(i.paid_principal_fen)], [13_200, 2_800, 484_000]);
  assert.is(await account('penalty.receivable'), 0);
  // ten more days on 5,160.00: 3.096 → 3.10 a day
  await postSettlement(T);
  assert.is(Number((await installment(g1)).penalty_fen), 13_200 + 10 * 310);
  const shown = await runLendpay(w, ['customer', 'show', 'G1', '--json']);
  assert.is(shown.code, 0, shown.stderr);
  const loan = JSON.parse(shown.stdout).loans.find((l: { id: string }) => l.id === g1);
  assert.equal([loan.product, loan.penalty, loan.unpaid], ['bullet-7', '31.00', '5191.00']);
  const api = await app.inject({ method: 'GET', url: '/customers/G1', headers: readHeaders(TOKEN) });
  assert.equal(api.json().loans.map((l: Record<string, string>) => [l.id, l.penalty, l.unpaid]), [[g1, '31.00', '5191.00']]);
  const l = await app.inject({ method: 'GET', url: `/loans/${g1}`, headers: readHeaders(TOKEN) });
  assert.equal(l.json().loan.installments.map((x: Record<string, string>) => [x.penalty, x.paid, x.status]), [['163.00', '5000.00', 'overdue']]);
});

test('the payoff (API) closes the loan on hold: quote, payment from a card, hold cleared, outflow block lifted', async () => {
  now = at(T);
  const q = await app.inject({ method: 'GET', url: `/loans/${g1}/payoff`, headers: readHeaders(TOKEN) });
  assert.equal(q.json(), {
    loanId: g1, date: T, principal: '5160.00', prepaidPrincipal: '0.00', interestDue: '0.00', interestAccrued: '0.00', penalty: '31.00', fee: '0.00', total: '5191.00', currentPeriod: null,
  });
  assert.ok((await w.deps.channel.balance('G1-A')).found && ((await w.deps.channel.balance('G1-A')) as { frozenOutflow: boolean }).frozenOutflow, 'blocked while on hold');
  await w.admin('/admin/accounts', { cards: [{ id: 'G1-K1', customerId: 'G1', bank: 'CMB', last4: '9651', balance: 1_000_000 }] });
  const post = (body: unknown, key: string) => app.inject({
    method: 'POST', url: `/loans/${g1}/prepayments`, payload: body as object,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': key },
  });
  const tooMuch = await post({ cardId: 'G1-K1', amount: '5191.01' }, 'ov-pay-0');
  assert.is(tooMuch.statusCode, 422);
  assert.is(tooMuch.json().error, 'OVERPAYMENT');
  const r = await post({ cardId: 'G1-K1' }, 'ov-pay-1');
  assert.is(r.statusCode, 201, r.body);
  const b = r.json();
  assert.equal([b.order.amount, b.order.status, b.loanClosed, b.holdCleared], ['5191.00', 'succeeded', true, true]);
  assert.is(b.prepayment, `5191.00 on ${T}: principal 5160.00, interest 0.00, penalty 31.00, prepayment fee 0.00; the loan is paid off and closed`);
  assert.is((await w.t.db.selectFrom('loans').select('status').where('id', '=', g1).executeTakeFirstOrThrow()).status, 'closed');
  assert.is(await openHold('G1'), undefined);
  assert.not.ok(((await w.deps.channel.balance('G1-A')) as { frozenOutflow: boolean }).frozenOutflow, 'block lifted on the platform');
  assert.is(await account('penalty.receivable'), 0);
  assert.equal(await w.ledgerOk(), { balanced: true, agrees: true });
  // a closed loan no longer uses the customer's credit
  const credit = await w.t.db.transaction().execute((trx) => creditOfCustomers(trx, ['G1'], T));
  assert.is(credit.get('G1')!.outstanding, 0);
});

test('a loan repaid in full by an ordinary card repayment is closed too', async () => {
  now = at(T);
  const r = await applyForProduct(w.deps, rules.products, { customerId: 'G3', amount: parseYuan('300.00'), rail: 'balance', requestId: 'ov-g3', product: 'daily-30' });
  assert.ok(r.ok && r.loan.status === 'disbursed');
  const id = r.ok ? r.loan.id : '';
  const owed = await w.t.db.selectFrom('installments').select((eb) => eb.fn.sum<number>(sql`principal_fen + interest_fen`).as('n')).where('loan_id', '=', id).executeTakeFirstOrThrow();
  await w.admin('/admin/accounts', { cards: [{ id: 'G3-K1', customerId: 'G3', bank: 'CMB', last4: '1111', balance: 100_000 }] });
  const part = await repayFromCard(c, { loanId: id, cardId: 'G3-K1', amount: 100 as Fen, requestId: 'ov-g3-1' });
  assert.ok(part.ok);
  assert.is((await w.t.db.selectFrom('loans').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status, 'disbursed');
  const rest = await repayFromCard(c, { loanId: id, cardId: 'G3-K1', amount: (Number(owed.n) - 100) as Fen, requestId: 'ov-g3-2' });
  assert.ok(rest.ok && rest.order.status === 'succeeded');
  const loan = await w.t.db.selectFrom('loans').select(['status', 'closed_at']).where('id', '=', id).executeTakeFirstOrThrow();
  assert.is(loan.status, 'closed');
  assert.ok(loan.closed_at !== null);
});

test('a partial prepayment (API) pays principal off the last installments and says so; the CLI pays the rest off', async () => {
  now = at(addDays(T, -5));
  const r = await applyForProduct(w.deps, rules.products, { customerId: 'G2', amount: parseYuan('10000.00'), rail: 'card', requestId: 'ov-g2', product: 'monthly-equal', term: 6 });
  assert.ok(r.ok && r.loan.status === 'disbursed', JSON.stringify(r));
  g2 = r.ok ? r.loan.id : '';
  now = at(T);
  await w.admin('/admin/accounts', { cards: [{ id: 'G2-K1', customerId: 'G2', bank: 'CMB', last4: '1234', balance: 2_000_000 }] });
  const before = await w.t.db.selectFrom('installments').select(['no', 'due_date', 'principal_fen', 'interest_fen']).where('loan_id', '=', g2).orderBy('no').execute();
  const p = await app.inject({
    method: 'POST', url: `/loans/${g2}/prepayments`, payload: { cardId: 'G2-K1', amount: '3000.00' },
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': 'ov-part-1' },
  });
  assert.is(p.statusCode, 201, p.body);
  // nothing is due yet: 3,000.00 buys 2,970.29 of principal and 29.71 of fee (1 %)
  const last = Number(before[5]!.principal_fen);
  assert.match(p.json().prepayment, new RegExp(`^3000\\.00 on ${T}: principal 2970\\.29 \\(2970\\.29 of it before its due date\\), interest 0\\.00, penalty 0\\.00, prepayment fee 29\\.71; .* of interest no longer owed; installment 6 paid off early: the loan now ends on ${addMonthsClamped(addDays(T, -5), 5)} instead of ${addMonthsClamped(addDays(T, -5), 6)}$`));
  const after = await w.t.db.selectFrom('installments').select(['no', 'paid_principal_fen', 'interest_fen', 'paid_interest_fen']).where('loan_id', '=', g2).orderBy('no').execute();
  assert.equal(after.map((i) => Number(i.paid_principal_fen)), [0, 0, 0, 0, 297_029 - last, last]);
  assert.is(Number(after[5]!.interest_fen), 0, 'installment 6: its interest waived');
  assert.is((await w.t.db.selectFrom('loans').select('status').where('id', '=', g2).executeTakeFirstOrThrow()).status, 'disbursed');
  // the CLI: the payoff quote, then --prepay with no amount pays it and closes the loan
  const quote = await runLendpay(w, ['loan', 'payoff', g2, '--json']);
  assert.is(quote.code, 0, quote.stderr);
  const q = JSON.parse(quote.stdout);
  assert.equal([q.principal, q.interestDue], [(7_029.71).toFixed(2), '0.00']);
  const paid = await runLendpay(w, ['repay', '--loan', g2, '--card', 'G2-K1', '--prepay', '--request-id', 'ov-cli-1']);
  assert.is(paid.code, 0, paid.stderr);
  assert.match(paid.stdout, new RegExp(`prepayment order \\d+ succeeded: ${q.total.replace('.', '\\.')} from G2-K1`));
  assert.match(paid.stdout, new RegExp(`loan ${g2} closed`));
  const refused = await runLendpay(w, ['repay', '--loan', g2, '--card', 'G2-K1', '--prepay', '--request-id', 'ov-cli-2']);
  assert.is(refused.code, 3);
  assert.match(refused.stderr, /LOAN_NOT_REPAYABLE: loan .* is closed/);
  assert.equal(await w.ledgerOk(), { balanced: true, agrees: true });
  assert.ok((await account('fee.income')) < -2_971, 'both prepayments\' fees are income');
});

test('the day\'s vouchers book the penalty accrual and the prepayments, equal to the journal', async () => {
  const day = await exportVouchers(w.t.db, rules.accounts, T, 'type');
  const types = day.vouchers.map((v) => v.eventType);
  for (const t of ['penalty_accrual', 'prepayment'] as const) assert.ok(types.includes(t), types.join(','));
  const pre = day.vouchers.find((v) => v.eventType === 'prepayment')!;
  assert.ok(pre.lines.some((l) => l.subjectCode === '602101' && l.credit > 0), 'the fee, on its subject');
  assert.ok(pre.lines.some((l) => l.subjectCode === '113202' && l.credit === 3_100), 'the penalty paid settles its receivable');
  const accrual = day.vouchers.find((v) => v.eventType === 'penalty_accrual')!;
  assert.equal(accrual.lines.map((l) => [l.subjectCode, l.debit, l.credit]), [['113202', 3_100, 0], ['601102', 0, 3_100]]);
});

test.run();
