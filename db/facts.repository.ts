// Values of declared facts (rules/facts.json) by customer, fact and asOf. Imports are
// staged in a temporary table a chunk at a time (one statement per chunk) and written
// with one statement at the end; reads take each customer's latest value on or before
// a date, one index probe per customer and fact.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import type { DeclaredValue } from '../src/eligibility/types.ts';

type Q = Db | Transaction<Database>;

/** Rows of an import, column by column; `values` are JSON texts. */
export interface StagedFacts {
  lines: number[];
  customers: string[];
  facts: string[];
  asOfs: string[];
  values: string[];
}

export const emptyStage = (): StagedFacts => ({ lines: [], customers: [], facts: [], asOfs: [], values: [] });

/** A temporary table for one import, gone at the end of the transaction. */
export async function createFactsStage(trx: Transaction<Database>): Promise<void> {
  await sql`
    create temporary table facts_import (line integer not null, customer_id text not null, fact text not null, as_of date not null, value jsonb not null)
    on commit drop
  `.execute(trx);
}

export async function stageFacts(trx: Transaction<Database>, rows: StagedFacts): Promise<void> {
  if (rows.lines.length === 0) return;
  await sql`
    insert into facts_import (line, customer_id, fact, as_of, value)
    select * from unnest(${rows.lines}::int4[], ${rows.customers}::text[], ${rows.facts}::text[], ${rows.asOfs}::date[], ${rows.values}::jsonb[])
  `.execute(trx);
}

/** Customers the staged lines name that do not exist: the first line of each, in line order. */
export async function unknownStagedCustomers(trx: Transaction<Database>, limit: number): Promise<{ line: number; customerId: string }[]> {
  const r = await sql<{ line: number; customer_id: string }>`
    select min(s.line) as line, s.customer_id from facts_import s
    where not exists (select 1 from customers c where c.id = s.customer_id)
    group by s.customer_id order by 1 limit ${limit}
  `.execute(trx);
  return r.rows.map((x) => ({ line: x.line, customerId: x.customer_id }));
}

/** The same customer, fact and asOf on more than one line: the lines, in order. */
export async function duplicateStagedFacts(trx: Transaction<Database>, limit: number): Promise<{ lines: number[]; customerId: string; fact: string; asOf: string }[]> {
  const r = await sql<{ lines: number[]; customer_id: string; fact: string; as_of: string }>`
    select array_agg(line order by line) as lines, customer_id, fact, as_of::text from facts_import
    group by customer_id, fact, as_of having count(*) > 1 order by min(line) limit ${limit}
  `.execute(trx);
  return r.rows.map((x) => ({ lines: x.lines, customerId: x.customer_id, fact: x.fact, asOf: x.as_of }));
}

/** The staged values, one statement: a value for an existing (customer, fact, asOf) replaces it. */
export async function writeStagedFacts(trx: Transaction<Database>): Promise<number> {
  const r = await sql`
    insert into customer_facts (customer_id, fact, as_of, value)
    select customer_id, fact, as_of, value from facts_import
    on conflict (customer_id, fact, as_of) do update set value = excluded.value, imported_at = now()
  `.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}

/**
 * Each customer's latest value of each fact on or before `date`: a lateral probe per
 * (customer, fact), the primary key read backwards. `customerIds` and `facts` bound it.
 */
export async function latestFactsAsOf(db: Q, customerIds: readonly string[], facts: readonly string[], date: string): Promise<Map<string, Map<string, DeclaredValue>>> {
  const out = new Map<string, Map<string, DeclaredValue>>();
  if (customerIds.length === 0 || facts.length === 0) return out;
  const r = await sql<{ customer_id: string; fact: string; value: unknown; as_of: string }>`
    select c.id as customer_id, f.fact, v.value, v.as_of::text as as_of
    from unnest(${customerIds}::text[]) as c(id) cross join unnest(${facts}::text[]) as f(fact)
    cross join lateral (
      select cf.value, cf.as_of from customer_facts cf
      where cf.customer_id = c.id and cf.fact = f.fact and cf.as_of <= ${date}::date
      order by cf.as_of desc limit 1
    ) v
  `.execute(db);
  for (const row of r.rows) {
    let m = out.get(row.customer_id);
    if (!m) out.set(row.customer_id, (m = new Map()));
    m.set(row.fact, { value: row.value, asOf: row.as_of });
  }
  return out;
}

export interface FactHistoryRow {
  fact: string;
  asOf: string;
  value: unknown;
  importedAt: Date;
}

/** Every value of a customer's facts, by fact, newest asOf first. */
export async function customerFactHistory(db: Q, customerId: string): Promise<FactHistoryRow[]> {
  const r = await sql<{ fact: string; as_of: string; value: unknown; imported_at: Date }>`
    select fact, as_of::text as as_of, value, imported_at from customer_facts where customer_id = ${customerId} order by fact, as_of desc
  `.execute(db);
  return r.rows.map((x) => ({ fact: x.fact, asOf: x.as_of, value: x.value, importedAt: x.imported_at }));
}
