// The four repayment methods, to the fen: the worked examples of the README (each
// asserted whole), the rounding the issue names, and properties over random loans.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  addMonthsClamped, bullet, equalInstallment, equalPayment, interestFirst, monthlyInterest, scheduleOf, METHODS, type Method,
} from '../../src/loans/methods.ts';
import { scheduleToJson, type Installment } from '../../src/loans/schedule.ts';
import { parseYuan, type Fen } from '../../src/money.ts';
import type { BusinessDate } from '../../src/dates.ts';

const d = (s: string): BusinessDate => s as BusinessDate;
const y = (s: string): Fen => parseYuan(s);
const sum = (s: readonly Installment[], k: 'principal' | 'interest'): number => s.reduce((a, i) => a + i[k], 0);
const rows = (s: readonly Installment[]) => scheduleToJson(s).map((i) => [i.dueDate, i.principal, i.interest]);

test('monthly due dates: the disbursement date plus i months, clamped to a shorter month, never chained', () => {
  assert.equal([1, 2, 3, 4].map((i) => addMonthsClamped(d('2026-01-31'), i)), ['2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31']);
  assert.equal([1, 13].map((i) => addMonthsClamped(d('2027-01-29'), i)), ['2027-02-28', '2028-02-29']);
  assert.equal(addMonthsClamped(d('2026-12-15'), 1), '2027-01-15');
});

test('README: 等额本息 10,000.00 over 12 months at 18 % a year from 2026-01-31 (A = 916.80)', () => {
  assert.is(equalPayment(y('10000.00'), 1800, 12), y('916.80'));
  const s = equalInstallment(y('10000.00'), 1800, 12, d('2026-01-31'));
  assert.equal(rows(s), [
    ['2026-02-28', '766.80', '150.00'],
    ['2026-03-31', '778.30', '138.50'],
    ['2026-04-30', '789.98', '126.82'],
    ['2026-05-31', '801.83', '114.97'],
    ['2026-06-30', '813.85', '102.95'],
    ['2026-07-31', '826.06', '90.74'],
    ['2026-08-31', '838.45', '78.35'],
    ['2026-09-30', '851.03', '65.77'],
    ['2026-10-31', '863.79', '53.01'],
    ['2026-11-30', '876.75', '40.05'],
    ['2026-12-31', '889.90', '26.90'],
    // the last takes what is outstanding: one fen more than A, the rounding of eleven months
    ['2027-01-31', '903.26', '13.55'],
  ]);
  assert.is(sum(s, 'principal'), y('10000.00'));
  assert.is(sum(s, 'interest'), y('1001.61'));
});

test('README: a zero rate splits the principal as the daily method does (first installments take the odd fen)', () => {
  assert.equal(rows(equalInstallment(y('1000.00'), 0, 3, d('2026-01-31'))), [
    ['2026-02-28', '333.34', '0.00'], ['2026-03-31', '333.33', '0.00'], ['2026-04-30', '333.33', '0.00'],
  ]);
  assert.equal(rows(interestFirst(y('1000.00'), 0, 2, d('2026-01-31'))), [['2026-02-28', '0.00', '0.00'], ['2026-03-31', '1000.00', '0.00']]);
  assert.equal(rows(bullet(y('1000.00'), 0, 7, d('2026-01-31'))), [['2026-02-07', '1000.00', '0.00']]);
});

test('README: a one-month term is one installment of principal and a month of interest', () => {
  assert.equal(rows(equalInstallment(y('5000.00'), 1800, 1, d('2026-01-31'))), [['2026-02-28', '5000.00', '75.00']]);
  assert.equal(rows(interestFirst(y('5000.00'), 1800, 1, d('2026-01-31'))), [['2026-02-28', '5000.00', '75.00']]);
});

test('rounding: A half-up, interest half-even (3.00 at 18 %: A = 3.045 → 3.05, interest 0.045 → 0.04)', () => {
  assert.is(equalPayment(300 as Fen, 1800, 1), 305);
  assert.is(monthlyInterest(300 as Fen, 1800), 4);
  assert.is(monthlyInterest(100 as Fen, 1800), 2); // 1.5 → 2
  assert.equal(equalInstallment(300 as Fen, 1800, 1, d('2026-03-01')), [{ no: 1, dueDate: '2026-04-01', principal: 300, interest: 4 }]);
  // half-up on A with no tie: 916.7999… → 916.80
  assert.is(equalPayment(y('10000.00'), 1800, 12), 91_680);
});

test('README: 先息后本 100,000.00 over 6 months at 15 % a year from 2026-08-31', () => {
  assert.equal(rows(interestFirst(y('100000.00'), 1500, 6, d('2026-08-31'))), [
    ['2026-09-30', '0.00', '1250.00'], ['2026-10-31', '0.00', '1250.00'], ['2026-11-30', '0.00', '1250.00'],
    ['2026-12-31', '0.00', '1250.00'], ['2027-01-31', '0.00', '1250.00'], ['2027-02-28', '100000.00', '1250.00'],
  ]);
});

test('README: 到期还本付息 20,000.00 for 7 days at 400 ppm a day from 2026-02-25 (over the month end)', () => {
  assert.equal(rows(bullet(y('20000.00'), 400, 7, d('2026-02-25'))), [['2026-03-04', '20000.00', '56.00']]);
  // half-even: 12.34 × 0.0005 × 1 = 0.00617 → 0.01; 10.00 × 0.0005 × 1 = 0.005 → 0.00 (tie to even)
  assert.is(bullet(1234 as Fen, 500, 1, d('2026-01-01'))[0]!.interest, 1);
  assert.is(bullet(1000 as Fen, 500, 1, d('2026-01-01'))[0]!.interest, 0);
  assert.is(bullet(3000 as Fen, 500, 1, d('2026-01-01'))[0]!.interest, 2);
});

test('scheduleOf: daily_equal_principal is today\'s schedule', () => {
  const s = scheduleOf({ method: 'daily_equal_principal', term: 30, dailyRatePpm: 500, annualRateBp: null }, y('3000.00'), d('2026-11-24'));
  assert.equal(rows(s.slice(0, 2)), [['2026-11-25', '100.00', '1.50'], ['2026-11-26', '100.00', '1.45']]);
  assert.is(sum(s, 'interest'), 2_325);
  assert.throws(() => scheduleOf({ method: 'bullet', term: 7, dailyRatePpm: null, annualRateBp: 100 }, y('1.00'), d('2026-01-01')), /needs dailyRatePpm/);
});

test('bad terms are refused', () => {
  assert.throws(() => equalInstallment(0 as Fen, 1800, 12, d('2026-01-01')), /principal/);
  assert.throws(() => equalInstallment(100 as Fen, 1800, 0, d('2026-01-01')), /termMonths/);
  assert.throws(() => interestFirst(100 as Fen, 10_001, 3, d('2026-01-01')), /annualRateBp/);
  assert.throws(() => bullet(100 as Fen, 500, 366, d('2026-01-01')), /termDays/);
  assert.throws(() => bullet(100 as Fen, 500, 7, d('2026-02-30')), /not a calendar date/);
  assert.throws(() => equalPayment(100 as Fen, 0, 3), /zero rate/);
});

const loans = fc.record({
  method: fc.constantFrom<Method>(...METHODS),
  principal: fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 500_000_000 })),
  days: fc.integer({ min: 1, max: 365 }),
  months: fc.integer({ min: 1, max: 360 }),
  dailyRatePpm: fc.integer({ min: 0, max: 10_000 }),
  annualRateBp: fc.integer({ min: 0, max: 10_000 }),
  start: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }),
});

test('property: every method\'s principals sum to the amount, no part is negative, due dates ascend after disbursement', () => {
  fc.assert(fc.property(loans, (l) => {
    const monthly = l.method === 'equal_installment' || l.method === 'interest_first';
    const start = l.start.toISOString().slice(0, 10) as BusinessDate;
    const s = scheduleOf({ method: l.method, term: monthly ? l.months : l.days, dailyRatePpm: l.dailyRatePpm, annualRateBp: l.annualRateBp }, l.principal as Fen, start);
    assert.is(sum(s, 'principal'), l.principal);
    for (const i of s) {
      assert.ok(Number.isSafeInteger(i.principal) && i.principal >= 0, `principal ${i.principal}`);
      assert.ok(Number.isSafeInteger(i.interest) && i.interest >= 0, `interest ${i.interest}`);
    }
    let prev = start as string;
    for (const i of s) {
      assert.ok(i.dueDate > prev, `${i.dueDate} after ${prev}`);
      prev = i.dueDate;
    }
    assert.is(s.length, l.method === 'bullet' ? 1 : monthly ? l.months : l.days);
  }), { numRuns: 300, seed: 17 });
});

test('property: 等额本息 pays A every month but the last, which differs from A by less than the rounding drift', () => {
  fc.assert(fc.property(fc.integer({ min: 100_000, max: 500_000_000 }), fc.integer({ min: 1, max: 3_600 }), fc.integer({ min: 1, max: 60 }), (p, rate, n) => {
    const s = equalInstallment(p as Fen, rate, n, d('2026-01-31'));
    const A = equalPayment(p as Fen, rate, n);
    for (const i of s.slice(0, -1)) assert.is(i.principal + i.interest, A);
    const last = s.at(-1)!;
    // each month's rounding (≤ ½ fen of A, ≤ ½ fen of interest) compounds at most by (1+r)^n
    assert.ok(Math.abs(last.principal + last.interest - A) <= n * (1 + rate / 120_000) ** n, `last ${last.principal + last.interest} vs A ${A}`);
    // interest falls as the principal is repaid
    for (let k = 1; k < s.length; k++) assert.ok(s[k]!.interest <= s[k - 1]!.interest);
  }), { numRuns: 300, seed: 23 });
});

test('property: the total interest of 等额本息 is the exact annuity\'s within the rounding (bigint reference)', () => {
  fc.assert(fc.property(fc.integer({ min: 100_000, max: 100_000_000 }), fc.integer({ min: 1, max: 3_600 }), fc.integer({ min: 1, max: 36 }), (p, rate, n) => {
    const s = equalInstallment(p as Fen, rate, n, d('2026-05-31'));
    // exact: n·A_exact − P, with A_exact = P·a·(D+a)^n / (D·((D+a)^n − D^n))
    const D = 120_000n, a = BigInt(rate), g = (D + a) ** BigInt(n);
    const exactTotalTimesDen = BigInt(n) * BigInt(p) * a * g - BigInt(p) * D * (g - D ** BigInt(n));
    const den = D * (g - D ** BigInt(n));
    const exact = Number(exactTotalTimesDen * 1000n / den) / 1000;
    assert.ok(Math.abs(sum(s, 'interest') - exact) <= n, `interest ${sum(s, 'interest')} vs exact ${exact}`);
  }), { numRuns: 200, seed: 29 });
});

test.run();
