// The dashboard on a new installation (nothing imported, no batch run, no loan): every
// view says it is empty instead of showing blank tables or broken charts, and a view
// whose data is on its way says it is loading. Headless Chromium, as dashboard.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, chromiumInstalled, CHROMIUM, dashboardWorld, launch, READ_TOKEN, type DashboardWorld } from './dashboard-world.ts';

if (!chromiumInstalled) {
  console.log(`dashboard empty-state tests SKIPPED: ${CHROMIUM} is not installed`);
  test.skip('dashboard empty and loading states (no /usr/bin/chromium)', () => {});
} else {
  let w: DashboardWorld;
  let browser: Awaited<ReturnType<typeof launch>>;
  const problems: string[] = [];

  test.before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    w = await dashboardWorld('dash_empty', { size: 0, queued: false });
    browser = await launch();
  });
  test.after(async () => {
    await browser?.close();
    await w?.close();
  });

  async function signedIn(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${w.api.url}/`);
    await page.fill('#signin-token', READ_TOKEN);
    await page.click('#signin-form button[type="submit"]');
    await page.locator('#who:not([hidden])').waitFor({ timeout: 10_000 });
    return page;
  }

  test('empty installation: the overview says there is nothing yet, in every section', async () => {
    const page = await signedIn();
    await page.locator('#runs .empty', { hasText: 'No batch run yet.' }).waitFor({ timeout: 10_000 });
    assert.is(await page.textContent('#queue tbody'), 'Nothing waits for an operator.');
    assert.is(await page.textContent('#stuck tbody'), 'No stuck order.');
    assert.is(await page.textContent('#alerts tbody'), 'No open alert.');
    assert.is(await page.textContent('#loans tbody'), 'No loan yet.');
    assert.is(await page.textContent('#holds-summary'), '¥0.00 on hold');
    assert.match((await page.textContent('#holds-detail')) ?? '', /^0 open holds · 0 borrowers with outflow blocked$/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'empty-overview.png'), fullPage: true });
    await page.close();
  });

  test('empty installation: the holds list and every chart say they have nothing to show', async () => {
    const page = await signedIn();
    await page.click('#nav a[data-nav="holds"]');
    await page.locator('#holds-table .empty', { hasText: 'No open hold and no blocked borrower.' }).waitFor({ timeout: 10_000 });
    await page.click('#nav a[data-nav="charts"]');
    await page.locator('#status', { hasText: 'charts from' }).waitFor({ timeout: 10_000 });
    for (const [id, text] of [['disbursed', 'No payouts'], ['collected', 'Nothing collected'], ['rate', 'No post-settlement batch'], ['holds', 'No hold'], ['orders', 'No order created']]) {
      assert.ok(await page.locator(`#chart-${id}-box .empty`).isVisible(), `${id}: empty state shown`);
      assert.match((await page.textContent(`#chart-${id}-box .empty`)) ?? '', new RegExp(`^${text}`));
      assert.ok(await page.locator(`#chart-${id}-box .chart`).isHidden(), `${id}: no blank chart`);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'empty-charts.png'), fullPage: true });
    await page.fill('#search', 'M404');
    await page.press('#search', 'Enter');
    await page.locator('#timeline li', { hasText: 'No order M404.' }).waitFor({ timeout: 10_000 });
    await page.goto(`${w.api.url}/#/customers/M404`);
    await page.locator('#status', { hasText: 'No customer M404.' }).waitFor({ timeout: 10_000 });
    await page.close();
  });

  test('a view whose data is on its way says "loading…", then shows the answer', async () => {
    const page = await signedIn();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    await page.route('**/dashboard/holds?**', async (route) => { await held; await route.continue(); });
    await page.click('#nav a[data-nav="holds"]');
    await page.locator('#holds-table .loading', { hasText: 'loading…' }).waitFor({ timeout: 10_000 });
    assert.is(await page.locator('#holds-table .empty').count(), 0, 'not "empty" before the answer');
    release();
    await page.locator('#holds-table .empty', { hasText: 'No open hold' }).waitFor({ timeout: 10_000 });
    assert.is(await page.locator('#holds-table .loading').count(), 0);
    await page.close();
  });

  test('no CSP violation or script error on the empty views', () => {
    assert.equal(problems, []);
  });
}

test.run();
