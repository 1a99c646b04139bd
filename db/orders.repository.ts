// Orders, their attempts and the journal lines they post. Reads and writes only, set-
// based: a batch of orders is begun, recorded or posted with a fixed number of
// statements whatever its size; one order is a batch of one. The protocol that uses
// these (attempt before the call, the call, the outcome) is src/orders/protocol.ts.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import type { Fen } from '../src/money.ts';
import { assertBalanced, type Posting, type PostingLine } from '../src/ledger/postings.ts';
import type { Attempt, AttemptOutcome, AttemptResult, AttemptStatus, Begun, Changed, NewOrder, Order, OrderKind, OrderStatus } from '../src/orders/types.ts';

export type { Attempt, AttemptResult, NewOrder, Order } from '../src/orders/types.ts';
export { requestIdFor } from '../src/orders/types.ts';

type Q = Db | Transaction<Database>;

function toOrder(r: Record<string, unknown>): Order {
  return {
    id: Number(r['id']),
    idempotencyKey: r['idempotency_key'] as string,
    kind: r['kind'] as OrderKind,
    purpose: r['purpose'] as string,
    loanId: r['loan_id'] as string | null,
    customerId: r['customer_id'] as string | null,
    amount: r['amount_fen'] as Fen,
    sourceRef: r['source_ref'] as string,
    destinationRef: r['destination_ref'] as string,
    status: r['status'] as OrderStatus,
    errorCode: r['error_code'] as string | null,
    parentOrderId: r['parent_order_id'] === null ? null : Number(r['parent_order_id']),
    arrivesAt: r['arrives_at'] as Date | null,
    createdAt: r['created_at'] as Date,
    updatedAt: r['updated_at'] as Date,
  };
}

function toAttempt(r: Record<string, unknown>): Attempt {
  return {
    orderId: Number(r['order_id']),
    attemptNo: r['attempt_no'] as number,
    requestId: r['request_id'] as string,
    status: r['status'] as AttemptStatus,
    errorCode: r['error_code'] as string | null,
    platformRef: r['platform_ref'] as string | null,
    submittedAt: r['submitted_at'] as Date,
    resolvedAt: r['resolved_at'] as Date | null,
  };
}

// ---- orders -------------------------------------------------------------------------

/**
 * Creates the orders, one statement; an idempotency key that exists already returns
 * the first order (creating twice returns the first). Answers in input order.
 */
export async function insertOrders(db: Q, orders: readonly NewOrder[], now: Date = new Date()): Promise<Order[]> {
  if (orders.length === 0) return [];
  const inserted = await sql<Record<string, unknown>>`
    insert into orders (idempotency_key, kind, purpose, loan_id, customer_id, amount_fen, source_ref, destination_ref, status, parent_order_id, created_at, updated_at)
    select k, kd, p, l, c, a, s, d, 'created', par, ${now}, ${now}
    from unnest(${orders.map((o) => o.idempotencyKey)}::text[], ${orders.map((o) => o.kind)}::text[], ${orders.map((o) => o.purpose)}::text[],
      ${orders.map((o) => o.loanId)}::text[], ${orders.map((o) => o.customerId)}::text[], ${orders.map((o) => o.amount)}::int8[],
      ${orders.map((o) => o.sourceRef)}::text[], ${orders.map((o) => o.destinationRef)}::text[], ${orders.map((o) => o.parentOrderId ?? null)}::int8[])
      as u(k, kd, p, l, c, a, s, d, par)
    on conflict (idempotency_key) do nothing
    returning *
  `.execute(db);
  const byKey = new Map(inserted.rows.map((r) => [r['idempotency_key'] as string, toOrder(r)]));
  const missing = orders.filter((o) => !byKey.has(o.idempotencyKey)).map((o) => o.idempotencyKey);
  if (missing.length > 0) {
    const existing = await sql<Record<string, unknown>>`select * from orders where idempotency_key = any(${missing}::text[])`.execute(db);
    for (const r of existing.rows) byKey.set(r['idempotency_key'] as string, toOrder(r));
  }
  return orders.map((o) => byKey.get(o.idempotencyKey)!);
}

/** Creating an order twice returns the first (unique idempotency key). */
export async function createOrder(db: Q, o: NewOrder): Promise<Order> {
  return (await insertOrders(db, [o]))[0]!;
}

export async function getOrderByKey(db: Q, key: string): Promise<Order | null> {
  const r = await db.selectFrom('orders').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
  return r ? toOrder(r) : null;
}

export async function getOrder(db: Q, id: number): Promise<Order | null> {
  const r = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toOrder(r) : null;
}

export async function getOrders(db: Q, ids: readonly number[]): Promise<Order[]> {
  if (ids.length === 0) return [];
  const r = await sql<Record<string, unknown>>`select * from orders where id = any(${[...ids]}::int8[]) order by id`.execute(db);
  return r.rows.map(toOrder);
}

export async function ordersOfLoan(db: Q, loanId: string): Promise<Order[]> {
  const rows = await db.selectFrom('orders').selectAll().where('loan_id', '=', loanId).orderBy('id').execute();
  return rows.map(toOrder);
}

/** The orders of many loans, one statement, each loan's in id order. */
export async function ordersOfLoans(db: Q, loanIds: readonly string[]): Promise<Map<string, Order[]>> {
  const out = new Map<string, Order[]>(loanIds.map((id) => [id, []]));
  if (loanIds.length === 0) return out;
  const r = await sql<Record<string, unknown>>`select * from orders where loan_id = any(${[...loanIds]}::text[]) order by loan_id, id`.execute(db);
  for (const row of r.rows) out.get(row['loan_id'] as string)?.push(toOrder(row));
  return out;
}

export async function attemptsOf(db: Q, orderId: number): Promise<Attempt[]> {
  const rows = await db.selectFrom('order_attempts').selectAll().where('order_id', '=', orderId).orderBy('attempt_no').execute();
  return rows.map(toAttempt);
}

/** The succeeded attempt of each order that has one (when it was accepted, by whom). */
export async function succeededAttempts(db: Q, orderIds: readonly number[]): Promise<Map<number, Attempt>> {
  if (orderIds.length === 0) return new Map();
  const r = await sql<Record<string, unknown>>`
    select * from order_attempts where order_id = any(${[...orderIds]}::int8[]) and status = 'succeeded'
  `.execute(db);
  return new Map(r.rows.map((x) => [Number(x['order_id']), toAttempt(x)]));
}

// ---- attempts: the intent before the call -------------------------------------------

/**
 * Records the intent to send the next attempt of every given order that is `created`
 * (others are left alone: someone else is sending them, or they are settled). The
 * orders are locked in id order, so two callers never both begin one order.
 */
export async function beginAttempts(trx: Transaction<Database>, orderIds: readonly number[], now: Date): Promise<Begun[]> {
  if (orderIds.length === 0) return [];
  const ids = [...new Set(orderIds)].sort((a, b) => a - b);
  await sql`select id from orders where id = any(${ids}::int8[]) and status = 'created' order by id for update`.execute(trx);
  const r = await sql<Record<string, unknown>>`
    with moved as (
      update orders set status = 'submitted', updated_at = ${now}
      where id = any(${ids}::int8[]) and status = 'created'
      returning *
    ), attempts as (
      insert into order_attempts (order_id, attempt_no, request_id, status, submitted_at)
      select m.id, n.no, m.idempotency_key || '#' || n.no, 'submitted', ${now}
      from moved m cross join lateral (select coalesce(max(a.attempt_no), 0) + 1 as no from order_attempts a where a.order_id = m.id) n
      returning order_id, attempt_no, request_id, submitted_at
    )
    select m.*, a.attempt_no as a_no, a.request_id as a_request_id, a.submitted_at as a_submitted_at
    from moved m join attempts a on a.order_id = m.id
    order by m.id
  `.execute(trx);
  return r.rows.map((row) => ({
    order: toOrder(row),
    attempt: {
      orderId: Number(row['id']), attemptNo: row['a_no'] as number, requestId: row['a_request_id'] as string, status: 'submitted',
      errorCode: null, platformRef: null, submittedAt: row['a_submitted_at'] as Date, resolvedAt: null,
    },
  }));
}

/**
 * New orders with their first attempt recorded as submitted, two statements: what
 * creating and beginning them would do, for orders made to be sent at once. An
 * idempotency key that exists already is left alone (its order is someone else's to send).
 */
export async function insertSubmitted(trx: Transaction<Database>, orders: readonly NewOrder[], now: Date): Promise<Begun[]> {
  if (orders.length === 0) return [];
  const created = await sql<Record<string, unknown>>`
    with made as (
      insert into orders (idempotency_key, kind, purpose, loan_id, customer_id, amount_fen, source_ref, destination_ref, status, parent_order_id, created_at, updated_at)
      select k, kd, p, l, c, a, s, d, 'submitted', par, ${now}, ${now}
      from unnest(${orders.map((o) => o.idempotencyKey)}::text[], ${orders.map((o) => o.kind)}::text[], ${orders.map((o) => o.purpose)}::text[],
        ${orders.map((o) => o.loanId)}::text[], ${orders.map((o) => o.customerId)}::text[], ${orders.map((o) => o.amount)}::int8[],
        ${orders.map((o) => o.sourceRef)}::text[], ${orders.map((o) => o.destinationRef)}::text[], ${orders.map((o) => o.parentOrderId ?? null)}::int8[])
        with ordinality as u(k, kd, p, l, c, a, s, d, par, n)
      order by n
      on conflict (idempotency_key) do nothing
      returning *
    ), attempts as (
      insert into order_attempts (order_id, attempt_no, request_id, status, submitted_at)
      select id, 1, idempotency_key || '#1', 'submitted', ${now} from made
    )
    select * from made order by id
  `.execute(trx);
  return created.rows.map(toOrder).map((order) => ({
    order,
    attempt: { orderId: order.id, attemptNo: 1, requestId: `${order.idempotencyKey}#1`, status: 'submitted' as const, errorCode: null, platformRef: null, submittedAt: now, resolvedAt: null },
  }));
}

/** Single-order form (escalation, card repayment): the intent, committed. */
export async function beginAttempt(db: Db, orderId: number, now: Date = new Date()): Promise<{ order: Order; attempt: Attempt } | { order: Order; attempt: null }> {
  const begun = await db.transaction().execute((trx) => beginAttempts(trx, [orderId], now));
  if (begun[0]) return begun[0];
  return { order: (await getOrder(db, orderId))!, attempt: null };
}

// ---- outcomes ------------------------------------------------------------------------

/**
 * Records what the platform said about attempts, set-based. Idempotent: an outcome
 * already recorded (another process resolved it first) or of a settled order is left
 * as it is. Returns the orders this call changed, locked until the transaction ends,
 * so that whatever follows from them (a posting, an allocation) happens exactly once.
 */
export async function recordAttemptOutcomes(trx: Transaction<Database>, outcomes: readonly AttemptOutcome[], now: Date): Promise<Changed[]> {
  if (outcomes.length === 0) return [];
  // the orders locked in id order, with whether each given attempt is still open
  const locked = await sql<Record<string, unknown>>`
    select o.*, (a.status in ('submitted', 'unknown')) as a_open, u.n as a_no
    from orders o
    join unnest(${outcomes.map((o) => o.orderId)}::int8[], ${outcomes.map((o) => o.attemptNo)}::int[]) as u(o, n) on o.id = u.o
    left join order_attempts a on a.order_id = u.o and a.attempt_no = u.n
    order by o.id
    for update of o
  `.execute(trx);
  const open = new Set(locked.rows.filter((r) => r['a_open'] === true).map((r) => `${Number(r['id'])}#${r['a_no'] as number}`));
  const orders = new Map(locked.rows.map((r) => [Number(r['id']), toOrder(r)]));
  const todo: AttemptOutcome[] = [];
  const seen = new Set<number>();
  for (const o of outcomes) {
    const order = orders.get(o.orderId);
    if (!order || seen.has(o.orderId) || !open.has(`${o.orderId}#${o.attemptNo}`)) continue;
    if (order.status === 'succeeded' || order.status === 'failed' || order.status === 'voided') continue;
    seen.add(o.orderId);
    todo.push(o);
  }
  if (todo.length === 0) return [];
  const st = todo.map((o) => o.result.status);
  const code = todo.map((o) => (o.result.status === 'failed' ? o.result.code : null));
  const pref = todo.map((o) => (o.result.status === 'unknown' ? null : o.result.platformRef));
  const arrives = todo.map((o) => (o.result.status === 'succeeded' ? o.result.arrivesAt : null));
  const updated = await sql<Record<string, unknown>>`
    with u as (
      select * from unnest(${todo.map((o) => o.orderId)}::int8[], ${todo.map((o) => o.attemptNo)}::int[], ${st}::text[], ${code}::text[], ${pref}::text[], ${arrives}::timestamptz[])
        as u(o, n, s, c, p, t)
    ), attempts as (
      update order_attempts a set status = u.s, error_code = u.c, platform_ref = u.p,
        resolved_at = case when u.s = 'unknown' then null else ${now}::timestamptz end
      from u where a.order_id = u.o and a.attempt_no = u.n
    )
    update orders o set status = u.s, error_code = case when u.s = 'unknown' then o.error_code else u.c end,
      arrives_at = case when u.s = 'succeeded' then u.t when u.s = 'unknown' then o.arrives_at else null end, updated_at = ${now}
    from u where o.id = u.o
    returning o.*
  `.execute(trx);
  const after = new Map(updated.rows.map((r) => [Number(r['id']), toOrder(r)]));
  return todo.map((o) => ({ order: after.get(o.orderId)!, attemptNo: o.attemptNo, result: o.result }));
}

/** Back to `created` so the next attempt can be sent (used by recovery and escalation). */
export async function reopenOrder(db: Db, orderId: number): Promise<void> {
  await db.updateTable('orders').set({ status: 'created', updated_at: new Date() }).where('id', '=', orderId).where('status', 'in', ['failed', 'unknown']).execute();
}

// ---- the journal ---------------------------------------------------------------------

export interface PostedLine {
  orderId: number | null;
  line: PostingLine;
}

/**
 * One journal entry for a batch: every line in one statement, so the balance check
 * runs once for the entry (and each order's own lines are balanced by the caller).
 * An entry of a single order names it, and posts at most once per (order, kind).
 */
export async function postEntry(trx: Transaction<Database>, entry: { kind: string; memo: string; orderId: number | null }, lines: readonly PostedLine[], now: Date): Promise<number | null> {
  if (lines.length === 0) return null;
  assertBalanced(lines.map((l) => l.line));
  const r = await sql<{ id: number }>`
    with e as (
      insert into journal_entries (order_id, kind, memo, posted_at) values (${entry.orderId}, ${entry.kind}, ${entry.memo}, ${now})
      on conflict (order_id, kind) where order_id is not null do nothing
      returning id
    ), l as (
      insert into journal_lines (entry_id, line_no, account, customer_id, loan_id, debit_fen, credit_fen, order_id)
      select e.id, u.n, u.a, u.c, u.l, u.d, u.cr, u.o
      from e cross join unnest(${lines.map((l) => l.line.account)}::text[], ${lines.map((l) => l.line.customerId)}::text[], ${lines.map((l) => l.line.loanId)}::text[],
        ${lines.map((l) => l.line.debit)}::int8[], ${lines.map((l) => l.line.credit)}::int8[], ${lines.map((l) => l.orderId)}::int8[])
        with ordinality as u(a, c, l, d, cr, o, n)
    )
    select id from e
  `.execute(trx);
  const id = r.rows[0]?.id;
  return id === undefined ? null : Number(id);
}

/** A posting of its own (not of an order's outcome), e.g. a recovery receivable. */
export async function postJournal(trx: Transaction<Database>, orderId: number | null, posting: Posting): Promise<number | null> {
  return postEntry(trx, { kind: posting.kind, memo: posting.memo, orderId }, posting.lines.map((line) => ({ orderId, line })), new Date());
}

/** The state lendpay knows of each platform request id it sent (absent: never sent by lendpay). */
export async function knownRequestStatuses(db: Q, requestIds: readonly string[]): Promise<Map<string, string>> {
  if (requestIds.length === 0) return new Map();
  const r = await sql<{ request_id: string; status: string }>`select request_id, status from order_attempts where request_id = any(${[...requestIds]}::text[])`.execute(db);
  return new Map(r.rows.map((k) => [k.request_id, k.status]));
}

// ---- open attempts (recovery) ---------------------------------------------------------

/** Attempts whose outcome is not known, submitted before `before`: recovery queries these. */
export async function openAttempts(db: Q, before: Date, family: 'disbursement' | 'collection', limit = 1000): Promise<(Attempt & { order: Order })[]> {
  const r = await sql<Record<string, unknown>>`
    select o.*, a.attempt_no as a_no, a.request_id as a_request_id, a.status as a_status, a.error_code as a_error_code,
      a.platform_ref as a_platform_ref, a.submitted_at as a_submitted_at, a.resolved_at as a_resolved_at
    from order_attempts a join orders o on o.id = a.order_id
    where a.status in ('submitted', 'unknown') and a.submitted_at < ${before}
      and o.purpose ${family === 'disbursement' ? sql`like` : sql`not like`} 'disburse.%'
    order by a.submitted_at
    limit ${limit}
  `.execute(db);
  return r.rows.map((row) => ({
    orderId: Number(row['id']), attemptNo: row['a_no'] as number, requestId: row['a_request_id'] as string, status: row['a_status'] as AttemptStatus,
    errorCode: row['a_error_code'] as string | null, platformRef: row['a_platform_ref'] as string | null,
    submittedAt: row['a_submitted_at'] as Date, resolvedAt: row['a_resolved_at'] as Date | null,
    order: toOrder(row),
  }));
}

/** The platform was asked about these attempts (counted on each). */
export async function noteQueriedMany(db: Q, attempts: readonly { orderId: number; attemptNo: number }[], now: Date = new Date()): Promise<void> {
  if (attempts.length === 0) return;
  await sql`
    update order_attempts a set queries = a.queries + 1, last_queried_at = ${now}
    from unnest(${attempts.map((x) => x.orderId)}::int8[], ${attempts.map((x) => x.attemptNo)}::int[]) as u(o, n)
    where a.order_id = u.o and a.attempt_no = u.n
  `.execute(db);
}

export async function noteQueried(db: Q, orderId: number, attemptNo: number): Promise<void> {
  await noteQueriedMany(db, [{ orderId, attemptNo }]);
}
