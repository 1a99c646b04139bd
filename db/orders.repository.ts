// Orders and their attempts. The protocol for every channel call: beginAttempt
// records the intent (attempt `submitted`) and commits; the caller calls the
// channel with no transaction open; recordOutcome writes the result, and on
// success the journal posting, in one transaction with the order's new state.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { AttemptStatus, Database, OrderKind, OrderStatus } from './types.ts';
import type { Fen } from '../src/money.ts';
import { assertBalanced, type Posting } from '../src/ledger/postings.ts';

export interface Order {
  id: number;
  idempotencyKey: string;
  kind: OrderKind;
  purpose: string;
  loanId: string | null;
  customerId: string | null;
  amount: Fen;
  sourceRef: string;
  destinationRef: string;
  status: OrderStatus;
  errorCode: string | null;
  parentOrderId: number | null;
  arrivesAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Attempt {
  orderId: number;
  attemptNo: number;
  requestId: string;
  status: AttemptStatus;
  errorCode: string | null;
  platformRef: string | null;
  submittedAt: Date;
  resolvedAt: Date | null;
}

export interface NewOrder {
  idempotencyKey: string;
  kind: OrderKind;
  purpose: string;
  loanId: string | null;
  customerId: string | null;
  amount: Fen;
  sourceRef: string;
  destinationRef: string;
  parentOrderId?: number | null;
}

type Q = Db | Transaction<Database>;

function toOrder(r: Record<string, unknown>): Order {
  return {
    id: r['id'] as number,
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
    parentOrderId: r['parent_order_id'] as number | null,
    arrivesAt: r['arrives_at'] as Date | null,
    createdAt: r['created_at'] as Date,
    updatedAt: r['updated_at'] as Date,
  };
}

function toAttempt(r: Record<string, unknown>): Attempt {
  return {
    orderId: r['order_id'] as number,
    attemptNo: r['attempt_no'] as number,
    requestId: r['request_id'] as string,
    status: r['status'] as AttemptStatus,
    errorCode: r['error_code'] as string | null,
    platformRef: r['platform_ref'] as string | null,
    submittedAt: r['submitted_at'] as Date,
    resolvedAt: r['resolved_at'] as Date | null,
  };
}

/** Creating an order twice returns the first (unique idempotency key). */
export async function createOrder(db: Q, o: NewOrder): Promise<Order> {
  const inserted = await db
    .insertInto('orders')
    .values({
      idempotency_key: o.idempotencyKey, kind: o.kind, purpose: o.purpose, loan_id: o.loanId, customer_id: o.customerId,
      amount_fen: o.amount, source_ref: o.sourceRef, destination_ref: o.destinationRef, status: 'created',
      parent_order_id: o.parentOrderId ?? null,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return toOrder(inserted);
  return (await getOrderByKey(db, o.idempotencyKey))!;
}

export async function getOrderByKey(db: Q, key: string): Promise<Order | null> {
  const r = await db.selectFrom('orders').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
  return r ? toOrder(r) : null;
}

export async function getOrder(db: Q, id: number): Promise<Order | null> {
  const r = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toOrder(r) : null;
}

export async function ordersOfLoan(db: Q, loanId: string): Promise<Order[]> {
  const rows = await db.selectFrom('orders').selectAll().where('loan_id', '=', loanId).orderBy('id').execute();
  return rows.map(toOrder);
}

export async function attemptsOf(db: Q, orderId: number): Promise<Attempt[]> {
  const rows = await db.selectFrom('order_attempts').selectAll().where('order_id', '=', orderId).orderBy('attempt_no').execute();
  return rows.map(toAttempt);
}

/** The request id of attempt n of an order: derived, so a retry of the same attempt is the same request. */
export function requestIdFor(order: { idempotencyKey: string }, attemptNo: number): string {
  return `${order.idempotencyKey}#${attemptNo}`;
}

/**
 * Records the intent to send a new attempt, if the order is `created`; commits.
 * Exactly one caller wins: the order row is locked and its status moves on.
 */
export async function beginAttempt(db: Db, orderId: number, now: Date = new Date()): Promise<{ order: Order; attempt: Attempt } | { order: Order; attempt: null }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirstOrThrow();
    const order = toOrder(row);
    if (order.status !== 'created') return { order, attempt: null };
    const last = await trx.selectFrom('order_attempts').select(sql<number>`coalesce(max(attempt_no), 0)`.as('n')).where('order_id', '=', orderId).executeTakeFirstOrThrow();
    const attemptNo = Number(last.n) + 1;
    const attempt = await trx
      .insertInto('order_attempts')
      .values({ order_id: orderId, attempt_no: attemptNo, request_id: requestIdFor(order, attemptNo), status: 'submitted', submitted_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    const updated = await trx.updateTable('orders').set({ status: 'submitted', updated_at: now }).where('id', '=', orderId).returningAll().executeTakeFirstOrThrow();
    return { order: toOrder(updated), attempt: toAttempt(attempt) };
  });
}

export type AttemptResult =
  | { status: 'succeeded'; platformRef: string; arrivesAt: Date | null }
  | { status: 'failed'; code: string; platformRef: string | null }
  | { status: 'unknown'; reason: string };

/**
 * Records what the platform said about one attempt. Idempotent: an outcome already
 * recorded (another process resolved it first) is left as it is; a success posts its
 * journal entry once (unique per order).
 */
export async function recordOutcome(
  db: Db,
  orderId: number,
  attemptNo: number,
  result: AttemptResult,
  posting: (order: Order) => Posting,
  now: Date = new Date(),
): Promise<Order> {
  return db.transaction().execute(async (trx) => {
    const order = toOrder(await trx.selectFrom('orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirstOrThrow());
    const attempt = await trx.selectFrom('order_attempts').selectAll().where('order_id', '=', orderId).where('attempt_no', '=', attemptNo).executeTakeFirstOrThrow();
    const open = attempt.status === 'submitted' || attempt.status === 'unknown';
    if (!open || order.status === 'succeeded' || order.status === 'failed' || order.status === 'voided') return order;
    if (result.status === 'unknown') {
      await trx.updateTable('order_attempts').set({ status: 'unknown' }).where('order_id', '=', orderId).where('attempt_no', '=', attemptNo).execute();
      return toOrder(await trx.updateTable('orders').set({ status: 'unknown', updated_at: now }).where('id', '=', orderId).returningAll().executeTakeFirstOrThrow());
    }
    await trx
      .updateTable('order_attempts')
      .set({ status: result.status, error_code: result.status === 'failed' ? result.code : null, platform_ref: result.platformRef, resolved_at: now })
      .where('order_id', '=', orderId)
      .where('attempt_no', '=', attemptNo)
      .execute();
    const updated = toOrder(
      await trx
        .updateTable('orders')
        .set({
          status: result.status,
          error_code: result.status === 'failed' ? result.code : null,
          arrives_at: result.status === 'succeeded' ? result.arrivesAt : null,
          updated_at: now,
        })
        .where('id', '=', orderId)
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    if (result.status === 'succeeded') await postJournal(trx, orderId, posting(updated));
    return updated;
  });
}

/** Back to `created` so the next attempt can be sent (used by recovery and escalation). */
export async function reopenOrder(db: Db, orderId: number): Promise<void> {
  await db.updateTable('orders').set({ status: 'created', updated_at: new Date() }).where('id', '=', orderId).where('status', 'in', ['failed', 'unknown']).execute();
}

export async function postJournal(trx: Transaction<Database>, orderId: number | null, posting: Posting): Promise<number | null> {
  assertBalanced(posting.lines);
  const entry = await trx
    .insertInto('journal_entries')
    .values({ order_id: orderId, kind: posting.kind, memo: posting.memo })
    .onConflict((oc) => oc.columns(['order_id', 'kind']).where('order_id', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!entry) return null;
  await trx
    .insertInto('journal_lines')
    .values(posting.lines.map((l, i) => ({
      entry_id: entry.id, line_no: i + 1, account: l.account, customer_id: l.customerId, loan_id: l.loanId, debit_fen: l.debit, credit_fen: l.credit,
    })))
    .execute();
  return entry.id;
}

/** Attempts whose outcome is not known, submitted before `before`: recovery queries these. */
export async function openAttempts(db: Q, before: Date, family: 'disbursement' | 'collection', limit = 1000): Promise<(Attempt & { order: Order })[]> {
  const rows = await db
    .selectFrom('order_attempts as a')
    .innerJoin('orders as o', 'o.id', 'a.order_id')
    .selectAll('a')
    .select(['o.id as o_id'])
    .where('a.status', 'in', ['submitted', 'unknown'])
    .where('a.submitted_at', '<', before)
    .where('o.purpose', family === 'disbursement' ? 'like' : 'not like', 'disburse.%')
    .orderBy('a.submitted_at')
    .limit(limit)
    .execute();
  const out: (Attempt & { order: Order })[] = [];
  for (const r of rows) {
    const order = await getOrder(db, r.o_id);
    out.push({ ...toAttempt(r), order: order! });
  }
  return out;
}

export async function noteQueried(db: Q, orderId: number, attemptNo: number): Promise<void> {
  await db
    .updateTable('order_attempts')
    .set((eb) => ({ queries: eb('queries', '+', 1), last_queried_at: new Date() }))
    .where('order_id', '=', orderId)
    .where('attempt_no', '=', attemptNo)
    .execute();
}
