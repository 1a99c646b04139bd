// Named rounding for money arithmetic (dinero.js style): every division of fen that
// can leave a fraction goes through one of these, never through Math.round.
import { LendpayError } from '../errors.ts';
import type { Fen } from '../money.ts';

/**
 * round(numerator / denominator) with ties to the even neighbour (banker's
 * rounding), exact for any integers (bigint inside). 5/2 → 2, 7/2 → 4, -5/2 → -2.
 */
export function divRoundHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new LendpayError('INVALID_AMOUNT', 'division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  // floor division, then look at twice the remainder against the denominator
  let q = numerator / denominator;
  let r = numerator % denominator;
  if (r < 0n) {
    q -= 1n;
    r += denominator;
  }
  const twice = 2n * r;
  if (twice > denominator || (twice === denominator && q % 2n !== 0n)) q += 1n;
  return q;
}

/** amount × numerator / denominator rounded half-even to the fen (e.g. interest at a ppm rate). */
export function mulRatioHalfEven(amount: Fen, numerator: number, denominator: number): Fen {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator <= 0) {
    throw new LendpayError('INVALID_AMOUNT', `ratio ${numerator}/${denominator} must be whole numbers with a positive denominator`);
  }
  const q = divRoundHalfEven(BigInt(amount) * BigInt(numerator), BigInt(denominator));
  const n = Number(q);
  if (!Number.isSafeInteger(n)) throw new LendpayError('INVALID_AMOUNT', `amount overflow: ${q}`);
  return n as Fen;
}

/**
 * Splits `total` into `parts` amounts as equal as possible (largest remainder with
 * equal weights): the first `total mod parts` get one fen more, so the parts always
 * sum to exactly `total`.
 */
export function allocateEvenly(total: Fen, parts: number): Fen[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new LendpayError('INVALID_AMOUNT', `cannot split ${total} fen`);
  if (!Number.isSafeInteger(parts) || parts < 1) throw new LendpayError('INVALID_INPUT', `cannot split into ${parts} parts`);
  const base = Math.floor(total / parts);
  const extra = total - base * parts;
  return Array.from({ length: parts }, (_, i) => (base + (i < extra ? 1 : 0)) as Fen);
}
