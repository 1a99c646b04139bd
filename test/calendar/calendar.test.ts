import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWorkingDay, loadCalendar, nextWorkingDay, parseCalendar, parseCalendarRules, payoutArrival } from '../../src/calendar/calendar.ts';
import type { BusinessDate } from '../../src/dates.ts';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../rules/calendar.json');
const cal = loadCalendar(file);
const d = (s: string) => s as BusinessDate;
// Asia/Shanghai is UTC+8 all year.
const sh = (local: string) => new Date(`${local}+08:00`);
const card = (local: string) => {
  const r = payoutArrival(cal, sh(local), 'card');
  return { at: r.arrivesAt.toISOString(), day: r.businessDate };
};

test('the shipped calendar: holidays, make-up weekends and plain weekends', () => {
  assert.is(isWorkingDay(cal, d('2026-10-01')), false);
  assert.is(isWorkingDay(cal, d('2026-10-08')), true);
  assert.is(isWorkingDay(cal, d('2026-02-14')), true, 'make-up Saturday');
  assert.is(isWorkingDay(cal, d('2026-01-04')), true, 'make-up Sunday');
  assert.is(isWorkingDay(cal, d('2026-03-14')), false, 'plain Saturday');
  assert.is(isWorkingDay(cal, d('2026-03-16')), true, 'plain Monday');
  assert.is(nextWorkingDay(cal, d('2026-02-14')), '2026-02-24');
  assert.is(nextWorkingDay(cal, d('2026-12-31')), '2027-01-04');
  assert.ok(cal.years.get(2027)?.provisional, '2027 is marked provisional');
  assert.is(cal.years.get(2026)?.provisional, false);
});

test('card cut-off: 16:59:59 arrives the same day, 17:00:00 the next working day at 17:00', () => {
  assert.equal(card('2026-03-11T16:59:59'), { at: sh('2026-03-11T16:59:59').toISOString(), day: '2026-03-11' });
  assert.equal(card('2026-03-11T17:00:00'), { at: sh('2026-03-12T17:00:00').toISOString(), day: '2026-03-12' });
});

test('balance payouts arrive at once, even on a holiday night', () => {
  const at = sh('2026-10-03T23:00:00');
  const r = payoutArrival(cal, at, 'balance');
  assert.is(r.arrivesAt.getTime(), at.getTime());
  assert.is(r.businessDate, '2026-10-03');
});

test('Friday evening goes to Monday', () => {
  assert.equal(card('2026-03-13T18:00:00'), { at: sh('2026-03-16T17:00:00').toISOString(), day: '2026-03-16' });
});

test('the eve of National Day goes past the whole holiday to Thursday Oct 8', () => {
  assert.equal(card('2026-09-30T18:00:00'), { at: sh('2026-10-08T17:00:00').toISOString(), day: '2026-10-08' });
  assert.equal(card('2026-10-02T09:00:00'), { at: sh('2026-10-08T17:00:00').toISOString(), day: '2026-10-08' });
});

test('a make-up Saturday is a working day for card payouts', () => {
  assert.equal(card('2026-02-14T10:00:00'), { at: sh('2026-02-14T10:00:00').toISOString(), day: '2026-02-14' });
  // after its cut-off the Spring Festival follows: next working day is Tue Feb 24
  assert.equal(card('2026-02-14T17:30:00'), { at: sh('2026-02-24T17:00:00').toISOString(), day: '2026-02-24' });
});

test('a Sunday before the Spring Festival waits for Monday', () => {
  assert.equal(card('2026-02-08T10:00:00'), { at: sh('2026-02-09T17:00:00').toISOString(), day: '2026-02-09' });
});

test('the Shanghai day is used, not UTC: 01:00 Shanghai Monday is Sunday in UTC', () => {
  assert.equal(card('2026-03-16T01:00:00'), { at: sh('2026-03-16T01:00:00').toISOString(), day: '2026-03-16' });
});

test('dates outside the calendar are refused, never assumed to be working days', () => {
  assert.throws(() => isWorkingDay(cal, d('2028-03-01')), /2028-03-01 is outside the business calendar/);
  assert.throws(() => payoutArrival(cal, sh('2025-12-31T10:00:00'), 'card'), /outside the business calendar/);
  assert.throws(() => nextWorkingDay(cal, d('2027-12-31')), /2028-01-01 is outside/);
});

const base = () => ({
  years: { '2026': { holidays: [{ name: 'National Day', from: '2026-10-01', to: '2026-10-07' }], workingWeekends: ['2026-10-10'] } },
});

test('bad calendar files are refused with file and JSON path', () => {
  const cases: [(c: any) => void, RegExp][] = [
    [(c) => (c.years['2026'].holidays[0].from = '2026-02-30'), /bad\.json: \$\.years\.2026\.holidays\[0\]\.from: 2026-02-30 is not a calendar date/],
    [(c) => (c.years['2026'].holidays[0].to = '2026-09-30'), /\$\.years\.2026\.holidays\[0\]: "from" 2026-10-01 is after "to" 2026-09-30/],
    [(c) => c.years['2026'].holidays.push({ name: 'x', from: '2026-10-07', to: '2026-10-08' }), /\$\.years\.2026\.holidays\[1\]: 2026-10-07 overlaps another holiday/],
    [(c) => c.years['2026'].workingWeekends.push('2026-10-09'), /\$\.years\.2026\.workingWeekends\[1\]: 2026-10-09 is a Friday, not a Saturday or Sunday/],
    [(c) => c.years['2026'].workingWeekends.push('2026-10-03'), /workingWeekends\[1\]: 2026-10-03 is inside a holiday/],
    [(c) => (c.years['2026'].holidays[0].from = '2025-12-31'), /holidays\[0\]\.from: 2025-12-31 is not in 2026/],
    [(c) => (c.years['2026'].holidays = 'none'), /\$\.years\.2026\.holidays: expected an array/],
    [(c) => (c.years = []), /\$\.years: expected an object/],
    [(c) => (c.years['26'] = c.years['2026']), /\$\.years\.26: a year key must be four digits/],
  ];
  for (const [mutate, message] of cases) {
    const c = base();
    mutate(c);
    assert.throws(() => parseCalendar(c, 'bad.json'), message);
  }
  assert.ok(parseCalendar(base(), 'good.json'));
  assert.equal(parseCalendarRules({ years: {} }, 'rules/calendar.json'), { errors: ['rules/calendar.json: $.years: no years defined'], warnings: [] });
  assert.equal(parseCalendarRules(base(), 'x').errors, []);
  assert.throws(() => loadCalendar('/nonexistent/calendar.json'), /\/nonexistent\/calendar\.json: cannot read/);
});

test.run();
