// The trial balance: every account's debits and credits, and the entries that do
// not balance (there can be none: a deferred trigger refuses them at commit).
import { sql } from 'kysely';
import type { Db } from './connection.ts';

export interface AccountBalance {
  account: string;
  debit: number;
  credit: number;
  /** debit − credit */
  balance: number;
}

export interface TrialBalance {
  accounts: AccountBalance[];
  totalDebit: number;
  totalCredit: number;
  unbalancedEntries: number;
  entries: number;
}

export async function trialBalance(db: Db): Promise<TrialBalance> {
  const rows = await sql<{ account: string; debit: number; credit: number }>`
    select account, sum(debit_fen)::int8 as debit, sum(credit_fen)::int8 as credit
    from journal_lines group by account order by account
  `.execute(db);
  const unbalanced = await sql<{ n: number; entries: number }>`
    select count(*) filter (where d <> c)::int8 as n, count(*)::int8 as entries
    from (select entry_id, sum(debit_fen) d, sum(credit_fen) c from journal_lines group by entry_id) e
  `.execute(db);
  const accounts = rows.rows.map((r) => ({ account: r.account, debit: r.debit, credit: r.credit, balance: r.debit - r.credit }));
  return {
    accounts,
    totalDebit: accounts.reduce((s, a) => s + a.debit, 0),
    totalCredit: accounts.reduce((s, a) => s + a.credit, 0),
    unbalancedEntries: unbalanced.rows[0]?.n ?? 0,
    entries: unbalanced.rows[0]?.entries ?? 0,
  };
}

export async function ledgerBalance(db: Db, account: string): Promise<number> {
  const r = await sql<{ b: number }>`select coalesce(sum(debit_fen - credit_fen), 0)::int8 as b from journal_lines where account = ${account}`.execute(db);
  return r.rows[0]?.b ?? 0;
}
