// The HTTP server of `lendpay worker`: the API the loan business system calls, the
// operators' dashboard, /metrics, /healthz and /openapi.json (generated from the
// route schemas). Cross-cutting rules live here as hooks keyed by route config:
// `auth` (bearer token, constant-time compare) and `idempotent` (Idempotency-Key:
// a replay returns the first response; the same key with another request is 409).
// Route modules are listed in routes/index.ts: a new endpoint is a file and a line.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from 'pino';
import type { Db } from '../../db/connection.ts';
import { claimIdempotencyKeys, completeIdempotencyKeys, releaseIdempotencyKey, type ClaimRequest, type IdempotencyClaim } from '../../db/api.repository.ts';
import { GroupCommit } from '../orders/group.ts';
import type { Clock } from '../dates.ts';
import type { EscalationDeps } from '../escalation/service.ts';
import type { CollectionDeps } from '../collection/service.ts';
import type { DisburseDeps } from '../disbursement/disburse.ts';
import type { RuleSet } from '../rules/load.ts';
import { LendpayError } from '../errors.ts';
import { canonicalJson } from '../rules/load.ts';
import { ROUTES, type RouteModule } from './routes/index.ts';
import { ApiProblem } from './problem.ts';
import { securityHeaders } from './headers.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** requires `Authorization: Bearer <LENDPAY_API_TOKEN>` */
    auth?: boolean;
    /** requires an `Idempotency-Key` header; the first response is stored and replayed */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

/** What later issues plug in without touching this file's callers. */
export interface ApiExtensions {
  routes?: RouteModule[];
  /** size of the operator queue (escalation, issue 5); 0 until then */
  operatorQueueSize?(db: Db): Promise<number>;
}

export interface ApiDeps {
  db: Db;
  log: Logger;
  clock: Clock;
  host: string;
  port: number;
  apiToken: string | null;
  stuckAfterMinutes: number;
  disburseDeps(): Promise<DisburseDeps>;
  /** collection (card repayment); absent: that endpoint answers 503 */
  collectionDeps?: () => Promise<CollectionDeps>;
  /** escalation for the operators' confirm/reject; absent: those answer 503 */
  escalationDeps?: () => Promise<EscalationDeps>;
  /** the rule set (products for POST /loans, accounts for vouchers); absent: no products, no vouchers (503) */
  rules?: () => Promise<RuleSet>;
  /** defaults: DEFAULT_LIMITS */
  limits?: ApiLimits;
  extensions?: ApiExtensions;
}

export interface ApiLimits {
  /** writes (routes with `auth`) per minute per bearer token, or per client address without a valid one */
  writesPerMinute: number;
  /** request bodies larger than this are refused with 413 before they are parsed */
  bodyLimitBytes: number;
}

/** Methods that change nothing; every other method needs the bearer token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export const DEFAULT_LIMITS: ApiLimits = { writesPerMinute: 600, bodyLimitBytes: 256 * 1024 };
/** Headers larger than this are refused (431) by Node before any route sees them. */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface ApiServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'api' }) as FastifyBaseLogger,
    // Amounts are yuan strings and ids are strings: nothing is coerced, nothing silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    bodyLimit: limits.bodyLimitBytes,
    routerOptions: { maxParamLength: 256 },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
  });

  // CSP, nosniff and no referrer on every answer, errors and 404s included.
  app.addHook('onRequest', securityHeaders);

  // Registered before the token check so that guessing tokens is rate limited too:
  // a request with the right token counts against that token, any other against its
  // address. Reads (no `auth`) are not limited here.
  await app.register(rateLimit, {
    global: true,
    max: limits.writesPerMinute,
    timeWindow: 60_000,
    allowList: (req) => !req.routeOptions.config.auth,
    keyGenerator: (req) => (tokenMatches(deps.apiToken, req.headers.authorization) ? 'token' : `ip:${req.ip}`),
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429, code: 'RATE_LIMITED', error: 'RATE_LIMITED',
      message: `more than ${ctx.max} writes a minute; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
    }),
  });

  // The token check, as a route hook added after the rate limiter's (onRoute hooks run
  // in registration order), so that a wrong token still counts against the limit.
  const checkToken = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!tokenMatches(deps.apiToken, request.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({
        error: 'UNAUTHORIZED',
        message: deps.apiToken === null ? 'this server has no API token configured (LENDPAY_API_TOKEN); writes are refused' : 'missing or wrong bearer token',
      });
    }
  };
  app.addHook('onRoute', (route) => {
    if (!route.config?.auth) return;
    route.onRequest = [...([] as unknown[]).concat(route.onRequest ?? []), checkToken] as NonNullable<typeof route.onRequest>;
  });

  // Fail closed: a route that changes anything must take the token. A new write route
  // without `config: { auth: true }` stops the server from starting, not a review.
  app.addHook('onRoute', (route) => {
    const methods = ([] as string[]).concat(route.method);
    if (methods.some((m) => !SAFE_METHODS.has(m.toUpperCase())) && !route.config?.auth) {
      throw new Error(`${methods.join(',')} ${route.url}: a write route must set config.auth (bearer token)`);
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'lendpay', version: '1', description: 'Eligibility, disbursement and the state of loans, orders and customers, for the loan business system. Amounts are yuan strings with two decimals.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  // Requests that arrive together claim their keys and store their answers together:
  // one statement for the group, not a transaction per request.
  const claims = new GroupCommit<ClaimRequest, IdempotencyClaim>(
    async (items) => (await claimIdempotencyKeys(deps.db, items)).map((value) => ({ ok: true as const, value })),
    { maxWaitMs: 0, maxSize: 500, concurrency: 2 },
  );
  const completions = new GroupCommit<{ key: string; statusCode: number; response: unknown }, void>(
    async (items) => {
      await completeIdempotencyKeys(deps.db, items);
      return items.map(() => ({ ok: true as const, value: undefined }));
    },
    { maxWaitMs: 0, maxSize: 500, concurrency: 2 },
  );

  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.idempotent) return;
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string') throw new ApiProblem(400, 'INVALID_INPUT', 'headers.idempotency-key is required', [{ path: 'headers.idempotency-key', message: 'is required' }]);
    const route = request.routeOptions.url ?? request.url;
    const hash = createHash('sha256').update(`${request.method} ${route} ${canonicalJson(request.params ?? {})} ${canonicalJson(request.body ?? null)}`).digest('hex');
    for (let i = 0; ; i++) {
      const claim = await claims.submit({ key, method: request.method, route, requestHash: hash });
      if (claim.kind === 'claimed') {
        request.idempotencyKey = key;
        return;
      }
      if (claim.kind === 'replay') {
        return reply.code(claim.statusCode).header('idempotent-replayed', 'true').send(claim.response);
      }
      if (claim.kind === 'mismatch') {
        return reply.code(409).send({ error: 'IDEMPOTENCY_KEY_REUSED', message: `Idempotency-Key ${key} was used for a different request (${claim.route})` });
      }
      // The first request with this key is still running: wait for its answer a little.
      if (i >= 100) return reply.code(409).send({ error: 'IDEMPOTENCY_IN_PROGRESS', message: `a request with Idempotency-Key ${key} is still being processed; retry later` });
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey;
    if (!key) return payload;
    request.idempotencyKey = undefined as never;
    // Bad input and server errors did nothing: the client may fix and retry with the same key.
    if (reply.statusCode >= 500 || reply.statusCode === 400) await releaseIdempotencyKey(deps.db, key);
    else await completions.submit({ key, statusCode: reply.statusCode, response: typeof payload === 'string' ? JSON.parse(payload) : null });
    return payload;
  });

  app.setErrorHandler(async (err: FastifyError | LendpayError | ApiProblem, request: FastifyRequest, reply: FastifyReply) => {
    if ('validation' in err && err.validation) {
      const errors = err.validation.map((v) => ({ path: fieldPath(err.validationContext ?? 'body', v.instancePath, v.params as Record<string, unknown>), message: v.message ?? 'is invalid' }));
      return reply.code(400).send({ error: 'INVALID_INPUT', message: errors.map((e) => `${e.path} ${e.message}`).join('; '), errors });
    }
    if (err instanceof ApiProblem) return reply.code(err.status).send({ error: err.code, message: err.message, ...(err.errors ? { errors: err.errors } : {}) });
    if (err instanceof LendpayError) {
      const status = err.code === 'NOT_FOUND' ? 404 : err.code.startsWith('INVALID_') ? 400 : err.code === 'CONFLICT' || err.code === 'REQUEST_ID_REUSED' ? 409 : 500;
      if (status === 500) request.log.error({ err }, 'request failed');
      return reply.code(status).send({ error: err.code, message: status === 500 ? 'internal error' : err.message });
    }
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: (err as FastifyError).code ?? 'BAD_REQUEST', message: err.message });
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
  });

  for (const mod of [...ROUTES, ...(deps.extensions?.routes ?? [])]) await mod(app, deps);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await deps.db.selectFrom('batch_runs').select('id').limit(1).execute();
      return { ok: true };
    } catch {
      return reply.code(503).send({ ok: false, error: 'DATABASE_UNAVAILABLE' });
    }
  });
  return app;
}

export async function startApi(deps: ApiDeps): Promise<ApiServer> {
  const app = await buildApi(deps);
  await app.listen({ host: deps.host, port: deps.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : deps.port;
  const host = deps.host.includes(':') ? `[${deps.host}]` : deps.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}

/** `body.amount`, `headers.idempotency-key`: the field a client must fix. */
export function fieldPath(context: string, instancePath: string, params: Record<string, unknown>): string {
  const parts = [context, ...instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))];
  if (typeof params['missingProperty'] === 'string') parts.push(params['missingProperty']);
  if (typeof params['additionalProperty'] === 'string') parts.push(params['additionalProperty']);
  return parts.join('.');
}

export function tokenMatches(expected: string | null, header: string | undefined): boolean {
  if (expected === null || !header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  // Hash both sides: equal lengths for timingSafeEqual, and no early exit on length.
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
