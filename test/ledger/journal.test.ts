// The journal balances, whatever writes it: the check runs once per statement over
// the entries that statement touched, and an unbalanced posting rolls its whole
// transaction back (the order's state change with it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'kysely';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { postEntry } from '../../db/orders.repository.ts';
import { ACCOUNTS, type PostingLine } from '../../src/ledger/postings.ts';
import type { Fen } from '../../src/money.ts';

let t: TestDatabase;
test.before(async () => {
  t = await freshDatabase('journal');
});
test.after(async () => {
  await t.drop();
});

const line = (account: PostingLine['account'], debit: number, credit: number): PostingLine => ({ account, debit: debit as Fen, credit: credit as Fen, customerId: null, loanId: null });
const counts = async () => {
  const r = await sql<{ e: number; l: number }>`select (select count(*) from journal_entries)::int8 as e, (select count(*) from journal_lines)::int8 as l`.execute(t.db);
  return r.rows[0]!;
};

test('a batch entry of many orders posts in one statement and balances', async () => {
  const id = await t.db.transaction().execute((trx) => postEntry(trx, { kind: 'batch', memo: 'two orders', orderId: null }, [
    { orderId: 1, line: line(ACCOUNTS.platformBalance, 300, 0) }, { orderId: 1, line: line(ACCOUNTS.loansReceivable, 0, 300) },
    { orderId: 2, line: line(ACCOUNTS.platformBalance, 200, 0) }, { orderId: 2, line: line(ACCOUNTS.interestIncome, 0, 200) },
  ], new Date()));
  assert.ok(id !== null);
  assert.equal(await counts(), { e: 1, l: 4 });
});

test('journal-balanced-per-statement: an unbalanced entry is refused by the database, nothing of its transaction stays', async () => {
  const before = await counts();
  try {
    await t.db.transaction().execute(async (trx) => {
      await sql`insert into settlements (business_date, lines, total_fen) values ('2026-01-05', 1, 1)`.execute(trx);
      const e = await sql<{ id: number }>`insert into journal_entries (order_id, kind, memo) values (null, 'x', 'unbalanced') returning id`.execute(trx);
      // written straight, past assertBalanced: the database itself must refuse it
      await sql`insert into journal_lines (entry_id, line_no, account, debit_fen, credit_fen) values (${e.rows[0]!.id}, 1, 'lender.platform_balance', 100, 0), (${e.rows[0]!.id}, 2, 'loans.receivable', 0, 99)`.execute(trx);
    });
    assert.unreachable('an unbalanced entry was accepted');
  } catch (err) {
    assert.match(String((err as Error).message), /does not balance: debits 100 <> credits 99/);
  }
  assert.equal(await counts(), before);
  const s = await sql<{ n: number }>`select count(*)::int8 as n from settlements`.execute(t.db);
  assert.is(s.rows[0]!.n, 0, 'the rest of the transaction rolled back with it');
});

test('a line added later to a balanced entry that unbalances it is refused too', async () => {
  const e = await sql<{ id: number }>`insert into journal_entries (order_id, kind, memo) values (null, 'x', 'later') returning id`.execute(t.db);
  const id = e.rows[0]!.id;
  await sql`insert into journal_lines (entry_id, line_no, account, debit_fen, credit_fen) values (${id}, 1, 'lender.platform_balance', 5, 0), (${id}, 2, 'loans.receivable', 0, 5)`.execute(t.db);
  try {
    await sql`insert into journal_lines (entry_id, line_no, account, debit_fen, credit_fen) values (${id}, 3, 'interest.income', 0, 1)`.execute(t.db);
    assert.unreachable('the extra line was accepted');
  } catch (err) {
    assert.match(String((err as Error).message), /does not balance/);
  }
});

test.run();
