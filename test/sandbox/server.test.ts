import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarness, type Harness } from './setup.ts';
import type { Fen } from '../../src/money.ts';
import { LendpayError } from '../../src/errors.ts';

let h: Harness;
const fen = (n: number) => n as Fen;
const CARD_NUMBER = '6222020200112233445';

test.before(async () => {
  h = await startHarness('sandbox_server');
  const r = await h.admin('POST', '/admin/accounts', {
    accounts: [
      { id: 'LENDER', customerId: 'lender', balance: 0 },
      { id: 'B1-A', customerId: 'b1', balance: 10_000 },
      { id: 'B1-B', customerId: 'b1', balance: 500 },
      { id: 'B2-A', customerId: 'b2', balance: 0 },
      { id: 'JUDICIAL', customerId: 'b3', balance: 1000, frozen: true },
    ],
    cards: [
      { id: 'FUND', customerId: 'lender', bank: 'ICBC', cardNumber: '6222020200000000001', balance: 100_000_000 },
      { id: 'B1-K', customerId: 'b1', bank: 'CCB', cardNumber: CARD_NUMBER, balance: 0 },
      { id: 'B2-K', customerId: 'b2', bank: 'ABC', cardNumber: '6228480000000000002', balance: 0, valid: false },
    ],
  });
  assert.is(r.status, 200, r.text);
});
test.after(async () => {
  await h.close();
});

async function bal(id: string): Promise<number> {
  const b = await h.channel.balance(id);
  if (!b.found) throw new Error(`no account ${id}`);
  return b.balance;
}

test('collect moves money from a card to a balance account; an unknown account fails with a code', async () => {
  const ok = await h.channel.collect({ requestId: 'c-1', cardId: 'FUND', toAccountId: 'LENDER', amount: fen(5_000_000) });
  assert.is(ok.status, 'succeeded');
  assert.is(await bal('LENDER'), 5_000_000);
  const missing = await h.channel.collect({ requestId: 'c-2', cardId: 'FUND', toAccountId: 'NOPE', amount: fen(1) });
  assert.equal([missing.status, missing.status === 'failed' && missing.code], ['failed', 'ACCOUNT_NOT_FOUND']);
  const badCard = await h.channel.collect({ requestId: 'c-3', cardId: 'B2-K', toAccountId: 'LENDER', amount: fen(1) });
  assert.is(badCard.status === 'failed' && badCard.code, 'CARD_INVALID');
});

test('50 concurrent identical payouts apply once and all answer the first outcome', async () => {
  const req = { requestId: 'p-dup', fromAccountId: 'LENDER', to: { kind: 'account' as const, accountId: 'B2-A' }, amount: fen(12_345) };
  const before = await bal('LENDER');
  const outs = await Promise.all(Array.from({ length: 50 }, () => h.channel.payout(req)));
  const refs = new Set(outs.map((o) => (o.status === 'succeeded' ? o.platformRef : o.status)));
  assert.is(refs.size, 1, `one outcome: ${[...refs].join(', ')}`);
  assert.is(outs[0]!.status, 'succeeded');
  const moves = await h.admin('GET', '/admin/movements?requestId=p-dup');
  assert.is(moves.body.movements.length, 1);
  assert.is(await bal('LENDER'), before - 12_345);
  assert.is(await bal('B2-A'), 12_345);
  const q = await h.channel.query('p-dup');
  assert.is(q.status === 'succeeded' && q.platformRef, [...refs][0]);
});

test('the same request id with a different payload is refused and the first stands', async () => {
  const err = await h.channel.payout({ requestId: 'p-dup', fromAccountId: 'LENDER', to: { kind: 'account', accountId: 'B2-A' }, amount: fen(99) }).catch((e) => e);
  assert.instance(err, LendpayError);
  assert.is(err.code, 'REQUEST_ID_REUSED');
  const [item] = await h.channel.debitBatch([{ requestId: 'p-dup', fromAccountId: 'B1-A', toAccountId: 'LENDER', amount: fen(1) }]);
  assert.is(item!.status, 'rejected');
  assert.is((await h.admin('GET', '/admin/movements?requestId=p-dup')).body.movements.length, 1);
});

test('insufficient funds fails without moving anything; a repeat answers the same failure', async () => {
  const before = await bal('B2-A');
  const out = await h.channel.payout({ requestId: 'p-poor', fromAccountId: 'B2-A', to: { kind: 'account', accountId: 'LENDER' }, amount: fen(before + 1) });
  assert.is(out.status === 'failed' && out.code, 'INSUFFICIENT_FUNDS');
  assert.is(await bal('B2-A'), before);
  const again = await h.channel.payout({ requestId: 'p-poor', fromAccountId: 'B2-A', to: { kind: 'account', accountId: 'LENDER' }, amount: fen(before + 1) });
  assert.equal(again, out);
});

test('a frozen outflow blocks withdrawals and payouts from the account, not lendpay debits', async () => {
  const f = await h.channel.freezeOutflow('b1');
  assert.equal(f, { customerId: 'b1', frozenOutflow: true, accounts: 2 });
  const w = await h.channel.withdraw({ requestId: 'w-1', accountId: 'B1-A', cardId: 'B1-K', amount: fen(100) });
  assert.is(w.status === 'failed' && w.code, 'OUTFLOW_BLOCKED');
  const p = await h.channel.payout({ requestId: 'p-frozen', fromAccountId: 'B1-B', to: { kind: 'account', accountId: 'B2-A' }, amount: fen(100) });
  assert.is(p.status === 'failed' && p.code, 'OUTFLOW_BLOCKED');
  const d = await h.channel.debit({ requestId: 'd-frozen', fromAccountId: 'B1-A', toAccountId: 'LENDER', amount: fen(1_000) });
  assert.is(d.status, 'succeeded');
  assert.is(await bal('B1-A'), 9_000);
  // money may still come in while frozen
  const inflow = await h.channel.payout({ requestId: 'p-in', fromAccountId: 'LENDER', to: { kind: 'account', accountId: 'B1-A' }, amount: fen(1) });
  assert.is(inflow.status, 'succeeded');
  await h.channel.unfreezeOutflow('b1');
  const w2 = await h.channel.withdraw({ requestId: 'w-2', accountId: 'B1-A', cardId: 'B1-K', amount: fen(100) });
  assert.is(w2.status, 'succeeded');
  const judicial = await h.channel.debit({ requestId: 'd-judicial', fromAccountId: 'JUDICIAL', toAccountId: 'LENDER', amount: fen(1) });
  assert.is(judicial.status === 'failed' && judicial.code, 'ACCOUNT_FROZEN');
  const stranger = await h.channel.withdraw({ requestId: 'w-3', accountId: 'B1-A', cardId: 'FUND', amount: fen(1) });
  assert.is(stranger.status === 'failed' && stranger.code, 'CARD_INVALID', 'a withdrawal goes only to the owner’s card');
});

test('balances: many at once, unknown accounts answered as not found', async () => {
  const bs = await h.channel.balances(['B1-B', 'NOPE']);
  assert.equal(bs, [
    { accountId: 'B1-B', found: true, customerId: 'b1', balance: 500, frozenOutflow: false, frozen: false },
    { accountId: 'NOPE', found: false, code: 'ACCOUNT_NOT_FOUND' },
  ]);
  assert.equal(await h.channel.query('never-sent'), { requestId: 'never-sent', status: 'not_found' });
});

test('card payouts arrive per the calendar cut-off', async () => {
  const at = async (now: string, id: string) => {
    await h.admin('POST', '/admin/clock', { now });
    const o = await h.channel.payout({ requestId: id, fromAccountId: 'LENDER', to: { kind: 'card', cardId: 'B1-K' }, amount: fen(100) });
    assert.is(o.status, 'succeeded', JSON.stringify(o));
    return o.status === 'succeeded' ? o.arrivesAt?.toISOString() : undefined;
  };
  assert.is(await at('2026-03-11T16:59:59+08:00', 'card-1'), '2026-03-11T08:59:59.000Z');
  assert.is(await at('2026-03-11T17:00:00+08:00', 'card-2'), '2026-03-12T09:00:00.000Z');
  assert.is(await at('2026-09-30T18:00:00+08:00', 'card-3'), '2026-10-08T09:00:00.000Z');
  assert.is(await at('2026-02-14T10:00:00+08:00', 'card-4'), '2026-02-14T02:00:00.000Z');
  await h.admin('POST', '/admin/clock', { now: '2026-03-13T18:00:00+08:00' });
  const acct = await h.channel.payout({ requestId: 'acct-1', fromAccountId: 'LENDER', to: { kind: 'account', accountId: 'B2-A' }, amount: fen(1) });
  assert.is(acct.status === 'succeeded' && acct.arrivesAt?.toISOString(), '2026-03-13T10:00:00.000Z', 'balance payouts arrive at once');
  await h.admin('POST', '/admin/clock', { now: null });
  const card = await h.admin('GET', '/admin/cards/B1-K');
  assert.is(card.body.balance, 100 + 400, 'withdrawal 100 + four card payouts of 100');
});

test('a duplicate payout injected by the platform shows in the records under the same request id', async () => {
  const before = await bal('B2-A');
  const r = await h.admin('POST', '/admin/duplicate-payout', { requestId: 'p-dup' });
  assert.is(r.status, 200, r.text);
  const moves = (await h.admin('GET', '/admin/movements?requestId=p-dup')).body.movements;
  assert.equal(moves.map((m: any) => m.kind), ['payout', 'payout_duplicate']);
  assert.is.not(moves[0].platformRef, moves[1].platformRef);
  assert.is(moves[1].amount, 12_345);
  assert.is(await bal('B2-A'), before + 12_345);
  const missing = await h.admin('POST', '/admin/duplicate-payout', { requestId: 'never-sent' });
  assert.is(missing.status, 404);
});

test('settlement credits accounts in bulk; unknown accounts refuse the whole file', async () => {
  const before = await bal('B2-A');
  const ok = await h.admin('POST', '/admin/settle', { lines: [{ accountId: 'B2-A', amount: 700 }, { accountId: 'B2-A', amount: 300 }] });
  assert.is(ok.status, 200, ok.text);
  assert.is(await bal('B2-A'), before + 1000);
  const bad = await h.admin('POST', '/admin/settle', { lines: [{ accountId: 'B2-A', amount: 1 }, { accountId: 'GHOST', amount: 1 }] });
  assert.is(bad.status, 400);
  assert.match(bad.body.error.message, /GHOST/);
  assert.is(await bal('B2-A'), before + 1000);
});

test('bad requests are refused with the JSON path and throw from the client', async () => {
  const r = await h.admin('POST', '/v1/debit/batch', { requests: [{ requestId: 'x', fromAccountId: 'B1-A', toAccountId: 'LENDER', amount: 1.5 }] });
  assert.is(r.status, 400);
  assert.match(r.body.error.message, /\$\.requests\[0\]\.amount: expected a positive whole number of fen/);
  const err = await h.channel.debit({ requestId: 'neg', fromAccountId: 'B1-A', toAccountId: 'LENDER', amount: fen(-5) }).catch((e) => e);
  assert.instance(err, LendpayError);
  assert.is(err.code, 'CHANNEL_REJECTED');
  assert.match(err.message, /\$\.amount/);
  const tooMany = await h.admin('POST', '/v1/debit/batch', { requests: Array.from({ length: 1001 }, (_, i) => ({ requestId: `x${i}`, fromAccountId: 'B1-A', toAccountId: 'LENDER', amount: 1 })) });
  assert.is(tooMany.status, 400);
  assert.is((await h.admin('GET', '/admin/requests?limit=100000')).body.requests.some((q: any) => q.requestId === 'x' || q.requestId === 'neg'), false);
});

test('limits: an amount above the configured single-request limit fails with LIMIT_EXCEEDED', async () => {
  await h.admin('POST', '/admin/limits', { payout: 1_000 });
  const o = await h.channel.payout({ requestId: 'p-big', fromAccountId: 'LENDER', to: { kind: 'account', accountId: 'B2-A' }, amount: fen(1_001) });
  assert.is(o.status === 'failed' && o.code, 'LIMIT_EXCEEDED');
  await h.admin('POST', '/admin/limits', { payout: null });
});

test('the full card number never appears in any response', async () => {
  const routes = ['/admin/cards/B1-K', '/admin/movements?limit=100000', '/admin/requests?limit=100000'];
  for (const r of routes) {
    const res = await h.admin('GET', r);
    assert.is(res.status, 200);
    assert.not.ok(res.text.includes(CARD_NUMBER), r);
    assert.not.ok(res.text.includes(CARD_NUMBER.slice(0, 12)), r);
  }
  const card = await h.admin('GET', '/admin/cards/B1-K');
  assert.is(card.body.last4, '3445');
  const upsert = await h.admin('POST', '/admin/accounts', { cards: [{ id: 'B1-K2', customerId: 'b1', cardNumber: '6222020200999988887', balance: 0 }] });
  assert.not.ok(upsert.text.includes('6222020200999988887'));
});

test.run();
