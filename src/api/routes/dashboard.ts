// The operators' dashboard. Its shell (GET /) and assets under /dashboard/ are static
// files with no data in them, public by the auth contract; every piece of data comes
// from the JSON routes below, which need a `read` token sent as a Bearer header (the
// page signs in with a form and keeps the token in sessionStorage, never in the URL).
// Routes parse, call the read model (db/dashboard.repository.ts) and the shaping in
// src/dashboard/, and answer; no SQL and no formatting here.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../server.ts';
import type { Principal } from '../auth.ts';
import { loansByStatus, ordersByKindAndState, recentBatchRuns, recentLoans, stuckOrders } from '../../../db/api.repository.ts';
import {
  collectedByDayAndStep, collectionByBusinessDate, customerPageRows, disbursedByDayAndRail, holdTotals, holdsAndBlocks, holdsByDay, orderRows, ordersByHourAndState,
  type HoldSort,
} from '../../../db/dashboard.repository.ts';
import { operatorQueue } from '../../../db/escalation.repository.ts';
import { openAlerts } from '../../../db/alerts.repository.ts';
import { summaryView } from '../../dashboard/summary.ts';
import { holdsView } from '../../dashboard/holds.ts';
import { customerView } from '../../dashboard/customer.ts';
import { chartsView } from '../../dashboard/charts.ts';
import { orderView } from '../../dashboard/timeline.ts';
import { daysBefore, shanghaiDay } from '../../dashboard/format.ts';
import { badField, notFound } from '../problem.ts';
import { ID } from '../schemas.ts';

/** Who the request's token belongs to: the auth hook (server.ts) has worked it out. */
function principalOf(req: FastifyRequest): Principal | null {
  return req.principal;
}

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dashboard');
const CHART_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(file: string, type: string): Asset {
  const body = fs.readFileSync(file);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** The shell and its assets, read once: the files ship with the code. */
function loadAssets(): Map<string, Asset> {
  return new Map([
    ['/', asset(path.join(STATIC_DIR, 'index.html'), 'text/html; charset=utf-8')],
    ['/dashboard/app.js', asset(path.join(STATIC_DIR, 'app.js'), 'text/javascript; charset=utf-8')],
    ['/dashboard/app.css', asset(path.join(STATIC_DIR, 'app.css'), 'text/css; charset=utf-8')],
    ['/dashboard/vendor/chart.umd.min.js', asset(CHART_JS, 'text/javascript; charset=utf-8')],
  ]);
}

const READ = { role: 'read' } as const;
const SORTS: readonly HoldSort[] = ['amount', 'days', 'customer'];
const COUNT = (max: number) => ({ type: 'string', pattern: `^[0-9]{1,${String(max).length}}$` }) as const;

function count(text: string | undefined, field: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (n < min || n > max) throw badField(`querystring.${field}`, `must be between ${min} and ${max}`);
  return n;
}

export function dashboardRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const assets = loadAssets();
  for (const [url, a] of assets) {
    app.get(url, { schema: { hide: true }, config: { public: true } }, async (req, reply) => {
      reply.header('content-type', a.type).header('cache-control', 'no-cache').header('etag', a.etag);
      if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
      return reply.send(a.body);
    });
  }

  const data = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.get('/dashboard/session', { schema: { hide: true }, config: READ }, async (req, reply) => {
    const p = principalOf(req);
    if (!p) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'UNAUTHORIZED', message: 'missing or unknown bearer token' });
    data(reply);
    return { name: p.name, role: p.role };
  });

  app.get('/dashboard/summary', { schema: { hide: true }, config: READ }, async (_req, reply) => {
    const now = deps.clock.now();
    const [runs, byState, stuck, loans, loanStates, holds, queue, alerts] = await Promise.all([
      recentBatchRuns(deps.db, 20),
      ordersByKindAndState(deps.db),
      stuckOrders(deps.db, new Date(now.getTime() - deps.stuckAfterMinutes * 60_000), 50),
      recentLoans(deps.db, 20),
      loansByStatus(deps.db),
      holdTotals(deps.db),
      operatorQueue(deps.db, 100),
      openAlerts(deps.db, 50),
    ]);
    data(reply);
    return summaryView({ now, stuckAfterMinutes: deps.stuckAfterMinutes, runs, byState, stuck, loans, loansByStatus: loanStates, holds, queue, alerts });
  });

  app.get<{ Querystring: { q?: string; sort?: HoldSort; limit?: string; offset?: string } }>('/dashboard/holds', {
    schema: {
      hide: true,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { q: { type: 'string', maxLength: 64 }, sort: { type: 'string', enum: [...SORTS] }, limit: COUNT(500), offset: COUNT(1_000_000) },
      },
    },
    config: READ,
  }, async (req, reply) => {
    const page = {
      q: (req.query.q ?? '').trim(),
      sort: req.query.sort ?? 'amount',
      limit: count(req.query.limit, 'limit', 100, 1, 500),
      offset: count(req.query.offset, 'offset', 0, 0, 1_000_000),
    };
    const [list, totals] = await Promise.all([holdsAndBlocks(deps.db, page), holdTotals(deps.db)]);
    data(reply);
    return holdsView(list, totals, deps.clock.now(), page);
  });

  app.get<{ Params: { id: string } }>('/dashboard/customers/:id', {
    schema: { hide: true, params: { type: 'object', required: ['id'], properties: { id: ID } } },
    config: READ,
  }, async (req, reply) => {
    const rows = await customerPageRows(deps.db, req.params.id);
    if (!rows) throw notFound(`no customer ${req.params.id}`);
    data(reply);
    return customerView(rows, deps.clock.now());
  });

  app.get<{ Querystring: { days?: string; hours?: string } }>('/dashboard/charts', {
    schema: { hide: true, querystring: { type: 'object', additionalProperties: false, properties: { days: COUNT(90), hours: COUNT(168) } } },
    config: READ,
  }, async (req, reply) => {
    const days = count(req.query.days, 'days', 14, 1, 90);
    const hours = count(req.query.hours, 'hours', 24, 1, 168);
    const now = deps.clock.now();
    const to = shanghaiDay(now);
    const from = daysBefore(to, days - 1);
    const fromInstant = new Date(`${from}T00:00:00+08:00`);
    const [disbursed, collected, collection, holds, ordersByHour] = await Promise.all([
      disbursedByDayAndRail(deps.db, fromInstant),
      collectedByDayAndStep(deps.db, fromInstant),
      collectionByBusinessDate(deps.db, from),
      holdsByDay(deps.db, from, to),
      ordersByHourAndState(deps.db, new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 - (hours - 1) * 3_600_000)),
    ]);
    data(reply);
    return chartsView({ from, to, disbursed, collected, collection, holds, hours, ordersByHour }, now);
  });

  app.get<{ Params: { ref: string } }>('/dashboard/orders/:ref', {
    schema: { hide: true, params: { type: 'object', required: ['ref'], properties: { ref: { ...ID, description: 'an order id or idempotency key' } } } },
    config: READ,
  }, async (req, reply) => {
    const rows = await orderRows(deps.db, req.params.ref);
    if (!rows) throw notFound(`no order ${req.params.ref}`);
    data(reply);
    return orderView(rows);
  });
}
