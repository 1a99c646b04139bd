// The HTTP server of `lendpay worker`: the API the loan business system calls, the
// operators' dashboard, /metrics, /healthz and /openapi.json (generated from the
// route schemas). Cross-cutting rules live here as hooks keyed by route config:
// `role` (bearer token whose role may call the route; see auth.ts), `public` (no
// token: /healthz, /openapi.json, the dashboard's static shell), `idempotent`
// (Idempotency-Key: a replay returns the first response; the same key with another
// request is 409). A route that declares neither a role nor `public` stops the server
// from starting. Route modules are listed in routes/index.ts: a new endpoint is a file
// and a line.
import { createHash } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from 'pino';
import type { Db } from '../../db/connection.ts';
import { claimIdempotencyKeys, completeIdempotencyKeys, releaseIdempotencyKey, type ClaimRequest, type IdempotencyClaim } from '../../db/api.repository.ts';
import { GroupCommit } from '../orders/group.ts';
import type { ApiToken } from '../config.ts';
import type { Clock } from '../dates.ts';
import type { EscalationDeps } from '../escalation/service.ts';
import type { CollectionDeps } from '../collection/service.ts';
import type { DisburseDeps } from '../disbursement/disburse.ts';
import type { RuleSet } from '../rules/load.ts';
import { LendpayError } from '../errors.ts';
import { canonicalJson } from '../rules/load.ts';
import { ROUTES, type RouteModule } from './routes/index.ts';
import { ApiProblem, PROBLEM_CONTENT_TYPE, problemBody } from './problem.ts';
import { SECURITY_HEADERS } from './headers.ts';
import { bearer, describeRole, makeAuthenticator, mayCall, type Principal, type RouteRole } from './auth.ts';
import { PUBLIC, PUBLIC_PROBLEMS, responses } from './schemas.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the role a bearer token needs (several: any of them); see auth.ts */
    role?: RouteRole;
    /** answers without credentials; only what holds no data (health, the API document, the dashboard's static files) */
    public?: boolean;
    /** requires an `Idempotency-Key` header; the first response is stored and replayed */
    idempotent?: boolean;
  }
  interface FastifyInstance {
    /** every route with who may call it, as registered (tests and the README's table read it) */
    routeAccess: readonly RouteAccess[];
  }
  interface FastifyRequest {
    idempotencyKey?: string;
    /** who is calling (set on every route that declares a role): audit rows record its name */
    principal: Principal | null;
  }
}

export interface RouteAccess {
  method: string;
  url: string;
  /** null: public */
  role: RouteRole | null;
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
  /** the API tokens (config.apiTokens); none: every route but the public ones answers 401 */
  tokens?: readonly ApiToken[];
  /** LENDPAY_API_TOKEN, kept for compatibility: a `write` token named `api` (when not already in tokens) */
  apiToken?: string | null;
  /** /metrics without a token (LENDPAY_METRICS_PUBLIC=1) */
  metricsPublic?: boolean;
  stuckAfterMinutes: number;
  disburseDeps(): Promise<DisburseDeps>;
  /** collection (card repayment, hold release); absent: those endpoints answer 503 */
  collectionDeps?: () => Promise<CollectionDeps>;
  /** escalation for the operators' confirm/reject/reprocess; absent: those answer 503 */
  escalationDeps?: () => Promise<EscalationDeps>;
  /** the rule set (products for POST /loans, accounts for vouchers); absent: no products, no vouchers (503) */
  rules?: () => Promise<RuleSet>;
  /** defaults: DEFAULT_LIMITS */
  limits?: ApiLimits;
  extensions?: ApiExtensions;
}

export interface ApiLimits {
  /** writes per minute per token, and any request without a valid token per client address */
  writesPerMinute: number;
  /** request bodies larger than this are refused with 413 before they are parsed */
  bodyLimitBytes: number;
}

/** Methods that change nothing. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export const DEFAULT_LIMITS: ApiLimits = { writesPerMinute: 600, bodyLimitBytes: 256 * 1024 };
/** Requests a minute per address to the public routes (health checks, the dashboard's static files). */
export const PUBLIC_PER_MINUTE = 6000;
/** Headers larger than this are refused (431) by Node before any route sees them. */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface ApiServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** config.apiTokens, or the compatibility token alone: one list for the authenticator. */
export function tokensOf(deps: Pick<ApiDeps, 'tokens' | 'apiToken'>): readonly ApiToken[] {
  const tokens = [...(deps.tokens ?? [])];
  if (deps.apiToken && !tokens.some((t) => t.token === deps.apiToken)) tokens.push({ name: 'api', role: 'write', token: deps.apiToken });
  return tokens;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const authenticate = makeAuthenticator(tokensOf(deps));
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'api' }) as FastifyBaseLogger,
    // Amounts are yuan strings and ids are strings: nothing is coerced, nothing silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    bodyLimit: limits.bodyLimitBytes,
    routerOptions: { maxParamLength: 256 },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
  });
  // Response schemas document the answers (and the tests check real answers against
  // them); they must not silently drop or coerce a field on the way out.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.decorateRequest('principal', null);
  /** The token's principal, worked out once per request (the rate limiter asks first). */
  const principalOf = (req: FastifyRequest): Principal | null => {
    const cached = (req as { authChecked?: Principal | null | undefined }).authChecked;
    if (cached !== undefined) return cached;
    const p = authenticate(req.headers.authorization);
    (req as { authChecked?: Principal | null }).authChecked = p;
    return p;
  };

  // Registered before the token check so that guessing tokens is rate limited too:
  // writes count against their token; any request without a valid token counts
  // against its address. Reads with a valid token are not limited; public routes
  // (one of which asks the database) have a generous budget of their own per address.
  await app.register(rateLimit, {
    global: true,
    max: (_req, key) => (key.startsWith('public:') ? PUBLIC_PER_MINUTE : limits.writesPerMinute),
    timeWindow: 60_000,
    allowList: (req) => !req.routeOptions.config.public && principalOf(req) !== null && SAFE_METHODS.has(req.method),
    keyGenerator: (req) => {
      if (req.routeOptions.config.public) return `public:${req.ip}`;
      const p = principalOf(req);
      return p ? `token:${p.name}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, ctx) => new ApiProblem(429, 'RATE_LIMITED', `more than ${ctx.max} requests a minute; retry in ${Math.ceil(ctx.ttl / 1000)} s`),
  });

  // Fail closed: every route says who may call it. A route without a role that is not
  // explicitly public stops the server from starting, not a review.
  const access: RouteAccess[] = [];
  app.decorate('routeAccess', access);
  app.addHook('onRoute', (route) => {
    const methods = ([] as string[]).concat(route.method).join(',');
    const cfg = route.config ?? {};
    for (const m of ([] as string[]).concat(route.method)) access.push({ method: m.toUpperCase(), url: route.url, role: cfg.public ? null : cfg.role ?? null });
    if (cfg.public && cfg.role !== undefined) throw new Error(`${methods} ${route.url}: a route is either public or has a role, not both`);
    if (!cfg.public && cfg.role === undefined) throw new Error(`${methods} ${route.url}: a route must declare config.role ('read' | 'operator' | 'write') or config.public`);
    if (cfg.public && ([] as string[]).concat(route.method).some((m) => !SAFE_METHODS.has(m.toUpperCase()))) {
      throw new Error(`${methods} ${route.url}: a route that changes anything cannot be public`);
    }
    if (cfg.public) return;
    // The token check, as a route hook added after the rate limiter's (onRoute hooks
    // run in registration order), so that a wrong token still counts against the limit.
    const wanted = cfg.role!;
    const check = async (request: FastifyRequest, reply: FastifyReply) => {
      const p = principalOf(request);
      if (p === null) {
        const why = bearer(request.headers.authorization) === null
          ? 'send `Authorization: Bearer <token>`'
          : authenticate.configured === 0 ? 'this server has no API tokens configured (LENDPAY_TOKENS_FILE, LENDPAY_READ_TOKEN, LENDPAY_OPERATOR_TOKEN, LENDPAY_WRITE_TOKEN)' : 'the token is not a known one';
        return sendProblem(reply.header('www-authenticate', 'Bearer realm="lendpay"'), new ApiProblem(401, 'UNAUTHORIZED', `missing or unknown bearer token: ${why}`));
      }
      if (!mayCall(p, wanted)) {
        return sendProblem(reply, new ApiProblem(403, 'FORBIDDEN', `the token "${p.name}" has the role ${p.role}; ${route.method} ${route.url} needs ${describeRole(wanted)}`));
      }
      request.principal = p;
    };
    route.onRequest = [...([] as unknown[]).concat(route.onRequest ?? []), check] as NonNullable<typeof route.onRequest>;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    // Data answers are for the caller only: no shared cache keeps them.
    if (!request.routeOptions.config?.public) reply.header('cache-control', 'no-store');
    return payload;
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'lendpay',
        version: '1',
        description: 'Eligibility, disbursement and the state of loans, orders and customers, for the loan business system; the operators\' queue and actions. Amounts are yuan strings with two decimals. Every operation but the public ones takes `Authorization: Bearer <token>`; a token has one role: `read`, `operator` (read, and act on escalations, holds and reprocessing) or `write` (the loan business system). Problems are RFC 9457 problem details with a stable `error` code.',
        license: { name: 'Proprietary' },
      },
      servers: [{ url: 'http://{host}:{port}', description: 'a lendpay worker (LENDPAY_API_HOST, LENDPAY_API_PORT)', variables: { host: { default: '127.0.0.1' }, port: { default: '8080' } } }],
      security: [{ bearer: [] }],
      tags: [
        { name: 'eligibility', description: 'Eligibility and available credit (role write)' },
        { name: 'loans', description: 'Loans: apply and disburse, repay, read (role write; reading also read)' },
        { name: 'orders', description: 'Payment orders and their timelines (roles read and write)' },
        { name: 'customers', description: 'Customers as the operators see them (role read)' },
        { name: 'operators', description: 'The operator queue (read) and the actions on it (operator); the actor is the token\'s name' },
        { name: 'service', description: 'Health, metrics and this document' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token (LENDPAY_TOKENS_FILE or LENDPAY_{READ,OPERATOR,WRITE}_TOKEN); never in a URL' } } },
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
        return sendProblem(reply, new ApiProblem(409, 'IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was used for a different request (${claim.route})`));
      }
      // The first request with this key is still running: wait for its answer a little.
      if (i >= 100) return sendProblem(reply, new ApiProblem(409, 'IDEMPOTENCY_IN_PROGRESS', `a request with Idempotency-Key ${key} is still being processed; retry later`));
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

  app.setNotFoundHandler((request, reply) => sendProblem(reply, new ApiProblem(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));

  app.setErrorHandler(async (err: FastifyError | LendpayError | ApiProblem, request: FastifyRequest, reply: FastifyReply) => {
    if ('validation' in err && err.validation) {
      const errors = err.validation.map((v) => ({ path: fieldPath(err.validationContext ?? 'body', v.instancePath, v.params as Record<string, unknown>), message: v.message ?? 'is invalid' }));
      return sendProblem(reply, new ApiProblem(400, 'INVALID_INPUT', errors.map((e) => `${e.path} ${e.message}`).join('; '), errors));
    }
    if (err instanceof ApiProblem) {
      if (err.status >= 500) request.log.error({ err }, 'request failed');
      return sendProblem(reply, err);
    }
    if (err instanceof LendpayError) {
      const status = err.code === 'NOT_FOUND' ? 404 : err.code.startsWith('INVALID_') ? 400 : err.code === 'CONFLICT' || err.code === 'REQUEST_ID_REUSED' ? 409 : 500;
      if (status === 500) request.log.error({ err }, 'request failed');
      return sendProblem(reply, new ApiProblem(status, err.code, status === 500 ? 'internal error' : err.message));
    }
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) return sendProblem(reply, new ApiProblem(status, (err as FastifyError).code ?? 'BAD_REQUEST', err.message));
    request.log.error({ err }, 'request failed');
    return sendProblem(reply, new ApiProblem(500, 'INTERNAL', 'internal error'));
  });

  for (const mod of [...ROUTES, ...(deps.extensions?.routes ?? [])]) await mod(app, deps);

  app.get('/openapi.json', {
    config: { public: true },
    schema: {
      operationId: 'getOpenApi', summary: 'This document (OpenAPI 3.0)', tags: ['service'], security: PUBLIC,
      response: responses({ 200: { description: 'the OpenAPI document', schema: { type: 'object', additionalProperties: true } } }, PUBLIC_PROBLEMS),
    },
  }, async () => app.swagger());
  app.get('/healthz', {
    config: { public: true },
    schema: {
      operationId: 'getHealth', summary: 'Liveness and database reachability', tags: ['service'], security: PUBLIC,
      response: responses({
        200: { description: 'up, and the database answers', schema: { type: 'object', required: ['ok'], additionalProperties: false, properties: { ok: { type: 'boolean', enum: [true] } } } },
        503: { description: 'the database does not answer', schema: { type: 'object', required: ['ok', 'error'], additionalProperties: false, properties: { ok: { type: 'boolean', enum: [false] }, error: { type: 'string', enum: ['DATABASE_UNAVAILABLE'] } } } },
      }, PUBLIC_PROBLEMS),
    },
  }, async (_req, reply) => {
    try {
      await deps.db.selectFrom('batch_runs').select('id').limit(1).execute();
      return { ok: true };
    } catch {
      return reply.code(503).send({ ok: false, error: 'DATABASE_UNAVAILABLE' });
    }
  });
  return app;
}

function sendProblem(reply: FastifyReply, p: ApiProblem): FastifyReply {
  return reply.code(p.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problemBody(p.status, p.code, p.message, p.errors));
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
