import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYuan, formatYuan, formatYuanGrouped, mulRatioFloor, floorToUnit, toFen, type Fen } from '../../src/money.ts';

test('parseYuan reads yuan strings as integer fen', () => {
  assert.is(parseYuan('1234.56'), 123456);
  assert.is(parseYuan('0.1'), 10);
  assert.is(parseYuan('7'), 700);
  assert.is(parseYuan('5000000.00'), 500000000);
});

test('parseYuan refuses floats, signs, exponents and three decimals with the field name', () => {
  for (const bad of ['-1.00', '1.234', '1e5', '', ' 1.00', '01.00', 'abc', '1,000.00']) {
    assert.throws(() => parseYuan(bad, 'accounts[0].balance'), /accounts\[0\]\.balance/);
  }
  assert.throws(() => parseYuan(12.5, 'limit'), /limit: expected a yuan string/);
});

test('formatYuan round-trips every fen value it is given', () => {
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const fen = (seed * 4099) % 9_000_000_000_000;
    assert.is(parseYuan(formatYuan(fen)), fen);
  }
  assert.is(formatYuan(-5), '-0.05');
  assert.is(formatYuanGrouped(123456789), '1,234,567.89');
});

test('mulRatioFloor and floorToUnit are exact integer arithmetic', () => {
  assert.is(mulRatioFloor(599_999 as Fen, 1, 2), 299_999);
  assert.is(floorToUnit(299_999 as Fen, 10_000 as Fen), 290_000);
  // beyond 2^53 / 3 the product needs bigint; result stays exact
  const big = 4_000_000_000_000_000 as Fen;
  assert.is(mulRatioFloor(big, 3, 4), 3_000_000_000_000_000);
  assert.is(mulRatioFloor(7 as Fen, 1, 3), 2);
});

test('toFen accepts safe integers only', () => {
  assert.is(toFen('42'), 42);
  assert.throws(() => toFen(1.5, 'x'), /x: 1.5 is not a whole number/);
  assert.throws(() => toFen(2 ** 60, 'x'));
});

test.run();
