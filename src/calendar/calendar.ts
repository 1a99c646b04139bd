// The business calendar: which Asia/Shanghai days are working days, and when a
// payout arrives. Pure apart from loadCalendar; the data lives in rules/calendar.json.
import fs from 'node:fs';
import { DateTime } from 'luxon';
import { ZONE, businessDateAt, type BusinessDate } from '../dates.ts';
import { LendpayError } from '../errors.ts';

export interface Holiday {
  readonly name: string;
  readonly from: BusinessDate;
  readonly to: BusinessDate;
}

export interface CalendarYear {
  readonly year: number;
  readonly provisional: boolean;
  readonly holidays: readonly Holiday[];
  readonly workingWeekends: readonly BusinessDate[];
}

export interface Calendar {
  readonly file: string;
  readonly years: ReadonlyMap<number, CalendarYear>;
  /** Every holiday day, expanded, for O(1) lookups. */
  readonly holidayDays: ReadonlySet<string>;
  readonly workingWeekendDays: ReadonlySet<string>;
}

export type PayoutRail = 'balance' | 'card';

/** Card payouts accepted at or after this hour (Asia/Shanghai) go to the next working day. */
export const CARD_CUTOFF_HOUR = 17;

export function loadCalendar(path: string): Calendar {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (cause) {
    throw new LendpayError('CALENDAR_INVALID', `${path}: cannot read the calendar file`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new LendpayError('CALENDAR_INVALID', `${path}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  return parseCalendar(json, path);
}

export function parseCalendar(json: unknown, file: string): Calendar {
  const fail = (at: string, why: string): never => {
    throw new LendpayError('CALENDAR_INVALID', `${file}: ${at}: ${why}`);
  };
  if (!isObject(json)) fail('$', 'expected an object with "years"');
  const root = json as Record<string, unknown>;
  if (!isObject(root.years)) fail('$.years', 'expected an object keyed by year, e.g. {"2026": {...}}');
  const years = new Map<number, CalendarYear>();
  const holidayDays = new Set<string>();
  const workingWeekendDays = new Set<string>();

  for (const [key, value] of Object.entries(root.years as Record<string, unknown>)) {
    const at = `$.years.${key}`;
    if (!/^\d{4}$/.test(key)) fail(at, 'a year key must be four digits');
    const year = Number(key);
    if (!isObject(value)) fail(at, 'expected an object with "holidays" and "workingWeekends"');
    const y = value as Record<string, unknown>;
    if (y.provisional !== undefined && typeof y.provisional !== 'boolean') fail(`${at}.provisional`, 'expected true or false');
    if (!Array.isArray(y.holidays)) fail(`${at}.holidays`, 'expected an array');
    if (!Array.isArray(y.workingWeekends)) fail(`${at}.workingWeekends`, 'expected an array');

    const holidays: Holiday[] = [];
    (y.holidays as unknown[]).forEach((h, i) => {
      const hAt = `${at}.holidays[${i}]`;
      if (!isObject(h)) fail(hAt, 'expected {"name", "from", "to"}');
      const rec = h as Record<string, unknown>;
      if (typeof rec.name !== 'string' || rec.name.trim() === '') fail(`${hAt}.name`, 'expected a non-empty name');
      const from = date(rec.from, `${hAt}.from`, year, fail);
      const to = date(rec.to, `${hAt}.to`, year, fail);
      if (from > to) fail(hAt, `"from" ${from} is after "to" ${to}`);
      for (let d = from; d <= to; d = addDays(d, 1)) {
        if (holidayDays.has(d)) fail(hAt, `${d} overlaps another holiday`);
        holidayDays.add(d);
      }
      holidays.push({ name: rec.name as string, from, to });
    });

    const workingWeekends: BusinessDate[] = [];
    (y.workingWeekends as unknown[]).forEach((w, i) => {
      const wAt = `${at}.workingWeekends[${i}]`;
      const d = date(w, wAt, year, fail);
      if (!isWeekend(d)) fail(wAt, `${d} is a ${weekdayName(d)}, not a Saturday or Sunday`);
      if (holidayDays.has(d)) fail(wAt, `${d} is inside a holiday`);
      if (workingWeekendDays.has(d)) fail(wAt, `${d} is listed twice`);
      workingWeekendDays.add(d);
      workingWeekends.push(d);
    });
    years.set(year, { year, provisional: y.provisional === true, holidays, workingWeekends });
  }
  if (years.size === 0) fail('$.years', 'no years defined');
  return { file, years, holidayDays, workingWeekendDays };
}

export function isWorkingDay(cal: Calendar, date: BusinessDate): boolean {
  covered(cal, date);
  if (cal.holidayDays.has(date)) return false;
  if (cal.workingWeekendDays.has(date)) return true;
  return !isWeekend(date);
}

/** The first working day strictly after `date`. */
export function nextWorkingDay(cal: Calendar, date: BusinessDate): BusinessDate {
  let d = addDays(date, 1);
  // A year has at most a few weeks of consecutive non-working days; covered() stops runaways.
  while (!isWorkingDay(cal, d)) d = addDays(d, 1);
  return d;
}

/**
 * When a payout accepted at `acceptedAt` reaches the payee. Balance: at once.
 * Card: at once if accepted before 17:00 Asia/Shanghai on a working day, else at
 * the 17:00 cut-off of the next working day.
 */
export function payoutArrival(cal: Calendar, acceptedAt: Date, rail: PayoutRail): { arrivesAt: Date; businessDate: BusinessDate } {
  const today = businessDateAt(acceptedAt);
  if (rail === 'balance') {
    covered(cal, today);
    return { arrivesAt: acceptedAt, businessDate: today };
  }
  const local = DateTime.fromJSDate(acceptedAt, { zone: ZONE });
  if (isWorkingDay(cal, today) && local.hour < CARD_CUTOFF_HOUR) return { arrivesAt: acceptedAt, businessDate: today };
  const day = nextWorkingDay(cal, today);
  const arrivesAt = DateTime.fromISO(day, { zone: ZONE }).set({ hour: CARD_CUTOFF_HOUR }).toJSDate();
  return { arrivesAt, businessDate: day };
}

function covered(cal: Calendar, date: BusinessDate): void {
  const year = Number(date.slice(0, 4));
  if (!cal.years.has(year)) {
    const known = [...cal.years.keys()].sort().join(', ');
    throw new LendpayError('INVALID_DATE', `${date} is outside the business calendar ${cal.file} (years ${known}); add the year before scheduling on it`);
  }
}

function date(v: unknown, at: string, year: number, fail: (at: string, why: string) => never): BusinessDate {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return fail(at, `expected a date YYYY-MM-DD, got ${JSON.stringify(v)}`);
  const dt = DateTime.fromISO(v, { zone: ZONE });
  if (!dt.isValid || dt.toISODate() !== v) return fail(at, `${v} is not a calendar date`);
  if (dt.year !== year) return fail(at, `${v} is not in ${year}`);
  return v as BusinessDate;
}

function addDays(d: BusinessDate, n: number): BusinessDate {
  return DateTime.fromISO(d, { zone: ZONE }).plus({ days: n }).toISODate() as BusinessDate;
}

function isWeekend(d: BusinessDate): boolean {
  return DateTime.fromISO(d, { zone: ZONE }).weekday >= 6;
}

function weekdayName(d: BusinessDate): string {
  return DateTime.fromISO(d, { zone: ZONE }).setLocale('en').toFormat('cccc');
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The same check in the shape src/rules/load.ts expects of a rule file kind
 * (`{ value?, errors, warnings }`), so rules/calendar.json can be validated and
 * hashed with the other rule files by adding one entry to its KINDS.
 */
export function parseCalendarRules(json: unknown, label: string): { value?: Calendar; errors: string[]; warnings: string[] } {
  try {
    return { value: parseCalendar(json, label), errors: [], warnings: [] };
  } catch (e) {
    if (e instanceof LendpayError && e.code === 'CALENDAR_INVALID') return { errors: [e.message], warnings: [] };
    throw e;
  }
}
