// Loans record the product they were sold as: its id, the terms as sold (method,
// rate, term, penalty, grace days, prepayment fee — what rules/products.json said
// that day, whatever it says later) and the business date the schedule starts.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table loans add column product_id text;
    alter table loans add column product jsonb;
    -- what a loan made before this migration was disbursed on: the day it was created, in Asia/Shanghai
    alter table loans add column disbursed_on date;
    update loans set disbursed_on = (created_at at time zone 'Asia/Shanghai')::date;
    alter table loans alter column disbursed_on set default ((now() at time zone 'Asia/Shanghai')::date);
    alter table loans alter column disbursed_on set not null;
    alter table loans add constraint loans_product_recorded check ((product_id is null) = (product is null));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table loans drop constraint loans_product_recorded;
    alter table loans drop column disbursed_on, drop column product, drop column product_id;
  `.execute(db);
}
