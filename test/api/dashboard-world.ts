// Shared by the dashboard's browser tests: a database filled by the real flows (the
// demo's seeded population, nightly batches, loans by rail, the marketplace
// settlement, post-settlement collection, the hold monitor), one escalation waiting
// for an operator, the HTTP API over it, and headless Chromium as the project runs it.
//
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { createContext, type Context } from '../../src/cli/context.ts';
import { runDemo } from '../../src/cli/demo.ts';
import { escalationDeps } from '../../src/cli/commands/ops.ts';
import { collectionDeps } from '../../src/cli/commands/collection.ts';
import { startApi, type ApiServer } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { adminPost } from '../../src/sandbox/admin.ts';
import { businessDateAt, systemClock, type BusinessDate } from '../../src/dates.ts';
import type { Fen } from '../../src/money.ts';
import type { ApiToken } from '../../src/config.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumInstalled = fs.existsSync(CHROMIUM);

/** The API's named tokens, each with its role, as a deployment's token file gives them. */
export const READ_TOKEN = 'read-token-0123456789abcdef';
export const OPERATOR_TOKEN = 'operator-token-0123456789abcd';
export const WRITE_TOKEN = 'write-token-0123456789abcdefg';
export const TOKENS: readonly ApiToken[] = [
  { name: 'viewer-bob', role: 'read', token: READ_TOKEN },
  { name: 'ops-alice', role: 'operator', token: OPERATOR_TOKEN },
  { name: 'loan-system', role: 'write', token: WRITE_TOKEN },
];

export interface DashboardWorld {
  t: TestDatabase;
  ctx: Context;
  date: BusinessDate;
  api: ApiServer;
  platformUrl: string;
  /** the payout waiting for an operator, its loan */
  queuedOrder: number;
  queuedLoan: string;
  close(): Promise<void>;
}

export async function dashboardWorld(label: string, opts: { size?: number; loans?: number; queued?: boolean } = {}): Promise<DashboardWorld> {
  const t = await freshDatabase(label);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-dash-'));
  const ctx = createContext({ ...process.env, DATABASE_URL: t.url, LENDPAY_DATA_DIR: dataDir, LENDPAY_SANDBOX_IN_PROCESS: '1' });
  const date = businessDateAt(new Date());
  let queuedOrder = 0;
  let queuedLoan = '';
  if ((opts.size ?? 400) > 0) {
    await runDemo(ctx, { size: opts.size ?? 400, loans: opts.loans ?? 60, seed: 7, date }, () => {});
  } else {
    await ctx.database();
  }
  const { url: platformUrl, sandbox } = await ctx.platform();
  if (!sandbox) throw new Error('the dashboard world needs the in-process sandbox');
  if (opts.queued ?? true) {
    // A large payout that fails with the channel unavailable: the escalation rules ask an
    // operator to confirm the platform's resend, so it waits in the queue.
    const who = await t.db.selectFrom('eligibility_decisions').select(['customer_id', 'limit_fen'])
      .where('business_date', '=', date).where('eligible', '=', true).where('limit_fen', '>', 10_000_000)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('loans').select('loans.id').whereRef('loans.customer_id', '=', 'eligibility_decisions.customer_id'))))
      .orderBy('limit_fen', 'desc').executeTakeFirst();
    assert.ok(who, 'the demo population has a whitelisted customer with a limit above 100,000.00 and no loan');
    await adminPost(sandbox, '/admin/faults', { seed: 7, rules: [{ op: 'payout', rate: 1, kind: 'fail', code: 'CHANNEL_UNAVAILABLE' }] });
    const r = await applyForLoan(await ctx.disburseDeps(), { customerId: who.customer_id, amount: 10_000_100 as Fen, rail: 'balance', requestId: `dash-queued-${label}` });
    await adminPost(sandbox, '/admin/faults', { seed: 0, rules: [] });
    assert.ok(r.ok && r.loan.status === 'disbursing', JSON.stringify(r));
    queuedLoan = r.ok ? r.loan.id : '';
    const o = await t.db.selectFrom('orders').select('id').where('loan_id', '=', queuedLoan).where('kind', '=', 'payout').executeTakeFirstOrThrow();
    queuedOrder = o.id;
  }
  const api = await startApi({
    db: t.db, log: makeLogger('silent'), clock: systemClock, host: '127.0.0.1', port: 0, stuckAfterMinutes: 10,
    apiToken: null, tokens: TOKENS,
    disburseDeps: () => ctx.disburseDeps(), escalationDeps: () => escalationDeps(ctx), collectionDeps: () => collectionDeps(ctx),
  });
  return {
    t, ctx, date, api, platformUrl, queuedOrder, queuedLoan,
    async close() {
      await api.close();
      await ctx.close();
      await t.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Screenshots of each view, kept as test artifacts (CI keeps the folder). */
export const ARTIFACTS = path.resolve(process.env['LENDPAY_TEST_ARTIFACTS'] ?? 'test-artifacts', 'dashboard');

export async function launch(opts: { timezoneId?: string } = {}) {
  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-chromium-'));
  // launchPersistentContext: a fresh --user-data-dir of our own, removed after.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
