import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { importCustomersFile } from '../../db/import.ts';
import { getCustomerRecord, upsertCustomers } from '../../db/customers.repository.ts';
import { parseCustomerLine } from '../../src/customers/parse.ts';
import { LendpayError } from '../../src/errors.ts';

let t: TestDatabase;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-import-'));
let fileNo = 0;

function customer(id: string, patch: (o: any) => void = () => {}): string {
  const o: any = {
    id,
    name: `商户 ${id}`,
    segment: 'supply_chain',
    realNameVerified: true,
    whitelist: null,
    accounts: [{ id: `${id}-A`, primary: true, balance: '100.00' }],
    bankCards: [{ id: `${id}-K1`, bank: 'ICBC', last4: '0001', balance: '5.00' }],
    monthlyFlow: { '2026-04': '1000.00', '2026-05': '2000.00' },
  };
  patch(o);
  return JSON.stringify(o);
}

function file(...lines: string[]): string {
  const f = path.join(dir, `f${++fileNo}.jsonl`);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

async function counts() {
  const r = await sql<{ c: number; a: number; k: number; f: number }>`
    select (select count(*) from customers)::int as c, (select count(*) from customer_accounts)::int as a,
      (select count(*) from customer_bank_cards)::int as k, (select count(*) from customer_monthly_flows)::int as f
  `.execute(t.db);
  return r.rows[0];
}

async function refusal(p: Promise<unknown>): Promise<LendpayError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, LendpayError);
    return e as LendpayError;
  }
  assert.unreachable('the import should have been refused');
  throw new Error('unreachable');
}

async function reset() {
  await sql`truncate customer_monthly_flows, customer_bank_cards, customer_accounts, customers cascade`.execute(t.db);
}

test.before(async () => {
  t = await freshDatabase('import');
});
test.after(async () => {
  await t.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});
test.before.each(reset);

test('a good file imports every table, skipping blank lines, and reports progress', async () => {
  const f = file(
    customer('M1', (o) => (o.whitelist = { limit: '800000.00', reason: 'partner', expiresOn: '2027-06-30' })),
    '',
    customer('M2', (o) => { o.accounts.push({ id: 'M2-B', primary: false, balance: '0.00' }); o.bankCards = []; }),
    '   ',
    customer('M3', (o) => (o.whitelist = { limit: '50000.00', reason: 'pilot', expiresOn: null })),
  );
  const seen: number[] = [];
  const res = await importCustomersFile(t.db, f, { onProgress: (n) => seen.push(n) });
  assert.equal(res, { customers: 3, accounts: 4, cards: 2, flows: 6 });
  assert.equal(await counts(), { c: 3, a: 4, k: 2, f: 6 });
  assert.is(seen.at(-1), 5);
  const m1 = await getCustomerRecord(t.db, 'M1');
  assert.equal(m1, parseCustomerLine(customer('M1', (o) => (o.whitelist = { limit: '800000.00', reason: 'partner', expiresOn: '2027-06-30' })), 1));
  const m3 = await getCustomerRecord(t.db, 'M3');
  assert.equal(m3?.whitelist, { limit: 5000000, reason: 'pilot', expiresOn: null });
  assert.is(await getCustomerRecord(t.db, 'nobody'), null);
});

test('a bad line 3 refuses the whole file: line and field named, nothing written', async () => {
  const f = file(customer('M1'), customer('M2'), customer('M3', (o) => (o.accounts[0].balance = '12.345')), customer('M4'));
  const err = await refusal(importCustomersFile(t.db, f, { chunkSize: 1 }));
  assert.is(err.code, 'IMPORT_INVALID');
  assert.is(err.message, `${f}: 1 bad line(s); nothing was imported`);
  assert.equal(err.details.length, 1);
  assert.match(err.details[0] ?? '', /^line 3: accounts\[0\]\.balance: "12\.345" is not a yuan amount/);
  // chunkSize 1: lines 1 and 2 were written before line 3 was read, and rolled back
  assert.equal(await counts(), { c: 0, a: 0, k: 0, f: 0 });
});

test('every bad line is reported up to 20, in file order, and the rest is not read', async () => {
  const lines: string[] = [];
  for (let i = 1; i <= 30; i++) lines.push(i % 2 === 0 ? customer(`M${i}`, (o) => (o.segment = 'retail')) : customer(`M${i}`));
  lines.push('{ not json');
  const err = await refusal(importCustomersFile(t.db, file(...lines)));
  assert.is(err.details.length, 16);
  assert.match(err.message, /16 bad line\(s\); nothing was imported/);
  assert.match(err.details[0] ?? '', /^line 2: segment: /);
  assert.match(err.details[15] ?? '', /^line 31: malformed JSON/);

  const many = Array.from({ length: 50 }, (_, i) => (i === 0 ? customer('M0') : '{'));
  const capped = await refusal(importCustomersFile(t.db, file(...many)));
  assert.is(capped.details.length, 20);
  assert.match(capped.message, /at least 20 bad line\(s\)/);
  assert.match(capped.details[19] ?? '', /^line 21: /);
  assert.equal(await counts(), { c: 0, a: 0, k: 0, f: 0 });
});

test('re-import updates by id, keeps older months, moves the primary account', async () => {
  await importCustomersFile(t.db, file(
    customer('M1', (o) => { o.accounts.push({ id: 'M1-B', primary: false, balance: '1.00' }); }),
    customer('M2'),
  ));
  const second = file(customer('M1', (o) => {
    o.segment = 'external';
    o.realNameVerified = false;
    o.whitelist = { limit: '100000.00', reason: 'bank referral', expiresOn: '2026-12-31' };
    // primary moves from M1-A to M1-B; a new account M1-C arrives; M1-A is no longer listed
    o.accounts = [{ id: 'M1-B', primary: true, balance: '7.00' }, { id: 'M1-C', primary: false, balance: '8.00' }];
    o.bankCards = [{ id: 'M1-K1', bank: 'BOC', last4: '4321', balance: '9.00' }];
    o.monthlyFlow = { '2026-05': '2500.00', '2026-06': '3000.00' };
  }));
  const res = await importCustomersFile(t.db, second);
  assert.equal(res, { customers: 1, accounts: 2, cards: 1, flows: 2 });
  const m1 = await getCustomerRecord(t.db, 'M1');
  assert.is(m1?.segment, 'external');
  assert.is(m1?.realNameVerified, false);
  assert.equal(m1?.whitelist, { limit: 10000000, reason: 'bank referral', expiresOn: '2026-12-31' });
  assert.equal(m1?.accounts, [
    { id: 'M1-A', primary: false, balance: 10000 },
    { id: 'M1-B', primary: true, balance: 700 },
    { id: 'M1-C', primary: false, balance: 800 },
  ]);
  assert.equal(m1?.bankCards, [{ id: 'M1-K1', bank: 'BOC', last4: '4321', balance: 900 }]);
  assert.equal([...(m1?.monthlyFlow ?? [])], [['2026-04', 100000], ['2026-05', 250000], ['2026-06', 300000]]);
  // the whitelist goes away when a later line says null
  await importCustomersFile(t.db, file(customer('M1', (o) => (o.accounts = [{ id: 'M1-C', primary: true, balance: '0.00' }]))));
  const again = await getCustomerRecord(t.db, 'M1');
  assert.is(again?.whitelist, null);
  assert.equal(again?.accounts.filter((a) => a.primary).map((a) => a.id), ['M1-C']);
  assert.ok(await getCustomerRecord(t.db, 'M2'));
});

test('chunks of 2: every chunk written, a bad line in a later chunk undoes the earlier ones', async () => {
  const good = Array.from({ length: 7 }, (_, i) => customer(`C${i + 1}`));
  const res = await importCustomersFile(t.db, file(...good), { chunkSize: 2 });
  assert.equal(res, { customers: 7, accounts: 7, cards: 7, flows: 14 });
  assert.equal(await counts(), { c: 7, a: 7, k: 7, f: 14 });
  await reset();
  const bad = [...good.slice(0, 5), customer('C6', (o) => (o.monthlyFlow = { '2026-13': '1.00' })), good[6] as string];
  const err = await refusal(importCustomersFile(t.db, file(...bad), { chunkSize: 2 }));
  assert.equal(err.details, ['line 6: monthlyFlow.2026-13: expected a month YYYY-MM, got "2026-13"']);
  assert.equal(await counts(), { c: 0, a: 0, k: 0, f: 0 });
});

test('a customer id twice in a file is refused at its second line', async () => {
  const err = await refusal(importCustomersFile(t.db, file(customer('M1'), customer('M2'), customer('M1')), { chunkSize: 2 }));
  assert.equal(err.details, ['line 3: id: customer M1 already appears on line 1']);
  assert.equal(await counts(), { c: 0, a: 0, k: 0, f: 0 });
});

test('an account or card id owned by another customer is refused with its line', async () => {
  // within one chunk
  const same = await refusal(importCustomersFile(t.db, file(customer('M1'), customer('M2', (o) => (o.accounts[0].id = 'M1-A')))));
  assert.equal(same.details, ['line 2: accounts[0].id: account M1-A already belongs to customer M1']);
  // across chunks of the same file
  const across = await refusal(importCustomersFile(t.db, file(customer('M1'), customer('M2'), customer('M3', (o) => (o.bankCards[0].id = 'M2-K1'))), { chunkSize: 2 }));
  assert.equal(across.details, ['line 3: bankCards[0].id: card M2-K1 already belongs to customer M2']);
  assert.equal(await counts(), { c: 0, a: 0, k: 0, f: 0 });
  // against what an earlier import left
  await importCustomersFile(t.db, file(customer('M1')));
  const later = await refusal(importCustomersFile(t.db, file(customer('M9'), customer('M2', (o) => o.accounts.push({ id: 'M1-A', primary: false, balance: '0.00' })))));
  assert.equal(later.details, ['line 2: accounts[1].id: account M1-A already belongs to customer M1']);
  assert.equal(await counts(), { c: 1, a: 1, k: 1, f: 2 });
});

test('upsertCustomers alone throws CONFLICT naming the account', async () => {
  await importCustomersFile(t.db, file(customer('M1')));
  const rec = parseCustomerLine(customer('M2', (o) => (o.accounts[0].id = 'M1-A')), 1);
  const err = await refusal(t.db.transaction().execute((trx) => upsertCustomers(trx, [rec])));
  assert.is(err.code, 'CONFLICT');
  assert.is(err.message, 'customer M2: accounts[0].id: account M1-A already belongs to customer M1');
  assert.is((await getCustomerRecord(t.db, 'M1'))?.accounts[0]?.id, 'M1-A');
  assert.is(await getCustomerRecord(t.db, 'M2'), null);
});

test('a missing file, a directory and an empty file', async () => {
  const missing = path.join(dir, 'nope.jsonl');
  const err = await refusal(importCustomersFile(t.db, missing));
  assert.is(err.code, 'NOT_FOUND');
  assert.is(err.message, `import file ${missing} does not exist`);
  assert.match((await refusal(importCustomersFile(t.db, dir))).message, /is not a regular file/);
  const empty = path.join(dir, 'empty.jsonl');
  fs.writeFileSync(empty, '');
  assert.equal(await importCustomersFile(t.db, empty), { customers: 0, accounts: 0, cards: 0, flows: 0 });
});

test('CRLF line ends, a BOM and no final newline are fine; names with quotes survive', async () => {
  const f = path.join(dir, 'crlf.jsonl');
  fs.writeFileSync(f, '\uFEFF' + customer('M1', (o) => (o.name = 'A "quoted", {odd} \\ name')) + '\r\n' + customer('M2'));
  assert.equal((await importCustomersFile(t.db, f)).customers, 2);
  assert.is((await getCustomerRecord(t.db, 'M1'))?.name, 'A "quoted", {odd} \\ name');
});

test('bad bytes: a line with invalid UTF-8 refuses the file naming the line (regression: it was stored as U+FFFD and the import exited 0)', async () => {
  const f = path.join(dir, 'latin1.jsonl');
  // line 2 is Latin-1, as a spreadsheet export may write it: "Caf\xe9" is not UTF-8
  const bad = Buffer.from(customer('M2', (o) => (o.name = 'Cafe')).replace('Cafe', 'Caf\u0000'), 'utf8');
  bad[bad.indexOf(0)] = 0xe9;
  fs.writeFileSync(f, Buffer.concat([Buffer.from(customer('M1') + '\n'), bad, Buffer.from('\n' + customer('M3') + '\n')]));
  const err = await refusal(importCustomersFile(t.db, f));
  assert.is(err.code, 'IMPORT_INVALID');
  assert.is(err.message, `${f}: 1 bad line(s); nothing was imported`);
  assert.equal(err.details, [`line 2: not valid UTF-8 (byte ${bad.indexOf(0xe9) + 1} of the line); save the file as UTF-8`]);
  assert.equal(await counts(), { c: 0, a: 0, k: 0, f: 0 });
  assert.is((await sql<{ n: number }>`select count(*)::int as n from customers where name like ${'%\uFFFD%'}`.execute(t.db)).rows[0]?.n, 0);
  // the other ways bytes go wrong: a truncated sequence at the end of a line, an overlong form, a surrogate
  for (const bytes of [[0xe6, 0x88], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
    const g = path.join(dir, `bytes-${bytes.join('-')}.jsonl`);
    const line = Buffer.from(customer('M9', (o) => (o.name = 'XX')));
    const at = line.indexOf('XX');
    fs.writeFileSync(g, Buffer.concat([line.subarray(0, at), Buffer.from(bytes), line.subarray(at + 2)]));
    const e = await refusal(importCustomersFile(t.db, g));
    assert.equal(e.details, [`line 1: not valid UTF-8 (byte ${at + 1} of the line); save the file as UTF-8`], bytes.join(' '));
  }
});

test('a lone surrogate escape in a text field is refused, not stored as U+FFFD', async () => {
  const err = await refusal(importCustomersFile(t.db, file(customer('M1'), customer('M2').replace('"name":"商户 M2"', '"name":"\\ud800 shop"'))));
  assert.equal(err.details, ['line 2: name: contains a lone surrogate (a \\uD800-\\uDFFF escape without its pair): not valid Unicode']);
  // a pair is a character like any other
  await importCustomersFile(t.db, file(customer('M3').replace('"name":"商户 M3"', '"name":"\\ud83d\\ude00 shop"')));
  assert.is((await getCustomerRecord(t.db, 'M3'))?.name, '\u{1F600} shop');
});

test('problems of every kind come back together, in file order: a bad line, a second id, an account of another customer', async () => {
  const err = await refusal(importCustomersFile(t.db, file(
    customer('M1'), customer('M2', (o) => (o.segment = 'mall')), customer('M3'), customer('M1'), customer('M4', (o) => (o.accounts[0].id = 'M3-A')),
  )));
  assert.equal(err.details, [
    'line 2: segment: expected one of supply_chain, open_platform, external, got "mall"',
    'line 4: id: customer M1 already appears on line 1',
    'line 5: accounts[0].id: account M3-A already belongs to customer M3',
  ]);
  assert.match(err.message, /3 bad line\(s\); nothing was imported/);
  assert.equal(await counts(), { c: 0, a: 0, k: 0, f: 0 });
});

test('the bulk load (foreign keys dropped for the merge and added back, validated): the same result, the same keys after, the same refusals', async () => {
  const keys = async () => (await sql<{ def: string }>`
    select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) as def from pg_constraint
    where contype = 'f' and confrelid = 'customers'::regclass order by 1`.execute(t.db)).rows.map((r) => r.def);
  const before = await keys();
  assert.ok(before.some((k) => k.startsWith('customer_monthly_flows ')), before.join('\n'));
  const res = await importCustomersFile(t.db, file(customer('M1'), customer('M2', (o) => o.accounts.push({ id: 'M2-B', primary: false, balance: '1.00' }))), { bulkLoadFrom: 1 });
  assert.equal(res, { customers: 2, accounts: 3, cards: 2, flows: 4 });
  assert.equal(await counts(), { c: 2, a: 3, k: 2, f: 4 });
  assert.equal(await keys(), before, 'every foreign key is back as it was');
  // a re-import through the same path updates by id
  await importCustomersFile(t.db, file(customer('M1', (o) => (o.monthlyFlow = { '2026-06': '5.00' }))), { bulkLoadFrom: 1 });
  assert.equal([...((await getCustomerRecord(t.db, 'M1'))?.monthlyFlow ?? [])], [['2026-04', 100000], ['2026-05', 200000], ['2026-06', 500]]);
  // and a refused file leaves data and keys untouched
  const err = await refusal(importCustomersFile(t.db, file(customer('M3'), customer('M4', (o) => (o.accounts[0].id = 'M1-A'))), { bulkLoadFrom: 1 }));
  assert.equal(err.details, ['line 2: accounts[0].id: account M1-A already belongs to customer M1']);
  assert.equal(await counts(), { c: 2, a: 3, k: 2, f: 5 });
  assert.equal(await keys(), before);
});

test('importCustomers reports every line read and the sums imported, in fen', async () => {
  const { importCustomers } = await import('../../db/import.ts');
  const r = await importCustomers(t.db, file(customer('M1'), '', customer('M2', (o) => (o.accounts[0].balance = '0.01'))));
  assert.equal([r.customers, r.lines], [2, 3]); // as wc -l counts them: the blank one too, none after the final newline
  assert.equal(r.totals, { accountBalancesFen: 10_001n, cardBalancesFen: 1_000n, monthlyFlowFen: 600_000n });
});

test.run();
