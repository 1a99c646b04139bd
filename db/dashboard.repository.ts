// The dashboard's read models: each view's rows in a few set-based queries, mapped to
// camelCase with amounts as integer fen and times as Dates. Shaping and formatting
// (yuan, Asia/Shanghai, days, zero-filled series) are src/dashboard/'s; nothing here
// writes. Business days are Asia/Shanghai days: `at time zone 'Asia/Shanghai'`.
import { journalOfOrder } from './api.repository.ts';
import { sql } from 'kysely';
import type { Db } from './connection.ts';
import type { Fen } from '../src/money.ts';

const ZONE = 'Asia/Shanghai';

// --- holds and blocked borrowers ----------------------------------------------------

export type HoldSort = 'amount' | 'days' | 'customer';

export interface HoldRow {
  customerId: string;
  holdId: number | null;
  amount: Fen;
  asOfDate: string | null;
  openedAt: Date | null;
  blocked: boolean;
  blockedSince: Date | null;
  accounts: string[];
  lastAttempt: {
    orderId: number;
    idempotencyKey: string;
    purpose: string;
    amount: Fen;
    status: string;
    errorCode: string | null;
    at: Date;
  } | null;
}

export interface HoldList {
  total: number;
  rows: HoldRow[];
}

/**
 * Borrowers with an open hold or a blocked outflow (normally the same people; a
 * difference is what an operator must see), newest attempt to collect from each.
 * `q` matches a customer id or one of its account ids, case-insensitively, anywhere.
 */
export async function holdsAndBlocks(db: Db, opts: { q: string; sort: HoldSort; limit: number; offset: number }): Promise<HoldList> {
  const like = `%${opts.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const order = opts.sort === 'amount' ? sql`amount desc, s.customer_id`
    : opts.sort === 'days' ? sql`h.opened_at asc nulls last, s.customer_id`
    : sql`s.customer_id`;
  const r = await sql<{
    customer_id: string; hold_id: number | null; amount: number; as_of_date: string | null; opened_at: Date | null;
    blocked: boolean | null; blocked_since: Date | null; accounts: string[] | null; total: number;
    order_id: number | null; idempotency_key: string | null; purpose: string | null; order_amount: number | null;
    attempt_status: string | null; error_code: string | null; attempt_at: Date | null;
  }>`
    with subjects as (
      select customer_id from holds where status = 'open'
      union
      select customer_id from outflow_blocks where blocked
    ), matched as (
      select s.customer_id from subjects s
      where ${opts.q} = '' or s.customer_id ilike ${like}
         or exists (select 1 from customer_accounts a where a.customer_id = s.customer_id and a.id ilike ${like})
    )
    select s.customer_id, h.id as hold_id, coalesce(h.amount_fen, 0)::int8 as amount, h.as_of_date::text as as_of_date, h.opened_at,
           b.blocked, case when b.blocked then b.updated_at end as blocked_since, acc.accounts,
           count(*) over ()::int8 as total,
           la.order_id, la.idempotency_key, la.purpose, la.amount_fen as order_amount, la.status as attempt_status, la.error_code, la.at as attempt_at
    from matched s
    left join holds h on h.customer_id = s.customer_id and h.status = 'open'
    left join outflow_blocks b on b.customer_id = s.customer_id
    left join lateral (
      select array_agg(a.id order by a.is_primary desc, a.id) as accounts from customer_accounts a where a.customer_id = s.customer_id
    ) acc on true
    left join lateral (
      select o.id as order_id, o.idempotency_key, o.purpose, o.amount_fen, t.status, t.error_code, coalesce(t.resolved_at, t.submitted_at) as at
      from loans l join orders o on o.loan_id = l.id join order_attempts t on t.order_id = o.id
      where l.customer_id = s.customer_id and (o.purpose like 'collect.%' or o.purpose like 'repay.%')
      order by t.submitted_at desc, o.id desc, t.attempt_no desc
      limit 1
    ) la on true
    order by ${order}
    limit ${opts.limit} offset ${opts.offset}
  `.execute(db);
  return {
    total: Number(r.rows[0]?.total ?? (opts.offset > 0 ? await countHoldSubjects(db) : 0)),
    rows: r.rows.map((x) => ({
      customerId: x.customer_id,
      holdId: x.hold_id === null ? null : Number(x.hold_id),
      amount: Number(x.amount) as Fen,
      asOfDate: x.as_of_date,
      openedAt: x.opened_at,
      blocked: x.blocked === true,
      blockedSince: x.blocked_since,
      accounts: x.accounts ?? [],
      lastAttempt: x.order_id === null ? null : {
        orderId: Number(x.order_id), idempotencyKey: x.idempotency_key!, purpose: x.purpose!, amount: Number(x.order_amount) as Fen,
        status: x.attempt_status!, errorCode: x.error_code, at: x.attempt_at!,
      },
    })),
  };
}

async function countHoldSubjects(db: Db): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int8 as n from (select customer_id from holds where status = 'open' union select customer_id from outflow_blocks where blocked) s
  `.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

export interface HoldTotals {
  openHolds: number;
  amount: Fen;
  blockedBorrowers: number;
  /** blocked without an open hold, or on hold without a block: each one is a fault to look at */
  mismatched: number;
}

export async function holdTotals(db: Db): Promise<HoldTotals> {
  const r = await sql<{ n: number; amount: number; blocked: number; mismatched: number }>`
    select (select count(*) from holds where status = 'open')::int8 as n,
           (select coalesce(sum(amount_fen), 0) from holds where status = 'open')::int8 as amount,
           (select count(*) from outflow_blocks where blocked)::int8 as blocked,
           (select count(*) from (
              select customer_id from holds where status = 'open'
              except select customer_id from outflow_blocks where blocked
              union all
              (select customer_id from outflow_blocks where blocked
               except select customer_id from holds where status = 'open')
            ) m)::int8 as mismatched
  `.execute(db);
  const x = r.rows[0]!;
  return { openHolds: Number(x.n), amount: Number(x.amount) as Fen, blockedBorrowers: Number(x.blocked), mismatched: Number(x.mismatched) };
}

// --- one customer -------------------------------------------------------------------

export interface CustomerPageRows {
  customer: {
    id: string;
    segment: string;
    realNameVerified: boolean;
    whitelistLimit: Fen | null;
    whitelistExpiresOn: string | null;
  };
  accounts: { id: string; primary: boolean }[];
  cards: { id: string; bank: string; last4: string }[];
  decision: {
    businessDate: string;
    eligible: boolean;
    door: string | null;
    limit: Fen;
    reasons: string[];
    ruleSetHash: string;
    /** the rule version that was active with this hash when the decision was made; null before versions existed */
    ruleVersion: number | null;
    decidedAt: Date;
  } | null;
  loans: {
    id: string;
    kind: string;
    principal: Fen;
    rail: string;
    destinationId: string;
    status: string;
    createdAt: Date;
    installments: { no: number; dueDate: string; principal: Fen; interest: Fen; paidPrincipal: Fen; paidInterest: Fen }[];
  }[];
  holds: { id: number; amount: Fen; asOfDate: string; status: string; openedAt: Date; clearedAt: Date | null; clearedBy: string | null }[];
  outflow: { blocked: boolean; since: Date } | null;
  notifications: { id: number; kind: string; orderId: number | null; body: string; createdAt: Date; sentAt: Date | null }[];
  orders: { id: number; idempotencyKey: string; kind: string; purpose: string; amount: Fen; status: string; errorCode: string | null; updatedAt: Date }[];
}

export async function customerPageRows(db: Db, customerId: string, limits = { holds: 20, notifications: 50, orders: 30 }): Promise<CustomerPageRows | null> {
  const c = await db.selectFrom('customers')
    .select(['id', 'segment', 'real_name_verified', 'whitelist_limit_fen', 'whitelist_expires_on'])
    .where('id', '=', customerId).executeTakeFirst();
  if (!c) return null;
  const [accounts, cards, decision, loans, installments, holds, outflow, notifications, orders] = await Promise.all([
    db.selectFrom('customer_accounts').select(['id', 'is_primary']).where('customer_id', '=', customerId).orderBy('is_primary', 'desc').orderBy('id').execute(),
    db.selectFrom('customer_bank_cards').select(['id', 'bank', 'last4']).where('customer_id', '=', customerId).orderBy('id').execute(),
    sql<{ business_date: string; eligible: boolean; door: string | null; limit_fen: number; reasons: string[]; rule_set_hash: string; decided_at: Date; version: number | null }>`
      select d.business_date::text as business_date, d.eligible, d.door, d.limit_fen, d.reasons, d.rule_set_hash, d.decided_at,
             coalesce(
               (select max(v.version) from rule_versions v where v.rule_set_hash = d.rule_set_hash and v.activated_at <= d.decided_at),
               (select min(v.version) from rule_versions v where v.rule_set_hash = d.rule_set_hash)
             ) as version
      from eligibility_decisions d where d.customer_id = ${customerId}
      order by d.business_date desc limit 1
    `.execute(db),
    db.selectFrom('loans').select(['id', 'kind', 'principal_fen', 'rail', 'destination_id', 'status', 'created_at'])
      .where('customer_id', '=', customerId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute(),
    sql<{ loan_id: string; no: number; due_date: string; principal_fen: number; interest_fen: number; paid_principal_fen: number; paid_interest_fen: number }>`
      select i.loan_id, i.no, i.due_date::text as due_date, i.principal_fen, i.interest_fen, i.paid_principal_fen, i.paid_interest_fen
      from installments i join loans l on l.id = i.loan_id where l.customer_id = ${customerId} order by i.loan_id, i.no
    `.execute(db),
    sql<{ id: number; amount_fen: number; as_of_date: string; status: string; opened_at: Date; cleared_at: Date | null; cleared_by: string | null }>`
      select id, amount_fen, as_of_date::text as as_of_date, status, opened_at, cleared_at, cleared_by
      from holds where customer_id = ${customerId} order by id desc limit ${limits.holds}
    `.execute(db),
    db.selectFrom('outflow_blocks').select(['blocked', 'updated_at']).where('customer_id', '=', customerId).executeTakeFirst(),
    // a customer's messages and orders by their loans (orders_loan, notifications_once):
    // the money path's hottest tables carry no index of their own for this page
    sql<{ id: number; kind: string; order_id: number | null; body: string; created_at: Date; sent_at: Date | null }>`
      select * from (
        select n.id, n.kind, n.order_id, n.body, n.created_at, n.sent_at
        from loans l join orders o on o.loan_id = l.id join notifications n on n.order_id = o.id
        where l.customer_id = ${customerId}
        union all
        select n.id, n.kind, n.order_id, n.body, n.created_at, n.sent_at from notifications n where n.customer_id = ${customerId} and n.order_id is null
      ) x order by id desc limit ${limits.notifications}
    `.execute(db).then((r) => r.rows),
    sql<{ id: number; idempotency_key: string; kind: string; purpose: string; amount_fen: number; status: string; error_code: string | null; updated_at: Date }>`
      select o.id, o.idempotency_key, o.kind, o.purpose, o.amount_fen, o.status, o.error_code, o.updated_at
      from loans l join orders o on o.loan_id = l.id
      where l.customer_id = ${customerId}
      order by o.id desc limit ${limits.orders}
    `.execute(db).then((r) => r.rows),
  ]);
  const d = decision.rows[0];
  const byLoan = new Map<string, CustomerPageRows['loans'][number]['installments']>();
  for (const i of installments.rows) {
    let list = byLoan.get(i.loan_id);
    if (!list) byLoan.set(i.loan_id, (list = []));
    list.push({
      no: i.no, dueDate: i.due_date, principal: Number(i.principal_fen) as Fen, interest: Number(i.interest_fen) as Fen,
      paidPrincipal: Number(i.paid_principal_fen) as Fen, paidInterest: Number(i.paid_interest_fen) as Fen,
    });
  }
  return {
    customer: {
      id: c.id, segment: c.segment, realNameVerified: c.real_name_verified,
      whitelistLimit: c.whitelist_limit_fen === null ? null : (c.whitelist_limit_fen as Fen), whitelistExpiresOn: c.whitelist_expires_on,
    },
    accounts: accounts.map((a) => ({ id: a.id, primary: a.is_primary })),
    cards: cards.map((k) => ({ id: k.id, bank: k.bank, last4: k.last4 })),
    decision: d ? {
      businessDate: d.business_date, eligible: d.eligible, door: d.door, limit: Number(d.limit_fen) as Fen, reasons: d.reasons,
      ruleSetHash: d.rule_set_hash, ruleVersion: d.version === null ? null : Number(d.version), decidedAt: d.decided_at,
    } : null,
    loans: loans.map((l) => ({
      id: l.id, kind: l.kind, principal: l.principal_fen as Fen, rail: l.rail, destinationId: l.destination_id, status: l.status, createdAt: l.created_at,
      installments: byLoan.get(l.id) ?? [],
    })),
    holds: holds.rows.map((h) => ({
      id: Number(h.id), amount: Number(h.amount_fen) as Fen, asOfDate: h.as_of_date, status: h.status, openedAt: h.opened_at, clearedAt: h.cleared_at, clearedBy: h.cleared_by,
    })),
    outflow: outflow ? { blocked: outflow.blocked, since: outflow.updated_at } : null,
    notifications: notifications.map((n) => ({ id: n.id, kind: n.kind, orderId: n.order_id, body: n.body, createdAt: n.created_at, sentAt: n.sent_at })),
    orders: orders.map((o) => ({
      id: o.id, idempotencyKey: o.idempotency_key, kind: o.kind, purpose: o.purpose, amount: o.amount_fen as Fen, status: o.status, errorCode: o.error_code, updatedAt: o.updated_at,
    })),
  };
}

// --- charts -------------------------------------------------------------------------

export interface DayAmount {
  day: string;
  series: string;
  count: number;
  amount: Fen;
}

/** Payouts that succeeded, per Asia/Shanghai day of success and rail, since `from`. */
export async function disbursedByDayAndRail(db: Db, from: Date): Promise<DayAmount[]> {
  const r = await sql<{ day: string; series: string; n: number; amount: number }>`
    select (o.updated_at at time zone ${ZONE})::date::text as day, l.rail as series, count(*)::int8 as n, sum(o.amount_fen)::int8 as amount
    from orders o join loans l on l.id = o.loan_id
    -- created_at bounds the scan (orders_created_brin): a payout succeeds within a day of its order
    where o.created_at >= ${from}::timestamptz - interval '1 day' and o.purpose = 'disburse.payout' and o.status = 'succeeded' and o.updated_at >= ${from}
    group by 1, 2 order by 1, 2
  `.execute(db);
  return r.rows.map(dayAmount);
}

/**
 * Collections that succeeded, per Asia/Shanghai day and step. The step is the one the
 * plan named, the second-to-last part of the order's key (`…:<date>:<step>:<account>`);
 * a borrower's card repayment is its own series.
 */
export async function collectedByDayAndStep(db: Db, from: Date): Promise<DayAmount[]> {
  const r = await sql<{ day: string; series: string; n: number; amount: number }>`
    select (updated_at at time zone ${ZONE})::date::text as day,
           case when purpose like 'repay.%' then 'card_repayment'
                else coalesce(substring(idempotency_key from ':([a-z_]+):[^:]*$'), 'other') end as series,
           count(*)::int8 as n, sum(amount_fen)::int8 as amount
    from orders
    where created_at >= ${from}::timestamptz - interval '1 day' and (purpose like 'collect.%' or purpose like 'repay.%') and status = 'succeeded' and updated_at >= ${from}
    group by 1, 2 order by 1, 2
  `.execute(db);
  return r.rows.map(dayAmount);
}

export interface CollectionDay {
  businessDate: string;
  loans: number;
  due: Fen;
  /** what the post-settlement batch of that date collected */
  collected: Fen;
  /** what it put on hold */
  held: Fen;
}

/** The post-settlement batch of each business date since `fromDate`: due, collected by it, held. */
export async function collectionByBusinessDate(db: Db, fromDate: string): Promise<CollectionDay[]> {
  const r = await sql<{ business_date: string; loans: number; due: number; held: number; collected: number }>`
    with items as (
      select business_date, count(*)::int8 as loans, sum(due_fen)::int8 as due, sum(held_fen)::int8 as held
      from collection_items where business_date >= ${fromDate}::date group by 1
    ), got as (
      select substring(idempotency_key from ':([0-9]{4}-[0-9]{2}-[0-9]{2}):[a-z_]+:[^:]*$')::date as business_date, sum(amount_fen)::int8 as collected
      from orders
      where purpose = 'collect.batch' and status = 'succeeded' and created_at >= ${fromDate}::date - 1
      group by 1
    )
    select i.business_date::text as business_date, i.loans, i.due, i.held, coalesce(g.collected, 0)::int8 as collected
    from items i left join got g on g.business_date = i.business_date
    order by 1
  `.execute(db);
  return r.rows.map((x) => ({
    businessDate: x.business_date, loans: Number(x.loans), due: Number(x.due) as Fen, collected: Number(x.collected) as Fen, held: Number(x.held) as Fen,
  }));
}

export interface HoldDay {
  day: string;
  /** open at the end of that Asia/Shanghai day (now, for today) */
  open: number;
  opened: number;
  cleared: number;
}

export async function holdsByDay(db: Db, fromDate: string, toDate: string): Promise<HoldDay[]> {
  const r = await sql<{ day: string; open: number; opened: number; cleared: number }>`
    select d::date::text as day,
      (select count(*) from holds h
        where h.opened_at < ((d + interval '1 day') at time zone ${ZONE})
          and (h.cleared_at is null or h.cleared_at >= ((d + interval '1 day') at time zone ${ZONE})))::int8 as open,
      (select count(*) from holds h where h.opened_at >= (d at time zone ${ZONE}) and h.opened_at < ((d + interval '1 day') at time zone ${ZONE}))::int8 as opened,
      (select count(*) from holds h where h.cleared_at >= (d at time zone ${ZONE}) and h.cleared_at < ((d + interval '1 day') at time zone ${ZONE}))::int8 as cleared
    from generate_series(${fromDate}::date::timestamp, ${toDate}::date::timestamp, interval '1 day') d
    order by 1
  `.execute(db);
  return r.rows.map((x) => ({ day: x.day, open: Number(x.open), opened: Number(x.opened), cleared: Number(x.cleared) }));
}

/** Orders created since `from`, per hour (as an instant) and the state each is in now. */
export async function ordersByHourAndState(db: Db, from: Date): Promise<{ hour: Date; status: string; count: number }[]> {
  const r = await sql<{ hour: Date; status: string; n: number }>`
    select date_trunc('hour', created_at) as hour, status, count(*)::int8 as n
    from orders where created_at >= ${from}
    group by 1, 2 order by 1, 2
  `.execute(db);
  return r.rows.map((x) => ({ hour: x.hour, status: x.status, count: Number(x.n) }));
}

function dayAmount(x: { day: string; series: string; n: number; amount: number }): DayAmount {
  return { day: x.day, series: x.series, count: Number(x.n), amount: Number(x.amount) as Fen };
}

// --- one order, for its timeline ---------------------------------------------------

export interface OrderRows {
  order: {
    id: number; idempotencyKey: string; kind: string; purpose: string; loanId: string | null; customerId: string | null; amount: Fen;
    sourceRef: string; destinationRef: string; status: string; errorCode: string | null; parentOrderId: number | null;
    arrivesAt: Date | null; createdAt: Date; updatedAt: Date;
  };
  loan: { id: string; status: string; createdAt: Date; ruleSetHash: string; limit: Fen; decisionDate: string } | null;
  decision: { businessDate: string; eligible: boolean; door: string | null; limit: Fen; decidedAt: Date } | null;
  attempts: { attemptNo: number; requestId: string; status: string; errorCode: string | null; platformRef: string | null; submittedAt: Date; resolvedAt: Date | null; nextQueryAt: Date | null }[];
  queries: { id: number; attemptNo: number; requestId: string; answer: string; code: string | null; at: Date }[];
  escalations: { id: number; errorCode: string; step: string; automatic: boolean; status: string; reason: string; rule: string | null; outcome: string | null; createdAt: Date; decidedAt: Date | null; decidedBy: string | null; newOrderId: number | null }[];
  operatorActions: { id: number; operator: string; action: string; step: string | null; reason: string | null; at: Date }[];
  alerts: { id: number; kind: string; message: string; at: Date; resolvedAt: Date | null; resolvedBy: string | null }[];
  journal: { id: number; kind: string; memo: string; at: Date; lines: { account: string; debit: Fen; credit: Fen }[] }[];
  notifications: { id: number; kind: string; at: Date; sentAt: Date | null }[];
  reissues: { id: number; idempotencyKey: string; status: string; at: Date }[];
  /** the order this one follows: the funding of a payout, or the order a reissue replaces */
  parent: { id: number; idempotencyKey: string; purpose: string } | null;
}

/** An order by id or by idempotency key, with everything that happened to it. */
export async function orderRows(db: Db, ref: string): Promise<OrderRows | null> {
  const o = await db.selectFrom('orders').selectAll()
    .where(/^[0-9]{1,15}$/.test(ref) ? 'id' : 'idempotency_key', '=', /^[0-9]{1,15}$/.test(ref) ? Number(ref) as never : ref)
    .executeTakeFirst();
  if (!o) return null;
  const id = o.id;
  const [loan, attempts, queries, escalations, ops, alerts, journal, notifications, reissues, parent] = await Promise.all([
    o.loan_id === null ? Promise.resolve({ rows: [] }) : sql<{ id: string; status: string; created_at: Date; rule_set_hash: string; limit_fen: number; decision_date: string; eligible: boolean | null; door: string | null; d_limit: number | null; decided_at: Date | null }>`
      select l.id, l.status, l.created_at, l.rule_set_hash, l.limit_fen, l.decision_date::text as decision_date, d.eligible, d.door, d.limit_fen as d_limit, d.decided_at
      from loans l left join eligibility_decisions d on d.customer_id = l.customer_id and d.business_date = l.decision_date
      where l.id = ${o.loan_id}
    `.execute(db),
    db.selectFrom('order_attempts').selectAll().where('order_id', '=', id).orderBy('attempt_no').execute(),
    sql<{ id: number; attempt_no: number; request_id: string; answer: string; code: string | null; queried_at: Date }>`
      select id, attempt_no, request_id, answer, code, queried_at from order_queries where order_id = ${id} order by id
    `.execute(db),
    sql<{ id: number; error_code: string; step: string; automatic: boolean; status: string; reason: string; rule: string | null; outcome: string | null; created_at: Date; decided_at: Date | null; decided_by: string | null; new_order_id: number | null }>`
      select id, error_code, step, automatic, status, reason, rule, outcome, created_at, decided_at, decided_by, new_order_id from escalations where order_id = ${id} order by id
    `.execute(db),
    sql<{ id: number; operator: string; action: string; step: string | null; reason: string | null; created_at: Date }>`
      select id, operator, action, step, reason, created_at from operator_actions where order_id = ${id} order by id
    `.execute(db),
    sql<{ id: number; kind: string; message: string; created_at: Date; resolved_at: Date | null; resolved_by: string | null }>`
      select id, kind, message, created_at, resolved_at, resolved_by from alerts where order_id = ${id} order by id
    `.execute(db),
    // an order's own lines: its entry, or its part of its batch's entry
    journalOfOrder(db, id),
    db.selectFrom('notifications').select(['id', 'kind', 'created_at', 'sent_at']).where('order_id', '=', id).orderBy('id').execute(),
    db.selectFrom('orders').select(['id', 'idempotency_key', 'status', 'created_at']).where('parent_order_id', '=', id).where('purpose', '=', o.purpose).orderBy('id').execute(),
    o.parent_order_id === null ? Promise.resolve(undefined)
      : db.selectFrom('orders').select(['id', 'idempotency_key', 'purpose']).where('id', '=', o.parent_order_id).executeTakeFirst(),
  ]);
  const l = loan.rows[0];
  return {
    order: {
      id: o.id, idempotencyKey: o.idempotency_key, kind: o.kind, purpose: o.purpose, loanId: o.loan_id, customerId: o.customer_id, amount: o.amount_fen as Fen,
      sourceRef: o.source_ref, destinationRef: o.destination_ref, status: o.status, errorCode: o.error_code, parentOrderId: o.parent_order_id,
      arrivesAt: o.arrives_at, createdAt: o.created_at, updatedAt: o.updated_at,
    },
    loan: l ? { id: l.id, status: l.status, createdAt: l.created_at, ruleSetHash: l.rule_set_hash, limit: Number(l.limit_fen) as Fen, decisionDate: l.decision_date } : null,
    decision: l && l.decided_at && l.eligible !== null
      ? { businessDate: l.decision_date, eligible: l.eligible, door: l.door, limit: Number(l.d_limit) as Fen, decidedAt: l.decided_at }
      : null,
    attempts: attempts.map((a) => ({
      attemptNo: a.attempt_no, requestId: a.request_id, status: a.status, errorCode: a.error_code, platformRef: a.platform_ref,
      submittedAt: a.submitted_at, resolvedAt: a.resolved_at, nextQueryAt: (a as unknown as { next_query_at: Date | null }).next_query_at ?? null,
    })),
    queries: queries.rows.map((q) => ({ id: Number(q.id), attemptNo: q.attempt_no, requestId: q.request_id, answer: q.answer, code: q.code, at: q.queried_at })),
    escalations: escalations.rows.map((e) => ({
      id: Number(e.id), errorCode: e.error_code, step: e.step, automatic: e.automatic, status: e.status, reason: e.reason, rule: e.rule, outcome: e.outcome,
      createdAt: e.created_at, decidedAt: e.decided_at, decidedBy: e.decided_by, newOrderId: e.new_order_id === null ? null : Number(e.new_order_id),
    })),
    operatorActions: ops.rows.map((x) => ({ id: Number(x.id), operator: x.operator, action: x.action, step: x.step, reason: x.reason, at: x.created_at })),
    alerts: alerts.rows.map((a) => ({ id: Number(a.id), kind: a.kind, message: a.message, at: a.created_at, resolvedAt: a.resolved_at, resolvedBy: a.resolved_by })),
    journal: journal.map((e) => ({ id: e.id, kind: e.kind, memo: e.memo, at: e.postedAt, lines: e.lines })),
    notifications: notifications.map((n) => ({ id: n.id, kind: n.kind, at: n.created_at, sentAt: n.sent_at })),
    reissues: reissues.map((r) => ({ id: r.id, idempotencyKey: r.idempotency_key, status: r.status, at: r.created_at })),
    parent: parent ? { id: parent.id, idempotencyKey: parent.idempotency_key, purpose: parent.purpose } : null,
  };
}
