// Customers in and out. Writes are set-based: one statement per table for a whole
// chunk, the rows travelling as typed arrays through unnest.
import { sql, type Kysely } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import { LendpayError } from '../src/errors.ts';
import type { CustomerAccount, CustomerBankCard, CustomerId, CustomerRecord, Segment } from '../src/customers/types.ts';
import type { BusinessDate, Month } from '../src/dates.ts';
import type { Fen } from '../src/money.ts';

/** A Kysely or a Transaction: upsertCustomers must run inside the caller's transaction. */
type Executor = Kysely<Database>;

/**
 * Inserts or replaces `records` by id. Customer fields are replaced; accounts and
 * cards are upserted by id (ones the line no longer lists are kept, non-primary);
 * monthly flows are upserted by (customer, month) and months the line does not
 * mention are kept, since flow history arrives month by month.
 *
 * An account or card id that belongs to another customer (in the database or
 * elsewhere in `records`) throws CONFLICT naming it, after some rows may have been
 * written: call this inside a transaction and let the error roll it back.
 * `label(i)` names records[i] in those messages (default `customer <id>`).
 */
export async function upsertCustomers(
  trx: Executor,
  records: readonly CustomerRecord[],
  label: (index: number) => string = (i) => `customer ${records[i]?.id}`,
): Promise<void> {
  if (records.length === 0) return;
  const problems = duplicateOwnership(records, label);
  if (problems.length > 0) throw conflict(problems);

  const c = {
    ids: [] as string[], names: [] as string[], segments: [] as string[], verified: [] as boolean[],
    limits: [] as (number | null)[], reasons: [] as (string | null)[], expires: [] as (string | null)[],
    primaryIds: [] as string[],
  };
  const a = { ids: [] as string[], owners: [] as string[], primary: [] as boolean[], balances: [] as number[], at: [] as Where[] };
  const k = { ids: [] as string[], owners: [] as string[], banks: [] as string[], last4: [] as string[], balances: [] as number[], at: [] as Where[] };
  const f = { owners: [] as string[], months: [] as string[], flows: [] as number[] };

  records.forEach((r, i) => {
    c.ids.push(r.id);
    c.names.push(r.name);
    c.segments.push(r.segment);
    c.verified.push(r.realNameVerified);
    c.limits.push(r.whitelist?.limit ?? null);
    c.reasons.push(r.whitelist?.reason ?? null);
    c.expires.push(r.whitelist?.expiresOn ?? null);
    r.accounts.forEach((acc, j) => {
      a.ids.push(acc.id);
      a.owners.push(r.id);
      a.primary.push(acc.primary);
      a.balances.push(acc.balance);
      a.at.push({ index: i, field: `accounts[${j}].id` });
      if (acc.primary) c.primaryIds.push(acc.id);
    });
    r.bankCards.forEach((card, j) => {
      k.ids.push(card.id);
      k.owners.push(r.id);
      k.banks.push(card.bank);
      k.last4.push(card.last4);
      k.balances.push(card.balance);
      k.at.push({ index: i, field: `bankCards[${j}].id` });
    });
    for (const [month, flow] of r.monthlyFlow) {
      f.owners.push(r.id);
      f.months.push(`${month}-01`);
      f.flows.push(flow);
    }
  });

  await sql`
    insert into customers (id, name, segment, real_name_verified, whitelist_limit_fen, whitelist_reason, whitelist_expires_on)
    select * from unnest(${c.ids}::text[], ${c.names}::text[], ${c.segments}::text[], ${c.verified}::boolean[],
      ${c.limits}::bigint[], ${c.reasons}::text[], ${c.expires}::date[])
    on conflict (id) do update set
      name = excluded.name, segment = excluded.segment, real_name_verified = excluded.real_name_verified,
      whitelist_limit_fen = excluded.whitelist_limit_fen, whitelist_reason = excluded.whitelist_reason,
      whitelist_expires_on = excluded.whitelist_expires_on, imported_at = now()
  `.execute(trx);

  // The unique partial index allows one primary per customer at every row, not at
  // statement end: first clear a primary that is about to move, then set the new one.
  // `= any` keeps this an index probe per customer; a join against unnest was
  // planned as a scan of the whole (growing) table per chunk.
  await sql`
    update customer_accounts set is_primary = false
    where customer_id = any(${c.ids}::text[]) and is_primary and id <> all(${c.primaryIds}::text[])
  `.execute(trx);

  // An id owned by another customer is left alone by the WHERE; the row count tells.
  const accounts = await sql`
    insert into customer_accounts (id, customer_id, is_primary, imported_balance_fen)
    select * from unnest(${a.ids}::text[], ${a.owners}::text[], ${a.primary}::boolean[], ${a.balances}::bigint[])
    on conflict (id) do update set is_primary = excluded.is_primary, imported_balance_fen = excluded.imported_balance_fen
    where customer_accounts.customer_id = excluded.customer_id
  `.execute(trx);
  if (Number(accounts.numAffectedRows ?? 0) < a.ids.length) {
    throw conflict(await foreignOwners(trx, 'customer_accounts', 'account', a, label));
  }

  if (k.ids.length > 0) {
    const cards = await sql`
      insert into customer_bank_cards (id, customer_id, bank, last4, imported_balance_fen)
      select * from unnest(${k.ids}::text[], ${k.owners}::text[], ${k.banks}::text[], ${k.last4}::text[], ${k.balances}::bigint[])
      on conflict (id) do update set bank = excluded.bank, last4 = excluded.last4, imported_balance_fen = excluded.imported_balance_fen
      where customer_bank_cards.customer_id = excluded.customer_id
    `.execute(trx);
    if (Number(cards.numAffectedRows ?? 0) < k.ids.length) {
      throw conflict(await foreignOwners(trx, 'customer_bank_cards', 'card', k, label));
    }
  }

  if (f.owners.length > 0) {
    await sql`
      insert into customer_monthly_flows (customer_id, month, flow_fen)
      select * from unnest(${f.owners}::text[], ${f.months}::date[], ${f.flows}::bigint[])
      on conflict (customer_id, month) do update set flow_fen = excluded.flow_fen
    `.execute(trx);
  }
}

/** One customer as it was imported, or null. Accounts and cards by id, flows by month. */
export async function getCustomerRecord(db: Db | Executor, id: string): Promise<CustomerRecord | null> {
  const c = await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
  if (!c) return null;
  const [accounts, cards, flows] = await Promise.all([
    db.selectFrom('customer_accounts').selectAll().where('customer_id', '=', id).orderBy('id').execute(),
    db.selectFrom('customer_bank_cards').selectAll().where('customer_id', '=', id).orderBy('id').execute(),
    db.selectFrom('customer_monthly_flows').selectAll().where('customer_id', '=', id).orderBy('month').execute(),
  ]);
  return {
    id: c.id as CustomerId,
    name: c.name,
    segment: c.segment as Segment,
    realNameVerified: c.real_name_verified,
    whitelist: c.whitelist_limit_fen === null
      ? null
      : { limit: c.whitelist_limit_fen as Fen, reason: c.whitelist_reason ?? '', expiresOn: c.whitelist_expires_on as BusinessDate | null },
    accounts: accounts.map((r): CustomerAccount => ({ id: r.id, primary: r.is_primary, balance: r.imported_balance_fen as Fen })),
    bankCards: cards.map((r): CustomerBankCard => ({ id: r.id, bank: r.bank, last4: r.last4, balance: r.imported_balance_fen as Fen })),
    monthlyFlow: new Map(flows.map((r) => [r.month.slice(0, 7) as Month, r.flow_fen as Fen])),
  };
}

// --- ownership conflicts ----------------------------------------------------------

interface Where {
  index: number;
  field: string;
}

/** Two records of one chunk naming the same account or card id would make the upsert fail obscurely. */
function duplicateOwnership(records: readonly CustomerRecord[], label: (i: number) => string): string[] {
  const problems: string[] = [];
  const accounts = new Map<string, CustomerId>();
  const cards = new Map<string, CustomerId>();
  records.forEach((r, i) => {
    r.accounts.forEach((acc, j) => {
      const owner = accounts.get(acc.id);
      if (owner !== undefined && owner !== r.id) problems.push(`${label(i)}: accounts[${j}].id: account ${acc.id} already belongs to customer ${owner}`);
      else accounts.set(acc.id, r.id);
    });
    r.bankCards.forEach((card, j) => {
      const owner = cards.get(card.id);
      if (owner !== undefined && owner !== r.id) problems.push(`${label(i)}: bankCards[${j}].id: card ${card.id} already belongs to customer ${owner}`);
      else cards.set(card.id, r.id);
    });
  });
  return problems;
}

async function foreignOwners(
  trx: Executor,
  table: 'customer_accounts' | 'customer_bank_cards',
  noun: string,
  rows: { ids: string[]; owners: string[]; at: Where[] },
  label: (i: number) => string,
): Promise<string[]> {
  const found = await sql<{ ord: number; owner: string }>`
    select u.ord::int as ord, t.customer_id as owner
    from unnest(${rows.ids}::text[], ${rows.owners}::text[]) with ordinality as u(id, customer_id, ord)
    join ${sql.table(table)} t on t.id = u.id
    where t.customer_id <> u.customer_id
    order by u.ord
  `.execute(trx);
  return found.rows.map(({ ord, owner }) => {
    const at = rows.at[ord - 1] as Where;
    return `${label(at.index)}: ${at.field}: ${noun} ${rows.ids[ord - 1]} already belongs to customer ${owner}`;
  });
}

function conflict(problems: readonly string[]): LendpayError {
  const first = problems[0] ?? 'an account or card id belongs to another customer';
  return new LendpayError('CONFLICT', problems.length === 1 ? first : `${first} (and ${problems.length - 1} more)`, { details: problems });
}
