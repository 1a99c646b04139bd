// Building vouchers from journal entries (pure): event types, grouping by type and
// by entry, numbering from where the day left off, balance, CSV and JSON renderings;
// and rules/accounts.json's validator.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildVouchers, differences, eventOf, subjectTotals, vouchersToCsv, vouchersToJson, voucherNumber, type JournalPosting } from '../../src/ledger/vouchers.ts';
import { CHART, parseAccountMap, subjectsFor, type AccountMap } from '../../src/ledger/accounts.ts';
import type { Fen } from '../../src/money.ts';

const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
const map = parseAccountMap(JSON.parse(readFileSync(path.join(RULES_DIR, 'accounts.json'), 'utf8')), 'rules/accounts.json').value as AccountMap;
const f = (n: number) => n as Fen;
let lineNo = 0;
const line = (account: string, debit: number, credit: number, customerId: string | null = null, loanId: string | null = null) => ({ lineNo: ++lineNo, account, debit: f(debit), credit: f(credit), customerId, loanId });
const numbered = <T extends { lines: { lineNo: number }[] }>(p: T, from: number): T => ({ ...p, lines: p.lines.map((l, i) => ({ ...l, lineNo: from + i })) });

// Entry 2 is a batch: the payouts of L1 and L2 (orders 12 and 13), lines 1–2 and 3–4.
const ENTRIES: JournalPosting[] = [
  numbered({ entryId: 1, orderId: 11, kind: 'succeeded', orderPurpose: 'disburse.fund', orderKey: 'disburse:L1:fund', lines: [line('lender.platform_balance', 100_000, 0), line('lender.funding_card', 0, 100_000)] }, 1),
  numbered({ entryId: 2, orderId: 12, kind: 'batch', orderPurpose: 'disburse.payout', orderKey: 'disburse:L1:payout', lines: [line('loans.receivable', 100_000, 0, 'C1', 'L1'), line('lender.platform_balance', 0, 100_000)] }, 1),
  numbered({ entryId: 2, orderId: 13, kind: 'batch', orderPurpose: 'disburse.payout', orderKey: 'disburse:L2:payout', lines: [line('loans.receivable', 50_000, 0, 'C2', 'L2'), line('lender.platform_balance', 0, 50_000)] }, 3),
  numbered({ entryId: 4, orderId: 14, kind: 'succeeded', orderPurpose: 'collect.batch', orderKey: 'collect:L1:2026-11-24:cross_account:C1-B', lines: [line('lender.platform_balance', 3_550, 0), line('loans.receivable', 0, 3_400, 'C1', 'L1'), line('interest.income', 0, 150, 'C1', 'L1')] }, 1),
  numbered({ entryId: 5, orderId: null, kind: 'recovery', orderPurpose: null, orderKey: null, lines: [line('recovery.receivable', 7_000, 0, 'C2', 'R9'), line('lender.platform_balance', 0, 7_000)] }, 1),
  numbered({ entryId: 6, orderId: 16, kind: 'succeeded', orderPurpose: 'collect.batch', orderKey: 'collect:L2:2026-11-24:own_balance:C2-A', lines: [line('lender.platform_balance', 1_000, 0), line('loans.receivable', 0, 1_000, 'C2', 'L2')] }, 1),
];
const refs = (...xs: [number, number][]) => xs.map(([entryId, lineNo]) => ({ entryId, lineNo }));

test('event types: by the order\'s purpose (collection by its step), or by the entry\'s kind', () => {
  assert.equal(ENTRIES.map(eventOf), ['disbursement_funding', 'disbursement', 'disbursement', 'collection_cross_account', 'recovery', 'collection_own_balance']);
  assert.is(eventOf({ kind: 'succeeded', orderPurpose: 'collect.batch', orderKey: 'collect:L1:2026-11-24:hold:C1-A' }), 'collection_hold');
  assert.is(eventOf({ kind: 'succeeded', orderPurpose: 'collect.hold', orderKey: 'hold:x:L1:2026-11-24:hold:C1-A' }), 'hold_sweep');
  assert.is(eventOf({ kind: 'succeeded', orderPurpose: 'repay.card', orderKey: 'repay:r1' }), 'repayment');
  assert.is(eventOf({ kind: 'succeeded', orderPurpose: 'collect.recovery', orderKey: 'recover:R9:2026-11-24:own_balance:C2-A' }), 'recovery_collection');
  assert.is(eventOf({ kind: 'penalty', orderPurpose: null, orderKey: null }), 'penalty_accrual');
  assert.is(eventOf({ kind: 'mystery', orderPurpose: null, orderKey: null }), 'other');
});

test('grouping by type: one voucher per event type in a fixed order, lines summed per account and side, numbered on from `next`', () => {
  const vs = buildVouchers({ date: '2026-11-24', grouping: 'type', word: '记', subjects: map.subjects, next: 3, postings: ENTRIES });
  assert.equal(vs.map((v) => [voucherNumber(v.word, v.number), v.eventType, v.summary, v.booked]), [
    ['记-0003', 'disbursement_funding', '2026-11-24 放款资金划拨（资金卡→平台账户） 1笔', refs([1, 1], [1, 2])],
    ['记-0004', 'disbursement', '2026-11-24 贷款发放 2笔', refs([2, 1], [2, 2], [2, 3], [2, 4])],
    ['记-0005', 'collection_own_balance', '2026-11-24 贷款回收-本人账户扣款 1笔', refs([6, 1], [6, 2])],
    ['记-0006', 'collection_cross_account', '2026-11-24 贷款回收-跨账户扣款 1笔', refs([4, 1], [4, 2], [4, 3])],
    ['记-0007', 'recovery', '2026-11-24 重复放款确认应收 1笔', refs([5, 1], [5, 2])],
  ]);
  assert.equal(vs[1]!.lines.map((l) => [l.subjectCode, l.subjectName, l.debit, l.credit, l.customerId]), [
    ['1301', '贷款', 150_000, 0, null],
    ['101201', '其他货币资金-支付平台存款', 0, 150_000, null],
  ]);
  assert.equal(vs[3]!.lines.map((l) => [l.subjectCode, l.debit, l.credit]), [['101201', 3_550, 0], ['1301', 0, 3_400], ['601101', 0, 150]]);
  assert.equal(differences(vs, [
    { account: 'lender.platform_balance', debit: 104_550, credit: 157_000 }, { account: 'lender.funding_card', debit: 0, credit: 100_000 },
    { account: 'loans.receivable', debit: 150_000, credit: 4_400 }, { account: 'interest.income', debit: 0, credit: 150 }, { account: 'recovery.receivable', debit: 7_000, credit: 0 },
  ]), []);
  assert.equal(differences(vs, [{ account: 'loans.receivable', debit: 150_000, credit: 4_400 }]).length, 4);
});

test('grouping by entry: one voucher per posting (an order\'s lines of a batch entry, or an entry of its own) with the customer and loan as auxiliary items', () => {
  const vs = buildVouchers({ date: '2026-11-24', grouping: 'entry', word: '记', subjects: map.subjects, next: 1, postings: [...ENTRIES].reverse() });
  assert.equal(vs.map((v) => [v.number, v.summary, v.customerId, v.loanId]), [
    [1, '放款资金划拨（资金卡→平台账户）', null, null],
    [2, '贷款发放 贷款L1 客户C1', 'C1', 'L1'],
    [3, '贷款发放 贷款L2 客户C2', 'C2', 'L2'],
    [4, '贷款回收-跨账户扣款 贷款L1 客户C1', 'C1', 'L1'],
    [5, '重复放款确认应收 贷款R9 客户C2', 'C2', 'R9'],
    [6, '贷款回收-本人账户扣款 贷款L2 客户C2', 'C2', 'L2'],
  ]);
  assert.equal(vs[3]!.lines.map((l) => [l.subjectCode, l.debit, l.credit, l.customerId, l.loanId]), [
    ['101201', 3_550, 0, null, null], ['1301', 0, 3_400, 'C1', 'L1'], ['601101', 0, 150, 'C1', 'L1'],
  ]);
});

test('CSV: the finance package\'s columns, UTF-8 with a BOM, CRLF, fields quoted when they must be', () => {
  const vs = buildVouchers({ date: '2026-11-24', grouping: 'type', word: '记', subjects: map.subjects, next: 1, postings: ENTRIES.slice(0, 2) });
  const csv = vouchersToCsv('type', vs);
  assert.ok(csv.startsWith('\uFEFF凭证日期,凭证字,凭证号,摘要,科目编码,科目名称,借方金额,贷方金额\r\n'));
  assert.equal(csv.slice(1).split('\r\n'), [
    '凭证日期,凭证字,凭证号,摘要,科目编码,科目名称,借方金额,贷方金额',
    '2026-11-24,记,1,2026-11-24 放款资金划拨（资金卡→平台账户） 1笔,101201,其他货币资金-支付平台存款,1000.00,0.00',
    '2026-11-24,记,1,2026-11-24 放款资金划拨（资金卡→平台账户） 1笔,1002,银行存款,0.00,1000.00',
    '2026-11-24,记,2,2026-11-24 贷款发放 1笔,1301,贷款,1000.00,0.00',
    '2026-11-24,记,2,2026-11-24 贷款发放 1笔,101201,其他货币资金-支付平台存款,0.00,1000.00',
    '',
  ]);
  const quoted = buildVouchers({ date: '2026-11-24', grouping: 'entry', word: '记', subjects: new Map([...map.subjects, ['lender.funding_card', { code: '1002', name: '银行存款,"基本户"' }]]), next: 1, postings: ENTRIES.slice(0, 1) });
  const rows = vouchersToCsv('entry', quoted).split('\r\n');
  assert.is(rows[0], '\uFEFF凭证日期,凭证字,凭证号,摘要,科目编码,科目名称,借方金额,贷方金额,客户,贷款');
  assert.is(rows[2], '2026-11-24,记,1,放款资金划拨（资金卡→平台账户）,1002,"银行存款,""基本户""",0.00,1000.00,,');
});

test('JSON: numbers as 记-0001, amounts as yuan strings, totals by subject', () => {
  const vs = buildVouchers({ date: '2026-11-24', grouping: 'type', word: '记', subjects: map.subjects, next: 1, postings: ENTRIES });
  const j = vouchersToJson('2026-11-24', 'type', vs, vs.length);
  assert.is(j.vouchers[0]!.number, '记-0001');
  assert.equal(j.vouchers[0]!.lines[0], { subjectCode: '101201', subjectName: '其他货币资金-支付平台存款', account: 'lender.platform_balance', debit: '1000.00', credit: '0.00' });
  assert.equal(j.totals.bySubject.map((s) => [s.subjectCode, s.debit, s.credit]), [
    ['1002', '0.00', '1000.00'], ['101201', '1045.50', '1570.00'], ['122101', '70.00', '0.00'], ['1301', '1500.00', '44.00'], ['601101', '0.00', '1.50'],
  ]);
  assert.is(j.totals.debit, j.totals.credit);
});

test('property: every voucher balances and the vouchers book exactly the entries\' lines, subject by subject, in both groupings', () => {
  const accounts = CHART;
  const posting = fc.record({
    purpose: fc.constantFrom('disburse.fund', 'disburse.payout', 'collect.batch', 'collect.hold', 'repay.card', null),
    step: fc.constantFrom('own_balance', 'cross_account', 'hold'),
    legs: fc.array(fc.record({ from: fc.constantFrom(...accounts), to: fc.constantFrom(...accounts), amount: fc.integer({ min: 1, max: 1e9 }), loan: fc.constantFrom('L1', 'L2', null) }), { minLength: 1, maxLength: 4 }),
  });
  fc.assert(fc.property(fc.array(posting, { minLength: 1, maxLength: 30 }), fc.constantFrom('type' as const, 'entry' as const), fc.integer({ min: 1, max: 50 }), (raw, grouping, next) => {
    // postings two at a time share a batch entry, their lines numbered on within it
    const entries: JournalPosting[] = raw.map((r, i) => numbered({
      entryId: Math.floor(i / 2) + 1, orderId: r.purpose ? i + 100 : null, kind: r.purpose ? 'batch' : 'recovery', orderPurpose: r.purpose, orderKey: `collect:L1:2026-11-24:${r.step}:A`,
      lines: r.legs.flatMap((l) => [line(l.from, l.amount, 0, l.loan ? 'C' : null, l.loan), line(l.to, 0, l.amount)]),
    }, i % 2 === 0 ? 1 : 1000));
    const vs = buildVouchers({ date: '2026-11-24', grouping, word: '记', subjects: map.subjects, next, postings: entries });
    assert.equal(vs.map((v) => v.number), vs.map((_, i) => next + i));
    const key = (r: { entryId: number; lineNo: number }) => `${r.entryId}:${r.lineNo}`;
    assert.equal(vs.flatMap((v) => v.booked.map(key)).sort(), entries.flatMap((e) => e.lines.map((l) => key({ entryId: e.entryId, lineNo: l.lineNo }))).sort());
    for (const v of vs) assert.is(v.lines.reduce((s, l) => s + l.debit, 0), v.lines.reduce((s, l) => s + l.credit, 0));
    const journal = new Map<string, { debit: number; credit: number }>();
    for (const e of entries) for (const l of e.lines) {
      const s = map.subjects.get(l.account)!.code;
      const x = journal.get(s) ?? { debit: 0, credit: 0 };
      x.debit += l.debit;
      x.credit += l.credit;
      journal.set(s, x);
    }
    assert.equal(subjectTotals(vs).map((t) => [t.subjectCode, t.debit, t.credit]), [...journal].sort(([a], [b]) => (a < b ? -1 : 1)).map(([s, x]) => [s, x.debit, x.credit]));
  }), { numRuns: 200, seed: 5 });
});

test('accounts.json: the shipped map covers the chart; refusals name file and path', () => {
  assert.equal(parseAccountMap(JSON.parse(readFileSync(path.join(RULES_DIR, 'accounts.json'), 'utf8')), 'a').warnings, []);
  assert.equal([...map.subjects.keys()].sort(), [...CHART].sort());
  const bad = parseAccountMap({ voucherWord: '', accounts: { 'loans.recievable': { code: '1301', name: '贷款' }, 'interest.income': { code: '60-11', name: '' }, 'fee.income': { code: '6021', name: 'x', extra: 1 } } }, 'acc.json');
  assert.equal(bad.errors, [
    'acc.json: $.voucherWord: expected the voucher word (凭证字) as 1–4 characters, e.g. "记", got ""',
    `acc.json: $.accounts["loans.recievable"]: unknown ledger account "loans.recievable" (lendpay's accounts: ${CHART.join(', ')})`,
    'acc.json: $.accounts["interest.income"].code: expected a subject code of digits, at least four (e.g. "1301", "601101", "1012.01"), got "60-11"',
    'acc.json: $.accounts["interest.income"].name: expected the subject\'s name (1–64 characters), got ""',
    'acc.json: $.accounts["fee.income"].extra: unknown property "extra" (allowed: code, name)',
  ]);
  const partial = parseAccountMap({ accounts: { 'loans.receivable': { code: '1301', name: '贷款' } } }, 'acc.json');
  assert.equal(partial.errors, []);
  assert.is(partial.warnings.length, CHART.length - 1);
  assert.match(partial.warnings[0]!, /acc\.json: \$\.accounts: ledger account "lender\.funding_card" has no subject: vouchers are not exported until it has one/);
  assert.throws(() => subjectsFor(partial.value!, ['loans.receivable', 'penalty.income']), /add "penalty\.income" to acc\.json/);
});

test.run();
