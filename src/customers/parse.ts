// One line of a customer import file -> a checked CustomerRecord, or the first
// problem as `line N: <field path>: <reason>`. Pure; the caller streams the file.
// Personal data (names, card digits) never appears in an error message: files and
// error reports travel further than the database does.
import { LendpayError } from '../errors.ts';
import { parseYuan, type Fen } from '../money.ts';
import { parseMonth, type BusinessDate, type Month } from '../dates.ts';
import {
  SEGMENTS,
  type CustomerAccount,
  type CustomerBankCard,
  type CustomerId,
  type CustomerRecord,
  type Whitelist,
} from './types.ts';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const LAST4 = /^[0-9]{4}$/;

const TOP_KEYS = ['id', 'name', 'segment', 'realNameVerified', 'whitelist', 'accounts', 'bankCards', 'monthlyFlow'] as const;
const WHITELIST_KEYS = ['limit', 'reason', 'expiresOn'] as const;
const ACCOUNT_KEYS = ['id', 'primary', 'balance'] as const;
const CARD_KEYS = ['id', 'bank', 'last4', 'balance'] as const;

type Json = Record<string, unknown>;

/** Thrown inside this module only; parseCustomerLine turns it into the line error. */
class FieldError extends Error {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.field = field;
    this.reason = reason;
  }
}

export function parseCustomerLine(line: string, lineNo: number): CustomerRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    // V8's message quotes the input, which may hold a name: keep only the position.
    const at = /position (\d+)/.exec(e instanceof Error ? e.message : '')?.[1];
    throw new LendpayError('IMPORT_INVALID', `line ${lineNo}: malformed JSON${at === undefined ? '' : ` at column ${Number(at) + 1}`}`);
  }
  try {
    return customer(value);
  } catch (e) {
    if (e instanceof FieldError) throw new LendpayError('IMPORT_INVALID', `line ${lineNo}: ${e.field === '' ? '' : `${e.field}: `}${e.reason}`);
    throw e;
  }
}

function customer(value: unknown): CustomerRecord {
  const o = object(value, '', 'expected one JSON object per line');
  onlyKeys(o, TOP_KEYS, '');
  const id = identifier(o.id, 'id');
  const name = text(o.name, 'name');
  const segment = oneOf(o.segment, SEGMENTS, 'segment');
  if (typeof o.realNameVerified !== 'boolean') throw new FieldError('realNameVerified', `expected true or false, got ${kind(o.realNameVerified)}`);
  // An exporter that leaves out an empty whitelist or card list means null / none.
  const whitelist = o.whitelist === undefined || o.whitelist === null ? null : whitelistOf(o.whitelist);
  const accounts = accountsOf(o.accounts);
  const bankCards = o.bankCards === undefined ? [] : cardsOf(o.bankCards);
  const monthlyFlow = flowsOf(o.monthlyFlow);
  return { id: id as CustomerId, name, segment, realNameVerified: o.realNameVerified, whitelist, accounts, bankCards, monthlyFlow };
}

function whitelistOf(value: unknown): Whitelist {
  const o = object(value, 'whitelist', 'expected null or {"limit", "reason", "expiresOn"}');
  onlyKeys(o, WHITELIST_KEYS, 'whitelist.');
  const limit = amount(o.limit, 'whitelist.limit');
  const reason = text(o.reason, 'whitelist.reason');
  let expiresOn: BusinessDate | null = null;
  if (o.expiresOn !== undefined && o.expiresOn !== null) {
    expiresOn = calendarDate(shownOr(o.expiresOn, 'whitelist.expiresOn'), 'whitelist.expiresOn');
    plausibleYear(expiresOn, 'whitelist.expiresOn');
  }
  return { limit, reason, expiresOn };
}

function accountsOf(value: unknown): CustomerAccount[] {
  const list = array(value, 'accounts');
  if (list.length === 0) throw new FieldError('accounts', 'at least one balance account is required');
  const seen = new Set<string>();
  const out: CustomerAccount[] = [];
  let primaries = 0;
  list.forEach((item, i) => {
    const path = `accounts[${i}]`;
    const o = object(item, path, 'expected {"id", "primary", "balance"}');
    onlyKeys(o, ACCOUNT_KEYS, `${path}.`);
    const id = identifier(o.id, `${path}.id`);
    if (seen.has(id)) throw new FieldError(`${path}.id`, `account ${id} appears twice in this line`);
    seen.add(id);
    if (typeof o.primary !== 'boolean') throw new FieldError(`${path}.primary`, `expected true or false, got ${kind(o.primary)}`);
    if (o.primary && ++primaries > 1) throw new FieldError(`${path}.primary`, 'more than one primary account');
    out.push({ id, primary: o.primary, balance: amount(o.balance, `${path}.balance`) });
  });
  if (primaries === 0) throw new FieldError('accounts', 'exactly one account must be primary, none is');
  return out;
}

function cardsOf(value: unknown): CustomerBankCard[] {
  const list = array(value, 'bankCards');
  const seen = new Set<string>();
  return list.map((item, i) => {
    const path = `bankCards[${i}]`;
    const o = object(item, path, 'expected {"id", "bank", "last4", "balance"}');
    onlyKeys(o, CARD_KEYS, `${path}.`);
    const id = identifier(o.id, `${path}.id`);
    if (seen.has(id)) throw new FieldError(`${path}.id`, `card ${id} appears twice in this line`);
    seen.add(id);
    const bank = text(o.bank, `${path}.bank`);
    // the digits themselves are not echoed
    if (typeof o.last4 !== 'string' || !LAST4.test(o.last4)) throw new FieldError(`${path}.last4`, 'expected exactly 4 digits as a string');
    return { id, bank, last4: o.last4, balance: amount(o.balance, `${path}.balance`) };
  });
}

function flowsOf(value: unknown): Map<Month, Fen> {
  const o = object(value, 'monthlyFlow', 'expected an object {"YYYY-MM": "yuan", ...}');
  const out = new Map<Month, Fen>();
  let i = 0;
  for (const [key, text] of Object.entries(o)) {
    i++;
    if (!SHOWABLE.test(key)) throw new FieldError(`monthlyFlow (key ${i})`, `expected a month YYYY-MM, got ${described(key)}`);
    const path = `monthlyFlow.${key}`;
    const month = rethrow(path, () => parseMonth(key, path));
    plausibleYear(month, path);
    out.set(month, amount(text, path));
  }
  return out;
}

// --- small checks -------------------------------------------------------------------

function object(value: unknown, field: string, reason: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FieldError(field, `${reason}, got ${kind(value)}`);
  return value as Json;
}

function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new FieldError(field, `expected an array, got ${kind(value)}`);
  return value;
}

function onlyKeys(o: Json, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      const shown = /^[A-Za-z0-9_]{1,40}$/.test(key) ? key : `(key ${Object.keys(o).indexOf(key) + 1})`;
      throw new FieldError(`${prefix}${shown}`, `unknown key (expected one of ${allowed.join(', ')})`);
    }
  }
}

function identifier(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new FieldError(field, `expected 1-64 letters, digits, "_" or "-", got ${typeof value === 'string' ? described(value) : kind(value)}`);
  }
  return value;
}

/**
 * A bad string value is shown only when it cannot be personal data (a shifted column
 * can put a name into an id or amount field): short, and made of digits, signs and
 * date/amount punctuation or a lowercase code word. Otherwise its length and the
 * first character that is not allowed.
 */
const SHOWABLE = /^(?:[0-9.+\-eE, :]{0,24}|[a-z_]{1,24})$/;
function described(value: string): string {
  if (SHOWABLE.test(value)) return JSON.stringify(value);
  const bad = [...value].findIndex((ch) => !/[A-Za-z0-9_-]/.test(ch));
  const at = bad < 0 ? '' : `, ${JSON.stringify([...value][bad]).slice(0, 12)} at character ${bad + 1}`;
  return `a string of ${value.length} characters${at} (not shown: it may hold personal data)`;
}

/**
 * Postgres refuses NUL in text: catch it here, with the field, not as a database error.
 * A lone surrogate escape ("\ud800") is valid JSON but not text: written out as UTF-8 it
 * would become U+FFFD, so it is refused like an invalid byte.
 */
function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new FieldError(field, `expected a non-empty string, got ${kind(value)}`);
  if (value.trim() === '') throw new FieldError(field, 'expected a non-empty string');
  if (value.includes('\u0000')) throw new FieldError(field, 'contains a NUL character');
  if (/\p{Cs}/u.test(value)) throw new FieldError(field, 'contains a lone surrogate (a \\uD800-\\uDFFF escape without its pair): not valid Unicode');
  return value;
}

/**
 * A calendar date YYYY-MM-DD, with the words of parseBusinessDate (src/dates.ts) but
 * without luxon: at a million lines a zone-aware parse per whitelist was a measurable
 * share of the import.
 */
function calendarDate(value: unknown, field: string): BusinessDate {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new FieldError(field, `expected a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  const y = Number(value.slice(0, 4));
  const m = Number(value.slice(5, 7));
  const d = Number(value.slice(8, 10));
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  if (days === undefined || d < 1 || d > days) throw new FieldError(field, `${value} is not a calendar date`);
  if (value < '1900') throw new FieldError(field, `${value} is not a plausible business date (1900 or later)`);
  return value as BusinessDate;
}

/** A string a date parser would echo, checked first so that the echo is never personal data. */
function shownOr(value: unknown, field: string): unknown {
  if (typeof value === 'string' && !SHOWABLE.test(value)) throw new FieldError(field, `expected a date YYYY-MM-DD, got ${described(value)}`);
  return value;
}

/** Postgres has no year 0; nothing lendpay imports is from before 1900 or after 9999. */
function plausibleYear(date: string, field: string): void {
  if (date.slice(0, 4) < '1900') throw new FieldError(field, `${date} is not a plausible date`);
}

function oneOf<T extends string>(value: unknown, values: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new FieldError(field, `expected one of ${values.join(', ')}, got ${typeof value === 'string' ? described(value) : kind(value)}`);
  }
  return value as T;
}

function amount(value: unknown, field: string): Fen {
  if (typeof value === 'string' && !SHOWABLE.test(value)) {
    try {
      return parseYuan(value, field);
    } catch {
      throw new FieldError(field, `${described(value)} is not a yuan amount (digits, at most two decimals, not negative)`);
    }
  }
  return rethrow(field, () => parseYuan(value, field));
}

/** parseYuan and the date parsers prefix their own message with the field; keep their reason. */
function rethrow<T>(field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LendpayError) {
      const prefix = `${field}: `;
      throw new FieldError(field, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
    }
    throw e;
  }
}

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v === 'string' ? 'a string' : String(v);
}
