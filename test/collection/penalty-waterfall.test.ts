// Where penalties go in each waterfall order, and properties of allocation with
// penalties: nothing lost, nothing beyond what is owed, each order's precedence kept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { allocatePayment, WATERFALL_PASSES, type OutstandingInstallment } from '../../src/collection/waterfall.ts';
import { WATERFALL_ORDERS, type WaterfallOrder } from '../../src/collection/rules.ts';
import type { Fen } from '../../src/money.ts';
import type { BusinessDate } from '../../src/dates.ts';

const f = (n: number) => n as Fen;
const TWO: OutstandingInstallment[] = [
  { no: 1, dueDate: '2026-03-01' as BusinessDate, principal: f(1_000), interest: f(100), penalty: f(30) },
  { no: 2, dueDate: '2026-04-01' as BusinessDate, principal: f(1_000), interest: f(80), penalty: f(10) },
];
const show = (o: WaterfallOrder, amount: number) => allocatePayment(TWO, f(amount), o).allocations.map((a) => [a.installmentNo, a.penalty, a.interest, a.principal]);

test('every order says where the penalty goes', () => {
  // default: oldest installment first; penalty, then interest, then principal
  assert.equal(show('oldest_first_interest_first', 1_200), [[1, 30, 100, 1_000], [2, 10, 60, 0]]);
  assert.equal(show('oldest_first_principal_first', 1_200), [[1, 30, 100, 1_000], [2, 0, 0, 70]]);
  assert.equal(show('oldest_first_principal_first', 1_050), [[1, 0, 50, 1_000]]);
  assert.equal(show('interest_first_then_principal', 300), [[1, 30, 100, 80], [2, 10, 80, 0]]);
  assert.equal(show('oldest_first_penalty_last', 1_110), [[1, 10, 100, 1_000]]);
  assert.equal(show('penalties_last', 2_170), [[1, 0, 100, 1_000], [2, 0, 80, 990]]);
  assert.equal(show('penalties_last', 2_200), [[1, 20, 100, 1_000], [2, 0, 80, 1_000]]);
  assert.equal(Object.keys(WATERFALL_PASSES).sort(), [...WATERFALL_ORDERS].sort());
});

test('an installment with no penalty field owes none (allocations from before penalties)', () => {
  const r = allocatePayment([{ no: 1, dueDate: '2026-03-01' as BusinessDate, principal: f(100), interest: f(5) }], f(110));
  assert.equal(r, { allocations: [{ installmentNo: 1, interest: 5, principal: 100, penalty: 0 }], remainder: 5 });
});

const installments = fc.uniqueArray(fc.record({
  no: fc.integer({ min: 1, max: 40 }), day: fc.integer({ min: 1, max: 28 }),
  principal: fc.integer({ min: 0, max: 1e7 }), interest: fc.integer({ min: 0, max: 1e6 }), penalty: fc.integer({ min: 0, max: 1e6 }),
}), { selector: (x) => x.no, minLength: 1, maxLength: 12 });

test('property: with penalties, every order pays min(amount, owed), no part beyond what it owes, the rest a remainder', () => {
  fc.assert(fc.property(installments, fc.integer({ min: 0, max: 5e7 }), fc.constantFrom(...WATERFALL_ORDERS), (raw, amount, order) => {
    const list = raw.map((x) => ({ no: x.no, dueDate: `2026-05-${String(x.day).padStart(2, '0')}` as BusinessDate, principal: f(x.principal), interest: f(x.interest), penalty: f(x.penalty) }));
    const owed = list.reduce((s, i) => s + i.principal + i.interest + i.penalty, 0);
    const r = allocatePayment(list, f(amount), order);
    const paid = r.allocations.reduce((s, a) => s + a.principal + a.interest + a.penalty, 0);
    assert.is(paid, Math.min(amount, owed));
    assert.is(r.remainder, amount - paid);
    for (const a of r.allocations) {
      const i = list.find((x) => x.no === a.installmentNo)!;
      assert.ok(a.principal <= i.principal && a.interest <= i.interest && a.penalty <= i.penalty);
    }
    // the default never pays an installment's interest or principal while its penalty is unpaid
    if (order === 'oldest_first_interest_first') {
      for (const a of r.allocations) {
        const i = list.find((x) => x.no === a.installmentNo)!;
        if (a.interest + a.principal > 0) assert.is(a.penalty, i.penalty);
      }
    }
  }), { numRuns: 500, seed: 13 });
});

test.run();
