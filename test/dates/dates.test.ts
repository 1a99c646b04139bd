// Calendar arithmetic on business dates: the fast path agrees with luxon in Asia/Shanghai.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { ZONE, addCalendarDays, type BusinessDate } from '../../src/dates.ts';

test('addCalendarDays gives what luxon gives in Asia/Shanghai, across month ends, leap days and years', () => {
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2150, 11, 31) }), fc.integer({ min: -800, max: 800 }), (t, n) => {
      const date = new Date(t).toISOString().slice(0, 10) as BusinessDate;
      const expected = DateTime.fromISO(date, { zone: ZONE }).plus({ days: n }).toISODate();
      assert.is(addCalendarDays(date, n), expected, `${date} + ${n}`);
    }),
    { numRuns: 5000 },
  );
  assert.is(addCalendarDays('2024-02-28' as BusinessDate, 1), '2024-02-29');
  assert.is(addCalendarDays('2026-12-31' as BusinessDate, 1), '2027-01-01');
  assert.is(addCalendarDays('2026-03-01' as BusinessDate, -1), '2026-02-28');
});

test.run();
