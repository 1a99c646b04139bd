// Money is integer fen (分) held in a JS number that is always a safe integer.
// A number rather than bigint because the batch hot paths do millions of additions
// and every amount lendpay handles (≤ 2^53 fen ≈ 90 trillion CNY) fits exactly.
import { LendpayError } from './errors.ts';

export type Fen = number & { readonly __brand: 'Fen' };

const YUAN = /^(0|[1-9]\d{0,12})(?:\.(\d{1,2}))?$/;

export const ZERO = 0 as Fen;

/** "2000.00" -> 200000 fen. Non-negative, at most two decimals, no exponent, no sign. */
export function parseYuan(text: unknown, field = 'amount'): Fen {
  if (typeof text !== 'string') {
    throw new LendpayError('INVALID_AMOUNT', `${field}: expected a yuan string like "1234.56", got ${describe(text)}`);
  }
  const m = YUAN.exec(text);
  if (!m) {
    throw new LendpayError('INVALID_AMOUNT', `${field}: "${text}" is not a yuan amount (digits, at most two decimals, not negative)`);
  }
  const cents = (m[2] ?? '').padEnd(2, '0');
  return (Number(m[1]) * 100 + Number(cents)) as Fen;
}

/** Checks an integer that came from the database, a JSON number or arithmetic. */
export function toFen(value: unknown, field = 'amount'): Fen {
  if (typeof value === 'string' && /^-?\d+$/.test(value)) value = Number(value);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new LendpayError('INVALID_AMOUNT', `${field}: ${describe(value)} is not a whole number of fen`);
  }
  return value as Fen;
}

/** 200000 -> "2000.00"; negative amounts keep their sign. */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = Math.trunc(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}${yuan}.${cents}`;
}

/** 123456789 -> "1,234,567.89", for people. */
export function formatYuanGrouped(fen: number): string {
  const [int, dec] = formatYuan(fen).split('.') as [string, string];
  return `${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${dec}`;
}

export function addFen(a: Fen, b: Fen): Fen {
  return checked(a + b);
}

export function subFen(a: Fen, b: Fen): Fen {
  return checked(a - b);
}

export function minFen(a: Fen, b: Fen): Fen {
  return (a < b ? a : b);
}

/** floor(amount * numerator / denominator), exact for any safe amount (bigint inside). */
export function mulRatioFloor(amount: Fen, numerator: number, denominator: number): Fen {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator <= 0) {
    throw new LendpayError('INVALID_AMOUNT', `ratio ${numerator}/${denominator} must be whole numbers with a positive denominator`);
  }
  const product = amount * numerator;
  if (Number.isSafeInteger(product)) return checked(floorDiv(product, denominator));
  const big = BigInt(amount) * BigInt(numerator);
  const d = BigInt(denominator);
  let q = big / d;
  if (big % d !== 0n && (big < 0n) !== (d < 0n)) q -= 1n;
  return checked(Number(q));
}

/** Rounds down to a whole multiple of unit (e.g. 10000 fen = 100 CNY). */
export function floorToUnit(amount: Fen, unit: Fen): Fen {
  if (unit <= 0) throw new LendpayError('INVALID_AMOUNT', `rounding unit must be positive, got ${unit}`);
  return checked(floorDiv(amount, unit) * unit);
}

// Float division can land one off for large operands; the remainder corrects it.
function floorDiv(a: number, b: number): number {
  let q = Math.trunc(a / b);
  const r = a - q * b;
  if (r < 0) q -= 1;
  else if (r >= b) q += 1;
  return q;
}

function checked(n: number): Fen {
  if (!Number.isSafeInteger(n)) throw new LendpayError('INVALID_AMOUNT', `amount overflow: ${n}`);
  return n as Fen;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
}
