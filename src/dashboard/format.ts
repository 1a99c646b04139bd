// How the dashboard writes amounts and times for people: yuan with thousands
// separators and the currency sign (¥1,234.56), instants in Asia/Shanghai whatever
// the browser's zone, whole days between business dates. The page shows these strings
// as they are; it never formats money or time itself (charts excepted: their axes
// take the integer fen and the same rules, see app.js).
import { DateTime } from 'luxon';
import { ZONE } from '../dates.ts';
import { formatYuanGrouped } from '../money.ts';

/** 123456 → "¥1,234.56"; -5 → "-¥0.05". */
export function yuan(fen: number): string {
  return fen < 0 ? `-¥${formatYuanGrouped(-fen)}` : `¥${formatYuanGrouped(fen)}`;
}

/** An instant as "2026-12-02 14:32:05" in Asia/Shanghai; the ISO form travels alongside for machines. */
export function shanghaiTime(d: Date): string {
  return DateTime.fromJSDate(d, { zone: ZONE }).toFormat('yyyy-MM-dd HH:mm:ss');
}

/** A time for the page: `text` to show, `iso` for the <time datetime> attribute. */
export interface Stamp {
  text: string;
  iso: string;
}

export function stamp(d: Date): Stamp;
export function stamp(d: Date | null): Stamp | null;
export function stamp(d: Date | null): Stamp | null {
  return d === null ? null : { text: shanghaiTime(d), iso: d.toISOString() };
}

/** Whole calendar days from business date `from` to `to` (0 on the same day). */
export function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: ZONE }).diff(DateTime.fromISO(from, { zone: ZONE }), 'days').days);
}

/** The Asia/Shanghai calendar day of an instant, 'YYYY-MM-DD'. */
export function shanghaiDay(d: Date): string {
  return DateTime.fromJSDate(d, { zone: ZONE }).toISODate()!;
}

/** Basis points of part in whole, rounded down, as "66.04%"; "–" when nothing was due. */
export function percent(part: number, whole: number): { basisPoints: number | null; text: string } {
  if (whole <= 0) return { basisPoints: null, text: '–' };
  const bp = Math.floor((part * 10_000) / whole);
  return { basisPoints: bp, text: `${Math.trunc(bp / 100)}.${String(bp % 100).padStart(2, '0')}%` };
}

/** Business dates from `from` to `to`, both included. */
export function daysFromTo(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = DateTime.fromISO(from, { zone: ZONE }), end = DateTime.fromISO(to, { zone: ZONE }); d <= end; d = d.plus({ days: 1 })) out.push(d.toISODate()!);
  return out;
}

/** 'YYYY-MM-DD' n days before `date`. */
export function daysBefore(date: string, n: number): string {
  return DateTime.fromISO(date, { zone: ZONE }).minus({ days: n }).toISODate()!;
}
