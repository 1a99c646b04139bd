// Exporting a day's vouchers against real Postgres, from real disbursements (several
// products), a card repayment and a duplicate-payout receivable: balanced and equal,
// subject by subject, to the journal; the same numbers on re-export; later entries
// get new numbers; refused with nothing written while an account has no subject;
// the CLI (CSV to a file) and GET /vouchers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { world, LENDER, type World } from '../disbursement/setup.ts';
import { apiWithRules, runLendpay } from '../helpers/lendpay.ts';
import { readHeaders } from '../helpers/lendpay.ts';
import { businessDateAt, systemClock } from '../../src/dates.ts';
import { loadRuleSet, type RuleSet } from '../../src/rules/load.ts';
import { applyForProduct } from '../../src/loans/apply.ts';
import { repayFromCard } from '../../src/collection/repay.ts';
import type { CollectionDeps } from '../../src/collection/service.ts';
import { postJournal } from '../../db/orders.repository.ts';
import { exportVouchers } from '../../src/ledger/export.ts';
import { vouchersToJson, type Voucher } from '../../src/ledger/vouchers.ts';
import { parseYuan, type Fen } from '../../src/money.ts';

const TOKEN = 'vouchers-test-token-0123456789';
let w: World;
let rules: RuleSet;
let app: FastifyInstance;
const D = businessDateAt(systemClock.now());

test.before(async () => {
  w = await world('vouchers');
  rules = await loadRuleSet(path.resolve('rules'));
  const loans = [
    { customerId: 'G1', amount: parseYuan('3000.00'), rail: 'balance' as const, requestId: 'v-1' },
    { customerId: 'G2', amount: parseYuan('20000.00'), rail: 'card' as const, requestId: 'v-2', product: 'monthly-equal', term: 3 },
    { customerId: 'G3', amount: parseYuan('5000.00'), rail: 'balance' as const, requestId: 'v-3', product: 'bullet-7' },
  ];
  // applied together: one group, so each leg posts one journal entry carrying the three orders' lines
  const grouped = { ...w.deps, grouping: { maxWaitMs: 200, maxSize: 10, concurrency: 1 } };
  const ids: string[] = [];
  for (const r of await Promise.all(loans.map((l) => applyForProduct(grouped, rules.products, l)))) {
    assert.ok(r.ok && r.loan.status === 'disbursed', JSON.stringify(r));
    if (r.ok) ids.push(r.loan.id);
  }
  const batch = await sql<{ n: number }>`select count(*)::int8 as n from journal_entries where kind = 'batch'`.execute(w.t.db);
  assert.is(batch.rows[0]!.n, 2, 'the funding leg and the payout leg, one entry each');
  // a card repayment (collection order, allocated over installments) …
  await w.admin('/admin/accounts', { cards: [{ id: 'G1-K1', customerId: 'G1', bank: 'CMB', last4: '9651', balance: 500_000 }] });
  const c: CollectionDeps = { db: w.t.db, channel: w.deps.channel, clock: systemClock, collectionRules: rules.collection!, notifications: rules.notifications!, ruleSetHash: rules.hash, lender: LENDER };
  const rep = await repayFromCard(c, { loanId: ids[0]!, cardId: 'G1-K1', amount: parseYuan('101.50'), requestId: 'v-repay' });
  assert.ok(rep.ok && rep.order.status === 'succeeded', JSON.stringify(rep));
  // … and a duplicate payout's receivable (an entry with no order)
  await w.t.db.transaction().execute((trx) => postJournal(trx, null, {
    kind: 'recovery', memo: 'duplicate payout P1',
    lines: [
      { account: 'recovery.receivable', debit: 7_000 as Fen, credit: 0 as Fen, customerId: 'G3', loanId: null },
      { account: 'lender.platform_balance', debit: 0 as Fen, credit: 7_000 as Fen, customerId: null, loanId: null },
    ],
  }));
  app = await apiWithRules(w, rules, TOKEN);
});
test.after(async () => {
  await app.close();
  await w.close();
});

/** The journal's movements on D by subject, straight from journal_lines. */
async function journalBySubject(): Promise<[string, number, number][]> {
  const r = await sql<{ account: string; d: number; c: number }>`
    select l.account, sum(l.debit_fen)::int8 as d, sum(l.credit_fen)::int8 as c from journal_lines l join journal_entries e on e.id = l.entry_id
    where (e.posted_at at time zone 'Asia/Shanghai')::date = ${D}::date group by l.account
  `.execute(w.t.db);
  const by = new Map<string, [string, number, number]>();
  for (const x of r.rows) {
    const code = rules.accounts!.subjects.get(x.account)!.code;
    const e = by.get(code) ?? [code, 0, 0];
    e[1] += x.d;
    e[2] += x.c;
    by.set(code, e);
  }
  return [...by.values()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function bySubject(vs: readonly Voucher[]): [string, number, number][] {
  const by = new Map<string, [string, number, number]>();
  for (const v of vs) for (const l of v.lines) {
    const e = by.get(l.subjectCode) ?? [l.subjectCode, 0, 0];
    e[1] += l.debit;
    e[2] += l.credit;
    by.set(l.subjectCode, e);
  }
  return [...by.values()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable('expected a refusal');
}

const count = async () => Number((await sql<{ n: number }>`select count(*)::int8 as n from vouchers`.execute(w.t.db)).rows[0]!.n);

test('refused while an account has no subject, nothing numbered', async () => {
  const subjects = new Map(rules.accounts!.subjects);
  subjects.delete('interest.income');
  await rejects(() => exportVouchers(w.t.db, { ...rules.accounts!, subjects }, D, 'type'), /add "interest\.income" to rules\/accounts\.json/);
  assert.is(await count(), 0);
  await rejects(() => exportVouchers(w.t.db, null, D, 'type'), /rules\/accounts\.json/);
});

test('by type: one voucher per event, balanced, numbered 1…n, equal subject by subject to the journal of the day', async () => {
  const day = await exportVouchers(w.t.db, rules.accounts, D, 'type');
  assert.equal(day.vouchers.map((v) => [v.number, v.eventType]), [[1, 'disbursement_funding'], [2, 'disbursement'], [3, 'repayment'], [4, 'recovery']]);
  assert.is(day.numberedNow, 4);
  for (const v of day.vouchers) assert.is(v.lines.reduce((s, l) => s + l.debit, 0), v.lines.reduce((s, l) => s + l.credit, 0), `voucher ${v.number}`);
  assert.equal(bySubject(day.vouchers), await journalBySubject());
  // 3,000.00 + 20,000.00 + 5,000.00 lent
  assert.equal(day.vouchers[1]!.lines.map((l) => [l.subjectCode, l.debit, l.credit]), [['1301', 2_800_000, 0], ['101201', 0, 2_800_000]]);
  assert.match(day.vouchers[1]!.summary, /贷款发放 3笔$/);
  // the repayment: 1.50 of interest and 100.00 of principal (the first daily installment)
  assert.equal(day.vouchers[2]!.lines.map((l) => [l.subjectCode, l.debit, l.credit]), [['101201', 10_150, 0], ['1301', 0, 10_000], ['601101', 0, 150]]);
});

test('re-exporting gives the same vouchers and numbers; entries that arrive later get new numbers after them', async () => {
  const first = await exportVouchers(w.t.db, rules.accounts, D, 'type');
  const again = await exportVouchers(w.t.db, rules.accounts, D, 'type');
  assert.is(again.numberedNow, 0);
  assert.equal(again.vouchers, first.vouchers);
  const r = await applyForProduct(w.deps, rules.products, { customerId: 'G4', amount: parseYuan('60000.00'), rail: 'card', requestId: 'v-late', product: 'interest-first-6' });
  assert.ok(r.ok && r.loan.status === 'disbursed');
  const later = await exportVouchers(w.t.db, rules.accounts, D, 'type');
  assert.is(later.numberedNow, 2);
  assert.equal(later.vouchers.slice(0, 4), first.vouchers, 'never renumbered or rewritten');
  assert.equal(later.vouchers.slice(4).map((v) => [v.number, v.eventType, v.summary.endsWith('1笔')]), [[5, 'disbursement_funding', true], [6, 'disbursement', true]]);
  assert.equal(bySubject(later.vouchers), await journalBySubject());
});

test('by entry: one voucher per posting with customer and loan, numbered on its own; concurrent exports number once', async () => {
  const [a, b] = await Promise.all([exportVouchers(w.t.db, rules.accounts, D, 'entry'), exportVouchers(w.t.db, rules.accounts, D, 'entry')]);
  assert.equal(a.vouchers, b.vouchers);
  assert.is(a.numberedNow + b.numberedNow, a.vouchers.length);
  // a posting: one order's lines (a batch entry carries several orders), or an entry with no order
  const postings = Number((await sql<{ n: number }>`
    select count(distinct (l.entry_id, coalesce(l.order_id, e.order_id, 0)))::int8 as n from journal_lines l join journal_entries e on e.id = l.entry_id
  `.execute(w.t.db)).rows[0]!.n);
  assert.is(a.vouchers.length, postings);
  assert.equal(a.vouchers.map((v) => v.number), a.vouchers.map((_, i) => i + 1));
  const payout = a.vouchers.find((v) => v.eventType === 'disbursement')!;
  assert.ok(payout.loanId !== null && payout.customerId === 'G1');
  assert.match(payout.summary, new RegExp(`^贷款发放 贷款${payout.loanId} 客户G1$`));
  assert.equal(bySubject(a.vouchers), await journalBySubject());
});

test('GET /vouchers?date=D gives the export; format=csv is the CSV with a BOM', async () => {
  const r = await app.inject({ method: 'GET', url: `/vouchers?date=${D}`, headers: readHeaders(TOKEN) });
  assert.is(r.statusCode, 200, r.body);
  const day = await exportVouchers(w.t.db, rules.accounts, D, 'type');
  assert.equal(r.json(), JSON.parse(JSON.stringify(vouchersToJson(D, 'type', day.vouchers, 0))));
  assert.is(r.json().vouchers[0].number, '记-0001');
  assert.is(r.json().totals.debit, r.json().totals.credit);
  const csv = await app.inject({ method: 'GET', url: `/vouchers?date=${D}&group=entry&format=csv`, headers: readHeaders(TOKEN) });
  assert.is(csv.statusCode, 200);
  assert.match(String(csv.headers['content-type']), /text\/csv; charset=utf-8/);
  assert.ok(csv.rawPayload.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'UTF-8 BOM');
  assert.match(csv.body, /^\uFEFF凭证日期,凭证字,凭证号,摘要,科目编码,科目名称,借方金额,贷方金额,客户,贷款\r\n/);
  const bad = await app.inject({ method: 'GET', url: '/vouchers?date=2026-02-30', headers: readHeaders(TOKEN) });
  assert.is(bad.statusCode, 400);
  assert.match(bad.json().message, /querystring\.date: 2026-02-30 is not a calendar date/);
  assert.is((await app.inject({ method: 'GET', url: '/vouchers', headers: readHeaders(TOKEN) })).json().errors[0].path, 'querystring.date');
});

test('CLI: ledger vouchers --format csv --out F; an account without a subject exits 1 naming it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-vouchers-'));
  const file = path.join(dir, 'v.csv');
  const run = (args: string[], env: Record<string, string> = {}) => runLendpay(w, args, env);
  const r = await run(['ledger', 'vouchers', '--date', D, '--format', 'csv', '--out', file]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`6 vouchers of ${D} \\(0 numbered now\\) written to .*v\\.csv: debits ([\\d,.]+) = credits \\1`));
  const text = fs.readFileSync(file);
  assert.ok(text.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])));
  const rows = text.toString('utf8').slice(1).trim().split('\r\n');
  assert.is(rows[0], '凭证日期,凭证字,凭证号,摘要,科目编码,科目名称,借方金额,贷方金额');
  assert.ok(rows.slice(1).every((x) => x.startsWith(`${D},记,`)));
  // a rules directory whose accounts.json lacks interest.income
  const rulesDir = path.join(dir, 'rules');
  fs.cpSync(path.resolve('rules'), rulesDir, { recursive: true });
  const acc = JSON.parse(fs.readFileSync(path.join(rulesDir, 'accounts.json'), 'utf8'));
  delete acc.accounts['interest.income'];
  fs.writeFileSync(path.join(rulesDir, 'accounts.json'), JSON.stringify(acc));
  const before = await count();
  const refused = await run(['ledger', 'vouchers', '--date', '2030-01-01'], { LENDPAY_RULES_DIR: rulesDir });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /no voucher is exported while a ledger account has no subject: add "interest\.income"/);
  assert.is(await count(), before);
});

test.run();
