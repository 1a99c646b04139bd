// Shared by the disbursement tests: a fresh database with customers and today's
// decisions, the real sandbox over HTTP with the accounts opened, and the deps.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { importCustomersFile } from '../../db/import.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { saveRuleSet } from '../../db/rulesets.repository.ts';
import { insertDecisions, loadEligibilityInputs } from '../../db/eligibility.repository.ts';
import { compileEligibility } from '../../src/eligibility/evaluate.ts';
import { businessDateAt, monthsBefore, systemClock, type Clock } from '../../src/dates.ts';
import { startSandbox, type SandboxServer } from '../../src/sandbox/server.ts';
import { createHttpChannel } from '../../src/channel/http-channel.ts';
import { adminGet, adminPost, openImportedOnSandbox, openLenderAccounts } from '../../src/sandbox/admin.ts';
import type { DisburseDeps } from '../../src/disbursement/disburse.ts';
import { checkLedger } from '../../src/ledger/reconcile.ts';

export const LENDER = { accountId: 'LENDER-BAL', cardId: 'LENDER-CARD' };

function flows(today: string, months: number, amount: string): Record<string, string> {
  return Object.fromEntries(monthsBefore(today as never, months).map((m) => [m, amount]));
}

export interface World {
  t: TestDatabase;
  server: SandboxServer;
  deps: DisburseDeps;
  admin(route: string, body: unknown): Promise<any>;
  adminGet(route: string): Promise<any>;
  ledgerOk(): Promise<{ balanced: boolean; agrees: boolean }>;
  close(): Promise<void>;
}

/** Customers: G1..G9 (or opts.customers) eligible, accounts A (primary), B, C and card K1; (limit 300,000.00 each), X1 ineligible (external, no whitelist). */
export async function world(label: string, opts: { clock?: Clock; timeoutMs?: number; customers?: number } = {}): Promise<World> {
  const clock = opts.clock ?? systemClock;
  const today = businessDateAt(clock.now());
  const t = await freshDatabase(label);
  const lines = [];
  for (let i = 1; i <= (opts.customers ?? 9); i++) {
    lines.push({
      id: `G${i}`, name: 'n', segment: 'open_platform', realNameVerified: true, whitelist: null,
      accounts: [{ id: `G${i}-A`, primary: true, balance: '10.00' }, { id: `G${i}-B`, primary: false, balance: '0.00' }, { id: `G${i}-C`, primary: false, balance: '0.00' }],
      bankCards: [{ id: `G${i}-K1`, bank: 'CMB', last4: '9651', balance: '0.00' }],
      monthlyFlow: flows(today, 6, '100000.00'),
    });
  }
  lines.push({ id: 'X1', name: 'n', segment: 'external', realNameVerified: true, whitelist: null, accounts: [{ id: 'X1-A', primary: true, balance: '0.00' }], bankCards: [], monthlyFlow: {} });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-')), 'c.jsonl');
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  await importCustomersFile(t.db, file);

  const ruleSet = await loadRuleSet(path.resolve('rules'));
  await saveRuleSet(t.db, ruleSet.hash, 'rules', ruleSet.files);
  const ev = compileEligibility(ruleSet.eligibility);
  const inputs = await loadEligibilityInputs(t.db, '', null, monthsBefore(today, ev.flowMonths));
  await insertDecisions(t.db, today, null, ruleSet.hash, inputs.map((x) => ev.evaluate(x, today)));

  const server = await startSandbox({ databaseUrl: t.url, port: 0, host: '127.0.0.1', calendar: ruleSet.calendar! });
  await openLenderAccounts(server, LENDER);
  await openImportedOnSandbox(t.db, server);
  const channel = createHttpChannel({ baseUrl: server.url, timeoutMs: opts.timeoutMs ?? 1500 });
  const deps: DisburseDeps = { db: t.db, channel, clock, calendar: ruleSet.calendar!, pricing: ruleSet.pricing!, lender: LENDER, allowLegacyMode: false };
  return {
    t, server, deps,
    admin: (route, body) => adminPost(server, route, body),
    adminGet: (route) => adminGet(server, route),
    async ledgerOk() {
      const c = await checkLedger(t.db, channel, LENDER.accountId);
      return { balanced: c.balanced, agrees: c.platform.every((p) => p.agrees) };
    },
    async close() {
      await server.close();
      await t.drop();
    },
  };
}
