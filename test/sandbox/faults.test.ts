import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarness, type Harness } from './setup.ts';
import { decideFault, parseFaultPlan } from '../../src/sandbox/faults.ts';
import type { DebitRequest } from '../../src/channel/types.ts';
import type { Fen } from '../../src/money.ts';

let h: Harness;
const fen = (n: number) => n as Fen;

test.before(async () => {
  h = await startHarness('sandbox_faults', 500);
  await h.admin('POST', '/admin/accounts', {
    accounts: [
      { id: 'LENDER', customerId: 'lender', balance: 10_000_000 },
      { id: 'B', customerId: 'b', balance: 0 },
    ],
  });
});
test.after(async () => {
  await h.close();
});

const faults = (body: unknown) => h.admin('POST', '/admin/faults', body);
const pay = (requestId: string, amount = 100) => h.channel.payout({ requestId, fromAccountId: 'LENDER', to: { kind: 'account', accountId: 'B' }, amount: fen(amount) });
const movements = async (requestId: string) => (await h.admin('GET', `/admin/movements?requestId=${requestId}`)).body.movements.length;

test('decisions are a pure function of seed and request id: replayable, and rates hold', () => {
  const plan = parseFaultPlan({ seed: 7, rules: [{ op: 'payout', rate: 0.2, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }, { op: '*', kind: 'delay', ms: 200, rate: 0.5 }] });
  const ids = Array.from({ length: 2000 }, (_, i) => `r${i}`);
  const a = ids.map((id) => decideFault(plan, 'payout', id, 1));
  assert.equal(a, ids.map((id) => decideFault(plan, 'payout', id, 1)));
  const failRate = a.filter((d) => d.fail).length / ids.length;
  const delayRate = a.filter((d) => d.delayMs === 200).length / ids.length;
  assert.ok(failRate > 0.17 && failRate < 0.23, `fail rate ${failRate}`);
  assert.ok(delayRate > 0.46 && delayRate < 0.54, `delay rate ${delayRate}`);
  assert.not.ok(ids.some((id) => decideFault(plan, 'debit', id, 1).fail), 'a payout rule does not touch debits');
  const other = parseFaultPlan({ seed: 8, rules: plan.rules });
  assert.not.equal(ids.map((id) => !!decideFault(other, 'payout', id, 1).fail), a.map((d) => !!d.fail));
  assert.throws(() => parseFaultPlan({ seed: 1, rules: [{ op: 'payout', kind: 'fail', code: 'NOPE' }] }), /\$\.rules\[0\]\.code/);
  assert.throws(() => parseFaultPlan({ seed: 1, rules: [{ op: 'debit', kind: 'timeout' }] }), /\$\.rules\[0\]\.applied/);
});

test('an injected failure is recorded: a resend of the same id answers the same failure', async () => {
  assert.is((await faults({ seed: 1, rules: [{ op: 'payout', rate: 1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }] })).status, 200);
  const o = await pay('f-1');
  assert.is(o.status === 'failed' && o.code, 'CHANNEL_UNAVAILABLE');
  await faults({ seed: 1, rules: [] });
  assert.equal(await pay('f-1'), o);
  assert.is(await movements('f-1'), 0);
});

test('timeout, applied: the caller sees unknown, the query finds it applied, a resend does not pay twice', async () => {
  await faults({ seed: 2, rules: [{ op: 'payout', rate: 1, kind: 'timeout', applied: true }] });
  const o = await pay('t-applied');
  assert.is(o.status, 'unknown');
  await faults({ seed: 2, rules: [] });
  const q = await h.channel.query('t-applied');
  assert.is(q.status, 'succeeded');
  const again = await pay('t-applied');
  assert.is(again.status === 'succeeded' && q.status === 'succeeded' && again.platformRef === q.platformRef, true);
  assert.is(await movements('t-applied'), 1);
});

test('timeout, not applied: unknown, the query finds nothing, the resend applies once', async () => {
  await faults({ seed: 3, rules: [{ op: 'payout', rate: 1, kind: 'timeout', applied: false }] });
  const before = (await h.channel.balance('B')) as { balance: number };
  assert.is((await pay('t-lost', 250)).status, 'unknown');
  assert.equal(await h.channel.query('t-lost'), { requestId: 't-lost', status: 'not_found' });
  assert.is(((await h.channel.balance('B')) as { balance: number }).balance, before.balance);
  await faults({ seed: 3, rules: [] });
  assert.is((await pay('t-lost', 250)).status, 'succeeded');
  assert.is(((await h.channel.balance('B')) as { balance: number }).balance, before.balance + 250);
});

test('a hang past the client timeout is unknown too, and the server still answers the truth afterwards', async () => {
  await faults({ seed: 4, rules: [{ op: 'debit', rate: 1, kind: 'timeout', applied: true, ms: 1500 }] });
  const started = Date.now();
  const o = await h.channel.debit({ requestId: 't-hang', fromAccountId: 'LENDER', toAccountId: 'B', amount: fen(1) });
  assert.is(o.status, 'unknown');
  assert.match(o.status === 'unknown' ? o.reason : '', /no answer within 500 ms/);
  assert.ok(Date.now() - started < 1400);
  assert.is((await h.channel.query('t-hang')).status, 'succeeded');
  await faults({ seed: 4, rules: [] });
});

test('a batch hit by a timeout: every item unknown, queries tell which were applied, resending settles the rest once', async () => {
  await faults({ seed: 5, rules: [{ op: 'debit', rate: 0.5, kind: 'timeout', applied: false }, { op: 'debit', rate: 0.3, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }] });
  const batch: DebitRequest[] = Array.from({ length: 40 }, (_, i) => ({ requestId: `bt-${i}`, fromAccountId: 'LENDER', toAccountId: 'B', amount: fen(10) }));
  const outs = await h.channel.debitBatch(batch);
  assert.ok(outs.every((o) => o.status === 'unknown'));
  const q = await h.channel.queryMany(batch.map((b) => b.requestId));
  const lost = q.filter((r) => r.status === 'not_found').length;
  const failed = q.filter((r) => r.status === 'failed').length;
  const ok = q.filter((r) => r.status === 'succeeded').length;
  assert.ok(lost > 0 && failed > 0 && ok > 0, `lost ${lost} failed ${failed} ok ${ok}`);
  await faults({ seed: 5, rules: [] });
  const again = await h.channel.debitBatch(batch);
  assert.is(again.filter((o) => o.status === 'succeeded').length, lost + ok);
  assert.is(again.filter((o) => o.status === 'failed').length, failed, 'recorded failures stand');
  for (const b of batch) assert.ok((await movements(b.requestId)) <= 1);
});

test('delays slow the answer without changing it', async () => {
  await faults({ seed: 6, rules: [{ op: '*', kind: 'delay', ms: 150, rate: 1 }] });
  const started = Date.now();
  const o = await pay('delayed');
  assert.is(o.status, 'succeeded');
  assert.ok(Date.now() - started >= 140);
  await faults({ seed: 6, rules: [] });
});

test('connection refused is unknown for money, a retryable error for reads', async () => {
  const { createHttpChannel } = await import('../../src/channel/http-channel.ts');
  const dead = createHttpChannel({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 500 });
  const o = await dead.debit({ requestId: 'x', fromAccountId: 'LENDER', toAccountId: 'B', amount: fen(1) });
  assert.is(o.status, 'unknown');
  const err = await dead.balance('B').catch((e) => e);
  assert.is(err.code, 'CHANNEL_UNAVAILABLE');
  assert.is(err.retryable, true);
});

test.run();
