// Escalation's SQL: the query ladder of unknown attempts, escalation steps with their
// state changes on the order (each in one transaction), alerts, the operator's audited
// actions, dead letters, the operator queue and the order timeline.
// The tables are typed here (EscalationDatabase) and reached with `sql`, so that the
// shared Database type does not change under other work.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import { getOrder, type Order } from './orders.repository.ts';
import { journalOfOrder } from './api.repository.ts';
import type { Fen } from '../src/money.ts';

type Q = Db | Transaction<Database>;

export type EscalationStatus = 'scheduled' | 'awaiting_operator' | 'executing' | 'done' | 'rejected';
export type Step = 'channel_resend' | 'system_resend' | 'void_and_reissue' | 'manual_review' | 'give_up';

export interface Escalation {
  id: number;
  orderId: number;
  attemptNo: number;
  errorCode: string;
  step: Step;
  automatic: boolean;
  status: EscalationStatus;
  reason: string;
  rule: string | null;
  ruleSetHash: string;
  facts: Record<string, unknown>;
  params: Record<string, unknown>;
  notBefore: Date;
  newOrderId: number | null;
  outcome: string | null;
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
}

function toEscalation(r: Record<string, any>): Escalation {
  return {
    id: Number(r.id), orderId: Number(r.order_id), attemptNo: r.attempt_no, errorCode: r.error_code, step: r.step, automatic: r.automatic, status: r.status,
    reason: r.reason, rule: r.rule, ruleSetHash: r.rule_set_hash, facts: r.facts, params: r.params, notBefore: r.not_before,
    newOrderId: r.new_order_id === null ? null : Number(r.new_order_id), outcome: r.outcome, createdAt: r.created_at, decidedAt: r.decided_at, decidedBy: r.decided_by,
  };
}

const OPEN = sql`('scheduled', 'awaiting_operator', 'executing')`;

// ---- the query ladder ----

export interface DueAttempt {
  order: Order;
  attemptNo: number;
  requestId: string;
  submittedAt: Date;
  rung: number;
}

/** Attempts with no known outcome whose next query is due (never queried: `firstAfterSeconds` after submission). */
export async function dueUnknownAttempts(db: Q, now: Date, firstAfterSeconds: number, limit = 1000, orderIds?: readonly number[]): Promise<DueAttempt[]> {
  const only = orderIds ? sql`and a.order_id = any(${[...orderIds]}::int8[])` : sql`and coalesce(a.next_query_at, a.submitted_at + make_interval(secs => ${firstAfterSeconds})) <= ${now}`;
  const r = await sql<{ order_id: number; attempt_no: number; request_id: string; submitted_at: Date; query_rung: number }>`
    select a.order_id, a.attempt_no, a.request_id, a.submitted_at, a.query_rung from order_attempts a
    where a.status in ('submitted', 'unknown') ${only}
    order by a.submitted_at limit ${limit}
  `.execute(db);
  const out: DueAttempt[] = [];
  for (const x of r.rows) {
    const order = await getOrder(db, Number(x.order_id));
    out.push({ order: order!, attemptNo: x.attempt_no, requestId: x.request_id, submittedAt: x.submitted_at, rung: x.query_rung });
  }
  return out;
}

/** One status query and the platform's answer; moves the attempt one rung up the ladder. */
export async function recordQuery(db: Q, a: { orderId: number; attemptNo: number; requestId: string }, answer: string, code: string | null, now: Date, next: { rung: number; at: Date | null }): Promise<void> {
  await sql`insert into order_queries (order_id, attempt_no, request_id, answer, code, queried_at) values (${a.orderId}, ${a.attemptNo}, ${a.requestId}, ${answer}, ${code}, ${now})`.execute(db);
  await sql`
    update order_attempts set queries = queries + 1, last_queried_at = ${now}, query_rung = ${next.rung}, next_query_at = ${next.at}
    where order_id = ${a.orderId} and attempt_no = ${a.attemptNo}
  `.execute(db);
}

// ---- escalation steps ----

/** Failed orders no step has been decided for since they last failed. */
export async function failedOrdersToEscalate(db: Q, limit = 1000, orderIds?: readonly number[]): Promise<Order[]> {
  const only = orderIds ? sql`and o.id = any(${[...orderIds]}::int8[])` : sql``;
  const r = await sql<{ id: number }>`
    select o.id from orders o
    where o.status = 'failed' ${only}
      -- a disbursement leg of a loan already failed is final: resending it could pay a loan nobody disburses
      and not exists (select 1 from loans l where l.id = o.loan_id and l.status = 'failed' and o.purpose like 'disburse.%')
      and not exists (select 1 from escalations e where e.order_id = o.id and e.status in ${OPEN})
      and not exists (
        select 1 from escalations e where e.order_id = o.id
          and e.id = (select max(id) from escalations x where x.order_id = o.id)
          and not (e.status = 'done' and e.step in ('channel_resend', 'system_resend')))
    order by o.id limit ${limit}
  `.execute(db);
  const out: Order[] = [];
  for (const x of r.rows) out.push((await getOrder(db, Number(x.id)))!);
  return out;
}

export async function latestEscalation(db: Q, orderId: number): Promise<Escalation | null> {
  const r = await sql<Record<string, any>>`select * from escalations where order_id = ${orderId} order by id desc limit 1`.execute(db);
  return r.rows[0] ? toEscalation(r.rows[0]) : null;
}

export async function escalationsOf(db: Q, orderId: number): Promise<Escalation[]> {
  const r = await sql<Record<string, any>>`select * from escalations where order_id = ${orderId} order by id`.execute(db);
  return r.rows.map(toEscalation);
}

export interface NewEscalation {
  orderId: number;
  attemptNo: number;
  errorCode: string;
  step: Step;
  automatic: boolean;
  status: 'scheduled' | 'awaiting_operator' | 'done';
  reason: string;
  rule: string | null;
  ruleSetHash: string;
  facts: unknown;
  params: unknown;
  notBefore: Date;
  now: Date;
  outcome?: string;
}

/** Records a decision; null when another process decided for this order first. */
export async function insertEscalation(db: Q, e: NewEscalation): Promise<Escalation | null> {
  const r = await sql<Record<string, any>>`
    insert into escalations (order_id, attempt_no, error_code, step, automatic, status, reason, rule, rule_set_hash, facts, params, not_before, created_at, decided_at, outcome)
    values (${e.orderId}, ${e.attemptNo}, ${e.errorCode}, ${e.step}, ${e.automatic}, ${e.status}, ${e.reason}, ${e.rule}, ${e.ruleSetHash},
      ${JSON.stringify(e.facts)}::jsonb, ${JSON.stringify(e.params)}::jsonb, ${e.notBefore}, ${e.now}, ${e.status === 'done' ? e.now : null}, ${e.outcome ?? null})
    on conflict (order_id) where status in ('scheduled', 'awaiting_operator', 'executing') do nothing
    returning *
  `.execute(db);
  return r.rows[0] ? toEscalation(r.rows[0]) : null;
}

/** Level counts over the order and the orders it replaced (same purpose, up the parent chain). */
export async function levelCounts(db: Q, orderId: number): Promise<{ channelResends: number; systemResends: number; reissues: number; chainCreatedAt: Date }> {
  const r = await sql<{ cr: number; sr: number; ri: number; created: Date }>`
    with recursive chain(id, purpose, parent, created_at) as (
      select id, purpose, parent_order_id, created_at from orders where id = ${orderId}
      union all
      select o.id, o.purpose, o.parent_order_id, o.created_at from orders o join chain c on o.id = c.parent and o.purpose = c.purpose
    )
    select
      (select count(*) from escalations e where e.order_id in (select id from chain) and e.status = 'done' and e.step = 'channel_resend')::int as cr,
      (select count(*) from escalations e where e.order_id in (select id from chain) and e.status = 'done' and e.step = 'system_resend')::int as sr,
      (select count(*) from escalations e where e.order_id in (select id from chain) and e.status = 'done' and e.step = 'void_and_reissue')::int as ri,
      (select min(created_at) from chain) as created
  `.execute(db);
  const x = r.rows[0]!;
  return { channelResends: x.cr, systemResends: x.sr, reissues: x.ri, chainCreatedAt: x.created };
}

/** Scheduled automatic steps whose time has come. */
export async function dueScheduledEscalations(db: Q, now: Date, limit = 1000, orderIds?: readonly number[]): Promise<Escalation[]> {
  const only = orderIds ? sql`and order_id = any(${[...orderIds]}::int8[])` : sql`and not_before <= ${now}`;
  const r = await sql<Record<string, any>>`select * from escalations where status = 'scheduled' ${only} order by not_before, id limit ${limit}`.execute(db);
  return r.rows.map(toEscalation);
}

export async function openEscalationOf(db: Q, orderId: number): Promise<Escalation | null> {
  const r = await sql<Record<string, any>>`select * from escalations where order_id = ${orderId} and status in ${OPEN}`.execute(db);
  return r.rows[0] ? toEscalation(r.rows[0]) : null;
}

/** Exactly one caller moves a step from `from` to executing. */
export async function claimEscalation(db: Q, id: number, from: readonly EscalationStatus[]): Promise<Escalation | null> {
  const r = await sql<Record<string, any>>`update escalations set status = 'executing' where id = ${id} and status = any(${[...from]}::text[]) returning *`.execute(db);
  return r.rows[0] ? toEscalation(r.rows[0]) : null;
}

export async function finishEscalation(db: Q, id: number, status: 'done' | 'rejected' | 'awaiting_operator', outcome: string, now: Date, by: string | null = null, newOrderId: number | null = null): Promise<void> {
  await sql`
    update escalations set status = ${status}, outcome = ${outcome}, decided_at = ${now}, decided_by = coalesce(${by}, decided_by), new_order_id = coalesce(${newOrderId}::int8, new_order_id)
    where id = ${id}
  `.execute(db);
}

/** Operator confirms with another step: the open escalation takes it. */
export async function changeStep(db: Q, id: number, step: Step): Promise<void> {
  await sql`update escalations set step = ${step} where id = ${id}`.execute(db);
}

/**
 * Level 1, in one transaction: the step is done and the failed attempt is open again
 * (order and attempt `submitted`), so a crash before the platform answers leaves an
 * attempt the ladder queries, never one resent blindly.
 */
export async function reopenForChannelResend(db: Db, e: Escalation, now: Date): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const o = await sql<{ status: string }>`select status from orders where id = ${e.orderId} for update`.execute(trx);
    if (o.rows[0]?.status !== 'failed') return false;
    await sql`update order_attempts set status = 'submitted', error_code = null, resolved_at = null, next_query_at = null, query_rung = 0 where order_id = ${e.orderId} and attempt_no = ${e.attemptNo} and status = 'failed'`.execute(trx);
    await sql`update orders set status = 'submitted', error_code = null, updated_at = ${now} where id = ${e.orderId}`.execute(trx);
    await sql`update escalations set status = 'done', decided_at = ${now}, outcome = 'resent by the platform under the same request id' where id = ${e.id}`.execute(trx);
    return true;
  });
}

/** Level 2, in one transaction: the step is done and the order is `created` for its next attempt. */
export async function reopenForSystemResend(db: Db, e: Escalation, now: Date): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const o = await sql<{ status: string }>`select status from orders where id = ${e.orderId} for update`.execute(trx);
    if (o.rows[0]?.status !== 'failed') return false;
    await sql`update orders set status = 'created', updated_at = ${now} where id = ${e.orderId}`.execute(trx);
    await sql`update escalations set status = 'done', decided_at = ${now}, outcome = 'a new attempt under a new request id' where id = ${e.id}`.execute(trx);
    return true;
  });
}

export interface Reissue {
  idempotencyKey: string;
  sourceRef: string;
  destinationRef: string;
}

/**
 * Level 3, in one transaction, once the platform said every attempt failed or never
 * arrived: the order is voided, the step done, and the new order (new idempotency key,
 * parent = the voided order) created.
 */
export async function voidAndReissue(db: Db, e: Escalation, r: Reissue, now: Date): Promise<number | null> {
  return db.transaction().execute(async (trx) => {
    const o = await sql<Record<string, any>>`select * from orders where id = ${e.orderId} for update`.execute(trx);
    const old = o.rows[0];
    if (!old || old.status !== 'failed') return null;
    await sql`update orders set status = 'voided', updated_at = ${now} where id = ${e.orderId}`.execute(trx);
    const ins = await sql<{ id: number }>`
      insert into orders (idempotency_key, kind, purpose, loan_id, customer_id, amount_fen, source_ref, destination_ref, status, parent_order_id, created_at, updated_at)
      values (${r.idempotencyKey}, ${old.kind}, ${old.purpose}, ${old.loan_id}, ${old.customer_id}, ${old.amount_fen}, ${r.sourceRef}, ${r.destinationRef}, 'created', ${e.orderId}, ${now}, ${now})
      on conflict (idempotency_key) do nothing returning id
    `.execute(trx);
    const id = ins.rows[0]?.id ?? (await sql<{ id: number }>`select id from orders where idempotency_key = ${r.idempotencyKey}`.execute(trx)).rows[0]!.id;
    await sql`update escalations set status = 'done', decided_at = ${now}, new_order_id = ${id}, outcome = ${`voided; reissued as order ${id} to ${r.destinationRef}`} where id = ${e.id}`.execute(trx);
    return Number(id);
  });
}

/** Orders `created` by a system resend that nobody sent yet (a crash between the two). */
export async function createdAfterResend(db: Q, limit = 1000): Promise<Order[]> {
  const r = await sql<{ id: number }>`
    select distinct o.id from orders o
    where o.status = 'created' and (exists (select 1 from escalations e where e.order_id = o.id and e.step = 'system_resend' and e.status = 'done')
      or exists (select 1 from escalations e where e.new_order_id = o.id))
    order by o.id limit ${limit}
  `.execute(db);
  const out: Order[] = [];
  for (const x of r.rows) out.push((await getOrder(db, Number(x.id)))!);
  return out;
}

/** The customer's cards and balance accounts (level 3 looks for another one). */
export async function instrumentsOf(db: Q, customerId: string): Promise<{ cards: string[]; accounts: { id: string; primary: boolean }[] }> {
  const cards = await sql<{ id: string }>`select id from customer_bank_cards where customer_id = ${customerId} order by id`.execute(db);
  const accounts = await sql<{ id: string; is_primary: boolean }>`select id, is_primary from customer_accounts where customer_id = ${customerId} order by is_primary desc, id`.execute(db);
  return { cards: cards.rows.map((c) => c.id), accounts: accounts.rows.map((a) => ({ id: a.id, primary: a.is_primary })) };
}

// ---- alerts, operator actions, dead letters ----

export interface Alert {
  id: number;
  kind: string;
  orderId: number | null;
  message: string;
  createdAt: Date;
  resolvedAt: Date | null;
}

/** One open alert per (kind, order): raising it again changes nothing. */
export async function raiseAlert(db: Q, kind: string, orderId: number | null, message: string, now: Date): Promise<void> {
  await sql`
    insert into alerts (kind, order_id, message, created_at) values (${kind}, ${orderId}, ${message}, ${now})
    on conflict (kind, order_id) where resolved_at is null do nothing
  `.execute(db);
}

export async function resolveAlerts(db: Q, orderId: number, by: string, now: Date): Promise<void> {
  await sql`update alerts set resolved_at = ${now}, resolved_by = ${by} where order_id = ${orderId} and resolved_at is null`.execute(db);
}

export async function openAlerts(db: Q, orderId?: number): Promise<Alert[]> {
  const only = orderId === undefined ? sql`` : sql`and order_id = ${orderId}`;
  const r = await sql<Record<string, any>>`select * from alerts where resolved_at is null ${only} order by id`.execute(db);
  return r.rows.map((x) => ({ id: Number(x.id), kind: x.kind, orderId: x.order_id === null ? null : Number(x.order_id), message: x.message, createdAt: x.created_at, resolvedAt: x.resolved_at }));
}

export async function recordOperatorAction(db: Q, a: { orderId: number | null; escalationId: number | null; operator: string; action: string; step: string | null; reason: string | null; now: Date }): Promise<void> {
  await sql`
    insert into operator_actions (order_id, escalation_id, operator, action, step, reason, created_at)
    values (${a.orderId}, ${a.escalationId}, ${a.operator}, ${a.action}, ${a.step}, ${a.reason}, ${a.now})
  `.execute(db);
}

export async function recordDeadLetter(db: Q, d: { queue: string; jobId: string; payload: unknown; error: string }): Promise<void> {
  await sql`
    insert into dead_letters (queue, job_id, payload, error) values (${d.queue}, ${d.jobId}, ${JSON.stringify(d.payload)}::jsonb, ${d.error})
    on conflict (job_id) do nothing
  `.execute(db);
}

// ---- what waits for a human (the CLI's `ops queue` and the dashboard) ----

export interface QueueItem {
  escalationId: number;
  orderId: number;
  idempotencyKey: string;
  purpose: string;
  loanId: string | null;
  customerId: string | null;
  amount: Fen;
  orderStatus: string;
  errorCode: string;
  proposedStep: Step;
  reason: string;
  rule: string | null;
  waitingSince: Date;
  alerts: { kind: string; message: string; createdAt: Date }[];
}

export interface DeadLetter {
  id: number;
  queue: string;
  jobId: string;
  payload: unknown;
  error: string;
  createdAt: Date;
}

export interface OperatorQueue {
  items: QueueItem[];
  deadLetters: DeadLetter[];
}

/** Escalations awaiting an operator (with their open alerts) and unresolved dead-lettered jobs, oldest first. */
export async function operatorQueue(db: Q, limit = 500): Promise<OperatorQueue> {
  const r = await sql<Record<string, any>>`
    select e.id, e.order_id, e.error_code, e.step, e.reason, e.rule, e.created_at, o.idempotency_key, o.purpose, o.loan_id, o.customer_id, o.amount_fen, o.status as order_status,
      coalesce((select json_agg(json_build_object('kind', a.kind, 'message', a.message, 'createdAt', a.created_at) order by a.id)
                from alerts a where a.order_id = e.order_id and a.resolved_at is null), '[]') as alerts
    from escalations e join orders o on o.id = e.order_id
    where e.status = 'awaiting_operator'
    order by e.created_at, e.id limit ${limit}
  `.execute(db);
  const d = await sql<Record<string, any>>`select * from dead_letters where resolved_at is null order by id limit ${limit}`.execute(db);
  return {
    items: r.rows.map((x) => ({
      escalationId: Number(x.id), orderId: Number(x.order_id), idempotencyKey: x.idempotency_key, purpose: x.purpose, loanId: x.loan_id, customerId: x.customer_id,
      amount: Number(x.amount_fen) as Fen, orderStatus: x.order_status, errorCode: x.error_code, proposedStep: x.step, reason: x.reason, rule: x.rule, waitingSince: x.created_at,
      alerts: (x.alerts as { kind: string; message: string; createdAt: string }[]).map((a) => ({ kind: a.kind, message: a.message, createdAt: new Date(a.createdAt) })),
    })),
    deadLetters: d.rows.map((x) => ({ id: Number(x.id), queue: x.queue, jobId: x.job_id, payload: x.payload, error: x.error, createdAt: x.created_at })),
  };
}

// ---- the order timeline ----

export interface TimelineEvent {
  at: Date;
  kind: 'decision' | 'loan' | 'order' | 'attempt' | 'outcome' | 'query' | 'escalation' | 'operator' | 'alert' | 'journal' | 'reissue';
  text: string;
  data: Record<string, unknown>;
}

/** Everything lendpay knows about an order, by time: creation to its final state. */
export async function orderTimeline(db: Q, orderId: number): Promise<{ order: Order; parent: Order | null; children: Order[]; events: TimelineEvent[] } | null> {
  const order = await getOrder(db, orderId);
  if (!order) return null;
  const ev: TimelineEvent[] = [];
  if (order.loanId) {
    const l = await sql<Record<string, any>>`
      select l.id, l.created_at, l.decision_date::text as decision_date, l.rule_set_hash, l.limit_fen, l.status, d.eligible, d.door, d.decided_at
      from loans l left join eligibility_decisions d on d.customer_id = l.customer_id and d.business_date = l.decision_date where l.id = ${order.loanId}
    `.execute(db);
    const x = l.rows[0];
    if (x) {
      if (x.decided_at) ev.push({ at: x.decided_at, kind: 'decision', text: `decision ${x.decision_date}: ${x.eligible ? 'eligible' : 'ineligible'} via ${x.door ?? '-'}, limit ${Number(x.limit_fen)} fen, rule set ${String(x.rule_set_hash).slice(0, 12)}`, data: { businessDate: x.decision_date, ruleSetHash: x.rule_set_hash, eligible: x.eligible, door: x.door } });
      ev.push({ at: x.created_at, kind: 'loan', text: `loan ${x.id} created (now ${x.status}) under rule set ${String(x.rule_set_hash).slice(0, 12)}`, data: { loanId: x.id, ruleSetHash: x.rule_set_hash, status: x.status } });
    }
  }
  ev.push({ at: order.createdAt, kind: 'order', text: `order ${order.id} ${order.idempotencyKey} created: ${order.kind} ${order.amount} fen ${order.sourceRef} → ${order.destinationRef}${order.parentOrderId ? ` (parent ${order.parentOrderId})` : ''}`, data: { status: order.status } });
  const atts = await sql<Record<string, any>>`select * from order_attempts where order_id = ${orderId} order by attempt_no`.execute(db);
  for (const a of atts.rows) {
    ev.push({ at: a.submitted_at, kind: 'attempt', text: `attempt ${a.attempt_no} submitted, request id ${a.request_id}`, data: { attemptNo: a.attempt_no, requestId: a.request_id } });
    if (a.resolved_at) ev.push({ at: a.resolved_at, kind: 'outcome', text: `attempt ${a.attempt_no} ${a.status}${a.error_code ? ` ${a.error_code}` : ''}${a.platform_ref ? ` (platform ${a.platform_ref})` : ''}`, data: { attemptNo: a.attempt_no, status: a.status, errorCode: a.error_code, platformRef: a.platform_ref } });
    else if (a.status !== 'succeeded' && a.status !== 'failed') ev.push({ at: a.last_queried_at ?? a.submitted_at, kind: 'outcome', text: `attempt ${a.attempt_no} outcome ${a.status}${a.next_query_at ? `; next query ${new Date(a.next_query_at).toISOString()}` : ''}`, data: { attemptNo: a.attempt_no, status: a.status, nextQueryAt: a.next_query_at } });
  }
  const qs = await sql<Record<string, any>>`select * from order_queries where order_id = ${orderId} order by id`.execute(db);
  for (const q of qs.rows) ev.push({ at: q.queried_at, kind: 'query', text: `status query ${q.request_id}: ${q.answer}${q.code ? ` ${q.code}` : ''}`, data: { attemptNo: q.attempt_no, requestId: q.request_id, answer: q.answer, code: q.code } });
  for (const e of await escalationsOf(db, orderId)) {
    ev.push({ at: e.createdAt, kind: 'escalation', text: `escalation ${e.id} on ${e.errorCode}: ${e.step}${e.automatic ? '' : ' (needs an operator)'} — ${e.reason}${e.rule ? ` [rule ${e.rule}]` : ''}`, data: { escalationId: e.id, step: e.step, rule: e.rule, ruleSetHash: e.ruleSetHash, facts: e.facts } });
    if (e.decidedAt) ev.push({ at: e.decidedAt, kind: 'escalation', text: `escalation ${e.id} ${e.status}: ${e.outcome ?? ''}${e.decidedBy ? ` (by ${e.decidedBy})` : ''}`, data: { escalationId: e.id, status: e.status, newOrderId: e.newOrderId } });
  }
  const ops = await sql<Record<string, any>>`select * from operator_actions where order_id = ${orderId} order by id`.execute(db);
  for (const o of ops.rows) ev.push({ at: o.created_at, kind: 'operator', text: `${o.operator}: ${o.action}${o.step ? ` ${o.step}` : ''}${o.reason ? ` — ${o.reason}` : ''}`, data: { operator: o.operator, action: o.action, step: o.step, reason: o.reason } });
  const al = await sql<Record<string, any>>`select * from alerts where order_id = ${orderId} order by id`.execute(db);
  for (const a of al.rows) ev.push({ at: a.created_at, kind: 'alert', text: `alert ${a.kind}: ${a.message}${a.resolved_at ? ` (resolved by ${a.resolved_by})` : ''}`, data: { kind: a.kind, resolvedAt: a.resolved_at } });
  for (const j of await journalOfOrder(db, orderId)) {
    ev.push({ at: j.postedAt, kind: 'journal', text: `journal ${j.id} ${j.kind}: ${j.memo}`, data: { entryId: j.id, lines: j.lines } });
  }
  const kids = await sql<{ id: number }>`select id from orders where parent_order_id = ${orderId} and purpose = ${order.purpose} order by id`.execute(db);
  const children: Order[] = [];
  for (const k of kids.rows) {
    const c = (await getOrder(db, Number(k.id)))!;
    children.push(c);
    ev.push({ at: c.createdAt, kind: 'reissue', text: `reissued as order ${c.id} ${c.idempotencyKey} (${c.status})`, data: { orderId: c.id } });
  }
  const parent = order.parentOrderId ? await getOrder(db, order.parentOrderId) : null;
  const rank: Record<TimelineEvent['kind'], number> = { decision: 0, loan: 1, order: 2, attempt: 3, query: 4, outcome: 5, journal: 6, escalation: 7, alert: 8, operator: 9, reissue: 10 };
  ev.sort((a, b) => a.at.getTime() - b.at.getTime() || rank[a.kind] - rank[b.kind]);
  return { order, parent: parent && parent.purpose === order.purpose ? parent : null, children, events: ev };
}
