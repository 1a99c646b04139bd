import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocateEvenly, divRoundHalfEven, mulRatioHalfEven } from '../../src/loans/rounding.ts';
import type { Fen } from '../../src/money.ts';
import { mulberry32, int } from '../collection/fixtures/random.ts';

test('half-even: ties go to the even neighbour, the rest to the nearest', () => {
  const cases: [bigint, bigint, bigint][] = [
    [5n, 2n, 2n], [7n, 2n, 4n], [1n, 2n, 0n], [3n, 2n, 2n], [-5n, 2n, -2n], [-7n, 2n, -4n], [-1n, 2n, 0n],
    [10n, 4n, 2n], [14n, 4n, 4n], [11n, 4n, 3n], [9n, 4n, 2n], [0n, 7n, 0n], [5n, -2n, -2n], [-5n, -2n, 2n],
    [20_005n, 10n, 2000n], [20_015n, 10n, 2002n], [20_006n, 10n, 2001n], [20_004n, 10n, 2000n],
  ];
  for (const [n, d, q] of cases) assert.is(divRoundHalfEven(n, d), q, `${n}/${d}`);
  assert.throws(() => divRoundHalfEven(1n, 0n), /division by zero/);
});

test('property: |n/d − q| ≤ ½, and exactly ½ only with q even (20,000 seeded cases)', () => {
  const rnd = mulberry32(7);
  for (let i = 0; i < 20_000; i++) {
    const d = BigInt(int(rnd, 1, i % 2 === 0 ? 10 : 2_000_000));
    const n = BigInt(int(rnd, -1e12, 1e12)) * (i % 3 === 0 ? 1_000_000n : 1n);
    const q = divRoundHalfEven(n, d);
    const twiceErr = 2n * n - 2n * q * d; // 2d × (n/d − q)
    const abs = twiceErr < 0n ? -twiceErr : twiceErr;
    assert.ok(abs <= d, `${n}/${d} → ${q}`);
    if (abs === d) assert.is(q % 2n, 0n, `${n}/${d} tie → ${q}`);
  }
});

test('mulRatioHalfEven: interest at a ppm rate, exact beyond 2^53 products', () => {
  assert.is(mulRatioHalfEven(300_000 as Fen, 500, 1_000_000), 150);
  assert.is(mulRatioHalfEven(1000 as Fen, 500, 1_000_000), 0); // 0.5 → 0
  assert.is(mulRatioHalfEven(3000 as Fen, 500, 1_000_000), 2); // 1.5 → 2
  assert.is(mulRatioHalfEven(5000 as Fen, 500, 1_000_000), 2); // 2.5 → 2
  assert.is(mulRatioHalfEven(9_000_000_000_000_000 as Fen, 999_999, 1_000_000), 8_999_991_000_000_000);
  assert.throws(() => mulRatioHalfEven(1 as Fen, 1, 0), /positive denominator/);
});

test('property: allocateEvenly loses nothing and differs by at most one fen, larger parts first', () => {
  const rnd = mulberry32(11);
  for (let i = 0; i < 5_000; i++) {
    const total = int(rnd, 0, i % 2 ? 1_000 : 1e13) as Fen;
    const parts = int(rnd, 1, 400);
    const xs = allocateEvenly(total, parts);
    assert.is(xs.length, parts);
    assert.is(xs.reduce((s, x) => s + x, 0), total);
    assert.ok(Math.max(...xs) - Math.min(...xs) <= 1);
    for (let k = 1; k < xs.length; k++) assert.ok(xs[k - 1]! >= xs[k]!);
  }
  assert.throws(() => allocateEvenly(10 as Fen, 0), /0 parts/);
  assert.throws(() => allocateEvenly(-1 as Fen, 2), /cannot split/);
});

test.run();
