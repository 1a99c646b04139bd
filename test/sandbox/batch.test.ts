import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarness, type Harness } from './setup.ts';
import type { DebitRequest } from '../../src/channel/types.ts';
import type { Fen } from '../../src/money.ts';

let h: Harness;
const N = 1000;

// A deterministic mix: most borrowers can pay, some are short, some are debited
// twice in the same batch (the second must see the first), some accounts are
// unknown, some under a judicial freeze, some with outflow frozen (debit still works).
let seed = 42;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const accounts = Array.from({ length: 800 }, (_, i) => ({
  id: `A${i}`,
  customerId: `c${i}`,
  balance: rnd(50_000),
  frozen: i % 97 === 0,
  frozenOutflow: i % 13 === 0,
}));

test.before(async () => {
  h = await startHarness('sandbox_batch', 5000);
  const r = await h.admin('POST', '/admin/accounts', { accounts: [...accounts, { id: 'LENDER', customerId: 'lender', balance: 0 }] });
  assert.is(r.status, 200, r.text);
});
test.after(async () => {
  await h.close();
});

function makeBatch(prefix: string): DebitRequest[] {
  return Array.from({ length: N }, (_, i) => ({
    requestId: `${prefix}-${i}`,
    fromAccountId: i % 101 === 100 ? `MISSING${i}` : `A${i < 800 ? i : rnd(800)}`,
    toAccountId: 'LENDER',
    amount: (1 + rnd(30_000)) as Fen,
  }));
}

let first: DebitRequest[] = [];

test('a batch of 1,000 debits with mixed outcomes is right to the fen and never below zero', async () => {
  const batch = makeBatch('d1');
  first = batch;
  // The expected outcome, item by item in batch order.
  const model = new Map(accounts.map((a) => [a.id, { ...a }]));
  const expected = batch.map((d) => {
    const a = model.get(d.fromAccountId);
    if (!a) return 'ACCOUNT_NOT_FOUND';
    if (a.frozen) return 'ACCOUNT_FROZEN';
    if (a.balance < d.amount) return 'INSUFFICIENT_FUNDS';
    a.balance -= d.amount;
    return 'succeeded';
  });
  const started = performance.now();
  const outs = await h.channel.debitBatch(batch);
  const ms = performance.now() - started;
  console.log(`\n  1,000-item batch debit: ${ms.toFixed(1)} ms`);

  assert.equal(outs.map((o) => (o.status === 'failed' ? o.code : o.status)), expected);
  const kinds = new Set<string>(expected);
  for (const k of ['succeeded', 'INSUFFICIENT_FUNDS', 'ACCOUNT_NOT_FOUND', 'ACCOUNT_FROZEN']) assert.ok(kinds.has(k), `the mix has ${k}`);
  assert.ok(batch.some((d, i) => expected[i] === 'succeeded' && accounts[Number(d.fromAccountId.slice(1))]?.frozenOutflow), 'an outflow-frozen borrower was debited');

  const collected = batch.reduce((s, d, i) => s + (expected[i] === 'succeeded' ? d.amount : 0), 0);
  const bs = await h.channel.balances([...accounts.map((a) => a.id), 'LENDER']);
  for (const b of bs) {
    assert.ok(b.found);
    if (!b.found) continue;
    assert.ok(b.balance >= 0);
    if (b.accountId === 'LENDER') assert.is(b.balance, collected);
    else assert.is(b.balance, model.get(b.accountId)!.balance, b.accountId);
  }
  const moves = (await h.admin('GET', '/admin/movements?limit=100000')).body.movements;
  assert.is(moves.length, expected.filter((e) => e === 'succeeded').length);
  assert.is(moves.reduce((s: number, m: any) => s + m.amount, 0), collected);
});

test('the same batch sent again, twice at once, changes nothing and answers the first outcomes', async () => {
  const stored = (await h.admin('GET', '/admin/requests?limit=100000')).body.requests as any[];
  const byId = new Map(stored.map((r) => [r.requestId, r]));
  const movesBefore = (await h.admin('GET', '/admin/movements?limit=100000')).body.movements.length;
  const [a, b] = await Promise.all([h.channel.debitBatch(first), h.channel.debitBatch(first)]);
  assert.equal(a, b);
  for (const o of a!) {
    const s = byId.get(o.requestId);
    assert.is(o.status, s.status);
    if (o.status === 'succeeded' || o.status === 'failed') assert.is(o.platformRef, s.platformRef);
  }
  assert.is((await h.admin('GET', '/admin/movements?limit=100000')).body.movements.length, movesBefore);
});

test('a warm 1,000-item batch debit takes tens of milliseconds', async () => {
  await h.admin('POST', '/admin/settle', { lines: accounts.filter((a) => !a.frozen).map((a) => ({ accountId: a.id, amount: 100_000 })) });
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    const batch = makeBatch(`warm${round}`);
    const started = performance.now();
    const outs = await h.channel.debitBatch(batch);
    times.push(performance.now() - started);
    assert.is(outs.length, N);
  }
  console.log(`\n  warm 1,000-item batch debits: ${times.map((t) => t.toFixed(1)).join(' / ')} ms`);
});

test('concurrent overlapping batches debiting the same accounts never overdraw and never apply twice', async () => {
  await h.admin('POST', '/admin/accounts', { accounts: [{ id: 'HOT', customerId: 'hot', balance: 10_000 }, { id: 'LENDER2', customerId: 'lender', balance: 0 }] });
  const mk = (from: number, to: number): DebitRequest[] => Array.from({ length: to - from }, (_, k) => ({ requestId: `hot-${from + k}`, fromAccountId: 'HOT', toAccountId: 'LENDER2', amount: 300 as Fen }));
  const results = await Promise.all([h.channel.debitBatch(mk(0, 40)), h.channel.debitBatch(mk(20, 60)), h.channel.debitBatch(mk(10, 50))]);
  const all = results.flat();
  const applied = new Set(all.filter((o) => o.status === 'succeeded').map((o) => o.requestId));
  assert.is(applied.size, 33, '10,000 / 300 = 33 debits fit');
  const [hot, lender] = await h.channel.balances(['HOT', 'LENDER2']);
  assert.is(hot!.found && hot!.balance, 100);
  assert.is(lender!.found && lender!.balance, 9_900);
  const moves = (await h.admin('GET', '/admin/movements?limit=100000')).body.movements.filter((m: any) => m.fromAccount === 'HOT');
  assert.is(moves.length, 33);
});

test.run();
