// rules/products.json: the shipped file, the validator's messages (file and JSON
// path), and the decision whether a request for a product may go ahead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseProductRules, resolveLoanRequest, scheduleFor, type ProductRules } from '../../src/loans/products.ts';
import { parsePricingRules } from '../../src/loans/pricing.ts';
import { generateSchedule } from '../../src/loans/schedule.ts';
import { validateRules } from '../../src/rules/load.ts';
import { diffRuleSets, formatChanges } from '../../src/rules/versions.ts';
import { parseYuan } from '../../src/money.ts';
import type { BusinessDate } from '../../src/dates.ts';
import { mkdtemp, cp, writeFile } from 'node:fs/promises';
import os from 'node:os';

const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
const shippedJson = JSON.parse(readFileSync(path.join(RULES_DIR, 'products.json'), 'utf8'));
const shipped = parseProductRules(shippedJson, 'rules/products.json').value as ProductRules;
const today = '2026-11-24' as BusinessDate;
const y = parseYuan;

test('the shipped products load; the default product is today\'s loan to the fen', () => {
  const res = parseProductRules(shippedJson, 'rules/products.json');
  assert.equal(res.errors, []);
  assert.equal(res.warnings, []);
  assert.equal(shipped.products.map((p) => p.method), ['daily_equal_principal', 'bullet', 'equal_installment', 'interest_first']);
  const pricing = parsePricingRules(JSON.parse(readFileSync(path.join(RULES_DIR, 'pricing.json'), 'utf8')), 'p').value!;
  for (const amount of [1, 10_001, 300_000, 123_456_789]) {
    assert.equal(
      scheduleFor(shipped.defaultProduct, amount as never, today),
      generateSchedule({ principal: amount as never, startDate: today, termDays: pricing.defaultTermDays, dailyRatePpm: pricing.dailyRatePpm }),
    );
  }
});

const base = shippedJson.products[2];
const file = (products: unknown[], extra: Record<string, unknown> = {}) => ({ defaultProduct: 'p', products, ...extra });

test('refusals name the file and the JSON path', () => {
  const res = parseProductRules(file([
    { ...base, id: 'p', termDays: 30, rails: ['balance', 'wire', 'balance'] },
    { ...base, id: 'p', method: 'weekly' },
    { ...base, id: 'Q!', minAmount: '500.00', maxAmount: '100.00', termMonths: { min: 12, max: 3, default: 6 }, annualRateBp: 18.5, colour: 'red' },
    { ...base, id: 'r', method: 'bullet', dailyRatePpm: 500 },
  ]), 'x.json');
  assert.equal(res.errors, [
    'x.json: $.products[0].termDays: not for equal_installment (a term in months, an annual rate): use termMonths and annualRateBp',
    'x.json: $.products[0].rails[1]: expected one of balance, card, got "wire"',
    'x.json: $.products[0].rails[2]: "balance" is listed twice',
    'x.json: $.products[1].method: expected one of daily_equal_principal, equal_installment, interest_first, bullet, got "weekly"',
    'x.json: $.products[2].colour: unknown property "colour" (allowed: id, name, description, method, termDays, termMonths, dailyRatePpm, annualRateBp, minAmount, maxAmount, rails, penaltyDailyRatePpm, graceDays, prepaymentFeeBp)',
    'x.json: $.products[2].id: expected 1–64 of a-z, 0-9, "-" and "_" (starting with a letter or digit), got "Q!"',
    'x.json: $.products[2].termMonths: min 12 is more than max 3',
    'x.json: $.products[2].annualRateBp: expected a whole number 0..10000 (interest a year in basis points: 1800 = 18.00 %), got 18.5',
    'x.json: $.products[2].maxAmount: 100.00 is less than minAmount 500.00',
    'x.json: $.products[3].termMonths: not for bullet (a term in days, a daily rate): use termDays and dailyRatePpm',
    'x.json: $.products[3].annualRateBp: not for bullet (a term in days, a daily rate): use termDays and dailyRatePpm',
    'x.json: $.products[3].termDays: missing: the term in days',
  ]);
  assert.equal(parseProductRules(file([{ ...base, id: 'a' }, { ...base, id: 'a' }], { defaultProduct: 'a' }), 'x.json').errors,
    ['x.json: $.products[1].id: "a" is already the id of $.products[0]']);
  assert.equal(parseProductRules(file([{ ...base, id: 'a' }]), 'x.json').errors, ['x.json: $.defaultProduct: no product has the id "p" (products: a)']);
  assert.equal(parseProductRules(file([{ ...base, id: 'p', termMonths: { min: 3, max: 12, default: 24 } }]), 'x.json').errors,
    ['x.json: $.products[0].termMonths.default: 24 is outside 3..12']);
  assert.equal(parseProductRules(file([{ ...base, id: 'p', minAmount: '6000000.00', maxAmount: '7000000.00', annualRateBp: 4000 }]), 'x.json').warnings, [
    'x.json: $.products[0].annualRateBp: 4000 bp is more than 36 % a year',
    'x.json: $.products[0].minAmount: 6000000.00 is above the 5000000.00 CNY credit ceiling: no customer can borrow this product',
  ]);
});

test('rules validate: a broken products.json is refused with file and path; the schema agrees with the loader', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lendpay-products-'));
  await cp(RULES_DIR, dir, { recursive: true });
  await writeFile(path.join(dir, 'products.json'), JSON.stringify(file([{ ...base, id: 'p', rails: [] }])));
  const res = await validateRules(dir);
  assert.ok(res.errors.some((e) => /products\.json: \$\.products\[0\]\.rails: expected a non-empty list/.test(e)), res.errors.join('\n'));
  assert.is(res.hash, undefined);
  // the shipped file passes the JSON Schema as well as the loader
  assert.equal((await validateRules(RULES_DIR)).errors, []);
});

test('resolve: product, term and rail within the product; the schedule by its method', () => {
  const r = resolveLoanRequest(shipped, { product: 'monthly-equal', term: 12, amount: y('10000.00'), rail: 'card' }, '2026-01-31' as BusinessDate);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.product.id, 'monthly-equal');
  assert.is(r.schedule.length, 12);
  assert.is(r.schedule[0]!.dueDate, '2026-02-28');
  assert.equal(r.terms, {
    id: 'monthly-equal', name: '等额本息·3至12期', method: 'equal_installment', term: 12, termUnit: 'months', dailyRatePpm: null, annualRateBp: 1800,
    penaltyDailyRatePpm: 500, graceDays: 3, prepaymentFeeBp: 100, schedule: 'product',
  });
  const def = resolveLoanRequest(shipped, { amount: y('3000.00'), rail: 'balance' }, today);
  assert.ok(def.ok && def.product.id === 'daily-30' && def.schedule.length === 30 && def.terms.term === 30);
  const dflt = resolveLoanRequest(shipped, { product: 'monthly-equal', amount: y('10000.00'), rail: 'balance' }, today);
  assert.ok(dflt.ok && dflt.terms.term === 6 && dflt.schedule.length === 6);
});

test('resolve: unknown product, amount out of range, rail not allowed, term out of range — each naming its field', () => {
  assert.equal(resolveLoanRequest(shipped, { product: 'gold', amount: y('1.00'), rail: 'balance' }, today), {
    ok: false, problems: [{ code: 'UNKNOWN_PRODUCT', field: 'product', at: '', message: 'no product "gold" (on sale: daily-30, bullet-7, monthly-equal, interest-first-6)' }],
  });
  assert.equal(resolveLoanRequest(shipped, { product: 'bullet-7', term: 31, amount: y('999.99'), rail: 'card' }, today), {
    ok: false,
    problems: [
      { code: 'AMOUNT_OUT_OF_RANGE', field: 'amount', at: '', message: "999.99 is outside product bullet-7's range 1000.00..200000.00" },
      { code: 'RAIL_NOT_ALLOWED', field: 'rail', at: '', message: 'product bullet-7 pays out to balance only, not card' },
      { code: 'TERM_NOT_ALLOWED', field: 'term', at: '', message: 'product bullet-7 allows 7..30 days, got 31' },
    ],
  });
  const fixed = resolveLoanRequest(shipped, { product: 'interest-first-6', term: 3, amount: y('50000.00'), rail: 'card' }, today);
  assert.equal(fixed, { ok: false, problems: [{ code: 'TERM_NOT_ALLOWED', field: 'term', at: '', message: 'product interest-first-6 has a fixed term of 6 months, got 3' }] });
  assert.ok(resolveLoanRequest(shipped, { product: 'interest-first-6', term: 6, amount: y('50000.00'), rail: 'card' }, today).ok);
  assert.throws(() => scheduleFor(shipped.products[1]!, y('1000.00'), today, 3), /term: product bullet-7 allows 7\.\.30 days, got 3/);
});

test('resolve: the request\'s own schedule, checked (ascending, after today, adding up), with the product\'s terms', () => {
  const own = [{ dueDate: '2026-12-24', principal: '600.00', interest: '9.00' }, { dueDate: '2027-01-24', principal: '400.00', interest: '4.00' }];
  const r = resolveLoanRequest(shipped, { product: 'bullet-7', schedule: own, amount: y('1000.00'), rail: 'balance' }, today);
  assert.ok(r.ok && r.schedule.length === 2 && r.terms.schedule === 'request' && r.terms.term === null && r.terms.penaltyDailyRatePpm === 600);
  const bad = resolveLoanRequest(shipped, {
    schedule: [{ dueDate: '2026-11-24', principal: '600.00', interest: '9.00' }, { dueDate: '2026-11-23', principal: '300.00', interest: '0.00' }],
    term: 30, amount: y('1000.00'), rail: 'balance',
  }, today);
  assert.equal(bad, {
    ok: false,
    problems: [
      { code: 'TERM_NOT_ALLOWED', field: 'term', at: '', message: 'not with a schedule of your own (the schedule gives the term)' },
      { code: 'INVALID_SCHEDULE', field: 'schedule', at: '$[0].dueDate', message: '2026-11-24 is not after the disbursement date 2026-11-24' },
      { code: 'INVALID_SCHEDULE', field: 'schedule', at: '$[1].dueDate', message: "2026-11-23 is not after the previous installment's 2026-11-24" },
    ],
  });
  const short = resolveLoanRequest(shipped, { schedule: [{ dueDate: '2026-12-01', principal: '999.99', interest: '0.00' }], amount: y('1000.00'), rail: 'balance' }, today);
  assert.equal(short, { ok: false, problems: [{ code: 'INVALID_SCHEDULE', field: 'schedule', at: '$', message: "the principals sum to 999.99, the loan's principal is 1000.00" }] });
});

test('rules diff: products are addressed by id, so a new one does not show every later one as changed', () => {
  const after = structuredClone(shippedJson);
  after.products.splice(1, 0, { ...shippedJson.products[1], id: 'bullet-14', termDays: 14 });
  after.products.find((p: { id: string }) => p.id === 'monthly-equal').annualRateBp = 2000;
  after.products.find((p: { id: string }) => p.id === 'daily-30').rails = ['balance'];
  assert.equal(formatChanges(diffRuleSets({ 'products.json': shippedJson }, { 'products.json': after })), [
    '~ products.json $.products[id=daily-30].rails: ["balance","card"] → ["balance"]',
    '~ products.json $.products[id=monthly-equal].annualRateBp: 1800 → 2000',
    `+ products.json $.products[id=bullet-14]: ${JSON.stringify({ ...shippedJson.products[1], id: 'bullet-14', termDays: 14 }).slice(0, 97)}...`,
  ]);
});

test.run();
