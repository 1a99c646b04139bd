// The dashboard's shaping (pure): timelines in order, installments' states, the step of a
// collection order, charts zero-filled over their window.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sortEvents } from '../../src/dashboard/timeline.ts';
import { installmentState } from '../../src/dashboard/customer.ts';
import { stepOfKey } from '../../src/dashboard/steps.ts';
import { chartsView } from '../../src/dashboard/charts.ts';
import type { Fen } from '../../src/money.ts';

test('timeline: by time, and at the same instant in the order things happen (outcome before its journal)', () => {
  const t = new Date('2026-12-02T03:00:00Z');
  const later = new Date('2026-12-02T03:00:01Z');
  const sorted = sortEvents([
    { at: later, kind: 'operator' as const, n: 1 },
    { at: t, kind: 'journal' as const, n: 2 },
    { at: t, kind: 'outcome' as const, n: 3 },
    { at: t, kind: 'attempt' as const, n: 4 },
    { at: t, kind: 'journal' as const, n: 5 },
  ]);
  assert.equal(sorted.map((e) => e.n), [4, 3, 2, 5, 1]);
});

test('installments: paid, due on or before today, part paid or upcoming', () => {
  const i = (due: string, paid: number) => ({ no: 1, dueDate: due, principal: 1000 as Fen, interest: 10 as Fen, paidPrincipal: Math.min(paid, 1000) as Fen, paidInterest: Math.max(0, paid - 1000) as Fen });
  assert.is(installmentState(i('2026-12-02', 1010), '2026-12-02'), 'paid');
  assert.is(installmentState(i('2026-12-02', 0), '2026-12-02'), 'due');
  assert.is(installmentState(i('2026-12-01', 500), '2026-12-02'), 'due');
  assert.is(installmentState(i('2026-12-03', 500), '2026-12-02'), 'part paid');
  assert.is(installmentState(i('2026-12-03', 0), '2026-12-02'), 'upcoming');
});

test('the step of a collection order from its key; a card repayment is its own', () => {
  assert.is(stepOfKey('collect.batch', 'collect:L1:2026-12-02:own_balance:M1-A'), 'own_balance');
  assert.is(stepOfKey('collect.hold', 'hold:demo:2026-12-02:L1:2026-12-02:hold:M1-A2'), 'hold');
  assert.is(stepOfKey('repay.card', 'repay:abc'), 'card_repayment');
});

test('charts: every day of the window, zero where nothing moved; known series first, in order', () => {
  const v = chartsView({
    from: '2026-11-30', to: '2026-12-02', hours: 2,
    disbursed: [{ day: '2026-12-01', series: 'card', count: 1, amount: 500 as Fen }, { day: '2026-11-30', series: 'balance', count: 2, amount: 100 as Fen }],
    collected: [], collection: [{ businessDate: '2026-12-02', loans: 3, due: 300 as Fen, collected: 200 as Fen, held: 100 as Fen }], holds: [],
    ordersByHour: [{ hour: new Date('2026-12-02T03:00:00Z'), status: 'succeeded', count: 4 }],
  }, new Date('2026-12-02T03:20:00Z'));
  assert.equal(v.days, ['2026-11-30', '2026-12-01', '2026-12-02']);
  assert.equal(v.disbursed.map((s) => [s.key, s.fen, s.total]), [['balance', [100, 0, 0], '¥1.00'], ['card', [0, 500, 0], '¥5.00']]);
  assert.equal(v.collectionRate[0]!.rate.text, '66.66%');
  assert.equal(v.orders.hours.map((h) => h.label), ['12-02 10:00', '12-02 11:00']);
  assert.equal(v.orders.series, [{ state: 'succeeded', counts: [0, 4] }]);
});

test.run();
