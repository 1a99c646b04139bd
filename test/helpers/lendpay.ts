// Shared by tests that drive the real CLI (a child process on the test's database and
// sandbox) and the HTTP API with the rule set loaded.
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { World } from '../disbursement/setup.ts';
import { buildApi, type ApiDeps } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import { systemClock } from '../../src/dates.ts';
import type { RuleSet } from '../../src/rules/load.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/bin.js');

/** `lendpay <args>` against the world's database and sandbox: exit code, stdout, stderr. */
export function runLendpay(w: World, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: w.t.url, LENDPAY_CHANNEL_URL: w.server.url, ...env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The API (not listening: app.inject) with the world's disbursement and the rule set. */
/** The read token apiWithRules gives beside the write token `token`: the views and vouchers take it. */
export const readTokenOf = (token: string) => `${token}-read`;
export const readHeaders = (token: string) => ({ authorization: `Bearer ${readTokenOf(token)}` });

export async function apiWithRules(w: World, rules: RuleSet, token: string, extra: Partial<ApiDeps> = {}): Promise<FastifyInstance> {
  const app = await buildApi({
    db: w.t.db, log: makeLogger('silent'), clock: systemClock, host: '127.0.0.1', port: 0,
    apiToken: token, tokens: [{ name: 'reader', role: 'read', token: readTokenOf(token) }],
    stuckAfterMinutes: 10, disburseDeps: async () => w.deps, rules: async () => rules, ...extra,
  });
  await app.ready();
  return app;
}
