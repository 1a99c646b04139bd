// How the dashboard writes money, time and rates for people (pure).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { daysBetween, daysFromTo, percent, shanghaiDay, shanghaiTime, yuan } from '../../src/dashboard/format.ts';

test('yuan: separators, two decimals, the currency sign, the sign before it', () => {
  assert.is(yuan(123456), '¥1,234.56');
  assert.is(yuan(0), '¥0.00');
  assert.is(yuan(5), '¥0.05');
  assert.is(yuan(500_000_000_000), '¥5,000,000,000.00');
  assert.is(yuan(-5), '-¥0.05');
});

test('times are Asia/Shanghai whatever the process zone; days are Shanghai days', () => {
  const d = new Date('2026-12-01T16:30:05Z'); // 00:30 on the 2nd in Shanghai
  assert.is(shanghaiTime(d), '2026-12-02 00:30:05');
  assert.is(shanghaiDay(d), '2026-12-02');
  assert.is(daysBetween('2026-11-28', '2026-12-02'), 4);
  assert.is(daysBetween('2026-12-02', '2026-12-02'), 0);
  assert.equal(daysFromTo('2026-11-29', '2026-12-02'), ['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
});

test('percent: rounded down in basis points, none when nothing was due', () => {
  assert.equal(percent(2, 3), { basisPoints: 6666, text: '66.66%' });
  assert.equal(percent(1, 1), { basisPoints: 10000, text: '100.00%' });
  assert.equal(percent(0, 0), { basisPoints: null, text: '–' });
});

test.run();
