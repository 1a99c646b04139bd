// The sandbox platform's own state, in its own schema `sandbox` (it is another
// company's system: no lendpay migrations). Every batch is one transaction with a
// fixed number of statements: claim the request ids, lock the accounts and cards
// involved (in id order, so concurrent batches cannot deadlock), decide each item
// in memory in batch order, write balances, movements and outcomes back with unnest.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { FailureCode } from '../channel/types.ts';

export type MoneyOp = 'collect' | 'payout' | 'debit' | 'withdraw';

/** A money-moving request reduced to what the ledger needs. */
export interface Item {
  requestId: string;
  op: MoneyOp;
  hash: string;
  amount: number;
  fromAccount?: string;
  toAccount?: string;
  fromCard?: string;
  toCard?: string;
}

export interface StoredOutcome {
  requestId: string;
  status: 'succeeded' | 'failed';
  code: FailureCode | null;
  amount: number;
  platformRef: string;
  arrivesAt: Date | null;
}

export type ItemResult = StoredOutcome | { requestId: string; status: 'rejected'; code: 'REQUEST_ID_REUSED'; message: string } | { requestId: string; status: 'dropped' };

export interface ProcessOptions {
  now: Date;
  /** Card arrival for a card payout/withdrawal accepted at `now`. */
  cardArrival: (now: Date) => Date;
  limits: Readonly<Partial<Record<MoneyOp, number>>>;
  /** Per item: fail with a code, or drop before recording (timeout not applied). */
  faults: ReadonlyMap<string, { fail?: FailureCode; drop?: boolean }>;
  /** re-claim items recorded as failed with a resendable code (same id, same payload) */
  resend?: boolean;
}

export async function ensureSchema(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    // Two servers starting at once would race on create table if not exists.
    await client.query(`select pg_advisory_xact_lock(hashtext('sandbox.schema'))`);
    await client.query(`
      create schema if not exists sandbox;
      create table if not exists sandbox.accounts (
        id text primary key,
        customer_id text not null,
        balance_fen bigint not null check (balance_fen >= 0),
        frozen_outflow boolean not null default false,
        frozen boolean not null default false
      );
      create index if not exists accounts_customer_idx on sandbox.accounts (customer_id);
      create table if not exists sandbox.cards (
        id text primary key,
        customer_id text not null,
        bank text not null,
        last4 text not null,
        card_number text not null,
        balance_fen bigint not null check (balance_fen >= 0),
        valid boolean not null default true
      );
      create table if not exists sandbox.requests (
        request_id text primary key,
        op text not null,
        payload_hash text not null,
        status text not null,
        code text,
        amount bigint not null,
        created_at timestamptz not null default now(),
        applied boolean not null default false,
        platform_ref text not null unique,
        arrives_at timestamptz
      );
      -- how many times the platform resent a request it had failed (escalation level 1)
      alter table sandbox.requests add column if not exists resends integer not null default 0;
      create table if not exists sandbox.movements (
        id bigserial primary key,
        request_id text,
        platform_ref text not null unique,
        kind text not null,
        from_account text,
        to_account text,
        from_card text,
        to_card text,
        amount bigint not null check (amount > 0),
        arrives_at timestamptz,
        created_at timestamptz not null default now()
      );
      create index if not exists movements_request_idx on sandbox.movements (request_id);
    `);
    await client.query('commit');
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

export function payloadHash(op: string, payload: unknown): string {
  return createHash('sha256').update(`${op}:${JSON.stringify(payload)}`).digest('hex');
}

export function newPlatformRef(): string {
  return `SBX${Date.now().toString(36).toUpperCase()}${randomBytes(6).toString('hex').toUpperCase()}`;
}

interface AccountRow { id: string; customer_id: string; balance_fen: number; frozen_outflow: boolean; frozen: boolean }
interface CardRow { id: string; customer_id: string; balance_fen: number; valid: boolean }

/** A request id another batch recorded between our read and our insert: the batch starts over and finds it. */
class Raced extends Error {}

export async function processBatch(pool: pg.Pool, items: readonly Item[], opts: ProcessOptions): Promise<ItemResult[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return opts.resend ? await processOnce(pool, items, opts) : await processDecided(pool, items, opts);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((e instanceof Raced || code === '40P01' || code === '40001') && attempt < 5) continue;
      throw e;
    }
  }
}

/**
 * A batch in one transaction with a fixed number of statements: the ids already known
 * are read, the accounts and cards locked in id order, every new item decided in
 * memory in batch order, then each request written once with its outcome, and the
 * balances and movements in one statement.
 */
async function processDecided(pool: pg.Pool, items: readonly Item[], opts: ProcessOptions): Promise<ItemResult[]> {
  const first = new Map<string, Item>();
  for (const it of items) if (!first.has(it.requestId)) first.set(it.requestId, it);
  const unique = [...first.values()];
  const decided = new Map<string, ItemResult>();
  const client = await pool.connect();
  try {
    await client.query('begin');
    const stored = await client.query<{ request_id: string; op: string; payload_hash: string; status: string; code: string | null; amount: number; platform_ref: string; arrives_at: Date | null }>(
      `select request_id, op, payload_hash, status, code, amount, platform_ref, arrives_at from sandbox.requests where request_id = any($1::text[])`,
      [unique.map((i) => i.requestId)],
    );
    const known = new Map(stored.rows.map((r) => [r.request_id, r]));
    const work: Item[] = [];
    for (const it of unique) {
      const row = known.get(it.requestId);
      if (!row) {
        if (opts.faults.get(it.requestId)?.drop) decided.set(it.requestId, { requestId: it.requestId, status: 'dropped' });
        else work.push(it);
      } else if (row.op !== it.op || row.payload_hash !== it.hash) {
        decided.set(it.requestId, { requestId: it.requestId, status: 'rejected', code: 'REQUEST_ID_REUSED', message: `request id ${it.requestId} was used before for a different ${row.op} request; the first request stands` });
      } else decided.set(it.requestId, toOutcome(row));
    }
    if (work.length > 0) {
      const accountIds = [...new Set(work.flatMap((i) => [i.fromAccount, i.toAccount]).filter((x): x is string => x !== undefined))].sort();
      const cardIds = [...new Set(work.flatMap((i) => [i.fromCard, i.toCard]).filter((x): x is string => x !== undefined))].sort();
      const accounts = new Map(
        (accountIds.length === 0 ? [] : (await client.query<AccountRow>(`select id, customer_id, balance_fen, frozen_outflow, frozen from sandbox.accounts where id = any($1::text[]) order by id for update`, [accountIds])).rows).map((r) => [r.id, r]),
      );
      const cards = new Map(
        (cardIds.length === 0 ? [] : (await client.query<CardRow>(`select id, customer_id, balance_fen, valid from sandbox.cards where id = any($1::text[]) order by id for update`, [cardIds])).rows).map((r) => [r.id, r]),
      );
      const changedAccounts = new Set<string>();
      const changedCards = new Set<string>();
      const moves: { requestId: string; ref: string; kind: string; fa: string | null; ta: string | null; fc: string | null; tc: string | null; amount: number; arrivesAt: Date | null }[] = [];
      const outcomes: (StoredOutcome & { op: MoneyOp; hash: string })[] = [];
      for (const it of work) {
        const ref = newPlatformRef();
        const code = opts.faults.get(it.requestId)?.fail ?? check(it, accounts, cards, opts.limits);
        if (code) {
          outcomes.push({ requestId: it.requestId, status: 'failed', code, amount: it.amount, platformRef: ref, arrivesAt: null, op: it.op, hash: it.hash });
          continue;
        }
        if (it.fromAccount) { accounts.get(it.fromAccount)!.balance_fen -= it.amount; changedAccounts.add(it.fromAccount); }
        if (it.fromCard) { cards.get(it.fromCard)!.balance_fen -= it.amount; changedCards.add(it.fromCard); }
        if (it.toAccount) { accounts.get(it.toAccount)!.balance_fen += it.amount; changedAccounts.add(it.toAccount); }
        if (it.toCard) { cards.get(it.toCard)!.balance_fen += it.amount; changedCards.add(it.toCard); }
        const arrivesAt = it.toCard ? opts.cardArrival(opts.now) : opts.now;
        moves.push({ requestId: it.requestId, ref, kind: it.op, fa: it.fromAccount ?? null, ta: it.toAccount ?? null, fc: it.fromCard ?? null, tc: it.toCard ?? null, amount: it.amount, arrivesAt });
        outcomes.push({ requestId: it.requestId, status: 'succeeded', code: null, amount: it.amount, platformRef: ref, arrivesAt, op: it.op, hash: it.hash });
      }
      // each request once, with its outcome: an id another batch wrote meanwhile starts this one over
      const written = await client.query<{ request_id: string }>(
        `insert into sandbox.requests (request_id, op, payload_hash, status, code, amount, created_at, applied, platform_ref, arrives_at)
         select r, o, h, s, c, a, $7, s = 'succeeded', p, t from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[], $8::text[], $9::timestamptz[]) as u(r, o, h, s, c, a, p, t)
         order by r
         on conflict (request_id) do nothing
         returning request_id`,
        [outcomes.map((o) => o.requestId), outcomes.map((o) => o.op), outcomes.map((o) => o.hash), outcomes.map((o) => o.status), outcomes.map((o) => o.code),
          outcomes.map((o) => o.amount), opts.now, outcomes.map((o) => o.platformRef), outcomes.map((o) => o.arrivesAt)],
      );
      if (written.rows.length !== outcomes.length) throw new Raced();
      const ai = [...changedAccounts], ci = [...changedCards];
      if (moves.length > 0) {
        await client.query(
          `with a as (
             update sandbox.accounts x set balance_fen = u.b from unnest($11::text[], $12::int8[]) as u(id, b) where x.id = u.id
           ), c as (
             update sandbox.cards x set balance_fen = u.b from unnest($13::text[], $14::int8[]) as u(id, b) where x.id = u.id
           )
           insert into sandbox.movements (request_id, platform_ref, kind, from_account, to_account, from_card, to_card, amount, arrives_at, created_at)
           select r, p, k, fa, ta, fc, tc, a, t, $10 from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::timestamptz[]) as u(r, p, k, fa, ta, fc, tc, a, t)`,
          [moves.map((m) => m.requestId), moves.map((m) => m.ref), moves.map((m) => m.kind), moves.map((m) => m.fa), moves.map((m) => m.ta), moves.map((m) => m.fc), moves.map((m) => m.tc),
            moves.map((m) => m.amount), moves.map((m) => m.arrivesAt), opts.now, ai, ai.map((id) => accounts.get(id)!.balance_fen), ci, ci.map((id) => cards.get(id)!.balance_fen)],
        );
      }
      for (const o of outcomes) decided.set(o.requestId, { requestId: o.requestId, status: o.status, code: o.code, amount: o.amount, platformRef: o.platformRef, arrivesAt: o.arrivesAt });
    }
    await client.query('commit');
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
  return items.map((it) => {
    const d = decided.get(it.requestId)!;
    if (first.get(it.requestId) !== it && first.get(it.requestId)!.hash !== it.hash) {
      return { requestId: it.requestId, status: 'rejected', code: 'REQUEST_ID_REUSED', message: `request id ${it.requestId} appears twice in the batch with different payloads; the first stands` };
    }
    return d;
  });
}

async function processOnce(pool: pg.Pool, items: readonly Item[], opts: ProcessOptions): Promise<ItemResult[]> {
  // The first occurrence of an id in the batch stands for all of them.
  const first = new Map<string, Item>();
  for (const it of items) if (!first.has(it.requestId)) first.set(it.requestId, it);
  const unique = [...first.values()];
  const toClaim = unique.filter((it) => !opts.faults.get(it.requestId)?.drop);
  const refs = new Map(toClaim.map((it) => [it.requestId, newPlatformRef()]));

  const client = await pool.connect();
  const decided = new Map<string, ItemResult>();
  try {
    await client.query('begin');
    // ~1,000 rows joined by key to tables that grow: index lookups (the pool's session
    // settings, SESSION_OPTIONS in db/connection.ts), not a hash over a sequential scan
    const claimed = await client.query<{ request_id: string }>(
      `insert into sandbox.requests (request_id, op, payload_hash, status, amount, platform_ref)
       select r, o, h, 'pending', a, p from unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[]) as u(r, o, h, a, p)
       order by r
       on conflict (request_id) do ${opts.resend
         ? `update set status = 'pending', code = null, platform_ref = excluded.platform_ref, resends = sandbox.requests.resends + 1
            where sandbox.requests.status = 'failed' and sandbox.requests.code = 'CHANNEL_UNAVAILABLE' and sandbox.requests.payload_hash = excluded.payload_hash`
         : 'nothing'}
       returning request_id`,
      [toClaim.map((i) => i.requestId), toClaim.map((i) => i.op), toClaim.map((i) => i.hash), toClaim.map((i) => i.amount), toClaim.map((i) => refs.get(i.requestId))],
    );
    const fresh = new Set(claimed.rows.map((r) => r.request_id));
    const seen = unique.filter((it) => !fresh.has(it.requestId));
    if (seen.length > 0) {
      const stored = await client.query<{ request_id: string; op: string; payload_hash: string; status: string; code: string | null; amount: number; platform_ref: string; arrives_at: Date | null }>(
        `select request_id, op, payload_hash, status, code, amount, platform_ref, arrives_at from sandbox.requests where request_id = any($1::text[])`,
        [seen.map((i) => i.requestId)],
      );
      const byId = new Map(stored.rows.map((r) => [r.request_id, r]));
      for (const it of seen) {
        const row = byId.get(it.requestId);
        if (!row) decided.set(it.requestId, { requestId: it.requestId, status: 'dropped' });
        else if (row.op !== it.op || row.payload_hash !== it.hash) {
          decided.set(it.requestId, { requestId: it.requestId, status: 'rejected', code: 'REQUEST_ID_REUSED', message: `request id ${it.requestId} was used before for a different ${row.op} request; the first request stands` });
        } else decided.set(it.requestId, toOutcome(row));
      }
    }

    const work = unique.filter((it) => fresh.has(it.requestId));
    const accountIds = [...new Set(work.flatMap((i) => [i.fromAccount, i.toAccount]).filter((x): x is string => x !== undefined))].sort();
    const cardIds = [...new Set(work.flatMap((i) => [i.fromCard, i.toCard]).filter((x): x is string => x !== undefined))].sort();
    const accounts = new Map(
      (accountIds.length === 0 ? [] : (await client.query<AccountRow>(`select id, customer_id, balance_fen, frozen_outflow, frozen from sandbox.accounts where id = any($1::text[]) order by id for update`, [accountIds])).rows).map((r) => [r.id, r]),
    );
    const cards = new Map(
      (cardIds.length === 0 ? [] : (await client.query<CardRow>(`select id, customer_id, balance_fen, valid from sandbox.cards where id = any($1::text[]) order by id for update`, [cardIds])).rows).map((r) => [r.id, r]),
    );
    const changedAccounts = new Set<string>();
    const changedCards = new Set<string>();
    const moves: { requestId: string; ref: string; kind: string; fa: string | null; ta: string | null; fc: string | null; tc: string | null; amount: number; arrivesAt: Date | null }[] = [];
    const outcomes: StoredOutcome[] = [];

    for (const it of work) {
      const ref = refs.get(it.requestId)!;
      const code = opts.faults.get(it.requestId)?.fail ?? check(it, accounts, cards, opts.limits);
      if (code) {
        outcomes.push({ requestId: it.requestId, status: 'failed', code, amount: it.amount, platformRef: ref, arrivesAt: null });
        continue;
      }
      if (it.fromAccount) { accounts.get(it.fromAccount)!.balance_fen -= it.amount; changedAccounts.add(it.fromAccount); }
      if (it.fromCard) { cards.get(it.fromCard)!.balance_fen -= it.amount; changedCards.add(it.fromCard); }
      if (it.toAccount) { accounts.get(it.toAccount)!.balance_fen += it.amount; changedAccounts.add(it.toAccount); }
      if (it.toCard) { cards.get(it.toCard)!.balance_fen += it.amount; changedCards.add(it.toCard); }
      const arrivesAt = it.toCard ? opts.cardArrival(opts.now) : opts.now;
      moves.push({ requestId: it.requestId, ref, kind: it.op, fa: it.fromAccount ?? null, ta: it.toAccount ?? null, fc: it.fromCard ?? null, tc: it.toCard ?? null, amount: it.amount, arrivesAt });
      outcomes.push({ requestId: it.requestId, status: 'succeeded', code: null, amount: it.amount, platformRef: ref, arrivesAt });
    }

    if (changedAccounts.size > 0) {
      const ids = [...changedAccounts];
      await client.query(`update sandbox.accounts a set balance_fen = u.b from unnest($1::text[], $2::int8[]) as u(id, b) where a.id = u.id`, [ids, ids.map((id) => accounts.get(id)!.balance_fen)]);
    }
    if (changedCards.size > 0) {
      const ids = [...changedCards];
      await client.query(`update sandbox.cards c set balance_fen = u.b from unnest($1::text[], $2::int8[]) as u(id, b) where c.id = u.id`, [ids, ids.map((id) => cards.get(id)!.balance_fen)]);
    }
    if (moves.length > 0) {
      await client.query(
        `insert into sandbox.movements (request_id, platform_ref, kind, from_account, to_account, from_card, to_card, amount, arrives_at, created_at)
         select r, p, k, fa, ta, fc, tc, a, t, $10 from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::timestamptz[]) as u(r, p, k, fa, ta, fc, tc, a, t)`,
        [moves.map((m) => m.requestId), moves.map((m) => m.ref), moves.map((m) => m.kind), moves.map((m) => m.fa), moves.map((m) => m.ta), moves.map((m) => m.fc), moves.map((m) => m.tc), moves.map((m) => m.amount), moves.map((m) => m.arrivesAt), opts.now],
      );
    }
    if (outcomes.length > 0) {
      await client.query(
        `update sandbox.requests q set status = u.s, code = u.c, applied = (u.s = 'succeeded'), arrives_at = u.t, created_at = $5
         from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) as u(r, s, c, t) where q.request_id = u.r`,
        [outcomes.map((o) => o.requestId), outcomes.map((o) => o.status), outcomes.map((o) => o.code), outcomes.map((o) => o.arrivesAt), opts.now],
      );
    }
    await client.query('commit');
    for (const o of outcomes) decided.set(o.requestId, o);
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
  for (const it of unique) if (!decided.has(it.requestId)) decided.set(it.requestId, { requestId: it.requestId, status: 'dropped' });

  return items.map((it) => {
    const d = decided.get(it.requestId)!;
    // A later duplicate inside the same batch with another payload is a reuse too.
    if (first.get(it.requestId) !== it && first.get(it.requestId)!.hash !== it.hash) {
      return { requestId: it.requestId, status: 'rejected', code: 'REQUEST_ID_REUSED', message: `request id ${it.requestId} appears twice in the batch with different payloads; the first stands` };
    }
    return d;
  });
}

function check(it: Item, accounts: Map<string, AccountRow>, cards: Map<string, CardRow>, limits: ProcessOptions['limits']): FailureCode | null {
  const from = it.fromAccount === undefined ? undefined : accounts.get(it.fromAccount);
  const to = it.toAccount === undefined ? undefined : accounts.get(it.toAccount);
  if ((it.fromAccount !== undefined && !from) || (it.toAccount !== undefined && !to)) return 'ACCOUNT_NOT_FOUND';
  const fromCard = it.fromCard === undefined ? undefined : cards.get(it.fromCard);
  const toCard = it.toCard === undefined ? undefined : cards.get(it.toCard);
  if ((it.fromCard !== undefined && !fromCard?.valid) || (it.toCard !== undefined && !toCard?.valid)) return 'CARD_INVALID';
  if (from?.frozen || to?.frozen) return 'ACCOUNT_FROZEN';
  // A frozen outflow blocks everything the customer could send away; lendpay's
  // debits under the agreement are how the debt gets repaid, so they pass.
  if (from?.frozen_outflow && it.op !== 'debit') return 'OUTFLOW_BLOCKED';
  if (it.op === 'withdraw' && from && toCard && from.customer_id !== toCard.customer_id) return 'CARD_INVALID';
  const limit = limits[it.op];
  if (limit !== undefined && it.amount > limit) return 'LIMIT_EXCEEDED';
  const available = from ? from.balance_fen : fromCard ? fromCard.balance_fen : 0;
  if (available < it.amount) return 'INSUFFICIENT_FUNDS';
  return null;
}

export function toOutcome(row: { request_id: string; status: string; code: string | null; amount: number; platform_ref: string; arrives_at: Date | null }): StoredOutcome {
  return {
    requestId: row.request_id,
    status: row.status === 'succeeded' ? 'succeeded' : 'failed',
    code: row.code as FailureCode | null,
    amount: row.amount,
    platformRef: row.platform_ref,
    arrivesAt: row.arrives_at,
  };
}
