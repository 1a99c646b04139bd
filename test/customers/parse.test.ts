import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCustomerLine } from '../../src/customers/parse.ts';
import { LendpayError } from '../../src/errors.ts';

const GOOD = {
  id: 'M1001',
  name: '王记数码小店',
  segment: 'open_platform',
  realNameVerified: true,
  whitelist: null,
  accounts: [{ id: 'M1001-A', primary: true, balance: '1234.56' }, { id: 'M1001-B', primary: false, balance: '0' }],
  bankCards: [{ id: 'M1001-K1', bank: 'CMB', last4: '9651', balance: '5000.00' }],
  monthlyFlow: { '2026-05': '120000.00', '2026-06': '98000.00' },
};

/** GOOD with `patch` applied (a key set to undefined is removed). */
function line(patch: (o: any) => void = () => {}): string {
  const o = structuredClone(GOOD) as any;
  patch(o);
  return JSON.stringify(o);
}

function refused(text: string, lineNo: number, expected: RegExp): string {
  try {
    parseCustomerLine(text, lineNo);
  } catch (e) {
    assert.instance(e, LendpayError);
    const err = e as LendpayError;
    assert.is(err.code, 'IMPORT_INVALID');
    assert.ok(err.message.startsWith(`line ${lineNo}: `), err.message);
    assert.match(err.message, expected);
    assert.not.match(err.message, /王记/, 'a name leaked into the error');
    return err.message;
  }
  assert.unreachable(`line ${lineNo} should have been refused (${expected})`);
  return '';
}

test('a good line becomes a checked record in fen', () => {
  const r = parseCustomerLine(line(), 1);
  assert.is(r.id, 'M1001');
  assert.is(r.name, '王记数码小店');
  assert.is(r.segment, 'open_platform');
  assert.is(r.realNameVerified, true);
  assert.is(r.whitelist, null);
  assert.equal(r.accounts, [{ id: 'M1001-A', primary: true, balance: 123456 }, { id: 'M1001-B', primary: false, balance: 0 }]);
  assert.equal(r.bankCards, [{ id: 'M1001-K1', bank: 'CMB', last4: '9651', balance: 500000 }]);
  assert.equal([...r.monthlyFlow], [['2026-05', 12000000], ['2026-06', 9800000]]);
});

test('whitelist with and without expiry; missing whitelist and bankCards mean none', () => {
  const w = parseCustomerLine(line((o) => (o.whitelist = { limit: '800000.00', reason: 'partner', expiresOn: '2027-06-30' })), 1);
  assert.equal(w.whitelist, { limit: 80000000, reason: 'partner', expiresOn: '2027-06-30' });
  const forever = parseCustomerLine(line((o) => (o.whitelist = { limit: '50000', reason: 'partner' })), 1);
  assert.equal(forever.whitelist, { limit: 5000000, reason: 'partner', expiresOn: null });
  const nul = parseCustomerLine(line((o) => (o.whitelist = { limit: '1.00', reason: 'x', expiresOn: null })), 1);
  assert.is(nul.whitelist?.expiresOn, null);
  const bare = parseCustomerLine(line((o) => { delete o.whitelist; delete o.bankCards; }), 1);
  assert.is(bare.whitelist, null);
  assert.equal(bare.bankCards, []);
});

test('malformed JSON and non-objects name the line, without echoing the content', () => {
  refused('{"id":"M1","name":"王记数码小店",', 7, /^line 7: malformed JSON/);
  refused('not json 王记', 8, /^line 8: malformed JSON/);
  refused('[1,2]', 9, /^line 9: expected one JSON object per line, got an array/);
  refused('"M1"', 10, /^line 10: expected one JSON object/);
});

test('unknown keys are refused by name, at the top and inside', () => {
  refused(line((o) => (o.nickname = 'x')), 2, /^line 2: nickname: unknown key/);
  refused(line((o) => (o.accounts[1].frozen = true)), 2, /^line 2: accounts\[1\]\.frozen: unknown key/);
  refused(line((o) => (o.bankCards[0].cvv = '123')), 2, /^line 2: bankCards\[0\]\.cvv: unknown key/);
  refused(line((o) => (o.whitelist = { limit: '1.00', reason: 'x', note: 'y' })), 2, /^line 2: whitelist\.note: unknown key/);
});

test('id must be 1-64 of [A-Za-z0-9_-]', () => {
  refused(line((o) => (o.id = '')), 3, /^line 3: id: expected 1-64 letters/);
  refused(line((o) => (o.id = 'M 1')), 3, /^line 3: id: /);
  refused(line((o) => (o.id = 'x'.repeat(65))), 3, /^line 3: id: /);
  refused(line((o) => (o.id = 1001)), 3, /^line 3: id: /);
  refused(line((o) => delete o.id), 3, /^line 3: id: .*got nothing/);
  assert.is(parseCustomerLine(line((o) => (o.id = 'a_B-9'.padEnd(64, 'z'))), 1).id.length, 64);
});

test('name, segment and realNameVerified', () => {
  const m = refused(line((o) => (o.name = '')), 4, /^line 4: name: expected a non-empty string$/);
  assert.ok(m.length > 0);
  refused(line((o) => (o.name = 42)), 4, /^line 4: name: /);
  refused(line((o) => (o.segment = 'retail')), 4, /^line 4: segment: expected one of supply_chain, open_platform, external, got "retail"/);
  refused(line((o) => (o.realNameVerified = 'yes')), 4, /^line 4: realNameVerified: expected true or false/);
  refused(line((o) => delete o.realNameVerified), 4, /^line 4: realNameVerified: /);
});

test('accounts: at least one, exactly one primary, unique ids, yuan balances', () => {
  refused(line((o) => (o.accounts = [])), 5, /^line 5: accounts: at least one balance account/);
  refused(line((o) => (o.accounts = 'A1')), 5, /^line 5: accounts: expected an array/);
  refused(line((o) => (o.accounts[0].primary = false)), 5, /^line 5: accounts: exactly one account must be primary, none is/);
  refused(line((o) => (o.accounts[1].primary = true)), 5, /^line 5: accounts\[1\]\.primary: more than one primary/);
  refused(line((o) => (o.accounts[1].primary = 'no')), 5, /^line 5: accounts\[1\]\.primary: expected true or false/);
  refused(line((o) => (o.accounts[1].id = 'M1001-A')), 5, /^line 5: accounts\[1\]\.id: account M1001-A appears twice/);
  refused(line((o) => (o.accounts[1].id = 'bad id')), 5, /^line 5: accounts\[1\]\.id: /);
  refused(line((o) => (o.accounts[1].balance = '1.234')), 5, /^line 5: accounts\[1\]\.balance: "1\.234" is not a yuan amount/);
  refused(line((o) => (o.accounts[1].balance = '-1.00')), 5, /^line 5: accounts\[1\]\.balance: /);
  refused(line((o) => (o.accounts[1].balance = 12.5)), 5, /^line 5: accounts\[1\]\.balance: expected a yuan string/);
  refused(line((o) => (o.accounts[0] = 'A')), 5, /^line 5: accounts\[0\]: expected/);
});

test('bank cards: unique ids, bank, last4 exactly four digits (not echoed), balance', () => {
  refused(line((o) => o.bankCards.push({ ...o.bankCards[0] })), 6, /^line 6: bankCards\[1\]\.id: card M1001-K1 appears twice/);
  refused(line((o) => (o.bankCards[0].bank = '')), 6, /^line 6: bankCards\[0\]\.bank: /);
  for (const bad of ['965', '96511', 'ab12', 9651]) {
    const m = refused(line((o) => (o.bankCards[0].last4 = bad)), 6, /^line 6: bankCards\[0\]\.last4: expected exactly 4 digits/);
    assert.not.ok(m.includes(String(bad)), 'card digits echoed');
  }
  refused(line((o) => (o.bankCards[0].balance = '5,000.00')), 6, /^line 6: bankCards\[0\]\.balance: /);
  refused(line((o) => (o.bankCards = {})), 6, /^line 6: bankCards: expected an array/);
  // an account and a card may share an id: they live in different tables
  assert.ok(parseCustomerLine(line((o) => (o.bankCards[0].id = 'M1001-A')), 1));
});

test('whitelist: limit, reason, expiresOn', () => {
  refused(line((o) => (o.whitelist = true)), 11, /^line 11: whitelist: expected null or/);
  refused(line((o) => (o.whitelist = { reason: 'x' })), 11, /^line 11: whitelist\.limit: expected a yuan string/);
  refused(line((o) => (o.whitelist = { limit: '1e6', reason: 'x' })), 11, /^line 11: whitelist\.limit: /);
  refused(line((o) => (o.whitelist = { limit: '1.00', reason: '' })), 11, /^line 11: whitelist\.reason: /);
  refused(line((o) => (o.whitelist = { limit: '1.00', reason: 'x', expiresOn: '2027-02-30' })), 11, /^line 11: whitelist\.expiresOn: 2027-02-30 is not a calendar date/);
  refused(line((o) => (o.whitelist = { limit: '1.00', reason: 'x', expiresOn: '30/06/2027' })), 11, /^line 11: whitelist\.expiresOn: expected a date/);
});

test('monthlyFlow: month keys and yuan values', () => {
  refused(line((o) => (o.monthlyFlow['2026-13'] = '1.00')), 12, /^line 12: monthlyFlow\.2026-13: expected a month YYYY-MM/);
  refused(line((o) => (o.monthlyFlow['2026-5'] = '1.00')), 12, /^line 12: monthlyFlow\.2026-5: /);
  refused(line((o) => (o.monthlyFlow['2026-06'] = '-5.00')), 12, /^line 12: monthlyFlow\.2026-06: /);
  refused(line((o) => (o.monthlyFlow['2026-06'] = 98000)), 12, /^line 12: monthlyFlow\.2026-06: expected a yuan string/);
  refused(line((o) => (o.monthlyFlow = [])), 12, /^line 12: monthlyFlow: expected an object/);
  refused(line((o) => delete o.monthlyFlow), 12, /^line 12: monthlyFlow: /);
  assert.is(parseCustomerLine(line((o) => (o.monthlyFlow = {})), 1).monthlyFlow.size, 0);
  assert.is(parseCustomerLine(line((o) => (o.monthlyFlow['2026-04'] = '0.00')), 1).monthlyFlow.get('2026-04' as never), 0);
});

test('text the database would refuse is caught with its field', () => {
  refused(line((o) => (o.name = 'a\u0000b')), 14, /^line 14: name: contains a NUL character$/);
  refused(line((o) => (o.bankCards[0].bank = 'C\u0000MB')), 14, /^line 14: bankCards\[0\]\.bank: contains a NUL/);
  refused(line((o) => (o.monthlyFlow['0000-01'] = '1.00')), 14, /^line 14: monthlyFlow\.0000-01: 0000-01 is not a plausible date/);
  refused(line((o) => (o.whitelist = { limit: '1.00', reason: 'x', expiresOn: '0000-06-30' })), 14, /^line 14: whitelist\.expiresOn: /);
});

test('the first problem in field order is the one reported', () => {
  refused(line((o) => { o.segment = 'x'; o.accounts = []; }), 13, /^line 13: segment: /);
});

test.run();
