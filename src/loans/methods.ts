// The four repayment methods a product can sell, each exact to the fen: pure
// functions from (principal, rate, term, disbursement date) to a schedule. Rates are
// integers (ppm a day, basis points a year), the arithmetic is bigint, and every
// division that can leave a fraction goes through a named rounding.
import { DateTime } from 'luxon';
import { LendpayError } from '../errors.ts';
import { ZONE, parseBusinessDate, type BusinessDate } from '../dates.ts';
import type { Fen } from '../money.ts';
import { allocateEvenly, divRoundHalfEven } from './rounding.ts';
import { generateSchedule, type Installment } from './schedule.ts';
import { MAX_DAILY_RATE_PPM, MAX_TERM_DAYS } from './pricing.ts';

export const METHODS = ['daily_equal_principal', 'equal_installment', 'interest_first', 'bullet'] as const;
export type Method = (typeof METHODS)[number];

/** daily and bullet terms are counted in days, the monthly methods' in months */
export const TERM_UNIT = {
  daily_equal_principal: 'days',
  bullet: 'days',
  equal_installment: 'months',
  interest_first: 'months',
} as const satisfies Record<Method, 'days' | 'months'>;

export const MAX_TERM_MONTHS = 360;
/** 10,000 bp = 100 % a year; anything above is refused as a typo. */
export const MAX_ANNUAL_RATE_BP = 10_000;
/** annual rate in basis points ÷ 12 months ÷ 10,000: the monthly rate's denominator */
const MONTHLY_DENOMINATOR = 120_000n;

/**
 * `date` plus `months` calendar months, in Asia/Shanghai, clamped to the last day of
 * a shorter month: 2026-01-31 + 1 → 2026-02-28, + 2 → 2026-03-31 (always counted
 * from the disbursement date, never chained, so one short month does not pull every
 * later due date back).
 */
export function addMonthsClamped(date: BusinessDate, months: number): BusinessDate {
  return DateTime.fromISO(date, { zone: ZONE }).plus({ months }).toISODate() as BusinessDate;
}

function monthlyDates(start: BusinessDate, n: number): BusinessDate[] {
  return Array.from({ length: n }, (_, i) => addMonthsClamped(start, i + 1));
}

function checkCommon(principal: Fen, start: BusinessDate): void {
  if (!Number.isSafeInteger(principal) || principal <= 0) throw new LendpayError('INVALID_AMOUNT', `principal: must be more than 0.00, got ${principal} fen`);
  parseBusinessDate(start, 'disbursedOn');
}

function checkMonthly(months: number, annualRateBp: number): void {
  if (!Number.isInteger(months) || months < 1 || months > MAX_TERM_MONTHS) {
    throw new LendpayError('INVALID_INPUT', `termMonths: expected 1..${MAX_TERM_MONTHS}, got ${months}`);
  }
  if (!Number.isInteger(annualRateBp) || annualRateBp < 0 || annualRateBp > MAX_ANNUAL_RATE_BP) {
    throw new LendpayError('INVALID_INPUT', `annualRateBp: expected 0..${MAX_ANNUAL_RATE_BP}, got ${annualRateBp}`);
  }
}

const toFen = (x: bigint): Fen => {
  const n = Number(x);
  if (!Number.isSafeInteger(n)) throw new LendpayError('INVALID_AMOUNT', `amount overflow: ${x}`);
  return n as Fen;
};

/** outstanding × annualRateBp / 120,000 (one month's interest), half-even to the fen */
export function monthlyInterest(outstanding: Fen, annualRateBp: number): Fen {
  return toFen(divRoundHalfEven(BigInt(outstanding) * BigInt(annualRateBp), MONTHLY_DENOMINATOR));
}

/**
 * The equal monthly payment A = P·r·(1+r)^n ÷ ((1+r)^n − 1) with r = annualRateBp ÷
 * 120,000, computed as one exact fraction of integers and rounded half-up to the fen:
 * with D = 120,000 and a = annualRateBp, A = P·a·(D+a)^n ÷ (D·((D+a)^n − D^n)).
 */
export function equalPayment(principal: Fen, annualRateBp: number, months: number): Fen {
  checkMonthly(months, annualRateBp);
  if (annualRateBp === 0) throw new LendpayError('INVALID_INPUT', 'equalPayment: a zero rate has no annuity; the principal is split evenly');
  const D = MONTHLY_DENOMINATOR;
  const a = BigInt(annualRateBp);
  const grown = (D + a) ** BigInt(months);
  const num = BigInt(principal) * a * grown;
  const den = D * (grown - D ** BigInt(months));
  // half-up for a positive fraction: floor(num/den + ½)
  return toFen((2n * num + den) / (2n * den));
}

/**
 * 等额本息: n monthly installments of the same payment A (see equalPayment). Before
 * the last: interest = outstanding × r half-even, principal = A − interest; the last:
 * what is outstanding, with its interest. A zero rate splits the principal evenly (the
 * fen that do not divide go to the first installments). Principal never goes below 0
 * or above what is outstanding: that only bites for loans of a few fen, where A
 * rounds to less than the interest or to more than what is left.
 */
export function equalInstallment(principal: Fen, annualRateBp: number, months: number, disbursedOn: BusinessDate): Installment[] {
  checkCommon(principal, disbursedOn);
  checkMonthly(months, annualRateBp);
  const dates = monthlyDates(disbursedOn, months);
  if (annualRateBp === 0) {
    return allocateEvenly(principal, months).map((p, i) => ({ no: i + 1, dueDate: dates[i]!, principal: p, interest: 0 as Fen }));
  }
  const A = equalPayment(principal, annualRateBp, months);
  const out: Installment[] = [];
  let outstanding: number = principal;
  for (let i = 0; i < months; i++) {
    const interest = monthlyInterest(outstanding as Fen, annualRateBp);
    const p = i === months - 1 ? outstanding : Math.max(0, Math.min(A - interest, outstanding));
    out.push({ no: i + 1, dueDate: dates[i]!, principal: p as Fen, interest });
    outstanding -= p;
  }
  return out;
}

/** 先息后本: n monthly installments of interest P × r (half-even), the whole principal with the last. */
export function interestFirst(principal: Fen, annualRateBp: number, months: number, disbursedOn: BusinessDate): Installment[] {
  checkCommon(principal, disbursedOn);
  checkMonthly(months, annualRateBp);
  const interest = monthlyInterest(principal, annualRateBp);
  return monthlyDates(disbursedOn, months).map((dueDate, i) => ({
    no: i + 1, dueDate, principal: (i === months - 1 ? principal : 0) as Fen, interest,
  }));
}

/** 到期还本付息: one installment termDays after disbursement, interest P × daily rate × termDays half-even. */
export function bullet(principal: Fen, dailyRatePpm: number, termDays: number, disbursedOn: BusinessDate): Installment[] {
  checkCommon(principal, disbursedOn);
  if (!Number.isInteger(termDays) || termDays < 1 || termDays > MAX_TERM_DAYS) {
    throw new LendpayError('INVALID_INPUT', `termDays: expected 1..${MAX_TERM_DAYS}, got ${termDays}`);
  }
  if (!Number.isInteger(dailyRatePpm) || dailyRatePpm < 0 || dailyRatePpm > MAX_DAILY_RATE_PPM) {
    throw new LendpayError('INVALID_INPUT', `dailyRatePpm: expected 0..${MAX_DAILY_RATE_PPM}, got ${dailyRatePpm}`);
  }
  const interest = toFen(divRoundHalfEven(BigInt(principal) * BigInt(dailyRatePpm) * BigInt(termDays), 1_000_000n));
  const dueDate = DateTime.fromISO(disbursedOn, { zone: ZONE }).plus({ days: termDays }).toISODate() as BusinessDate;
  return [{ no: 1, dueDate, principal, interest }];
}

/** What a schedule is generated from: a product's method and rate, and the term chosen. */
export interface PricedTerms {
  readonly method: Method;
  /** in the method's unit (TERM_UNIT): days or months */
  readonly term: number;
  /** daily and bullet */
  readonly dailyRatePpm: number | null;
  /** the monthly methods */
  readonly annualRateBp: number | null;
}

function rate(v: number | null, name: string, method: Method): number {
  if (v === null) throw new LendpayError('INVALID_INPUT', `${method} needs ${name}`);
  return v;
}

/** The schedule of a loan of `principal` on these terms, disbursed on `disbursedOn`. */
export function scheduleOf(terms: PricedTerms, principal: Fen, disbursedOn: BusinessDate): Installment[] {
  switch (terms.method) {
    case 'daily_equal_principal':
      return generateSchedule({ principal, startDate: disbursedOn, termDays: terms.term, dailyRatePpm: rate(terms.dailyRatePpm, 'dailyRatePpm', terms.method) });
    case 'bullet':
      return bullet(principal, rate(terms.dailyRatePpm, 'dailyRatePpm', terms.method), terms.term, disbursedOn);
    case 'equal_installment':
      return equalInstallment(principal, rate(terms.annualRateBp, 'annualRateBp', terms.method), terms.term, disbursedOn);
    case 'interest_first':
      return interestFirst(principal, rate(terms.annualRateBp, 'annualRateBp', terms.method), terms.term, disbursedOn);
  }
}
