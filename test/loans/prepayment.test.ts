// Prepayment (提前还款), pure: the payoff quote (principal, interest due, the current
// period's interest by days elapsed, penalty, fee), a payoff that closes the loan, a
// partial prepayment that pays what is due first and then takes principal off the last
// installments, and properties over random loans, dates, payments and amounts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { describePrepayment, payoffQuote, planPrepayment, type LoanState } from '../../src/loans/prepayment.ts';
import { equalInstallment, scheduleOf, METHODS, type Method } from '../../src/loans/methods.ts';
import { addDays, generateSchedule, type Installment } from '../../src/loans/schedule.ts';
import { allocatePayment } from '../../src/collection/waterfall.ts';
import type { Fen } from '../../src/money.ts';
import type { BusinessDate } from '../../src/dates.ts';

const d = (s: string): BusinessDate => s as BusinessDate;
/** a loan whose installments before `paidBefore` are paid in full */
function state(s: readonly Installment[], disbursedOn: string, feeBp: number, paidBefore: number, penalties: Record<number, number> = {}): LoanState {
  return {
    loanId: 'L1', disbursedOn: d(disbursedOn), prepaymentFeeBp: feeBp,
    installments: s.map((i) => ({ ...i, penalty: (penalties[i.no] ?? 0) as Fen, paidPrincipal: (i.no < paidBefore ? i.principal : 0) as Fen, paidInterest: (i.no < paidBefore ? i.interest : 0) as Fen, paidPenalty: 0 as Fen })),
  };
}
const monthly = equalInstallment(1_000_000 as Fen, 1800, 12, d('2026-01-31'));

test('README: payoff of 等额本息 10,000.00 on 2026-03-15 after the first installment — 15 of 31 days of interest, 1 % fee', () => {
  const q = payoffQuote(state(monthly, '2026-01-31', 100, 2), d('2026-03-15'));
  assert.equal(q, {
    loanId: 'L1', date: '2026-03-15', principal: 923_320, interestDue: 0,
    interestAccrued: 6_702, // 138.50 × 15 / 31 = 67.016… → 67.02
    penalty: 0, prepaidPrincipal: 923_320,
    fee: 9_233, // 1 % of 9,233.20 = 92.332 → 92.33
    total: 939_255,
    currentPeriod: { no: 2, from: '2026-02-28', to: '2026-03-31', days: 31, elapsed: 15 },
  });
  const p = planPrepayment(state(monthly, '2026-01-31', 100, 2), q.total, d('2026-03-15'));
  assert.is(p.kind, 'payoff');
  assert.ok(p.closes);
  assert.equal([p.principal, p.interest, p.penalty, p.fee, p.overpayment], [923_320, 6_702, 0, 9_233, 0]);
  // the rest of period 2 and every later period's interest: 138.50 − 67.02 + 126.82 + … + 13.55
  assert.is(p.interestWaived.reduce((s, w) => s + w.interest, 0), 85_161 - 6_702);
  assert.is(describePrepayment(p), '9392.55 on 2026-03-15: principal 9233.20 (9233.20 of it before its due date), interest 67.02, penalty 0.00, prepayment fee 92.33; 784.59 of interest no longer owed; the loan is paid off and closed');
});

test('payoff of an overdue loan: what is due, its penalty, no fee on principal already due; more than the quote is an overpayment', () => {
  // bullet 20,000.00 due 2026-03-04, 10 days late with 1.00 a day of penalty accrued
  const s = [{ no: 1, dueDate: d('2026-03-04'), principal: 2_000_000 as Fen, interest: 5_600 as Fen }];
  const q = payoffQuote(state(s, '2026-02-25', 200, 1, { 1: 1_000 }), d('2026-03-14'));
  assert.equal([q.principal, q.interestDue, q.interestAccrued, q.penalty, q.prepaidPrincipal, q.fee, q.total, q.currentPeriod], [2_000_000, 5_600, 0, 1_000, 0, 0, 2_006_600, null]);
  const p = planPrepayment(state(s, '2026-02-25', 200, 1, { 1: 1_000 }), (q.total + 250) as Fen, d('2026-03-14'));
  assert.equal([p.closes, p.penalty, p.overpayment], [true, 1_000, 250]);
  assert.match(describePrepayment(p), /2\.50 more than the payoff is owed back to the borrower/);
});

test('README: partial prepayment of 1,000.00 on a 30-day loan of 3,000.00 at day 10 — what is due first, then 898.95 off installments 30 back to 22', () => {
  const s = generateSchedule({ principal: 300_000 as Fen, startDate: d('2026-11-24'), termDays: 30, dailyRatePpm: 500 });
  const st = state(s, '2026-11-24', 0, 10);
  assert.is(payoffQuote(st, d('2026-12-04')).total, 210_105);
  const p = planPrepayment(st, 100_000 as Fen, d('2026-12-04'));
  assert.is(p.kind, 'partial');
  assert.equal(p.payments.map((x) => [x.no, x.principal, x.interest]), [
    [10, 10_000, 105], // due today: 100.00 and 1.05
    [22, 9_895, 0], [23, 10_000, 0], [24, 10_000, 0], [25, 10_000, 0], [26, 10_000, 0], [27, 10_000, 0], [28, 10_000, 0], [29, 10_000, 0], [30, 10_000, 0],
  ]);
  assert.equal(p.interestWaived.map((w) => [w.no, w.interest]), [[30, 5], [29, 10], [28, 15], [27, 20], [26, 25], [25, 30], [24, 35], [23, 40], [22, 45]]);
  assert.equal([p.prepaidPrincipal, p.fee, p.closes, p.closedEarly, p.endsOn, p.endedOn], [89_895, 0, false, [23, 24, 25, 26, 27, 28, 29, 30], '2026-12-16', '2026-12-24']);
  assert.is(describePrepayment(p), '1000.00 on 2026-12-04: principal 998.95 (898.95 of it before its due date), interest 1.05, penalty 0.00, prepayment fee 0.00; 2.25 of interest no longer owed; installments 23–30 paid off early: the loan now ends on 2026-12-16 instead of 2026-12-24');
});

test('partial prepayment with a fee: the principal it buys and the fee add up to what is left', () => {
  const p = planPrepayment(state(monthly, '2026-01-31', 100, 2), 101_000 as Fen, d('2026-03-15'));
  // nothing due on 03-15: 1,010.00 buys 1,000.00 of principal (off installment 12, 903.26, then 11) and 10.00 of fee
  assert.equal([p.prepaidPrincipal, p.fee, p.interest], [100_000, 1_000, 0]);
  assert.equal(p.payments.map((x) => [x.no, x.principal]), [[11, 9_674], [12, 90_326]]);
  // installment 11 keeps the interest on its 793.16 left: 26.90 × 793.16 / 889.90 = 23.975… → 23.98, 2.92 waived
  assert.equal(p.interestWaived, [{ no: 12, interest: 1_355 }, { no: 11, interest: 292 }]);
  assert.match(describePrepayment(p), /installment 12 paid off early: the loan now ends on 2026-12-31 instead of 2027-01-31/);
});

test('the waterfall decides what is due is paid first: penalty, then interest, then principal by default', () => {
  const s = [
    { no: 1, dueDate: d('2026-03-01'), principal: 10_000 as Fen, interest: 500 as Fen },
    { no: 2, dueDate: d('2026-04-01'), principal: 10_000 as Fen, interest: 500 as Fen },
  ];
  const p = planPrepayment(state(s, '2026-02-01', 0, 1, { 1: 300 }), 700 as Fen, d('2026-03-20'));
  assert.equal(p.payments, [{ no: 1, principal: 0, interest: 400, penalty: 300 }]);
  const q = planPrepayment(state(s, '2026-02-01', 0, 1, { 1: 300 }), 700 as Fen, d('2026-03-20'), 'oldest_first_penalty_last');
  assert.equal(q.payments, [{ no: 1, principal: 200, interest: 500, penalty: 0 }]);
});

const loans = fc.record({
  method: fc.constantFrom<Method>(...METHODS),
  principal: fc.integer({ min: 100, max: 50_000_000 }),
  term: fc.integer({ min: 1, max: 24 }),
  dailyRatePpm: fc.integer({ min: 0, max: 2_000 }),
  annualRateBp: fc.integer({ min: 0, max: 3_600 }),
  feeBp: fc.integer({ min: 0, max: 500 }),
  paidBefore: fc.integer({ min: 1, max: 25 }),
  dayOffset: fc.integer({ min: 0, max: 800 }),
  penalty: fc.integer({ min: 0, max: 100_000 }),
  share: fc.double({ min: 0.0001, max: 1.2, noNaN: true }),
});

test('property: a prepayment places exactly its amount, never more than is owed, due before early, principal off the last installments; it closes the loan iff it reaches the quote', () => {
  fc.assert(fc.property(loans, (l) => {
    const start = d('2026-01-31');
    const s = scheduleOf({ method: l.method, term: l.term, dailyRatePpm: l.dailyRatePpm, annualRateBp: l.annualRateBp }, l.principal as Fen, start);
    const date = addDays(start, l.dayOffset);
    const overdue = s.filter((i) => i.dueDate < date && i.no >= l.paidBefore).map((i) => i.no);
    const st = state(s, start, l.feeBp, l.paidBefore, Object.fromEntries(overdue.map((no) => [no, l.penalty])));
    const q = payoffQuote(st, date);
    const amount = Math.max(1, Math.floor(q.total * l.share)) as Fen;
    if (q.total === 0) return;
    const p = planPrepayment(st, amount, date);
    assert.is(p.principal + p.interest + p.penalty + p.fee + p.overpayment, amount);
    assert.is(p.closes, amount >= q.total);
    if (amount >= q.total) assert.equal([p.principal, p.interest, p.penalty, p.fee, p.overpayment], [q.principal, q.interestDue + q.interestAccrued, q.penalty, q.fee, amount - q.total]);
    const byNo = new Map(st.installments.map((i) => [i.no, i]));
    for (const x of p.payments) {
      const i = byNo.get(x.no)!;
      const waived = p.interestWaived.find((w) => w.no === x.no)?.interest ?? 0;
      assert.ok(x.principal >= 0 && x.interest >= 0 && x.penalty >= 0);
      assert.ok(x.principal <= i.principal - i.paidPrincipal && x.penalty <= i.penalty - i.paidPenalty);
      assert.ok(x.interest + waived <= i.interest - i.paidInterest, `installment ${x.no}: interest paid ${x.interest} + waived ${waived}`);
    }
    if (p.prepaidPrincipal > 0 && p.kind === 'partial') {
      // everything due was paid first
      for (const i of st.installments.filter((x) => x.dueDate <= date)) {
        const x = p.payments.find((y) => y.no === i.no);
        assert.is((x?.principal ?? 0) + (x?.interest ?? 0) + (x?.penalty ?? 0), i.principal - i.paidPrincipal + i.interest - i.paidInterest + i.penalty - i.paidPenalty);
      }
      // the principal paid early is a suffix of the installments not yet due: all but the first of them in full
      const early = p.payments.filter((x) => byNo.get(x.no)!.dueDate > date && x.principal > 0).map((x) => x.no).sort((a, b) => a - b);
      const later = st.installments.filter((i) => i.dueDate > date && i.principal > i.paidPrincipal).map((i) => i.no);
      assert.equal(early, later.slice(later.length - early.length));
      for (const no of early.slice(1)) assert.is(p.payments.find((x) => x.no === no)!.principal, byNo.get(no)!.principal - byNo.get(no)!.paidPrincipal);
    }
  }), { numRuns: 400, seed: 3 });
});

test('property: a partial prepayment pays what is due exactly as the waterfall would', () => {
  fc.assert(fc.property(loans, (l) => {
    const start = d('2026-01-31');
    const s = scheduleOf({ method: l.method, term: l.term, dailyRatePpm: l.dailyRatePpm, annualRateBp: l.annualRateBp }, l.principal as Fen, start);
    const date = addDays(start, l.dayOffset);
    const st = state(s, start, l.feeBp, l.paidBefore);
    const due = st.installments.filter((i) => i.dueDate <= date).map((i) => ({ no: i.no, dueDate: i.dueDate, principal: (i.principal - i.paidPrincipal) as Fen, interest: (i.interest - i.paidInterest) as Fen }));
    const owed = due.reduce((a, i) => a + i.principal + i.interest, 0);
    if (owed === 0) return;
    const amount = Math.max(1, Math.floor(owed * Math.min(1, l.share))) as Fen;
    const p = planPrepayment(st, amount, date);
    const w = allocatePayment(due, amount);
    if (amount < payoffQuote(st, date).total) {
      assert.equal(p.payments.filter((x) => byDue(st, x.no, date)).map((x) => [x.no, x.principal, x.interest]), w.allocations.map((a) => [a.installmentNo, a.principal, a.interest]));
    }
  }), { numRuns: 200, seed: 9 });
});

function byDue(st: LoanState, no: number, date: BusinessDate): boolean {
  return st.installments.find((i) => i.no === no)!.dueDate <= date;
}

test.run();
