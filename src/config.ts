// The only place that reads process.env: validated, defaulted and frozen up front.
import path from 'node:path';
import { LendpayError } from './errors.ts';

export interface Config {
  /** null: use the embedded PostgreSQL under dataDir. */
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly rulesDir: string;
  readonly chunkSize: number;
  readonly workerConcurrency: number;
  readonly logLevel: string;
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
  /** bearer token the loan business system sends on writes; null: every write is refused (401) */
  readonly apiToken: string | null;
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
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const chunkSize = intVar(env, 'LENDPAY_CHUNK_SIZE', 1000, 1, 50_000);
  const workerConcurrency = intVar(env, 'LENDPAY_WORKER_CONCURRENCY', 2, 1, 64);
  const url = env['DATABASE_URL']?.trim();
  if (url !== undefined && url !== '' && !/^postgres(ql)?:\/\//.test(url)) {
    throw new LendpayError('INVALID_CONFIG', `DATABASE_URL: expected postgres://…, got "${url}"`);
  }
  return Object.freeze({
    databaseUrl: url ? url : null,
    dataDir: path.resolve(cwd, env['LENDPAY_DATA_DIR'] || '.lendpay'),
    rulesDir: path.resolve(cwd, env['LENDPAY_RULES_DIR'] || 'rules'),
    chunkSize,
    workerConcurrency,
    logLevel: env['LENDPAY_LOG_LEVEL'] || 'info',
    channelUrl: urlVar(env, 'LENDPAY_CHANNEL_URL'),
    channelTimeoutMs: intVar(env, 'LENDPAY_CHANNEL_TIMEOUT_MS', 5000, 50, 120_000),
    lenderAccountId: env['LENDPAY_LENDER_ACCOUNT'] || 'LENDER-BAL',
    lenderCardId: env['LENDPAY_LENDER_CARD'] || 'LENDER-CARD',
    allowLegacyMode: boolVar(env, 'LENDPAY_ALLOW_LEGACY_MODE'),
    crashPoint: env['LENDPAY_CRASH_POINT'] || null,
    apiHost: env['LENDPAY_API_HOST'] || '127.0.0.1',
    apiPort: intVar(env, 'LENDPAY_API_PORT', 8080, 0, 65_535),
    apiToken: tokenVar(env, 'LENDPAY_API_TOKEN'),
    scheduleFile: path.resolve(cwd, env['LENDPAY_SCHEDULE_FILE'] || 'jobs/schedule.json'),
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
  });
}

function urlVar(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  if (!/^https?:\/\/[^/]+/.test(raw)) throw new LendpayError('INVALID_CONFIG', `${name}: expected http(s)://host:port, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

function tokenVar(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  // Never echo the value: it is a secret.
  if (raw.length < 16) throw new LendpayError('INVALID_CONFIG', `${name}: expected at least 16 characters`);
  return raw;
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
