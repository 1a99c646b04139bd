import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateSchedule, parseSchedule, scheduleToJson, type Installment } from '../../src/loans/schedule.ts';
import { parsePricingRules } from '../../src/loans/pricing.ts';
import { LendpayError } from '../../src/errors.ts';
import { parseYuan, type Fen } from '../../src/money.ts';
import type { BusinessDate } from '../../src/dates.ts';
import { mulberry32, int } from '../collection/fixtures/random.ts';

const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
const d = (s: string): BusinessDate => s as BusinessDate;
const sum = (s: readonly Installment[], k: 'principal' | 'interest'): number => s.reduce((a, i) => a + i[k], 0);

test('3,000.00 over 30 days at 500 ppm: 100.00 a day, interest 1.50 falling by 0.05', () => {
  const s = generateSchedule({ principal: parseYuan('3000.00'), startDate: d('2026-11-24'), termDays: 30, dailyRatePpm: 500 });
  assert.is(s.length, 30);
  assert.equal(scheduleToJson(s.slice(0, 2)), [
    { no: 1, dueDate: '2026-11-25', principal: '100.00', interest: '1.50' },
    { no: 2, dueDate: '2026-11-26', principal: '100.00', interest: '1.45' },
  ]);
  assert.equal(scheduleToJson(s.slice(-1)), [{ no: 30, dueDate: '2026-12-24', principal: '100.00', interest: '0.05' }]);
  assert.is(sum(s, 'principal'), 300_000);
  assert.is(sum(s, 'interest'), 2_325);
});

test('remainder fen go to the first installments; interest rounds half-even', () => {
  const s = generateSchedule({ principal: 10_001 as Fen, startDate: d('2026-12-30'), termDays: 3, dailyRatePpm: 500 });
  assert.equal(s.map((i) => i.principal), [3334, 3334, 3333]);
  // 5.0005 → 5, 3.3335 → 3, 1.6665 → 2 (fen)
  assert.equal(s.map((i) => i.interest), [5, 3, 2]);
  assert.equal(s.map((i) => i.dueDate), ['2026-12-31', '2027-01-01', '2027-01-02']);
  // exact ties: 2.5 → 2, 1.5 → 2, 0.5 → 0
  const t = generateSchedule({ principal: 5_000 as Fen, startDate: d('2026-11-24'), termDays: 5, dailyRatePpm: 500 });
  assert.equal(t.map((i) => i.interest), [2, 2, 2, 1, 0]);
});

test('property: principals sum to the loan, equal within a fen, interest from outstanding', () => {
  const rnd = mulberry32(2024);
  for (let n = 0; n < 500; n++) {
    const principal = int(rnd, 1, 500_000_000) as Fen;
    const termDays = int(rnd, 1, 365);
    const dailyRatePpm = int(rnd, 0, 10_000);
    const s = generateSchedule({ principal, startDate: d('2026-02-27'), termDays, dailyRatePpm });
    assert.is(sum(s, 'principal'), principal);
    const ps = s.map((i) => i.principal);
    assert.ok(Math.max(...ps) - Math.min(...ps) <= 1);
    let outstanding = principal as number;
    for (const i of s) {
      assert.ok(Math.abs(i.interest - (outstanding * dailyRatePpm) / 1e6) <= 0.5 + 1e-6);
      outstanding -= i.principal;
    }
    for (let k = 1; k < s.length; k++) assert.ok(s[k]!.dueDate > s[k - 1]!.dueDate);
  }
});

test('bad terms are refused', () => {
  const ok = { principal: 100 as Fen, startDate: d('2026-11-24'), termDays: 30, dailyRatePpm: 500 };
  assert.throws(() => generateSchedule({ ...ok, principal: 0 as Fen }), /principal/);
  assert.throws(() => generateSchedule({ ...ok, termDays: 0 }), /termDays/);
  assert.throws(() => generateSchedule({ ...ok, dailyRatePpm: 0.5 }), /dailyRatePpm/);
  assert.throws(() => generateSchedule({ ...ok, startDate: d('2026-02-30') }), /not a calendar date/);
});

test('parseSchedule: a schedule from the loan business system', () => {
  const s = parseSchedule([
    { dueDate: '2026-12-24', principal: '600.00', interest: '9.00' },
    { no: 2, dueDate: '2027-01-24', principal: '400.00', interest: '4.00' },
  ], parseYuan('1000.00'));
  assert.equal(s, [
    { no: 1, dueDate: '2026-12-24', principal: 60_000, interest: 900 },
    { no: 2, dueDate: '2027-01-24', principal: 40_000, interest: 400 },
  ]);
  assert.is(parseSchedule({ installments: [{ dueDate: '2026-12-24', principal: '10.00', interest: '0' }] }, 1000 as Fen).length, 1);
});

test('parseSchedule: every problem with its JSON path', () => {
  try {
    parseSchedule([
      { dueDate: '2026-12-24', principal: '600.00', interest: '9.00' },
      { no: 5, dueDate: '2026-12-24', principal: 400, interest: '-1.00', extra: 1 },
      { dueDate: '2026-13-01', principal: '0.00', interest: '0.00' },
    ], parseYuan('1000.00'), 'loan L1');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, LendpayError);
    const err = e as LendpayError;
    assert.is(err.code, 'INVALID_INPUT');
    const all = err.details.join('\n');
    assert.match(all, /loan L1: \$\[1\]\.extra: unknown property/);
    assert.match(all, /\$\[1\]\.no: expected 2, got 5/);
    assert.match(all, /\$\[1\]\.dueDate: 2026-12-24 is not after the previous installment's 2026-12-24/);
    assert.match(all, /\$\[1\]\.principal: expected a yuan string/);
    assert.match(all, /\$\[1\]\.interest: "-1\.00" is not a yuan amount/);
    assert.match(all, /\$\[2\]\.dueDate: expected a date|\$\[2\]\.dueDate: 2026-13-01/);
    assert.match(all, /\$\[2\]: an installment of 0\.00 principal and 0\.00 interest/);
  }
  assert.throws(() => parseSchedule([{ dueDate: '2026-12-24', principal: '999.99', interest: '0.00' }], parseYuan('1000.00')), (e: LendpayError) =>
    /principals sum to 999\.99, the loan's principal is 1000\.00/.test(e.details.join('')));
  assert.throws(() => parseSchedule([], 1 as Fen), /non-empty list/);
});

test('pricing.json: the shipped file, and refusals with file and path', () => {
  const shipped = parsePricingRules(JSON.parse(readFileSync(path.join(RULES_DIR, 'pricing.json'), 'utf8')), 'rules/pricing.json');
  assert.equal(shipped.errors, []);
  assert.is(shipped.value?.dailyRatePpm, 500);
  assert.is(shipped.value?.defaultTermDays, 30);
  const bad = parsePricingRules({ dailyRatePpm: 0.05, defaultTermDays: 0, rate: 1 }, 'p.json');
  assert.equal(bad.errors, [
    'p.json: $.rate: unknown property "rate" (allowed: $schema, description, dailyRatePpm, defaultTermDays)',
    'p.json: $.dailyRatePpm: expected a whole number of parts per million 0..10000 (500 = 0.05 %/day), got 0.05',
    'p.json: $.defaultTermDays: expected a whole number of days 1..365, got 0',
  ]);
  assert.match(parsePricingRules({ dailyRatePpm: '500', defaultTermDays: 30 }, 'p.json').errors[0]!, /\$\.dailyRatePpm: .*got "500"/);
  assert.match(parsePricingRules({ dailyRatePpm: 2000, defaultTermDays: 30 }, 'p.json').warnings[0]!, /36\.5 %/);
});

test.run();
