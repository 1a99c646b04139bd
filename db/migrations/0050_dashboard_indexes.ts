// Indexes for the dashboard's reads. Orders and notifications are the money path's
// hottest tables, written for every debit: what the dashboard reads of them goes
// through indexes they have anyway (a customer's loans, then their orders by loan and
// their messages by order), and the charts' time windows through a BRIN index on
// orders.created_at — a few pages, nearly free to keep up on an append-mostly table —
// instead of b-trees that every insert and every status change would have to update.
// Holds are few: a customer's holds get a b-tree; so do messages that name no order.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index orders_created_brin on orders using brin (created_at);
    create index notifications_customer_orderless on notifications (customer_id, id) where order_id is null;
    create index holds_customer on holds (customer_id, id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index orders_created_brin, notifications_customer_orderless, holds_customer;`.execute(db);
}
