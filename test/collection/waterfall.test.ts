import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocatePayment, type OutstandingInstallment } from '../../src/collection/waterfall.ts';
import { WATERFALL_ORDERS } from '../../src/collection/rules.ts';
import type { Fen } from '../../src/money.ts';
import type { BusinessDate } from '../../src/dates.ts';
import { mulberry32, int, pick } from './fixtures/random.ts';

const inst = (no: number, dueDate: string, principal: number, interest: number): OutstandingInstallment =>
  ({ no, dueDate: dueDate as BusinessDate, principal: principal as Fen, interest: interest as Fen });
const three = [inst(3, '2026-11-27', 10_000, 140), inst(1, '2026-11-25', 10_000, 150), inst(2, '2026-11-26', 10_000, 145)];

test('default: oldest installment first, interest before principal', () => {
  assert.equal(allocatePayment(three, 10_200 as Fen), {
    allocations: [{ installmentNo: 1, interest: 150, principal: 10_000, penalty: 0 }, { installmentNo: 2, interest: 50, principal: 0, penalty: 0 }],
    remainder: 0,
  });
  assert.equal(allocatePayment(three, 100 as Fen).allocations, [{ installmentNo: 1, interest: 100, principal: 0, penalty: 0 }]);
  assert.equal(allocatePayment(three, 40_000 as Fen).remainder, 40_000 - 30_435);
  assert.equal(allocatePayment(three, 0 as Fen), { allocations: [], remainder: 0 });
});

test('other orders', () => {
  assert.equal(allocatePayment(three, 10_200 as Fen, 'oldest_first_principal_first').allocations,
    [{ installmentNo: 1, interest: 150, principal: 10_000, penalty: 0 }, { installmentNo: 2, interest: 0, principal: 50, penalty: 0 }]);
  assert.equal(allocatePayment(three, 500 as Fen, 'interest_first_then_principal').allocations, [
    { installmentNo: 1, interest: 150, principal: 65, penalty: 0 }, { installmentNo: 2, interest: 145, principal: 0, penalty: 0 }, { installmentNo: 3, interest: 140, principal: 0, penalty: 0 },
  ]);
});

test('bad input is refused', () => {
  assert.throws(() => allocatePayment(three, -1 as Fen), /amount/);
  assert.throws(() => allocatePayment([...three, three[0]!], 1 as Fen), /listed twice/);
  assert.throws(() => allocatePayment([inst(1, '2026-11-25', -1, 0)], 1 as Fen), /principal -1/);
});

test('property: allocated + remainder = amount, nothing beyond what is outstanding (10,000 cases, every order)', () => {
  const rnd = mulberry32(99);
  for (let n = 0; n < 10_000; n++) {
    const k = int(rnd, 0, 8);
    const list: OutstandingInstallment[] = [];
    for (let i = 1; i <= k; i++) list.push(inst(i, `2026-12-${String(int(rnd, 1, 28)).padStart(2, '0')}`, int(rnd, 0, 100_000), int(rnd, 0, 2_000)));
    const owed = list.reduce((s, i) => s + i.principal + i.interest, 0);
    const amount = pick(rnd, [0, owed, owed + 1, int(rnd, 0, owed + 10), int(rnd, 0, 1e7)]) as Fen;
    const order = pick(rnd, WATERFALL_ORDERS);
    const r = allocatePayment(list, amount, order);
    const allocated = r.allocations.reduce((s, a) => s + a.interest + a.principal, 0);
    assert.is(allocated + r.remainder, amount);
    assert.is(r.remainder, Math.max(0, amount - owed));
    for (const a of r.allocations) {
      const i = list.find((x) => x.no === a.installmentNo)!;
      assert.ok(a.interest >= 0 && a.interest <= i.interest && a.principal >= 0 && a.principal <= i.principal);
      assert.ok(a.interest + a.principal > 0);
    }
    if (order === 'oldest_first_interest_first') {
      // a later installment gets money only once every earlier one is fully paid
      const sorted = [...list].sort((a, b) => a.dueDate.localeCompare(b.dueDate) || a.no - b.no);
      let open = false;
      for (const i of sorted) {
        const a = r.allocations.find((x) => x.installmentNo === i.no);
        if (open) assert.is(a, undefined);
        if ((a?.interest ?? 0) + (a?.principal ?? 0) < i.interest + i.principal) open = true;
        if (a && a.principal > 0) assert.is(a.interest, i.interest);
      }
    }
  }
});

test.run();
