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

/** One problem with a schedule: its JSON path inside the schedule (`$[2].dueDate`) and why. */
export interface ScheduleProblem {
  readonly path: string;
  readonly message: string;
}

/** The reason of a parse error whose message starts with `${field}: `. */
function reason(e: unknown, field: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.startsWith(`${field}: `) ? msg.slice(field.length + 2) : msg;
}

/**
 * A schedule from the loan business system, checked:
 * `[{"dueDate": "2026-11-25", "principal": "100.00", "interest": "0.50"}, ...]`
 * (or `{"installments": [...]}`; `no`, if given, must be 1, 2, 3, ...). Due dates
 * strictly ascending (and after `opts.after`, the disbursement date, when given),
 * amounts yuan strings, principals summing to the loan's principal. Every problem at once.
 */
export function checkSchedule(json: unknown, loanPrincipal: Fen, opts: { after?: BusinessDate } = {}): { schedule: Installment[] } | { problems: ScheduleProblem[] } {
  const problems: ScheduleProblem[] = [];
  const err = (path: string, message: string): void => void problems.push({ path, message });
  const list = isObject(json) && Array.isArray(json['installments']) ? json['installments'] : json;
  const base = list === json ? '$' : '$.installments';
  if (!Array.isArray(list) || list.length === 0) return { problems: [{ path: base, message: `expected a non-empty list of installments, got ${show(list)}` }] };
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
      err(`${at}.dueDate`, reason(e, `${at}.dueDate`));
    }
    if (date !== null && prev !== null && date <= prev) err(`${at}.dueDate`, `${date} is not after the previous installment's ${prev}`);
    else if (date !== null && prev === null && opts.after !== undefined && date <= opts.after) err(`${at}.dueDate`, `${date} is not after the disbursement date ${opts.after}`);
    if (date !== null) prev = date;
    const amount = (field: 'principal' | 'interest'): Fen | null => {
      try {
        return parseYuan(raw[field], `${at}.${field}`);
      } catch (e) {
        err(`${at}.${field}`, reason(e, `${at}.${field}`));
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
  return problems.length > 0 ? { problems } : { schedule: out };
}

/**
 * checkSchedule, or LendpayError('INVALID_INPUT') with one `label: $[i].field: reason`
 * detail a problem.
 */
export function parseSchedule(json: unknown, loanPrincipal: Fen, label = 'schedule', opts: { after?: BusinessDate } = {}): Installment[] {
  const res = checkSchedule(json, loanPrincipal, opts);
  if ('schedule' in res) return res.schedule;
  const n = res.problems.length;
  if (n === 1 && res.problems[0]!.message.startsWith('expected a non-empty list')) {
    throw new LendpayError('INVALID_INPUT', `${label}: ${res.problems[0]!.path}: ${res.problems[0]!.message}`);
  }
  throw new LendpayError('INVALID_INPUT', `${n} problem${n === 1 ? '' : 's'} in ${label}`, { details: res.problems.map((x) => `${label}: ${x.path}: ${x.message}`) });
}

/** For JSON output: amounts as yuan strings. */
export function scheduleToJson(s: readonly Installment[]): { no: number; dueDate: string; principal: string; interest: string }[] {
  return s.map((i) => ({ no: i.no, dueDate: i.dueDate, principal: formatYuan(i.principal), interest: formatYuan(i.interest) }));
}
