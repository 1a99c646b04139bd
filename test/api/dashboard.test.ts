// The dashboard in a real headless browser (Debian's chromium through playwright-core):
// load the page, see a finished batch run and the order funnel, search an order and
// see its timeline. Skipped, saying so, where /usr/bin/chromium is not installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PgBoss } from 'pg-boss';
import { world, type World } from '../disbursement/setup.ts';
import { startApi, type ApiServer } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import { businessDateAt, systemClock } from '../../src/dates.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { ordersOfLoan } from '../../db/orders.repository.ts';
import { startBoss } from '../../jobs/boss.ts';
import { startNightlyRun, workNightly } from '../../jobs/nightly.ts';
import { makeEvaluatorCache } from '../../jobs/evaluators.ts';
import { findBatchRun } from '../../db/batch.repository.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import type { Fen } from '../../src/money.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM);

if (!available) {
  console.log(`dashboard browser test SKIPPED: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
  test.skip('dashboard in headless chromium (no /usr/bin/chromium)', () => {});
} else {
  let w: World;
  let api: ApiServer;
  let boss: PgBoss;
  let payoutKey = '';

  test.before(async () => {
    w = await world('dashboard');
    // One loan disbursed, and a nightly run finished through real pg-boss jobs.
    const res = await applyForLoan(w.deps, { customerId: 'G1', amount: 1_234_500 as Fen, rail: 'balance', requestId: 'dash-1' });
    assert.ok(res.ok);
    payoutKey = (await ordersOfLoan(w.t.db, res.ok ? res.loan.id : '')).find((o) => o.kind === 'payout')!.idempotencyKey;
    boss = await startBoss(w.t.url);
    const date = businessDateAt(new Date());
    await startNightlyRun(w.t.db, boss, date, (await loadRuleSet(path.resolve('rules'))).hash, 3);
    await workNightly(boss, { db: w.t.db, evaluatorFor: makeEvaluatorCache(w.t.db) }, 2);
    for (let i = 0; i < 100 && (await findBatchRun(w.t.db, 'nightly', date))?.status !== 'finished'; i++) await new Promise((r) => setTimeout(r, 100));
    api = await startApi({
      db: w.t.db, log: makeLogger('silent'), clock: systemClock, host: '127.0.0.1', port: 0, apiToken: null, stuckAfterMinutes: 10,
      disburseDeps: async () => w.deps,
    });
  });
  test.after(async () => {
    await api?.close();
    await boss?.stop({ graceful: false, close: true }).catch(() => {});
    await w?.close();
  });

  test('dashboard: batch run, funnel, loans; search opens an order timeline', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${api.url}/`);
      await page.locator('#runs tbody tr', { hasText: 'finished' }).first().waitFor({ timeout: 10_000 });
      const runText = await page.locator('#runs tbody tr').first().textContent();
      assert.match(runText ?? '', /nightly/);
      assert.match(runText ?? '', /4 \/ 4/); // 10 customers in chunks of 3
      assert.match((await page.locator('#funnel [data-state="succeeded"]').textContent()) ?? '', /2/);
      assert.match((await page.locator('#loans tbody').textContent()) ?? '', /12345\.00/);

      await page.fill('#search', payoutKey);
      await page.press('#search', 'Enter');
      await page.locator('#timeline li[data-kind="journal"]').waitFor({ timeout: 10_000 });
      const tl = (await page.locator('#timeline').textContent()) ?? '';
      assert.match(tl, new RegExp(`${payoutKey}#1`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(tl, /succeeded/);

      // Values are shown as text, never as markup.
      await page.fill('#search', '<img src=x onerror=alert(1)>');
      await page.press('#search', 'Enter');
      await page.locator('#tl-body', { hasText: 'no order' }).waitFor({ timeout: 10_000 });
      assert.is(await page.locator('#timeline img').count(), 0);

      await page.fill('#search', payoutKey);
      await page.press('#search', 'Enter');
      await page.locator('#timeline li[data-kind="journal"]').waitFor({ timeout: 10_000 });
      await page.screenshot({ path: path.join(os.tmpdir(), 'lendpay-dashboard.png'), fullPage: true });
      assert.equal(errors, []);
    } finally {
      await browser.close();
    }
  });
}

test.run();
