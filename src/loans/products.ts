// rules/products.json: the loan products the business sells, in the words the risk
// team, finance and the loan business system share (id, method, term, rate, amount
// range, rails, penalty, prepayment fee). The validator (every message
// `file: $.json.path: reason`), and the pure decision of whether a request for a
// product may go ahead and with which schedule.
import type { ParseResult } from '../eligibility/rules.ts';
import { Problems } from '../rules/problems.ts';
import type { BusinessDate } from '../dates.ts';
import { LendpayError } from '../errors.ts';
import { formatYuan, parseYuan, type Fen } from '../money.ts';
import { CREDIT_CEILING } from '../rules/versions.ts';
import { HIGH_DAILY_RATE_PPM, MAX_DAILY_RATE_PPM, MAX_TERM_DAYS } from './pricing.ts';
import { MAX_ANNUAL_RATE_BP, MAX_TERM_MONTHS, METHODS, TERM_UNIT, scheduleOf, type Method } from './methods.ts';
import { checkSchedule, type Installment } from './schedule.ts';

export const RAILS = ['balance', 'card'] as const;
export type Rail = (typeof RAILS)[number];

/** Above this (36 % a year) the validator warns: usually a legal ceiling. */
export const HIGH_ANNUAL_RATE_BP = 3_600;
export const MAX_GRACE_DAYS = 365;
/** 10,000 bp = 100 % of the principal prepaid */
export const MAX_PREPAYMENT_FEE_BP = 10_000;

export interface TermRange {
  readonly min: number;
  readonly max: number;
  /** the term when a request names none */
  readonly default: number;
}

export interface Product {
  readonly id: string;
  readonly name: string;
  readonly method: Method;
  /** days (daily_equal_principal, bullet) or months (the monthly methods); a fixed term has min = max = default */
  readonly term: TermRange;
  readonly termUnit: 'days' | 'months';
  /** daily and bullet: interest per day in parts per million of the principal */
  readonly dailyRatePpm: number | null;
  /** monthly methods: a year's interest in basis points (1800 = 18.00 %); a month is a twelfth */
  readonly annualRateBp: number | null;
  readonly minAmount: Fen;
  readonly maxAmount: Fen;
  readonly rails: readonly Rail[];
  /** per day on overdue principal, from the day after due date + graceDays */
  readonly penaltyDailyRatePpm: number;
  readonly graceDays: number;
  /** on the principal prepaid, in basis points */
  readonly prepaymentFeeBp: number;
}

export interface ProductRules {
  readonly file: string;
  /** what a request that names no product gets */
  readonly defaultProduct: Product;
  readonly products: readonly Product[];
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: Json): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));
const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const PRODUCT_KEYS = [
  'id', 'name', 'description', 'method', 'termDays', 'termMonths', 'dailyRatePpm', 'annualRateBp',
  'minAmount', 'maxAmount', 'rails', 'penaltyDailyRatePpm', 'graceDays', 'prepaymentFeeBp',
] as const;

function wholeNumber(p: Problems, v: Json, path: string, min: number, max: number, what: string): number | null {
  if (v === undefined) {
    p.error(path, `missing: ${what}`);
    return null;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    p.error(path, `expected a whole number ${min}..${max} (${what}), got ${show(v)}`);
    return null;
  }
  return v;
}

function term(p: Problems, v: Json, path: string, max: number, unit: string): TermRange | null {
  if (isObject(v)) {
    if (!p.keys(v, path, ['min', 'max', 'default'])) return null;
    const min = wholeNumber(p, v['min'], `${path}.min`, 1, max, `the shortest term in ${unit}`);
    const hi = wholeNumber(p, v['max'], `${path}.max`, 1, max, `the longest term in ${unit}`);
    const def = wholeNumber(p, v['default'], `${path}.default`, 1, max, `the term when a request names none, in ${unit}`);
    if (min === null || hi === null || def === null) return null;
    if (min > hi) {
      p.error(path, `min ${min} is more than max ${hi}`);
      return null;
    }
    if (def < min || def > hi) {
      p.error(`${path}.default`, `${def} is outside ${min}..${hi}`);
      return null;
    }
    return { min, max: hi, default: def };
  }
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) {
    p.error(path, `expected a whole number of ${unit} or {"min", "max", "default"}, got ${show(v)}`);
    return null;
  }
  const n = wholeNumber(p, v, path, 1, max, `the term in ${unit}`);
  return n === null ? null : { min: n, max: n, default: n };
}

function amount(p: Problems, v: Json, path: string): Fen | null {
  if (v === undefined) {
    p.error(path, 'missing: a yuan amount string like "1000.00"');
    return null;
  }
  try {
    return parseYuan(v, path);
  } catch {
    p.error(path, `expected a yuan amount string like "1000.00" (digits, at most two decimals), got ${show(v)}`);
    return null;
  }
}

function parseProduct(p: Problems, raw: Json, at: string): Product | null {
  if (!isObject(raw)) {
    p.error(at, `expected a product {"id", "name", "method", ...}, got ${show(raw)}`);
    return null;
  }
  const before = p.errors.length;
  p.keys(raw, at, PRODUCT_KEYS);
  const id = raw['id'];
  if (typeof id !== 'string' || !ID.test(id)) p.error(`${at}.id`, `expected 1–64 of a-z, 0-9, "-" and "_" (starting with a letter or digit), got ${show(id)}`);
  if (typeof raw['name'] !== 'string' || raw['name'].trim() === '') p.error(`${at}.name`, `expected the product's name as text, got ${show(raw['name'])}`);
  if (raw['description'] !== undefined && typeof raw['description'] !== 'string') p.error(`${at}.description`, `expected text, got ${show(raw['description'])}`);
  const method = raw['method'];
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
    p.error(`${at}.method`, `expected one of ${METHODS.join(', ')}, got ${show(method)}`);
    return null;
  }
  const m = method as Method;
  const unit = TERM_UNIT[m];
  let range: TermRange | null;
  let daily: number | null = null;
  let annual: number | null = null;
  if (unit === 'days') {
    for (const k of ['termMonths', 'annualRateBp']) if (raw[k] !== undefined) p.error(`${at}.${k}`, `not for ${m} (a term in days, a daily rate): use termDays and dailyRatePpm`);
    range = term(p, raw['termDays'], `${at}.termDays`, MAX_TERM_DAYS, 'days');
    daily = wholeNumber(p, raw['dailyRatePpm'], `${at}.dailyRatePpm`, 0, MAX_DAILY_RATE_PPM, 'interest a day in parts per million: 500 = 0.05 %');
    if (daily !== null && daily > HIGH_DAILY_RATE_PPM) p.warn(`${at}.dailyRatePpm`, `${daily} ppm a day is more than 36.5 % a year`);
  } else {
    for (const k of ['termDays', 'dailyRatePpm']) if (raw[k] !== undefined) p.error(`${at}.${k}`, `not for ${m} (a term in months, an annual rate): use termMonths and annualRateBp`);
    range = term(p, raw['termMonths'], `${at}.termMonths`, MAX_TERM_MONTHS, 'months');
    annual = wholeNumber(p, raw['annualRateBp'], `${at}.annualRateBp`, 0, MAX_ANNUAL_RATE_BP, 'interest a year in basis points: 1800 = 18.00 %');
    if (annual !== null && annual > HIGH_ANNUAL_RATE_BP) p.warn(`${at}.annualRateBp`, `${annual} bp is more than 36 % a year`);
  }
  const min = amount(p, raw['minAmount'], `${at}.minAmount`);
  const max = amount(p, raw['maxAmount'], `${at}.maxAmount`);
  if (min !== null && min <= 0) p.error(`${at}.minAmount`, 'must be more than 0.00');
  if (min !== null && max !== null && min > max) p.error(`${at}.maxAmount`, `${formatYuan(max)} is less than minAmount ${formatYuan(min)}`);
  // a maxAmount above the ceiling is fine (the credit limit decides, as for the default product); a minAmount above it sells nothing
  if (min !== null && min > CREDIT_CEILING) p.warn(`${at}.minAmount`, `${formatYuan(min)} is above the ${formatYuan(CREDIT_CEILING)} CNY credit ceiling: no customer can borrow this product`);
  const rails = raw['rails'];
  if (!Array.isArray(rails) || rails.length === 0) p.error(`${at}.rails`, `expected a non-empty list of ${RAILS.join(', ')}, got ${show(rails)}`);
  else {
    rails.forEach((r, i) => {
      if (typeof r !== 'string' || !(RAILS as readonly string[]).includes(r)) p.error(`${at}.rails[${i}]`, `expected one of ${RAILS.join(', ')}, got ${show(r)}`);
      else if (rails.indexOf(r) !== i) p.error(`${at}.rails[${i}]`, `"${r}" is listed twice`);
    });
  }
  const penalty = wholeNumber(p, raw['penaltyDailyRatePpm'], `${at}.penaltyDailyRatePpm`, 0, MAX_DAILY_RATE_PPM, 'penalty a day on overdue principal in parts per million: 500 = 0.05 %');
  if (penalty !== null && penalty > HIGH_DAILY_RATE_PPM) p.warn(`${at}.penaltyDailyRatePpm`, `${penalty} ppm a day is more than 36.5 % a year`);
  const grace = wholeNumber(p, raw['graceDays'], `${at}.graceDays`, 0, MAX_GRACE_DAYS, 'days after a due date before a penalty accrues');
  const fee = wholeNumber(p, raw['prepaymentFeeBp'], `${at}.prepaymentFeeBp`, 0, MAX_PREPAYMENT_FEE_BP, 'fee on the principal prepaid in basis points: 100 = 1.00 %');
  if (p.errors.length > before || range === null || min === null || max === null || penalty === null || grace === null || fee === null) return null;
  return {
    id: id as string, name: raw['name'] as string, method: m, term: range, termUnit: unit, dailyRatePpm: daily, annualRateBp: annual,
    minAmount: min, maxAmount: max, rails: rails as Rail[], penaltyDailyRatePpm: penalty, graceDays: grace, prepaymentFeeBp: fee,
  };
}

export function parseProductRules(json: unknown, file: string): ParseResult<ProductRules> {
  const p = new Problems(file);
  if (!isObject(json)) {
    p.error('$', `expected an object with "defaultProduct" and "products", got ${show(json)}`);
    return { errors: p.errors, warnings: p.warnings };
  }
  p.keys(json, '$', ['$schema', 'description', 'defaultProduct', 'products']);
  if (json['description'] !== undefined && typeof json['description'] !== 'string') p.error('$.description', `expected text, got ${show(json['description'])}`);
  const list = json['products'];
  const products: Product[] = [];
  if (!Array.isArray(list) || list.length === 0) p.error('$.products', `expected a non-empty list of products, got ${show(list)}`);
  else {
    const seen = new Map<string, number>();
    list.forEach((raw, i) => {
      const prod = parseProduct(p, raw, `$.products[${i}]`);
      if (!prod) return;
      const first = seen.get(prod.id);
      if (first !== undefined) p.error(`$.products[${i}].id`, `"${prod.id}" is already the id of $.products[${first}]`);
      else seen.set(prod.id, i);
      products.push(prod);
    });
  }
  const def = json['defaultProduct'];
  let defaultProduct: Product | undefined;
  if (typeof def !== 'string') p.error('$.defaultProduct', `expected the id of the product a request without one gets, got ${show(def)}`);
  else if (Array.isArray(list) && p.errors.length === 0) {
    defaultProduct = products.find((x) => x.id === def);
    if (!defaultProduct) p.error('$.defaultProduct', `no product has the id "${def}" (products: ${products.map((x) => x.id).join(', ')})`);
  }
  if (p.errors.length > 0 || !defaultProduct) return { errors: p.errors, warnings: p.warnings };
  return { value: { file, defaultProduct, products }, errors: p.errors, warnings: p.warnings };
}

// ---------------------------------------------------------------------------
// A request for a product

/** What the loan records of its product: the terms it was sold on, whatever the file says later. */
export interface LoanProductTerms {
  readonly id: string;
  readonly name: string;
  readonly method: Method;
  /** in termUnit; null when the loan business system sent its own schedule */
  readonly term: number | null;
  readonly termUnit: 'days' | 'months';
  readonly dailyRatePpm: number | null;
  readonly annualRateBp: number | null;
  readonly penaltyDailyRatePpm: number;
  readonly graceDays: number;
  readonly prepaymentFeeBp: number;
  /** 'product': generated by the product's method; 'request': the loan business system's own */
  readonly schedule: 'product' | 'request';
}

/** What applyForLoan records of the product (ApplyInput.product). */
export interface ProductChoice {
  readonly terms: LoanProductTerms;
  /** what the request named (product, term, its own schedule), canonical JSON; null when it named none */
  readonly asked: string | null;
}

export const REFUSAL_CODES = ['UNKNOWN_PRODUCT', 'AMOUNT_OUT_OF_RANGE', 'RAIL_NOT_ALLOWED', 'TERM_NOT_ALLOWED', 'INVALID_SCHEDULE'] as const;
export type ProductRefusalCode = (typeof REFUSAL_CODES)[number];

export interface ProductProblem {
  readonly code: ProductRefusalCode;
  /** the request field at fault; the edge names it (`body.amount`, `--amount`) */
  readonly field: 'product' | 'term' | 'amount' | 'rail' | 'schedule';
  /** inside the field, e.g. `[2].dueDate` for a schedule; '' for the field itself */
  readonly at: string;
  readonly message: string;
}

export interface LoanRequest {
  readonly amount: Fen;
  readonly rail: Rail;
  /** a product id; absent: the default product */
  readonly product?: string | undefined;
  /** in the product's unit; absent: the product's default term */
  readonly term?: number | undefined;
  /** the loan business system's own schedule, as it sent it (validated here) */
  readonly schedule?: unknown;
}

export type ResolvedLoan =
  | { ok: true; product: Product; terms: LoanProductTerms; schedule: Installment[]; choice: ProductChoice }
  | { ok: false; problems: ProductProblem[] };

/** What a loan records of `product` sold for `term` (null: on the request's own schedule). */
export function productTerms(product: Product, term: number | null, schedule: LoanProductTerms['schedule']): LoanProductTerms {
  return {
    id: product.id, name: product.name, method: product.method, term, termUnit: product.termUnit,
    dailyRatePpm: product.dailyRatePpm, annualRateBp: product.annualRateBp,
    penaltyDailyRatePpm: product.penaltyDailyRatePpm, graceDays: product.graceDays, prepaymentFeeBp: product.prepaymentFeeBp,
    schedule,
  };
}

/** The unit a term is given in, for messages: "6 months", "1 day". */
export function termText(n: number, unit: 'days' | 'months'): string {
  return `${n} ${n === 1 ? unit.slice(0, -1) : unit}`;
}

function termProblem(product: Product, term: number): string | null {
  const { min, max } = product.term;
  if (!Number.isInteger(term) || term < min || term > max) {
    return min === max
      ? `product ${product.id} has a fixed term of ${termText(min, product.termUnit)}, got ${term}`
      : `product ${product.id} allows ${min}..${max} ${product.termUnit}, got ${term}`;
  }
  return null;
}

/**
 * A loan of `amount` on `product` for `term` (default: the product's), disbursed on
 * `disbursedOn`: its schedule, exact to the fen. Pure; a term the product does not
 * allow is an INVALID_INPUT error (resolveLoanRequest checks it first).
 */
export function scheduleFor(product: Product, amount: Fen, disbursedOn: BusinessDate, term?: number): Installment[] {
  const n = term ?? product.term.default;
  const problem = termProblem(product, n);
  if (problem) throw new LendpayError('INVALID_INPUT', `term: ${problem}`);
  return scheduleOf({ method: product.method, term: n, dailyRatePpm: product.dailyRatePpm, annualRateBp: product.annualRateBp }, amount, disbursedOn);
}

/**
 * Whether a request may go ahead under the products on sale, and its schedule:
 * the product (or the default one), the amount within its range, the rail one it
 * allows, the term within its range; or the request's own schedule, checked (due
 * dates ascending and after `disbursedOn`, principals adding up to the amount).
 * Every problem is reported at once, each naming its field.
 */
export function resolveLoanRequest(rules: ProductRules, req: LoanRequest, disbursedOn: BusinessDate): ResolvedLoan {
  const problems: ProductProblem[] = [];
  let product: Product | undefined = rules.defaultProduct;
  if (req.product !== undefined) {
    product = rules.products.find((x) => x.id === req.product);
    if (!product) {
      return { ok: false, problems: [{ code: 'UNKNOWN_PRODUCT', field: 'product', at: '', message: `no product "${req.product}" (on sale: ${rules.products.map((x) => x.id).join(', ')})` }] };
    }
  }
  if (req.amount < product.minAmount || req.amount > product.maxAmount) {
    problems.push({ code: 'AMOUNT_OUT_OF_RANGE', field: 'amount', at: '', message: `${formatYuan(req.amount)} is outside product ${product.id}'s range ${formatYuan(product.minAmount)}..${formatYuan(product.maxAmount)}` });
  }
  if (!product.rails.includes(req.rail)) {
    problems.push({ code: 'RAIL_NOT_ALLOWED', field: 'rail', at: '', message: `product ${product.id} pays out to ${product.rails.join(' or ')} only, not ${req.rail}` });
  }
  const own = req.schedule !== undefined;
  if (req.term !== undefined) {
    const why = own ? 'not with a schedule of your own (the schedule gives the term)' : termProblem(product, req.term);
    if (why) problems.push({ code: 'TERM_NOT_ALLOWED', field: 'term', at: '', message: why });
  }
  let schedule: Installment[] | null = null;
  if (own) {
    const checked = checkSchedule(req.schedule, req.amount, { after: disbursedOn });
    if ('problems' in checked) for (const x of checked.problems) problems.push({ code: 'INVALID_SCHEDULE', field: 'schedule', at: x.path, message: x.message });
    else schedule = checked.schedule;
  }
  if (problems.length > 0) return { ok: false, problems };
  const term = own ? null : req.term ?? product.term.default;
  const terms = productTerms(product, term, own ? 'request' : 'product');
  schedule ??= scheduleFor(product, req.amount, disbursedOn, term!);
  const named = req.product !== undefined || req.term !== undefined || own;
  // the schedule as checked (not as sent): two spellings of one schedule are one request
  const asked = named ? JSON.stringify([req.product ?? null, req.term ?? null, own ? schedule.map((i) => [i.dueDate, i.principal, i.interest]) : null]) : null;
  return { ok: true, product, terms, schedule, choice: { terms, asked } };
}
