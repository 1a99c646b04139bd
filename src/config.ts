// The only place that reads process.env: validated, defaulted and frozen up front.
// A bad setting is one line: its name and what is allowed, never its value when that
// could hold a secret (a password in a URL, a token).
import fs from 'node:fs';
import path from 'node:path';
import { LendpayError } from './errors.ts';

/** What a token may do on the API (the auth contract): see README, "Roles and tokens". */
export const ROLES = ['read', 'operator', 'write'] as const;
export type Role = (typeof ROLES)[number];

/** One API token: its holder's name (recorded in audit rows), its role, the secret. */
export interface ApiToken {
  readonly name: string;
  readonly role: Role;
  readonly token: string;
}

/** Token names end up in audit rows and logs: a short plain name, as an operator's --by. */
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MIN_TOKEN_CHARS = 16;

export interface Config {
  /** null: use the embedded PostgreSQL under dataDir. */
  readonly databaseUrl: string | null;
  /**
   * The project's own directory for the embedded PostgreSQL and the demo's files:
   * LENDPAY_DATA_DIR, else `.lendpay/` in the project directory found by walking up
   * from the working directory (as git finds .git); null outside a project.
   */
  readonly dataDir: string | null;
  readonly rulesDir: string;
  readonly chunkSize: number;
  readonly workerConcurrency: number;
  readonly logLevel: string;
  /** the worker's log: JSON lines, pino-pretty's lines, or auto (pretty on a terminal) */
  readonly logFormat: 'auto' | 'json' | 'pretty';
  /** the payment platform; null: start the sandbox in-process on lendpay's database */
  readonly channelUrl: string | null;
  readonly channelTimeoutMs: number;
  /** the lender's balance account and funding card on the platform */
  readonly lenderAccountId: string;
  readonly lenderCardId: string;
  /** legacy top-up-then-payout disbursement, only for migrating old loans */
  readonly allowLegacyMode: boolean;
  /**
   * Fault injection for crash tests and the chaos harness: the process kills itself
   * (SIGKILL) at this named point, e.g. "after-send:disburse.payout". Never set in production.
   */
  readonly crashPoint: string | null;
  /** the worker's HTTP server (API, dashboard, /metrics) */
  readonly apiHost: string;
  readonly apiPort: number;
  /** LENDPAY_API_TOKEN (kept for compatibility): a `write` token named `api`; also in apiTokens */
  readonly apiToken: string | null;
  /**
   * Every API token: LENDPAY_TOKENS_FILE, then LENDPAY_READ_TOKEN / LENDPAY_OPERATOR_TOKEN /
   * LENDPAY_WRITE_TOKEN (named read, operator, write) and LENDPAY_API_TOKEN (write, named api).
   * Empty: every route but the public ones answers 401.
   */
  readonly apiTokens: readonly ApiToken[];
  /** /metrics answers without a token (LENDPAY_METRICS_PUBLIC=1); else it needs the read role */
  readonly metricsPublic: boolean;
  /** the sandbox platform's admin routes (/admin/*) take this bearer token; null: in-process makes a random one */
  readonly sandboxAdminToken: string | null;
  /**
   * With no LENDPAY_CHANNEL_URL, start the sandbox platform inside this process
   * (LENDPAY_SANDBOX_IN_PROCESS=1: the demo, development, tests). Off by default: a
   * command never starts a payment platform with admin routes by itself.
   */
  readonly sandboxInProcess: boolean;
  /** the cron schedule of `lendpay worker` (ops data, not risk rules) */
  readonly scheduleFile: string;
  /** an order submitted/unknown longer than this is "stuck" on the dashboard and in /metrics */
  readonly stuckAfterMinutes: number;
  /** API writes allowed per minute per bearer token (per client address without a valid one); more: 429 */
  readonly apiWritesPerMinute: number;
  /** the largest request body the API reads, in bytes; larger: 413 */
  readonly apiBodyLimitBytes: number;
  /** the CLI prints the stack trace of an unexpected error (never by default) */
  readonly debug: boolean;
  /** where new alerts are POSTed as JSON; null: stored, logged and shown only */
  readonly alertWebhook: string | null;
  /** group commit of loan applications: how long a group waits for company, its largest size, groups at once */
  readonly group: { readonly maxWaitMs: number; readonly maxSize: number; readonly concurrency: number };
  /** a worker that loses its database while starting tries again for this long, then gives up; 0: never */
  readonly workerStartTimeoutSeconds: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const chunkSize = intVar(env, 'LENDPAY_CHUNK_SIZE', 1000, 1, 50_000);
  const workerConcurrency = intVar(env, 'LENDPAY_WORKER_CONCURRENCY', 2, 1, 64);
  const url = env['DATABASE_URL']?.trim();
  if (url !== undefined && url !== '' && !/^postgres(ql)?:\/\/./.test(url)) {
    // the URL may carry a password: name its scheme only
    throw new LendpayError('INVALID_CONFIG', `DATABASE_URL: expected postgres://user:password@host:port/database, got ${schemeOf(url)}`);
  }
  const project = findProjectDir(cwd);
  const home = project ?? cwd;
  return Object.freeze({
    databaseUrl: url ? url : null,
    dataDir: env['LENDPAY_DATA_DIR'] ? path.resolve(cwd, env['LENDPAY_DATA_DIR']) : project === null ? null : path.join(project, '.lendpay'),
    rulesDir: path.resolve(cwd, env['LENDPAY_RULES_DIR'] || path.join(home, 'rules')),
    chunkSize,
    workerConcurrency,
    logLevel: choiceVar(env, 'LENDPAY_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    logFormat: choiceVar(env, 'LENDPAY_LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto'),
    channelUrl: urlVar(env, 'LENDPAY_CHANNEL_URL'),
    channelTimeoutMs: intVar(env, 'LENDPAY_CHANNEL_TIMEOUT_MS', 5000, 50, 120_000),
    lenderAccountId: env['LENDPAY_LENDER_ACCOUNT'] || 'LENDER-BAL',
    lenderCardId: env['LENDPAY_LENDER_CARD'] || 'LENDER-CARD',
    allowLegacyMode: boolVar(env, 'LENDPAY_ALLOW_LEGACY_MODE'),
    crashPoint: env['LENDPAY_CRASH_POINT'] || null,
    apiHost: env['LENDPAY_API_HOST'] || '127.0.0.1',
    apiPort: intVar(env, 'LENDPAY_API_PORT', 8080, 0, 65_535),
    apiToken: tokenVar(env, 'LENDPAY_API_TOKEN'),
    apiTokens: apiTokens(env, cwd),
    metricsPublic: boolVar(env, 'LENDPAY_METRICS_PUBLIC'),
    sandboxAdminToken: tokenVar(env, 'LENDPAY_SANDBOX_ADMIN_TOKEN'),
    sandboxInProcess: boolVar(env, 'LENDPAY_SANDBOX_IN_PROCESS'),
    scheduleFile: path.resolve(cwd, env['LENDPAY_SCHEDULE_FILE'] || path.join(home, 'jobs/schedule.json')),
    stuckAfterMinutes: intVar(env, 'LENDPAY_STUCK_AFTER_MINUTES', 10, 1, 10_000),
    alertWebhook: urlVar(env, 'LENDPAY_ALERT_WEBHOOK'),
    apiWritesPerMinute: intVar(env, 'LENDPAY_API_WRITES_PER_MINUTE', 600, 1, 1_000_000),
    apiBodyLimitBytes: intVar(env, 'LENDPAY_API_BODY_LIMIT_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    debug: boolVar(env, 'LENDPAY_DEBUG'),
    group: Object.freeze({
      maxWaitMs: intVar(env, 'LENDPAY_GROUP_WAIT_MS', 2, 0, 1000),
      maxSize: intVar(env, 'LENDPAY_GROUP_MAX', 200, 1, 1000),
      concurrency: intVar(env, 'LENDPAY_GROUP_CONCURRENCY', 4, 1, 64),
    }),
    workerStartTimeoutSeconds: intVar(env, 'LENDPAY_WORKER_START_TIMEOUT_SECONDS', 120, 0, 86_400),
  });
}

/**
 * The nearest of `cwd` and its parents that holds lendpay's package.json, as git finds
 * .git: `cd rules && npx lendpay …` works on the project's database, not a new one.
 */
export function findProjectDir(cwd: string): string | null {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'lendpay') return dir;
    } catch {
      // no package.json here, or not JSON: keep walking
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/** The data directory, or the one-line refusal outside a project. */
export function requireDataDir(config: Config, what = 'the embedded PostgreSQL'): string {
  if (config.dataDir !== null) return config.dataDir;
  throw new LendpayError('INVALID_CONFIG', `not inside a lendpay project (no lendpay package.json in ${process.cwd()} or any parent), so there is no .lendpay/ for ${what}: cd into your lendpay clone, or set LENDPAY_DATA_DIR (or DATABASE_URL)`);
}

/** What kind of value a setting had, without the value: `a "mysql:" URL`, `no URL`. */
function schemeOf(raw: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(raw);
  return m ? `a "${m[1]}:" URL` : 'something that is not a URL';
}

function urlVar(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  // a webhook URL may carry a token: never echo it
  if (!/^https?:\/\/[^/]+/.test(raw)) throw new LendpayError('INVALID_CONFIG', `${name}: expected http(s)://host:port, got ${schemeOf(raw)}`);
  return raw.replace(/\/+$/, '');
}

function tokenVar(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  // Never echo the value: it is a secret.
  if (raw.length < MIN_TOKEN_CHARS) throw new LendpayError('INVALID_CONFIG', `${name}: expected at least ${MIN_TOKEN_CHARS} characters`);
  if (/\s/.test(raw)) throw new LendpayError('INVALID_CONFIG', `${name}: expected no spaces`);
  return raw;
}

function choiceVar<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], dflt: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new LendpayError('INVALID_CONFIG', `${name}: expected one of ${allowed.join(', ')}, got "${raw}"`);
}

/**
 * The tokens file (`[{"name", "role", "token"}]`) and the per-role variables, checked
 * together: names unique, tokens unique (one token, one holder), never a token's value
 * in a message.
 */
function apiTokens(env: NodeJS.ProcessEnv, cwd: string): readonly ApiToken[] {
  const out: ApiToken[] = [];
  const file = env['LENDPAY_TOKENS_FILE']?.trim();
  if (file) {
    const where = `LENDPAY_TOKENS_FILE (${path.resolve(cwd, file)})`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(path.resolve(cwd, file), 'utf8'));
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? 'not valid JSON';
      throw new LendpayError('INVALID_CONFIG', `${where}: cannot be read (${why})`);
    }
    if (!Array.isArray(parsed)) throw new LendpayError('INVALID_CONFIG', `${where}: expected a JSON array of {"name", "role", "token"}`);
    parsed.forEach((entry: unknown, i) => {
      const at = `${where}: [${i}]`;
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new LendpayError('INVALID_CONFIG', `${at}: expected {"name", "role", "token"}`);
      const e = entry as Record<string, unknown>;
      const extra = Object.keys(e).find((k) => k !== 'name' && k !== 'role' && k !== 'token');
      if (extra !== undefined) throw new LendpayError('INVALID_CONFIG', `${at}: unknown key ${JSON.stringify(extra.slice(0, 40))} (expected name, role, token)`);
      if (typeof e.name !== 'string' || !TOKEN_NAME.test(e.name)) throw new LendpayError('INVALID_CONFIG', `${at}.name: expected 1-64 letters, digits, ".", "_", "@" or "-" (it is recorded as the actor of what the token does)`);
      if (typeof e.role !== 'string' || !(ROLES as readonly string[]).includes(e.role)) throw new LendpayError('INVALID_CONFIG', `${at}.role: expected one of ${ROLES.join(', ')}`);
      if (typeof e.token !== 'string' || e.token.length < MIN_TOKEN_CHARS || /\s/.test(e.token)) throw new LendpayError('INVALID_CONFIG', `${at}.token: expected at least ${MIN_TOKEN_CHARS} characters, no spaces`);
      out.push({ name: e.name, role: e.role as Role, token: e.token });
    });
  }
  for (const [name, role, variable] of [['read', 'read', 'LENDPAY_READ_TOKEN'], ['operator', 'operator', 'LENDPAY_OPERATOR_TOKEN'], ['write', 'write', 'LENDPAY_WRITE_TOKEN'], ['api', 'write', 'LENDPAY_API_TOKEN']] as const) {
    const token = tokenVar(env, variable);
    if (token !== null) out.push({ name, role, token });
  }
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const t of out) {
    if (names.has(t.name)) throw new LendpayError('INVALID_CONFIG', `API tokens: the name "${t.name}" is given twice (LENDPAY_TOKENS_FILE and the LENDPAY_*_TOKEN variables share one list of names)`);
    if (secrets.has(t.token)) throw new LendpayError('INVALID_CONFIG', `API tokens: the token of "${t.name}" is also another name's token; each holder needs a token of its own`);
    names.add(t.name);
    secrets.add(t.token);
  }
  return Object.freeze(out.map((t) => Object.freeze(t)));
}

function boolVar(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new LendpayError('INVALID_CONFIG', `${name}: expected 1/true or 0/false, got "${raw}"`);
}

function intVar(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new LendpayError('INVALID_CONFIG', `${name}: expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}
