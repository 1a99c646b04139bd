// Overdue penalties (罚息) as their own component of an installment, accrued through a
// date (so a date accrues once); loans that owe nothing more are closed; and the
// record of each prepayment (提前还款): what it paid, the interest it waived, the plan.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table installments add column penalty_fen bigint not null default 0 check (penalty_fen >= 0);
    alter table installments add column paid_penalty_fen bigint not null default 0;
    alter table installments add constraint installments_penalty_paid check (paid_penalty_fen between 0 and penalty_fen);
    -- the last day a penalty was accrued for
    alter table installments add column penalty_through date;

    alter table loans drop constraint loans_status_check;
    alter table loans add constraint loans_status_check check (status in ('disbursing', 'disbursed', 'failed', 'closed'));
    alter table loans add column closed_at timestamptz;

    create table prepayments (
      order_id bigint primary key references orders (id),
      loan_id text not null references loans (id),
      business_date date not null,
      kind text not null check (kind in ('payoff', 'partial')),
      principal_fen bigint not null,
      interest_fen bigint not null,
      penalty_fen bigint not null,
      fee_fen bigint not null,
      prepaid_principal_fen bigint not null,
      overpayment_fen bigint not null,
      interest_waived_fen bigint not null,
      description text not null,
      plan jsonb not null,
      created_at timestamptz not null default now()
    );
    create index prepayments_loan on prepayments (loan_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table prepayments;
    alter table loans drop column closed_at;
    alter table loans drop constraint loans_status_check;
    alter table loans add constraint loans_status_check check (status in ('disbursing', 'disbursed', 'failed'));
    alter table installments drop column penalty_through, drop constraint installments_penalty_paid, drop column paid_penalty_fen, drop column penalty_fen;
  `.execute(db);
}
