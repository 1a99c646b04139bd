// rules/pricing.json: the daily interest rate (integer parts per million, never a
// float) and the default term. Validated like every rule file: `file: path: reason`.
import type { ParseResult } from '../eligibility/rules.ts';

export interface PricingRules {
  readonly file: string;
  /** daily interest in parts per million of the outstanding principal: 500 = 0.05 %/day */
  readonly dailyRatePpm: number;
  readonly defaultTermDays: number;
}

/** 10,000 ppm = 1 %/day; anything above is refused as a typo. */
export const MAX_DAILY_RATE_PPM = 10_000;
/** Above this (36.5 % a year, simple) the validator warns: usually a legal ceiling. */
export const HIGH_DAILY_RATE_PPM = 1_000;
export const MAX_TERM_DAYS = 365;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));

export function parsePricingRules(json: unknown, file: string): ParseResult<PricingRules> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const err = (path: string, reason: string): void => void errors.push(`${file}: ${path}: ${reason}`);
  if (!isObject(json)) {
    err('$', `expected an object with "dailyRatePpm" and "defaultTermDays", got ${show(json)}`);
    return { errors, warnings };
  }
  const allowed = ['$schema', 'description', 'dailyRatePpm', 'defaultTermDays'];
  for (const k of Object.keys(json)) if (!allowed.includes(k)) err(`$.${k}`, `unknown property "${k}" (allowed: ${allowed.join(', ')})`);
  if (json['description'] !== undefined && typeof json['description'] !== 'string') err('$.description', `expected text, got ${show(json['description'])}`);
  const rate = json['dailyRatePpm'];
  if (rate === undefined) err('$.dailyRatePpm', 'missing: the daily interest rate in parts per million (500 = 0.05 %/day)');
  else if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 0 || rate > MAX_DAILY_RATE_PPM) {
    err('$.dailyRatePpm', `expected a whole number of parts per million 0..${MAX_DAILY_RATE_PPM} (500 = 0.05 %/day), got ${show(rate)}`);
  } else if (rate > HIGH_DAILY_RATE_PPM) {
    warnings.push(`${file}: $.dailyRatePpm: ${rate} ppm a day is more than 36.5 % a year`);
  }
  const term = json['defaultTermDays'];
  if (term === undefined) err('$.defaultTermDays', 'missing: the default number of daily installments');
  else if (typeof term !== 'number' || !Number.isInteger(term) || term < 1 || term > MAX_TERM_DAYS) {
    err('$.defaultTermDays', `expected a whole number of days 1..${MAX_TERM_DAYS}, got ${show(term)}`);
  }
  if (errors.length > 0) return { errors, warnings };
  return { value: { file, dailyRatePpm: rate as number, defaultTermDays: term as number }, errors, warnings };
}
