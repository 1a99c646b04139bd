// Indexes for the dashboard's reads: a customer's orders, notifications and holds (the
// customer page, and the last collection attempt of each row of the holds list), and
// orders by time (the charts). Without them each of those scans the whole table.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index orders_customer on orders (customer_id, id) where customer_id is not null;
    create index orders_created_at on orders (created_at);
    create index orders_succeeded_at on orders (updated_at) where status = 'succeeded';
    create index notifications_customer on notifications (customer_id, id);
    create index holds_customer on holds (customer_id, id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index orders_customer, orders_created_at, orders_succeeded_at, notifications_customer, holds_customer;`.execute(db);
}
