// SQL behind the service: the idempotency store of the HTTP API, cron tick claims,
// and the read models of the dashboard and /metrics (each one set-based query).
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import type { Fen } from '../src/money.ts';

// --- Idempotency-Key store ---------------------------------------------------------

export type IdempotencyClaim =
  | { kind: 'claimed' }
  | { kind: 'replay'; statusCode: number; response: unknown }
  | { kind: 'mismatch'; route: string }
  | { kind: 'in-progress' };

/** An unanswered claim older than this is a request that died with its process: a retry takes it over. */
export const IDEMPOTENCY_CLAIM_LEASE_SECONDS = 15;

/** The first request with a key claims it; later ones see its stored response, or a mismatch; a claim past its lease is taken over. */
export async function claimIdempotencyKey(db: Db, key: string, method: string, route: string, requestHash: string): Promise<IdempotencyClaim> {
  const inserted = await db
    .insertInto('api_idempotency')
    .values({ key, method, route, request_hash: requestHash, status_code: null, response: null })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return { kind: 'claimed' };
  const row = await db.selectFrom('api_idempotency').selectAll().where('key', '=', key).executeTakeFirst();
  // Released between our insert and select (the first request failed): try once more.
  if (!row) return claimIdempotencyKey(db, key, method, route, requestHash);
  if (row.request_hash !== requestHash || row.method !== method || row.route !== route) return { kind: 'mismatch', route: `${row.method} ${row.route}` };
  if (row.status_code === null) {
    // The request holding the claim may have died with its process (kill -9, OOM, a
    // lost host): after the lease the claim is taken over, so the client's retry is
    // answered. Safe because what runs under the key (a loan application) is itself
    // idempotent by the same request id.
    const taken = await db
      .updateTable('api_idempotency')
      .set({ created_at: sql<Date>`now()` })
      .where('key', '=', key)
      .where('status_code', 'is', null)
      .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${IDEMPOTENCY_CLAIM_LEASE_SECONDS})`)
      .returning('key')
      .executeTakeFirst();
    return taken ? { kind: 'claimed' } : { kind: 'in-progress' };
  }
  return { kind: 'replay', statusCode: row.status_code, response: row.response };
}

export interface ClaimRequest {
  key: string;
  method: string;
  route: string;
  requestHash: string;
}

/**
 * Many claims at once (requests that arrived together): one insert for all, then one
 * read of the keys that were taken already; each answers as claimIdempotencyKey would.
 */
export async function claimIdempotencyKeys(db: Db, claims: readonly ClaimRequest[]): Promise<IdempotencyClaim[]> {
  if (claims.length === 0) return [];
  const inserted = await sql<{ key: string }>`
    insert into api_idempotency (key, method, route, request_hash, status_code, response)
    select k, m, r, h, null, null from unnest(${claims.map((c) => c.key)}::text[], ${claims.map((c) => c.method)}::text[],
      ${claims.map((c) => c.route)}::text[], ${claims.map((c) => c.requestHash)}::text[]) with ordinality as u(k, m, r, h, n)
    order by n
    on conflict (key) do nothing
    returning key
  `.execute(db);
  const mine = new Set(inserted.rows.map((r) => r.key));
  const out: (IdempotencyClaim | null)[] = [];
  const taken = new Set<string>();
  for (const c of claims) {
    // the same key twice in one batch: the first claims it, the second finds it in progress
    if (mine.has(c.key) && !taken.has(c.key)) {
      taken.add(c.key);
      out.push({ kind: 'claimed' });
    } else out.push(null);
  }
  const rest = claims.filter((_, i) => out[i] === null);
  if (rest.length > 0) {
    const answers = await Promise.all(rest.map((c) => (mine.has(c.key) ? Promise.resolve<IdempotencyClaim>({ kind: 'in-progress' }) : claimIdempotencyKey(db, c.key, c.method, c.route, c.requestHash))));
    let j = 0;
    for (let i = 0; i < out.length; i++) if (out[i] === null) out[i] = answers[j++]!;
  }
  return out as IdempotencyClaim[];
}

/** Many answers stored at once, one statement. */
export async function completeIdempotencyKeys(db: Db, done: readonly { key: string; statusCode: number; response: unknown }[]): Promise<void> {
  if (done.length === 0) return;
  await sql`
    update api_idempotency a set status_code = u.s, response = u.r::jsonb, completed_at = now()
    from unnest(${done.map((d) => d.key)}::text[], ${done.map((d) => d.statusCode)}::int[], ${done.map((d) => JSON.stringify(d.response))}::text[]) as u(k, s, r)
    where a.key = u.k and a.status_code is null
  `.execute(db);
}

export async function completeIdempotencyKey(db: Db, key: string, statusCode: number, response: unknown): Promise<void> {
  await db
    .updateTable('api_idempotency')
    .set({ status_code: statusCode, response: JSON.stringify(response), completed_at: new Date() })
    .where('key', '=', key)
    .where('status_code', 'is', null)
    .execute();
}

/** A request that failed with a server error leaves no trace: the client may retry with the same key. */
export async function releaseIdempotencyKey(db: Db, key: string): Promise<void> {
  await db.deleteFrom('api_idempotency').where('key', '=', key).where('status_code', 'is', null).execute();
}

// --- cron ticks ---------------------------------------------------------------------

/** True for the one worker that claims (job, slot); every other worker's tick does nothing. */
export async function claimCronTick(db: Db | Transaction<Database>, job: string, slot: string, claimedBy: string): Promise<boolean> {
  const r = await db
    .insertInto('cron_ticks')
    .values({ job, slot, claimed_by: claimedBy })
    .onConflict((oc) => oc.columns(['job', 'slot']).doNothing())
    .returning('job')
    .executeTakeFirst();
  return r !== undefined;
}

export async function cronTicks(db: Db, job: string): Promise<{ slot: string; claimedBy: string; claimedAt: Date }[]> {
  const rows = await db.selectFrom('cron_ticks').selectAll().where('job', '=', job).orderBy('slot').execute();
  return rows.map((r) => ({ slot: r.slot, claimedBy: r.claimed_by, claimedAt: r.claimed_at }));
}

// --- read models --------------------------------------------------------------------

export interface BatchRunView {
  id: number;
  kind: string;
  businessDate: string;
  status: string;
  totalChunks: number;
  doneChunks: number;
  items: number;
  startedAt: Date;
  finishedAt: Date | null;
}

export async function recentBatchRuns(db: Db, limit = 20): Promise<BatchRunView[]> {
  const rows = await sql<{
    id: number; kind: string; business_date: string; status: string; total_chunks: number; done: number; items: number; started_at: Date; finished_at: Date | null;
  }>`
    select r.id, r.kind, r.business_date, r.status, r.total_chunks, r.started_at, r.finished_at,
           coalesce(c.done, 0)::int8 as done, coalesce(c.items, 0)::int8 as items
    from (select * from batch_runs order by started_at desc, id desc limit ${limit}) r
    left join lateral (
      select count(*) filter (where status = 'done') as done, sum(items) as items
      from batch_chunks where run_id = r.id
    ) c on true
    order by r.started_at desc, r.id desc
  `.execute(db);
  return rows.rows.map((r) => ({
    id: r.id, kind: r.kind, businessDate: r.business_date, status: r.status, totalChunks: r.total_chunks,
    doneChunks: Number(r.done), items: Number(r.items), startedAt: r.started_at, finishedAt: r.finished_at,
  }));
}

export async function ordersByKindAndState(db: Db): Promise<{ kind: string; status: string; count: number; amount: Fen }[]> {
  const rows = await sql<{ kind: string; status: string; n: number; amount: number }>`
    select kind, status, count(*)::int8 as n, coalesce(sum(amount_fen), 0)::int8 as amount from orders group by kind, status order by kind, status
  `.execute(db);
  return rows.rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.n), amount: Number(r.amount) as Fen }));
}

export async function attemptsByOutcome(db: Db): Promise<{ status: string; errorCode: string; count: number }[]> {
  const rows = await sql<{ status: string; error_code: string; n: number }>`
    select status, coalesce(error_code, '') as error_code, count(*)::int8 as n from order_attempts group by 1, 2 order by 1, 2
  `.execute(db);
  return rows.rows.map((r) => ({ status: r.status, errorCode: r.error_code, count: Number(r.n) }));
}

export interface StuckOrder {
  id: number;
  idempotencyKey: string;
  kind: string;
  status: string;
  loanId: string | null;
  amount: Fen;
  updatedAt: Date;
}

/** Orders still `submitted` or `unknown` after `minutes`: the ones a person should look at. */
export async function stuckOrders(db: Db, olderThan: Date, limit = 100): Promise<StuckOrder[]> {
  const rows = await db
    .selectFrom('orders')
    .select(['id', 'idempotency_key', 'kind', 'status', 'loan_id', 'amount_fen', 'updated_at'])
    .where('status', 'in', ['submitted', 'unknown'])
    .where('updated_at', '<', olderThan)
    .orderBy('updated_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id, idempotencyKey: r.idempotency_key, kind: r.kind, status: r.status, loanId: r.loan_id, amount: r.amount_fen as Fen, updatedAt: r.updated_at,
  }));
}

export async function countStuckOrders(db: Db, olderThan: Date): Promise<number> {
  const r = await db
    .selectFrom('orders')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['submitted', 'unknown'])
    .where('updated_at', '<', olderThan)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function recentLoans(db: Db, limit = 20): Promise<{ id: string; customerId: string; principal: Fen; status: string; rail: string; createdAt: Date }[]> {
  const rows = await db
    .selectFrom('loans')
    .select(['id', 'customer_id', 'principal_fen', 'status', 'rail', 'created_at'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, customerId: r.customer_id, principal: r.principal_fen as Fen, status: r.status, rail: r.rail, createdAt: r.created_at }));
}

export async function loansByStatus(db: Db): Promise<{ status: string; count: number }[]> {
  const rows = await sql<{ status: string; n: number }>`select status, count(*)::int8 as n from loans group by status order by status`.execute(db);
  return rows.rows.map((r) => ({ status: r.status, count: Number(r.n) }));
}

export interface JournalEntryView {
  id: number;
  kind: string;
  memo: string;
  postedAt: Date;
  lines: { account: string; debit: Fen; credit: Fen }[];
}

/**
 * An order's postings: the entries it has alone (one order, one entry), and its own
 * lines of the entries it shares with its batch (found by its loan, then the order).
 */
export async function journalOfOrder(db: Db | Transaction<Database>, orderId: number): Promise<JournalEntryView[]> {
  const rows = await sql<{ id: number; kind: string; memo: string; posted_at: Date; line_no: number; account: string; debit_fen: number; credit_fen: number }>`
    select e.id, e.kind, e.memo, e.posted_at, l.line_no, l.account, l.debit_fen, l.credit_fen
    from journal_entries e join journal_lines l on l.entry_id = e.id
    where e.order_id = ${orderId}
    union all
    select e.id, e.kind, e.memo, e.posted_at, l.line_no, l.account, l.debit_fen, l.credit_fen
    from orders o join journal_lines l on l.loan_id = o.loan_id and l.order_id = o.id
      join journal_entries e on e.id = l.entry_id and e.order_id is null
    where o.id = ${orderId}
    order by 1, 5
  `.execute(db);
  const byId = new Map<number, JournalEntryView>();
  for (const r of rows.rows) {
    let e = byId.get(r.id);
    if (!e) byId.set(r.id, (e = { id: r.id, kind: r.kind, memo: r.memo, postedAt: r.posted_at, lines: [] }));
    e.lines.push({ account: r.account, debit: r.debit_fen as Fen, credit: r.credit_fen as Fen });
  }
  return [...byId.values()];
}

/** Attempt query counts are not part of the Attempt domain object; the timeline shows them. */
export async function attemptQueries(db: Db, orderId: number): Promise<Map<number, { queries: number; lastQueriedAt: Date | null }>> {
  const rows = await db.selectFrom('order_attempts').select(['attempt_no', 'queries', 'last_queried_at']).where('order_id', '=', orderId).execute();
  return new Map(rows.map((r) => [r.attempt_no, { queries: r.queries, lastQueriedAt: r.last_queried_at }]));
}

export async function loansOfCustomer(db: Db, customerId: string): Promise<{ id: string; principal: Fen; status: string; createdAt: Date }[]> {
  const rows = await db.selectFrom('loans').select(['id', 'principal_fen', 'status', 'created_at']).where('customer_id', '=', customerId).orderBy('created_at').execute();
  return rows.map((r) => ({ id: r.id, principal: r.principal_fen as Fen, status: r.status, createdAt: r.created_at }));
}

export async function latestDecision(db: Db, customerId: string): Promise<{ businessDate: string } | null> {
  const r = await db
    .selectFrom('eligibility_decisions')
    .select('business_date')
    .where('customer_id', '=', customerId)
    .orderBy('business_date', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r ? { businessDate: r.business_date } : null;
}

// --- holds (filled in by the collection work) ----------------------------------------

export interface HoldView {
  id: number;
  amount: Fen;
  asOfDate: string;
  openedAt: Date;
}

/**
 * Open holds of a customer. The holds table arrives with collection (migration 0004);
 * until it exists every customer has none, so this degrades instead of failing.
 */
export async function openHoldsOf(db: Db, customerId: string): Promise<HoldView[]> {
  if (!(await tableExists(db, 'holds'))) return [];
  const rows = await sql<{ id: number; amount_fen: number; as_of_date: string; opened_at: Date }>`
    select id, amount_fen, as_of_date, opened_at from holds where customer_id = ${customerId} and status = 'open' order by id
  `.execute(db);
  return rows.rows.map((r) => ({ id: r.id, amount: r.amount_fen as Fen, asOfDate: r.as_of_date, openedAt: r.opened_at }));
}

export async function openHoldTotals(db: Db): Promise<{ holds: number; customers: number; amount: Fen }> {
  if (!(await tableExists(db, 'holds'))) return { holds: 0, customers: 0, amount: 0 as Fen };
  const r = await sql<{ n: number; c: number; amount: number }>`
    select count(*)::int8 as n, count(distinct customer_id)::int8 as c, coalesce(sum(amount_fen), 0)::int8 as amount from holds where status = 'open'
  `.execute(db);
  const row = r.rows[0]!;
  return { holds: Number(row.n), customers: Number(row.c), amount: Number(row.amount) as Fen };
}

async function tableExists(db: Db, name: string): Promise<boolean> {
  const r = await sql<{ t: string | null }>`select to_regclass(${name})::text as t`.execute(db);
  return r.rows[0]?.t != null;
}

export async function batchRunCounts(db: Db): Promise<{ kind: string; status: string; count: number }[]> {
  const rows = await sql<{ kind: string; status: string; n: number }>`select kind, status, count(*)::int8 as n from batch_runs group by 1, 2 order by 1, 2`.execute(db);
  return rows.rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.n) }));
}
