// Repayment schedules: the default one lendpay generates (equal daily principal,
// daily interest on what is still outstanding) and the check of one the loan
// business system passes in. Pure: amounts in fen, dates as business dates.
import { LendpayError } from '../errors.ts';
import { addCalendarDays, parseBusinessDate, type BusinessDate } from '../dates.ts';
import { formatYuan, parseYuan, type Fen } from '../money.ts';
import { allocateEvenly, mulRatioHalfEven } from './rounding.ts';
import { MAX_DAILY_RATE_PPM, MAX_TERM_DAYS } from './pricing.ts';

export interface Installment {
  /** 1-based position in the schedule */
  readonly no: number;
  readonly dueDate: BusinessDate;
  readonly principal: Fen;
  readonly interest: Fen;
}

export interface ScheduleTerms {
  readonly principal: Fen;
  /** the disbursement date; installment i is due i calendar days later */
  readonly startDate: BusinessDate;
  readonly termDays: number;
  readonly dailyRatePpm: number;
}

export function addDays(date: BusinessDate, days: number): BusinessDate {
  return addCalendarDays(date, days);
}

/**
 * Equal daily principal over `termDays` (the remainder fen go to the first
 * installments, so the principals sum to exactly the loan), and for each day the
 * interest on the principal still outstanding that day, rounded half-even to the fen.
 */
export function generateSchedule(terms: ScheduleTerms): Installment[] {
  const { principal, startDate, termDays, dailyRatePpm } = terms;
  if (!Number.isSafeInteger(principal) || principal <= 0) throw new LendpayError('INVALID_AMOUNT', `principal: must be more than 0.00, got ${principal} fen`);
  if (!Number.isInteger(termDays) || termDays < 1 || termDays > MAX_TERM_DAYS) {
    throw new LendpayError('INVALID_INPUT', `termDays: expected 1..${MAX_TERM_DAYS}, got ${termDays}`);
  }
  if (!Number.isInteger(dailyRatePpm) || dailyRatePpm < 0 || dailyRatePpm > MAX_DAILY_RATE_PPM) {
    throw new LendpayError('INVALID_INPUT', `dailyRatePpm: expected 0..${MAX_DAILY_RATE_PPM}, got ${dailyRatePpm}`);
  }
  parseBusinessDate(startDate, 'startDate');
  const parts = allocateEvenly(principal, termDays);
  const out: Installment[] = [];
  let outstanding: number = principal;
  for (let i = 0; i < termDays; i++) {
    const p = parts[i]!;
    out.push({
      no: i + 1,
      dueDate: addCalendarDays(startDate, i + 1),
      principal: p,
      interest: mulRatioHalfEven(outstanding as Fen, dailyRatePpm, 1_000_000),
    });
    outstanding -= p;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));

/**
 * A schedule from the loan business system:
 * `[{"dueDate": "2026-11-25", "principal": "100.00", "interest": "0.50"}, ...]`
 * (`no`, if given, must be 1, 2, 3, ...). Due dates strictly ascending, amounts yuan
 * strings, principals summing to the loan's principal. Every problem is reported at
 * once: LendpayError('INVALID_INPUT') with one `$[i].field: reason` detail each.
 */
export function parseSchedule(json: unknown, loanPrincipal: Fen, label = 'schedule'): Installment[] {
  const problems: string[] = [];
  const err = (path: string, reason: string): void => void problems.push(`${label}: ${path}: ${reason}`);
  const list = isObject(json) && Array.isArray(json['installments']) ? json['installments'] : json;
  const base = list === json ? '$' : '$.installments';
  if (!Array.isArray(list) || list.length === 0) {
    throw new LendpayError('INVALID_INPUT', `${label}: ${base}: expected a non-empty list of installments, got ${show(list)}`);
  }
  const out: Installment[] = [];
  let prev: BusinessDate | null = null;
  let sum = 0;
  list.forEach((raw: unknown, i) => {
    const at = `${base}[${i}]`;
    if (!isObject(raw)) return err(at, `expected {"dueDate", "principal", "interest"}, got ${show(raw)}`);
    for (const k of Object.keys(raw)) if (!['no', 'dueDate', 'principal', 'interest'].includes(k)) err(`${at}.${k}`, `unknown property "${k}" (allowed: no, dueDate, principal, interest)`);
    if (raw['no'] !== undefined && raw['no'] !== i + 1) err(`${at}.no`, `expected ${i + 1}, got ${show(raw['no'])}`);
    let date: BusinessDate | null = null;
    try {
      date = parseBusinessDate(raw['dueDate'], `${at}.dueDate`);
    } catch (e) {
      problems.push(`${label}: ${(e as Error).message}`);
    }
    if (date !== null && prev !== null && date <= prev) err(`${at}.dueDate`, `${date} is not after the previous installment's ${prev}`);
    if (date !== null) prev = date;
    const amount = (field: 'principal' | 'interest'): Fen | null => {
      try {
        return parseYuan(raw[field], `${at}.${field}`);
      } catch (e) {
        problems.push(`${label}: ${(e as Error).message}`);
        return null;
      }
    };
    const principal = amount('principal');
    const interest = amount('interest');
    if (principal !== null && interest !== null && principal + interest === 0) err(at, 'an installment of 0.00 principal and 0.00 interest');
    if (principal !== null) sum += principal;
    if (date !== null && principal !== null && interest !== null) out.push({ no: i + 1, dueDate: date, principal, interest });
  });
  if (problems.length === 0 && sum !== loanPrincipal) {
    err(base, `the principals sum to ${formatYuan(sum)}, the loan's principal is ${formatYuan(loanPrincipal)}`);
  }
  if (problems.length > 0) {
    throw new LendpayError('INVALID_INPUT', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${label}`, { details: problems });
  }
  return out;
}

/** For JSON output: amounts as yuan strings. */
export function scheduleToJson(s: readonly Installment[]): { no: number; dueDate: string; principal: string; interest: string }[] {
  return s.map((i) => ({ no: i.no, dueDate: i.dueDate, principal: formatYuan(i.principal), interest: formatYuan(i.interest) }));
}
