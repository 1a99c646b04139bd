// Values of the facts the risk team declares in rules/facts.json, as their feeds
// deliver them (`lendpay facts import`), kept by the date they are as of: the nightly
// batch for D reads each customer's latest value on or before D, one index probe per
// customer and fact (the primary key read backwards). The value is kept as the feed
// gave it; the declaration of the rule set a batch runs on says what it means.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table customer_facts (
      customer_id text not null references customers (id),
      fact text not null,
      as_of date not null,
      value jsonb not null,
      imported_at timestamptz not null default now(),
      primary key (customer_id, fact, as_of)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table customer_facts`.execute(db);
}
