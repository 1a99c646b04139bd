// Overdue penalty (罚息), pure: when it starts (grace days), how much a day (half-even
// on the overdue principal), a long overdue stretch day by day, catching up a day that
// did not run, and a date accrued once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { accruePenalties, dailyPenalty, penaltyStart, type PenaltyFacts } from '../../src/loans/penalty.ts';
import { addDays } from '../../src/loans/schedule.ts';
import { parseYuan, type Fen } from '../../src/money.ts';
import type { BusinessDate } from '../../src/dates.ts';

const d = (s: string): BusinessDate => s as BusinessDate;
const base: PenaltyFacts = {
  loanId: 'L1', customerId: 'C1', no: 3, dueDate: d('2026-03-10'), overduePrincipal: parseYuan('10000.00'), penaltyThrough: null, penaltyDailyRatePpm: 500, graceDays: 3,
};

test('the first penalty day is the day after due date + grace days', () => {
  assert.is(penaltyStart(d('2026-03-10'), 0), '2026-03-11');
  assert.is(penaltyStart(d('2026-03-10'), 3), '2026-03-14');
  assert.equal(accruePenalties([base], d('2026-03-13')), [], 'still in grace');
  assert.equal(accruePenalties([base], d('2026-03-14')), [{ loanId: 'L1', customerId: 'C1', no: 3, days: 1, amount: 500, through: '2026-03-14' }]);
});

test('a day\'s penalty: overdue principal × rate, half-even', () => {
  assert.is(dailyPenalty(parseYuan('10000.00'), 500), 500); // 5.00
  assert.is(dailyPenalty(1_000 as Fen, 500), 0); // 0.5 fen → 0
  assert.is(dailyPenalty(3_000 as Fen, 500), 2); // 1.5 fen → 2
  assert.is(dailyPenalty(12_345 as Fen, 750), 9); // 9.25875 → 9
});

test('a long overdue stretch: 120 days accrued day by day, each day the same penalty, as one catch-up would', () => {
  let through: BusinessDate | null = null;
  let total = 0;
  let day = d('2026-03-14');
  for (let k = 0; k < 120; k++, day = addDays(day, 1)) {
    const a = accruePenalties([{ ...base, penaltyThrough: through }], day);
    assert.is(a.length, 1);
    assert.is(a[0]!.days, 1);
    total += a[0]!.amount;
    through = a[0]!.through;
    // the same date again: nothing
    assert.equal(accruePenalties([{ ...base, penaltyThrough: through }], day), []);
  }
  assert.is(through, '2026-07-11');
  assert.is(total, 120 * 500);
  const once = accruePenalties([base], d('2026-07-11'));
  assert.equal(once.map((a) => [a.days, a.amount]), [[120, 60_000]]);
});

test('a day the batch did not run is caught up at today\'s overdue principal; nothing without overdue principal or rate', () => {
  const a = accruePenalties([{ ...base, penaltyThrough: d('2026-03-20'), overduePrincipal: parseYuan('4000.00') }], d('2026-03-23'));
  assert.equal(a.map((x) => [x.days, x.amount, x.through]), [[3, 600, '2026-03-23']]);
  assert.equal(accruePenalties([{ ...base, overduePrincipal: 0 as Fen }], d('2026-04-01')), []);
  assert.equal(accruePenalties([{ ...base, penaltyDailyRatePpm: 0 }], d('2026-04-01')), []);
});

test('property: accrued through a date once, whatever the steps, the total is days past grace × the daily penalty', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 100_000_000 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 30 }),
    fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }),
    (principal, ppm, grace, steps) => {
      const f = { ...base, overduePrincipal: principal as Fen, penaltyDailyRatePpm: ppm, graceDays: grace };
      let through: BusinessDate | null = null;
      let total = 0;
      let day = f.dueDate;
      for (const s of steps) {
        day = addDays(day, s);
        const a = accruePenalties([{ ...f, penaltyThrough: through }], day);
        for (const x of a) {
          assert.ok(x.amount >= 0 && x.days >= 1);
          total += x.amount;
          through = x.through;
        }
      }
      const start = penaltyStart(f.dueDate, grace);
      const daysPast = day < start ? 0 : Math.round((Date.parse(day) - Date.parse(start)) / 86_400_000) + 1;
      assert.is(total, ppm === 0 ? 0 : daysPast * dailyPenalty(principal as Fen, ppm));
    },
  ), { numRuns: 300, seed: 11 });
});

test.run();
