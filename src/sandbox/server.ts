// The sandbox payment platform: a real HTTP service with its own Postgres schema,
// behaving like the third-party platform (idempotent request ids, error codes,
// card cut-offs, seeded faults). Used in-process by tests and the demo (only when
// asked: LENDPAY_SANDBOX_IN_PROCESS=1 or the demo itself), and by `lendpay sandbox
// serve`. Its admin routes (/admin/*: accounts, settlement, faults, clock, duplicate
// payouts) are what a real platform does not have; they take a bearer token of their
// own, the admin token, so that nobody else on the host can inject faults or move the
// clock of the platform lendpay pays through.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { createPool } from '../../db/connection.ts';
import { payoutArrival, type Calendar } from '../calendar/calendar.ts';
import { MAX_BATCH } from '../channel/types.ts';
import { systemClock, type Clock } from '../dates.ts';
import { randomAdminToken } from './admin.ts';
import { decideFault, NO_FAULTS, parseFaultPlan, type FaultPlan } from './faults.ts';
import { ensureSchema, newPlatformRef, payloadHash, processBatch, toOutcome, type Item, type ItemResult, type MoneyOp } from './store.ts';

export interface SandboxOptions {
  databaseUrl: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  calendar: Calendar;
  clock?: Clock;
  /** Largest single amount per operation, in fen; above it LIMIT_EXCEEDED. */
  limits?: Partial<Record<MoneyOp, number>>;
  poolSize?: number;
  /** the bearer token of the admin routes; absent: a random one (see SandboxServer.adminToken) */
  adminToken?: string;
}

export interface SandboxServer {
  url: string;
  /** what the admin routes take as `Authorization: Bearer …`; hand it only to the sandbox's own callers */
  adminToken: string;
  close(): Promise<void>;
}


export const MAX_ADMIN_BATCH = 10_000;

class BadRequest extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const bad = (at: string, why: string): never => {
  throw new BadRequest(400, 'INVALID_REQUEST', `${at}: ${why}`);
};

export async function startSandbox(opts: SandboxOptions): Promise<SandboxServer> {
  const pool = createPool(opts.databaseUrl, opts.poolSize ?? 10);
  await ensureSchema(pool);
  const clock = opts.clock ?? systemClock;
  let fixedNow: Date | null = null;
  const now = () => fixedNow ?? clock.now();
  const limits: Partial<Record<MoneyOp, number>> = { ...opts.limits };
  let faults: FaultPlan = NO_FAULTS;
  const deliveries = new Map<string, number>();
  const hung = new Set<{ timer: NodeJS.Timeout; socket: Socket }>();

  const adminToken = opts.adminToken ?? randomAdminToken();
  if (adminToken.length < 16) throw new Error('sandbox admin token: expected at least 16 characters');
  const adminHash = createHash('sha256').update(adminToken).digest();
  const app = Fastify({ logger: false, bodyLimit: 32 * 1024 * 1024, forceCloseConnections: true });
  // Every path under /admin (a route or not) needs the admin token: compared as hashes in constant time.
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url ?? '';
    if (!/^\/admin(\/|\?|$)/.test(req.url) && !route.startsWith('/admin')) return;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const ok = m !== null && timingSafeEqual(createHash('sha256').update(m[1]!).digest(), adminHash);
    if (!ok) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="sandbox-admin"').send({
        error: { code: 'UNAUTHORIZED', message: 'the sandbox admin routes need `Authorization: Bearer <admin token>` (LENDPAY_SANDBOX_ADMIN_TOKEN)' },
      });
    }
  });
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BadRequest) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    const status = (err as { statusCode?: number }).statusCode;
    const message = err instanceof Error ? err.message : String(err);
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: { code: 'INVALID_REQUEST', message } });
    return reply.code(500).send({ error: { code: 'INTERNAL', message } });
  });

  /** Runs money-moving items through faults and the store, then answers or drops. */
  async function moneyCall(req: FastifyRequest, reply: FastifyReply, op: MoneyOp, items: Item[], single: boolean) {
    // `?resend=1`: the platform's own resend of a request it failed with a resendable code
    const resend = single && (req.query as Record<string, unknown> | undefined)?.['resend'] === '1';
    const itemFaults = new Map<string, { fail?: NonNullable<ReturnType<typeof decideFault>['fail']>; drop?: boolean }>();
    let timeoutMs = -1;
    let delayMs = 0;
    if (faults.rules.length > 0) {
      for (const it of items) {
        const n = (deliveries.get(it.requestId) ?? 0) + 1;
        deliveries.set(it.requestId, n);
        const d = decideFault(faults, op, it.requestId, n);
        delayMs = Math.max(delayMs, d.delayMs);
        if (d.fail) itemFaults.set(it.requestId, { fail: d.fail });
        if (d.timeout) {
          timeoutMs = Math.max(timeoutMs, d.timeout.ms);
          if (!d.timeout.applied) itemFaults.set(it.requestId, { drop: true });
        }
      }
    }
    if (delayMs > 0) await sleep(delayMs);
    const at = now();
    const results = await processBatch(pool, items, {
      now: at,
      cardArrival: (t) => payoutArrival(opts.calendar, t, 'card').arrivesAt,
      limits,
      faults: itemFaults,
      resend,
    });
    if (timeoutMs >= 0) return drop(req, reply, timeoutMs);
    if (single) {
      const r = results[0]!;
      if (r.status === 'rejected') throw new BadRequest(409, r.code, r.message);
      return wire(r);
    }
    return { outcomes: results.map(wire) };
  }

  function drop(req: FastifyRequest, reply: FastifyReply, ms: number): Promise<void> {
    reply.hijack();
    const socket = req.raw.socket;
    return new Promise((resolve) => {
      const entry = {
        socket,
        timer: setTimeout(() => {
          hung.delete(entry);
          socket.destroy();
          resolve();
        }, ms),
      };
      hung.add(entry);
    });
  }

  // ---- platform API ----
  const single = (op: MoneyOp, toItem: (b: unknown, at: string) => Item) => async (req: FastifyRequest, reply: FastifyReply) => moneyCall(req, reply, op, [toItem(req.body, '$')], true);
  const batch = (op: MoneyOp, toItem: (b: unknown, at: string) => Item) => async (req: FastifyRequest, reply: FastifyReply) => {
    const list = listOf(req.body, 'requests', MAX_BATCH);
    return moneyCall(req, reply, op, list.map((b, i) => toItem(b, `$.requests[${i}]`)), false);
  };
  app.post('/v1/collect', single('collect', collectItem));
  app.post('/v1/collect/batch', batch('collect', collectItem));
  app.post('/v1/payout', single('payout', payoutItem));
  app.post('/v1/payout/batch', batch('payout', payoutItem));
  app.post('/v1/debit', single('debit', debitItem));
  app.post('/v1/debit/batch', batch('debit', debitItem));
  app.post('/v1/withdraw', single('withdraw', withdrawItem));

  app.post('/v1/balances', async (req) => {
    const ids = listOf(req.body, 'accountIds', MAX_BATCH).map((x, i) => str(x, `$.accountIds[${i}]`));
    const { rows } = await pool.query<{ id: string; customer_id: string; balance_fen: number; frozen_outflow: boolean; frozen: boolean }>(
      `select id, customer_id, balance_fen, frozen_outflow, frozen from sandbox.accounts where id = any($1::text[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return {
      balances: ids.map((id) => {
        const r = byId.get(id);
        return r
          ? { accountId: id, found: true, customerId: r.customer_id, balance: r.balance_fen, frozenOutflow: r.frozen_outflow, frozen: r.frozen }
          : { accountId: id, found: false, code: 'ACCOUNT_NOT_FOUND' };
      }),
    };
  });

  const freeze = (flag: boolean) => async (req: FastifyRequest) => {
    const customerId = str((req.params as { customerId?: unknown }).customerId, 'customerId');
    const { rowCount } = await pool.query(`update sandbox.accounts set frozen_outflow = $2 where customer_id = $1`, [customerId, flag]);
    if (!rowCount) throw new BadRequest(404, 'ACCOUNT_NOT_FOUND', `customer ${customerId} has no accounts on the platform`);
    return { customerId, frozenOutflow: flag, accounts: rowCount };
  };
  // many freezes/unfreezes in one transaction; accounts locked in id order like the money batches
  app.post('/v1/customers/outflow/batch', async (req) => {
    const changes = listOf(req.body, 'changes', MAX_BATCH).map((x, i) => {
      const c = obj(x, `$.changes[${i}]`);
      return { customerId: str(c.customerId, `$.changes[${i}].customerId`), frozenOutflow: bool(c.frozenOutflow, `$.changes[${i}].frozenOutflow`) };
    });
    uniqueIds(changes.map((c) => c.customerId), '$.changes');
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query('set local jit = off');
      const ids = changes.map((c) => c.customerId);
      // find the accounts by the customer index, then lock them by key in id order (as the
      // money batches do): "where customer_id = any(…) order by id for update" in one
      // statement was planned as a walk of the whole primary key (374 ms a call at 1M)
      // (driven by the ids, one index lookup each: right even before the table is analyzed)
      const found = await client.query<{ id: string }>(
        `select a.id from unnest($1::text[]) as u(c) cross join lateral (select id from sandbox.accounts a where a.customer_id = u.c offset 0) a`,
        [ids],
      );
      const { rows } = await client.query<{ customer_id: string }>(
        `select customer_id from sandbox.accounts where id = any($1::text[]) order by id for update`,
        [found.rows.map((r) => r.id).sort()],
      );
      // two plain updates by the ids (index), no join to plan
      const on = changes.filter((c) => c.frozenOutflow).map((c) => c.customerId);
      const off = changes.filter((c) => !c.frozenOutflow).map((c) => c.customerId);
      if (on.length > 0) await client.query(`update sandbox.accounts set frozen_outflow = true where customer_id = any($1::text[])`, [on]);
      if (off.length > 0) await client.query(`update sandbox.accounts set frozen_outflow = false where customer_id = any($1::text[])`, [off]);
      await client.query('commit');
      const n = new Map<string, number>();
      for (const r of rows) n.set(r.customer_id, (n.get(r.customer_id) ?? 0) + 1);
      return { results: changes.map((c) => ({ customerId: c.customerId, frozenOutflow: c.frozenOutflow, accounts: n.get(c.customerId) ?? 0 })) };
    } catch (e) {
      await client.query('rollback').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  });
  app.post('/v1/customers/:customerId/freeze-outflow', freeze(true));
  app.post('/v1/customers/:customerId/unfreeze-outflow', freeze(false));

  async function queryIds(ids: string[]) {
    const { rows } = await pool.query(`select request_id, status, code, amount, platform_ref, arrives_at from sandbox.requests where request_id = any($1::text[])`, [ids]);
    const byId = new Map(rows.map((r) => [r.request_id as string, r]));
    return ids.map((id) => {
      const r = byId.get(id);
      return r ? wire(toOutcome(r)) : { requestId: id, status: 'not_found' };
    });
  }
  app.get('/v1/requests/:requestId', async (req, reply) => {
    const [r] = await queryIds([str((req.params as { requestId?: unknown }).requestId, 'requestId')]);
    if (r?.status === 'not_found') return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no request ${r.requestId}` }, ...r });
    return r;
  });
  app.post('/v1/requests/query', async (req) => ({ results: await queryIds(listOf(req.body, 'requestIds', MAX_BATCH).map((x, i) => str(x, `$.requestIds[${i}]`))) }));

  // The merchant's statement of payouts from its accounts, as a real platform gives
  // one for reconciliation (a platform route: no admin token).
  app.get('/v1/statement/payouts', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const after = q.after === undefined ? null : Number(q.after);
    if (after !== null && !Number.isSafeInteger(after)) bad('after', 'expected a movement id');
    const { rows } = await pool.query(
      `select id, request_id, platform_ref, kind, from_account, to_account, from_card, to_card, amount, arrives_at, created_at from sandbox.movements
       where kind in ('payout', 'payout_duplicate') and ($1::int8 is null or id > $1) order by id limit $2`,
      [after, limitOf(q.limit)],
    );
    return { movements: rows.map(movementView) };
  });

  // ---- admin API (tests, demo, reconciliation checks): the admin token ----
  app.post('/admin/accounts', async (req) => {
    const b = obj(req.body, '$');
    const accounts = b.accounts === undefined ? [] : listOf(b, 'accounts', MAX_ADMIN_BATCH).map((x, i) => {
      const at = `$.accounts[${i}]`;
      const a = obj(x, at);
      return { id: str(a.id, `${at}.id`), customerId: str(a.customerId, `${at}.customerId`), balance: fen(a.balance ?? 0, `${at}.balance`, true), frozenOutflow: bool(a.frozenOutflow ?? false, `${at}.frozenOutflow`), frozen: bool(a.frozen ?? false, `${at}.frozen`) };
    });
    const cards = b.cards === undefined ? [] : listOf(b, 'cards', MAX_ADMIN_BATCH).map((x, i) => {
      const at = `$.cards[${i}]`;
      const c = obj(x, at);
      // lendpay knows only the last four digits; the bank side makes up the rest.
      const cardNumber = c.cardNumber === undefined && typeof c.last4 === 'string' && /^\d{4}$/.test(c.last4)
        ? syntheticCardNumber(str(c.id, `${at}.id`), c.last4)
        : str(c.cardNumber, `${at}.cardNumber`);
      if (!/^\d{12,19}$/.test(cardNumber)) bad(`${at}.cardNumber`, 'expected 12 to 19 digits');
      return { id: str(c.id, `${at}.id`), customerId: str(c.customerId, `${at}.customerId`), bank: str(c.bank ?? 'ICBC', `${at}.bank`), cardNumber, balance: fen(c.balance ?? 0, `${at}.balance`, true), valid: bool(c.valid ?? true, `${at}.valid`) };
    });
    // mode "open": accounts that exist keep their state (the platform's money is its own);
    // the default "replace" resets them, for tests and admin fixes.
    const keep = b.mode === 'open';
    if (b.mode !== undefined && b.mode !== 'open' && b.mode !== 'replace') bad('$.mode', 'expected "open" or "replace"');
    uniqueIds(accounts.map((a) => a.id), '$.accounts');
    uniqueIds(cards.map((c) => c.id), '$.cards');
    if (accounts.length > 0) {
      await pool.query(
        `insert into sandbox.accounts (id, customer_id, balance_fen, frozen_outflow, frozen)
         select * from unnest($1::text[], $2::text[], $3::int8[], $4::bool[], $5::bool[])
         on conflict (id) do ${keep ? 'nothing' : 'update set customer_id = excluded.customer_id, balance_fen = excluded.balance_fen, frozen_outflow = excluded.frozen_outflow, frozen = excluded.frozen'}`,
        [accounts.map((a) => a.id), accounts.map((a) => a.customerId), accounts.map((a) => a.balance), accounts.map((a) => a.frozenOutflow), accounts.map((a) => a.frozen)],
      );
    }
    if (cards.length > 0) {
      await pool.query(
        `insert into sandbox.cards (id, customer_id, bank, last4, card_number, balance_fen, valid)
         select i, c, b, right(n, 4), n, bal, v from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::bool[]) as u(i, c, b, n, bal, v)
         on conflict (id) do ${keep ? 'nothing' : 'update set customer_id = excluded.customer_id, bank = excluded.bank, last4 = excluded.last4, card_number = excluded.card_number, balance_fen = excluded.balance_fen, valid = excluded.valid'}`,
        [cards.map((c) => c.id), cards.map((c) => c.customerId), cards.map((c) => c.bank), cards.map((c) => c.cardNumber), cards.map((c) => c.balance), cards.map((c) => c.valid)],
      );
    }
    return { accounts: accounts.length, cards: cards.length };
  });

  app.get('/admin/cards/:cardId', async (req, reply) => {
    // Never select card_number: the full number does not leave the sandbox.
    const { rows } = await pool.query(`select id, customer_id, bank, last4, balance_fen, valid from sandbox.cards where id = $1`, [(req.params as { cardId: string }).cardId]);
    const r = rows[0];
    if (!r) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such card' } });
    return { id: r.id, customerId: r.customer_id, bank: r.bank, last4: r.last4, balance: r.balance_fen, valid: r.valid };
  });

  app.post('/admin/settle', async (req) => {
    const lines = listOf(req.body, 'lines', MAX_ADMIN_BATCH).map((x, i) => {
      const l = obj(x, `$.lines[${i}]`);
      return { accountId: str(l.accountId, `$.lines[${i}].accountId`), amount: fen(l.amount, `$.lines[${i}].amount`, false) };
    });
    const client = await pool.connect();
    try {
      await client.query('begin');
      const ids = [...new Set(lines.map((l) => l.accountId))];
      const found = await client.query<{ id: string }>(`select id from sandbox.accounts where id = any($1::text[]) order by id for update`, [ids]);
      const have = new Set(found.rows.map((r) => r.id));
      const missing = ids.filter((id) => !have.has(id));
      if (missing.length > 0) bad('$.lines', `unknown accounts: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);
      const at = now();
      const refs = lines.map(() => newPlatformRef());
      await client.query(
        `update sandbox.accounts a set balance_fen = a.balance_fen + s.total
         from (select id, sum(amt)::int8 as total from unnest($1::text[], $2::int8[]) as u(id, amt) group by id) s where a.id = s.id`,
        [lines.map((l) => l.accountId), lines.map((l) => l.amount)],
      );
      await client.query(
        `insert into sandbox.movements (platform_ref, kind, to_account, amount, arrives_at, created_at)
         select p, 'settle', t, a, $4, $4 from unnest($1::text[], $2::text[], $3::int8[]) as u(p, t, a)`,
        [refs, lines.map((l) => l.accountId), lines.map((l) => l.amount), at],
      );
      await client.query('commit');
      return { lines: lines.length, total: lines.reduce((s, l) => s + l.amount, 0) };
    } catch (e) {
      await client.query('rollback').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  });

  app.post('/admin/duplicate-payout', async (req) => {
    const requestId = str(obj(req.body, '$').requestId, '$.requestId');
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query(`select * from sandbox.movements where request_id = $1 and kind = 'payout' order by id limit 1`, [requestId]);
      const m = rows[0];
      if (!m) throw new BadRequest(404, 'NOT_FOUND', `no applied payout under request id ${requestId}`);
      // The platform paid twice: the payer is charged again (down to zero at most,
      // the check constraint refuses below) and the payee credited again.
      const debited = await client.query(`update sandbox.accounts set balance_fen = balance_fen - $2 where id = $1 and balance_fen >= $2`, [m.from_account, m.amount]);
      if (!debited.rowCount) throw new BadRequest(409, 'INSUFFICIENT_FUNDS', `account ${m.from_account} cannot pay the duplicate of ${requestId}`);
      if (m.to_account) await client.query(`update sandbox.accounts set balance_fen = balance_fen + $2 where id = $1`, [m.to_account, m.amount]);
      if (m.to_card) await client.query(`update sandbox.cards set balance_fen = balance_fen + $2 where id = $1`, [m.to_card, m.amount]);
      const at = now();
      const ref = newPlatformRef();
      await client.query(
        `insert into sandbox.movements (request_id, platform_ref, kind, from_account, to_account, to_card, amount, arrives_at, created_at) values ($1, $2, 'payout_duplicate', $3, $4, $5, $6, $7, $7)`,
        [requestId, ref, m.from_account, m.to_account, m.to_card, m.amount, at],
      );
      await client.query('commit');
      return { requestId, platformRef: ref, originalPlatformRef: m.platform_ref, amount: m.amount };
    } catch (e) {
      await client.query('rollback').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  });

  app.get('/admin/requests', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const { rows } = await pool.query(
      `select request_id, op, status, code, amount, applied, platform_ref, arrives_at, created_at from sandbox.requests
       where ($1::text is null or request_id > $1) and ($2::text is null or op = $2) order by request_id limit $3`,
      [q.after ?? null, q.op ?? null, limitOf(q.limit)],
    );
    return { requests: rows.map((r) => ({ requestId: r.request_id, op: r.op, status: r.status, code: r.code, amount: r.amount, applied: r.applied, platformRef: r.platform_ref, arrivesAt: r.arrives_at, createdAt: r.created_at })) };
  });

  app.get('/admin/movements', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const after = q.after === undefined ? null : Number(q.after);
    const { rows } = await pool.query(
      `select id, request_id, platform_ref, kind, from_account, to_account, from_card, to_card, amount, arrives_at, created_at from sandbox.movements
       where ($1::int8 is null or id > $1) and ($2::text is null or request_id = $2) order by id limit $3`,
      [after, q.requestId ?? null, limitOf(q.limit)],
    );
    return { movements: rows.map(movementView) };
  });

  app.post('/admin/faults', async (req) => {
    try {
      faults = parseFaultPlan(req.body);
    } catch (e) {
      throw new BadRequest(400, 'INVALID_REQUEST', (e as Error).message);
    }
    deliveries.clear();
    return { seed: faults.seed, rules: faults.rules.length };
  });

  app.post('/admin/clock', async (req) => {
    const v = obj(req.body, '$').now;
    if (v === null) fixedNow = null;
    else {
      const d = new Date(str(v, '$.now'));
      if (Number.isNaN(d.getTime())) bad('$.now', 'expected an ISO timestamp or null');
      fixedNow = d;
    }
    return { now: now().toISOString(), fixed: fixedNow !== null };
  });

  app.post('/admin/limits', async (req) => {
    const b = obj(req.body, '$');
    for (const op of ['collect', 'payout', 'debit', 'withdraw'] as const) {
      if (b[op] === null) delete limits[op];
      else if (b[op] !== undefined) limits[op] = fen(b[op], `$.${op}`, false);
    }
    return { limits };
  });

  const url = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  return {
    url,
    adminToken,
    async close() {
      for (const h of hung) {
        clearTimeout(h.timer);
        h.socket.destroy();
      }
      hung.clear();
      await app.close();
      await pool.end();
    },
  };
}

// ---- request parsing: every field checked, errors name the JSON path ----

function collectItem(body: unknown, at: string): Item {
  const b = obj(body, at);
  const requestId = reqId(b.requestId, `${at}.requestId`);
  const p = { cardId: str(b.cardId, `${at}.cardId`), toAccountId: str(b.toAccountId, `${at}.toAccountId`), amount: fen(b.amount, `${at}.amount`, false) };
  return { requestId, op: 'collect', hash: payloadHash('collect', p), amount: p.amount, fromCard: p.cardId, toAccount: p.toAccountId };
}

function payoutItem(body: unknown, at: string): Item {
  const b = obj(body, at);
  const requestId = reqId(b.requestId, `${at}.requestId`);
  const to = obj(b.to, `${at}.to`);
  const fromAccountId = str(b.fromAccountId, `${at}.fromAccountId`);
  const amount = fen(b.amount, `${at}.amount`, false);
  if (to.kind === 'account') {
    const accountId = str(to.accountId, `${at}.to.accountId`);
    if (accountId === fromAccountId) bad(`${at}.to.accountId`, 'a payout cannot go to the account it comes from');
    return { requestId, op: 'payout', hash: payloadHash('payout', { fromAccountId, to: { kind: 'account', accountId }, amount }), amount, fromAccount: fromAccountId, toAccount: accountId };
  }
  if (to.kind === 'card') {
    const cardId = str(to.cardId, `${at}.to.cardId`);
    return { requestId, op: 'payout', hash: payloadHash('payout', { fromAccountId, to: { kind: 'card', cardId }, amount }), amount, fromAccount: fromAccountId, toCard: cardId };
  }
  return bad(`${at}.to.kind`, 'expected "account" or "card"');
}

function debitItem(body: unknown, at: string): Item {
  const b = obj(body, at);
  const requestId = reqId(b.requestId, `${at}.requestId`);
  const p = { fromAccountId: str(b.fromAccountId, `${at}.fromAccountId`), toAccountId: str(b.toAccountId, `${at}.toAccountId`), amount: fen(b.amount, `${at}.amount`, false) };
  if (p.fromAccountId === p.toAccountId) bad(`${at}.toAccountId`, 'a debit cannot go to the account it comes from');
  return { requestId, op: 'debit', hash: payloadHash('debit', p), amount: p.amount, fromAccount: p.fromAccountId, toAccount: p.toAccountId };
}

function withdrawItem(body: unknown, at: string): Item {
  const b = obj(body, at);
  const requestId = reqId(b.requestId, `${at}.requestId`);
  const p = { accountId: str(b.accountId, `${at}.accountId`), cardId: str(b.cardId, `${at}.cardId`), amount: fen(b.amount, `${at}.amount`, false) };
  return { requestId, op: 'withdraw', hash: payloadHash('withdraw', p), amount: p.amount, fromAccount: p.accountId, toCard: p.cardId };
}

function movementView(r: Record<string, any>) {
  return { id: r.id, requestId: r.request_id, platformRef: r.platform_ref, kind: r.kind, fromAccount: r.from_account, toAccount: r.to_account, fromCard: r.from_card, toCard: r.to_card, amount: r.amount, arrivesAt: r.arrives_at, createdAt: r.created_at };
}

function wire(r: ItemResult) {
  if (r.status === 'dropped') return { requestId: r.requestId, status: 'unknown', reason: 'not recorded' };
  if (r.status === 'rejected') return r;
  return {
    requestId: r.requestId,
    status: r.status,
    ...(r.code ? { code: r.code } : {}),
    amount: r.amount,
    platformRef: r.platformRef,
    ...(r.arrivesAt ? { arrivesAt: r.arrivesAt.toISOString() } : {}),
  };
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(at, 'expected an object');
  return v as Record<string, unknown>;
}
function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) bad(at, 'expected a non-empty string (at most 200 characters)');
  return v as string;
}
function reqId(v: unknown, at: string): string {
  const s = str(v, at);
  if (!/^[\x21-\x7e]{1,200}$/.test(s)) bad(at, 'expected printable ASCII without spaces');
  return s;
}
function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') bad(at, 'expected true or false');
  return v as boolean;
}
/** Integer fen, as a JSON number or a string of digits. */
function fen(v: unknown, at: string, zeroOk: boolean): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || (!zeroOk && n === 0)) bad(at, `expected a ${zeroOk ? 'non-negative' : 'positive'} whole number of fen, got ${JSON.stringify(v)}`);
  return n as number;
}
function listOf(body: unknown, key: string, max: number): unknown[] {
  const list = obj(body, '$')[key];
  if (!Array.isArray(list)) return bad(`$.${key}`, 'expected an array');
  if (list.length === 0 || list.length > max) bad(`$.${key}`, `expected 1 to ${max} items, got ${list.length}`);
  return list;
}
function uniqueIds(ids: string[], at: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) bad(at, `id ${id} appears twice`);
    seen.add(id);
  }
}
function limitOf(v: string | undefined): number {
  const n = v === undefined ? 1000 : Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > 100_000) bad('limit', 'expected 1 to 100000');
  return n;
}
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


function syntheticCardNumber(id: string, last4: string): string {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  return `6222${String(h).padStart(10, '0').slice(0, 10)}${last4}`;
}
