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
  });
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
