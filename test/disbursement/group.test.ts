// Group commit of loan applications (issue 14): requests that arrive together are
// disbursed together — one transaction per phase and one platform call per leg for the
// whole group — and each caller still gets its own answer, its own error and its own
// idempotency. Against the real sandbox over HTTP and a real PostgreSQL.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { world, type World } from './setup.ts';
import { applyForLoan, disburseGroup, groupOf, type ApplyInput, type DisburseDeps } from '../../src/disbursement/disburse.ts';
import { ordersOfLoan } from '../../db/orders.repository.ts';
import { statementsSent } from '../../db/connection.ts';
import type { Fen } from '../../src/money.ts';

let w: World;
const yuan = (n: number) => (n * 100) as Fen;

test.before(async () => {
  w = await world('group', { customers: 30 });
});
test.after(async () => {
  await w.close();
});
test.after.each(async () => {
  await w.admin('/admin/faults', { seed: 0, rules: [] });
  assert.equal(await w.ledgerOk(), { balanced: true, agrees: true }, 'trial balance zero and lendpay agrees with the platform');
});

async function payoutsOnPlatform(): Promise<Map<string, number>> {
  const { movements } = await w.adminGet('/admin/movements?limit=10000');
  const out = new Map<string, number>();
  for (const m of movements) {
    const loan = /^disburse:([^:]+):payout/.exec(String(m.requestId))?.[1];
    if (loan && m.kind === 'payout') out.set(loan, (out.get(loan) ?? 0) + m.amount);
  }
  return out;
}

test('applications that arrive together share one group: each caller gets its own disbursed loan', async () => {
  const deps: DisburseDeps = { ...w.deps, grouping: { maxWaitMs: 50, maxSize: 100, concurrency: 1 } };
  const inputs: ApplyInput[] = Array.from({ length: 12 }, (_, i) => ({ customerId: `G${i + 1}`, amount: yuan(1000 + i), rail: 'balance', requestId: `grp-a-${i}` }));
  const results = await Promise.all(inputs.map((x) => applyForLoan(deps, x)));
  const g = groupOf(deps)!;
  assert.is(g.stats.groups, 1, 'twelve applications made together were one group');
  assert.is(g.stats.items, 12);
  const paid = await payoutsOnPlatform();
  results.forEach((r, i) => {
    assert.ok(r.ok, JSON.stringify(r));
    if (!r.ok) return;
    assert.is(r.loan.customerId, `G${i + 1}`, 'each answer is its own caller\'s');
    assert.is(r.loan.principal, yuan(1000 + i));
    assert.is(r.loan.status, 'disbursed');
    assert.equal(r.orders?.map((o) => [o.purpose, o.status]), [['disburse.fund', 'succeeded'], ['disburse.payout', 'succeeded']]);
    assert.is(paid.get(r.loan.id), yuan(1000 + i), 'paid out once, in full, on the platform');
  });
});

test('a group costs the same statements whatever its size: one set-based statement per phase', async () => {
  const one = statementsSent();
  const [r1] = await disburseGroup(w.deps, [{ customerId: 'G13', amount: yuan(100), rail: 'balance', requestId: 'grp-b-alone' }]);
  const forOne = statementsSent() - one;
  assert.ok(r1?.ok && r1.value.ok && r1.value.loan.status === 'disbursed');
  const many = statementsSent();
  const rs = await disburseGroup(w.deps, Array.from({ length: 10 }, (_, i) => ({ customerId: `G${14 + i}`, amount: yuan(100), rail: 'balance' as const, requestId: `grp-b-${i}` })));
  const forTen = statementsSent() - many;
  assert.ok(rs.every((r) => r.ok && r.value.ok && r.value.loan.status === 'disbursed'));
  assert.is(forTen, forOne, `a group of ten sent ${forTen} statements, a group of one ${forOne}`);
});

test('one bad request never fails the others: each gets its own refusal or error', async () => {
  const rs = await disburseGroup(w.deps, [
    { customerId: 'G24', amount: yuan(500), rail: 'balance', requestId: 'grp-c-ok-1' },
    { customerId: 'NOPE', amount: yuan(500), rail: 'balance', requestId: 'grp-c-nobody' },
    { customerId: 'G25', amount: yuan(5_000_000), rail: 'balance', requestId: 'grp-c-too-much' },
    { customerId: 'X1', amount: yuan(500), rail: 'balance', requestId: 'grp-c-ineligible' },
    { customerId: 'G26', amount: yuan(500), rail: 'balance', requestId: 'bad id with spaces' },
    { customerId: 'G27', amount: yuan(500), rail: 'balance', requestId: 'grp-c-bad-schedule', schedule: [{ no: 1, dueDate: '2030-01-01' as never, principal: yuan(1), interest: 0 as Fen }] },
    { customerId: 'G28', amount: yuan(500), rail: 'card', destinationId: 'G1-K1', requestId: 'grp-c-not-theirs' },
    { customerId: 'G29', amount: yuan(500), rail: 'balance', requestId: 'grp-c-ok-2' },
  ]);
  const what = rs.map((r) => (!r.ok ? `error ${(r.error as { code?: string }).code}` : r.value.ok ? r.value.loan.status : r.value.code));
  assert.equal(what, ['disbursed', 'CUSTOMER_NOT_FOUND', 'LIMIT_EXCEEDED', 'INELIGIBLE', 'error INVALID_INPUT', 'error INVALID_INPUT', 'DESTINATION_NOT_FOUND', 'disbursed']);
  const loans = await w.t.db.selectFrom('loans').select('request_id').where('request_id', 'like', 'grp-c-%').execute();
  assert.equal(loans.map((l) => l.request_id).sort(), ['grp-c-ok-1', 'grp-c-ok-2'], 'nothing written for the refused ones');
});

test('the credit limit holds across a group: two loans of one customer together cannot exceed it', async () => {
  // G30's limit is 300,000.00 (half of six months of 100,000.00), nothing outstanding
  const rs = await disburseGroup(w.deps, [
    { customerId: 'G30', amount: yuan(200_000), rail: 'balance', requestId: 'grp-d-1' },
    { customerId: 'G30', amount: yuan(200_000), rail: 'balance', requestId: 'grp-d-2' },
    { customerId: 'G30', amount: yuan(100_000), rail: 'balance', requestId: 'grp-d-3' },
  ]);
  const what = rs.map((r) => (r.ok ? (r.value.ok ? r.value.loan.status : r.value.code) : 'error'));
  assert.equal(what, ['disbursed', 'LIMIT_EXCEEDED', 'disbursed'], 'in arrival order: the second would exceed, the third fits');
});

test('a request id twice in one group makes one loan; the second is its replay, or refused if the request differs', async () => {
  const rs = await disburseGroup(w.deps, [
    { customerId: 'G2', amount: yuan(700), rail: 'balance', requestId: 'grp-e-twice' },
    { customerId: 'G2', amount: yuan(700), rail: 'balance', requestId: 'grp-e-twice' },
    { customerId: 'G2', amount: yuan(701), rail: 'balance', requestId: 'grp-e-twice' },
  ]);
  const [a, b, c] = rs.map((r) => (r.ok ? r.value : null));
  assert.ok(a?.ok && !a.replay);
  assert.ok(b?.ok && b.replay);
  if (a?.ok && b?.ok) assert.is(b.loan.id, a.loan.id);
  assert.ok(c && !c.ok && c.code === 'REQUEST_ID_REUSED');
  const loans = await w.t.db.selectFrom('loans').select('id').where('request_id', '=', 'grp-e-twice').execute();
  assert.is(loans.length, 1);
  const again = await disburseGroup(w.deps, [{ customerId: 'G2', amount: yuan(700), rail: 'balance', requestId: 'grp-e-twice' }]);
  const later = again[0]?.ok ? again[0].value : null;
  assert.ok(later?.ok && later.replay, 'a later group replays it too');
});

test('a payout the platform refuses for one loan leaves the rest of the group disbursed', async () => {
  // G3's primary account is frozen on the platform: its payout fails, the others' do not
  await w.admin('/admin/accounts', { accounts: [{ id: 'G3-A', customerId: 'G3', balance: 1000, frozen: true }] });
  const rs = await disburseGroup(w.deps, [
    { customerId: 'G4', amount: yuan(300), rail: 'balance', requestId: 'grp-f-1' },
    { customerId: 'G3', amount: yuan(300), rail: 'balance', requestId: 'grp-f-frozen' },
    { customerId: 'G5', amount: yuan(300), rail: 'balance', requestId: 'grp-f-2' },
  ]);
  const loans = rs.map((r) => (r.ok && r.value.ok ? r.value.loan : null));
  assert.is(loans[0]?.status, 'disbursed');
  assert.is(loans[2]?.status, 'disbursed');
  assert.is(loans[1]?.status, 'failed', 'no escalation rules here: the failed payout fails its loan');
  const orders = await ordersOfLoan(w.t.db, loans[1]!.id);
  assert.equal(orders.map((o) => [o.purpose, o.status, o.errorCode]), [['disburse.fund', 'succeeded', null], ['disburse.payout', 'failed', 'ACCOUNT_FROZEN']]);
  const paid = await payoutsOnPlatform();
  assert.not.ok(paid.has(loans[1]!.id));
  await w.admin('/admin/accounts', { accounts: [{ id: 'G3-A', customerId: 'G3', balance: 1000, frozen: false }] });
});

test.run();
