// Business dates are Asia/Shanghai calendar days, carried as branded 'YYYY-MM-DD'.
import { DateTime } from 'luxon';
import { LendpayError } from './errors.ts';

export const ZONE = 'Asia/Shanghai';
export type BusinessDate = string & { readonly __brand: 'BusinessDate' };
/** 'YYYY-MM' */
export type Month = string & { readonly __brand: 'Month' };

export function parseBusinessDate(text: unknown, field = 'date'): BusinessDate {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    throw new LendpayError('INVALID_DATE', `${field}: expected a date YYYY-MM-DD, got ${JSON.stringify(text)}`);
  }
  const dt = DateTime.fromISO(text, { zone: ZONE });
  if (!dt.isValid) throw new LendpayError('INVALID_DATE', `${field}: ${text} is not a calendar date`);
  // Postgres has no year 0 (it failed there, with a stack trace, before this check)
  if (text < '1900') throw new LendpayError('INVALID_DATE', `${field}: ${text} is not a plausible business date (1900 or later)`);
  return text as BusinessDate;
}

export function parseMonth(text: unknown, field = 'month'): Month {
  if (typeof text !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(text)) {
    throw new LendpayError('INVALID_DATE', `${field}: expected a month YYYY-MM, got ${JSON.stringify(text)}`);
  }
  return text as Month;
}

/** Today in Asia/Shanghai, from an injected clock. */
export function businessDateAt(instant: Date): BusinessDate {
  return DateTime.fromJSDate(instant, { zone: ZONE }).toISODate() as BusinessDate;
}

/**
 * `date` plus n calendar days. A calendar date has no zone: plain UTC date arithmetic
 * gives what luxon in Asia/Shanghai gives, at a fraction of the cost (schedules add
 * days for every installment of every loan).
 */
export function addCalendarDays(date: BusinessDate, n: number): BusinessDate {
  const t = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) + n * 86_400_000;
  return new Date(t).toISOString().slice(0, 10) as BusinessDate;
}

/** The n full calendar months before the month of `date`, oldest first. */
export function monthsBefore(date: BusinessDate, n: number): Month[] {
  const first = DateTime.fromISO(date, { zone: ZONE }).startOf('month');
  const out: Month[] = [];
  for (let i = n; i >= 1; i--) out.push(first.minus({ months: i }).toFormat('yyyy-MM') as Month);
  return out;
}

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
