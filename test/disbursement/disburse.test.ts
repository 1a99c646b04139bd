// Disbursement against the real sandbox over HTTP: exactly one payout per loan on
// the platform's own records, whatever repeats, times out or crashes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { world, LENDER, type World } from './setup.ts';
import { applyForLoan, recoverOpenAttempts } from '../../src/disbursement/disburse.ts';
import { ordersOfLoan, attemptsOf } from '../../db/orders.repository.ts';
import { getLoan, getLoanByRequest } from '../../db/loans.repository.ts';
import type { Fen } from '../../src/money.ts';

let w: World;
const yuan = (n: number) => (n * 100) as Fen;

test.before(async () => {
  w = await world('disburse');
});
test.after(async () => {
  await w.close();
});
test.after.each(async () => {
  await w.admin('/admin/faults', { seed: 0, rules: [] });
  assert.equal(await w.ledgerOk(), { balanced: true, agrees: true }, 'trial balance zero and lendpay agrees with the platform');
});

async function payoutsOnPlatform(loanId: string): Promise<any[]> {
  const { movements } = await w.adminGet(`/admin/movements?limit=10000`);
  return movements.filter((m: any) => String(m.requestId).startsWith(`disburse:${loanId}:payout`));
}

test('a compliant disbursement collects into the lender account, then pays the borrower', async () => {
  const res = await applyForLoan(w.deps, { customerId: 'G1', amount: yuan(50_000), rail: 'balance', requestId: 'req-g1' });
  assert.ok(res.ok, JSON.stringify(res));
  if (!res.ok) return;
  assert.is(res.loan.status, 'disbursed');
  const orders = await ordersOfLoan(w.deps.db, res.loan.id);
  assert.equal(orders.map((o) => [o.purpose, o.status]), [['disburse.fund', 'succeeded'], ['disburse.payout', 'succeeded']]);
  const bal = await w.deps.channel.balance('G1-A');
  assert.is(bal.found && bal.balance, 5_000_000 + 1_000, 'borrower received 50,000.00 on top of 10.00');
  assert.is((await payoutsOnPlatform(res.loan.id)).length, 1);
  assert.ok(res.loan.expectedArrivalAt, 'a balance payout arrives at once');
});

test('50 concurrent applies with one request id give one loan and one payout on the platform', async () => {
  const results = await Promise.all(Array.from({ length: 50 }, () => applyForLoan(w.deps, { customerId: 'G2', amount: yuan(1_000), rail: 'balance', requestId: 'req-g2' })));
  const ids = new Set(results.map((r) => (r.ok ? r.loan.id : `refused:${r.code}`)));
  assert.is(ids.size, 1, [...ids].join(','));
  const loan = await getLoanByRequest(w.deps.db, 'req-g2');
  assert.is(loan?.status, 'disbursed');
  assert.is((await payoutsOnPlatform(loan!.id)).length, 1);
  assert.is(results.filter((r) => r.ok && !r.replay).length, 1, 'exactly one call created it');
});

test('the same request id with a different amount is refused', async () => {
  const res = await applyForLoan(w.deps, { customerId: 'G1', amount: yuan(49_000), rail: 'balance', requestId: 'req-g1' });
  assert.equal(res.ok ? 'ok' : res.code, 'REQUEST_ID_REUSED');
});

test('ineligible customers, amounts over the available limit and legacy mode are refused with a code', async () => {
  const x = await applyForLoan(w.deps, { customerId: 'X1', amount: yuan(100), rail: 'balance', requestId: 'req-x1' });
  assert.equal(x.ok ? 'ok' : x.code, 'INELIGIBLE');
  // G1 has 300,000.00 and 50,000.00 outstanding
  const over = await applyForLoan(w.deps, { customerId: 'G1', amount: yuan(250_001), rail: 'balance', requestId: 'req-g1-2' });
  assert.equal(over.ok ? 'ok' : over.code, 'LIMIT_EXCEEDED');
  const nobody = await applyForLoan(w.deps, { customerId: 'NOPE', amount: yuan(1), rail: 'balance', requestId: 'req-nope' });
  assert.equal(nobody.ok ? 'ok' : nobody.code, 'CUSTOMER_NOT_FOUND');
  const legacy = await applyForLoan(w.deps, { customerId: 'G3', amount: yuan(1), rail: 'balance', requestId: 'req-legacy', mode: 'legacy' });
  assert.equal(legacy.ok ? 'ok' : legacy.code, 'LEGACY_MODE_DISABLED');
  const ok = await applyForLoan({ ...w.deps, allowLegacyMode: true }, { customerId: 'G3', amount: yuan(1), rail: 'balance', requestId: 'req-legacy-on', mode: 'legacy' });
  assert.ok(ok.ok && ok.loan.status === 'disbursed');
});

test('a failed collection leg means no payout', async () => {
  await w.admin('/admin/faults', { seed: 1, rules: [{ op: 'collect', rate: 1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }] });
  const res = await applyForLoan(w.deps, { customerId: 'G4', amount: yuan(1_000), rail: 'card', requestId: 'req-g4' });
  assert.ok(res.ok);
  if (!res.ok) return;
  assert.is(res.loan.status, 'failed');
  const orders = await ordersOfLoan(w.deps.db, res.loan.id);
  assert.equal(orders.map((o) => [o.purpose, o.status, o.errorCode]), [['disburse.fund', 'failed', 'CHANNEL_UNAVAILABLE']]);
  const { requests } = await w.adminGet('/admin/requests?limit=10000');
  assert.is(requests.filter((r: any) => String(r.requestId).startsWith(`disburse:${res.loan.id}:payout`)).length, 0);
});

test('a payout timeout the platform applied is resolved by query, with exactly one payout', async () => {
  await w.admin('/admin/faults', { seed: 2, rules: [{ op: 'payout', rate: 1, kind: 'timeout', applied: true, ms: 3000 }] });
  const res = await applyForLoan(w.deps, { customerId: 'G5', amount: yuan(2_000), rail: 'balance', requestId: 'req-g5' });
  assert.ok(res.ok);
  if (!res.ok) return;
  assert.is(res.loan.status, 'disbursing', 'outcome unknown: not yet disbursed');
  const payout = (await ordersOfLoan(w.deps.db, res.loan.id)).find((o) => o.purpose === 'disburse.payout')!;
  assert.is(payout.status, 'unknown');
  await w.admin('/admin/faults', { seed: 0, rules: [] });
  const report = await recoverOpenAttempts(w.deps, { olderThanMs: 0 });
  assert.is(report.resent, 0, 'the platform had it: queried, not resent');
  assert.is((await getLoan(w.deps.db, res.loan.id))?.status, 'disbursed');
  assert.is((await payoutsOnPlatform(res.loan.id)).length, 1);
  assert.is((await attemptsOf(w.deps.db, payout.id)).length, 1, 'no second attempt');
});

test('a payout timeout the platform did not apply is resent under the same request id', async () => {
  await w.admin('/admin/faults', { seed: 3, rules: [{ op: 'payout', rate: 1, kind: 'timeout', applied: false, ms: 3000 }] });
  const res = await applyForLoan(w.deps, { customerId: 'G6', amount: yuan(3_000), rail: 'card', requestId: 'req-g6' });
  assert.ok(res.ok && res.loan.status === 'disbursing');
  await w.admin('/admin/faults', { seed: 0, rules: [] });
  const report = await recoverOpenAttempts(w.deps, { olderThanMs: 0 });
  assert.is(report.resent, 1);
  const loan = await getLoan(w.deps.db, res.ok ? res.loan.id : '');
  assert.is(loan?.status, 'disbursed');
  assert.is((await payoutsOnPlatform(loan!.id)).length, 1);
});

test('a process killed between submitting the payout and recording it is recovered by query', async () => {
  const bin = path.resolve('src/cli/bin.js');
  const child = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
    const p = execFile(process.execPath, [bin, 'loan', 'apply', '--customer', 'G7', '--amount', '7000.00', '--to', 'balance', '--request-id', 'req-g7'], {
      env: { ...process.env, DATABASE_URL: w.t.url, LENDPAY_CHANNEL_URL: w.server.url, LENDPAY_CRASH_POINT: 'after-send:disburse.payout' },
    }, (_err, _out, stderr) => resolve({ code: p.exitCode, signal: p.signalCode, stderr }));
  });
  assert.is(child.signal, 'SIGKILL', child.stderr);
  const loan = await getLoanByRequest(w.deps.db, 'req-g7');
  assert.is(loan?.status, 'disbursing');
  const payout = (await ordersOfLoan(w.deps.db, loan!.id)).find((o) => o.purpose === 'disburse.payout')!;
  assert.is(payout.status, 'submitted', 'the intent was recorded before the call');
  assert.is((await payoutsOnPlatform(loan!.id)).length, 1, 'the platform did pay');
  await recoverOpenAttempts(w.deps, { olderThanMs: 0 });
  assert.is((await getLoan(w.deps.db, loan!.id))?.status, 'disbursed');
  assert.is((await payoutsOnPlatform(loan!.id)).length, 1, 'still exactly one payout');
  const bal = await w.deps.channel.balance(LENDER.accountId);
  assert.is(bal.found && bal.balance, 0, 'everything collected was paid out');
});

test.run();
