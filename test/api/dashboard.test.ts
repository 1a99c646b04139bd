// The dashboard in headless Chromium (Debian's, through playwright-core), over a
// database the real flows filled (the demo's population, loans by rail, settlement,
// collection, the hold monitor) plus one escalation waiting for an operator. Each
// test asserts what a view shows against the database, under the real CSP, with the
// browser in another time zone than Asia/Shanghai; screenshots of each view are kept
// in test-artifacts/dashboard/. Skipped, saying so, where /usr/bin/chromium is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import type { Page } from 'playwright-core';
import {
  ARTIFACTS, chromiumInstalled, CHROMIUM, dashboardWorld, launch, OPERATOR_TOKEN, READ_TOKEN, WRITE_TOKEN, type DashboardWorld,
} from './dashboard-world.ts';
import { CONTENT_SECURITY_POLICY } from '../../src/api/headers.ts';
import { formatYuanGrouped } from '../../src/money.ts';

const yuan = (fen: number) => `¥${formatYuanGrouped(fen)}`;
const shanghai = (d: Date) => DateTime.fromJSDate(d, { zone: 'Asia/Shanghai' }).toFormat('yyyy-MM-dd HH:mm:ss');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

if (!chromiumInstalled) {
  console.log(`dashboard browser tests SKIPPED: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
  test.skip('dashboard in headless chromium (no /usr/bin/chromium)', () => {});
} else {
  let w: DashboardWorld;
  let browser: Awaited<ReturnType<typeof launch>>;
  /** every console message about the Content-Security-Policy, on any page of any test */
  const violations: string[] = [];
  const pageErrors: string[] = [];

  test.before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    w = await dashboardWorld('dashboard');
    browser = await launch({ timezoneId: 'America/New_York' });
  });
  test.after(async () => {
    await browser?.close();
    await w?.close();
  });

  async function newPage(): Promise<{ page: Page; requests: { url: string; auth: string | undefined; method: string; body: string | null }[] }> {
    const page = await browser.context.newPage();
    const requests: { url: string; auth: string | undefined; method: string; body: string | null }[] = [];
    page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers()['authorization'], method: r.method(), body: r.postData() }));
    return { page, requests };
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${w.api.url}/`);
    await page.locator('#signin-token').fill(token);
    await page.locator('#signin-form button[type="submit"]').click();
    await page.locator('#who:not([hidden])').waitFor({ timeout: 10_000 });
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  test('headers: the shell, its assets and the data answers carry the CSP, nosniff and no-referrer; the shell has no inline script or style', async () => {
    for (const [url, auth] of [['/', null], ['/dashboard/app.js', null], ['/dashboard/app.css', null], ['/dashboard/vendor/chart.umd.min.js', null], ['/dashboard/summary', READ_TOKEN], ['/dashboard/summary', null]] as const) {
      const r = await fetch(`${w.api.url}${url}`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });
      assert.is(r.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, url);
      assert.is(r.headers.get('x-content-type-options'), 'nosniff', url);
      assert.is(r.headers.get('referrer-policy'), 'no-referrer', url);
      assert.is(r.status, auth === null && url === '/dashboard/summary' ? 401 : 200, url);
    }
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
    assert.not.match(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
    const html = await (await fetch(`${w.api.url}/`)).text();
    assert.not.match(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'every script is a file');
    assert.not.match(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
    assert.not.match(html, /https?:\/\//, 'nothing from another origin (no CDN)');
    assert.is((await fetch(`${w.api.url}/dashboard/app.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
    // the shell holds no data: the same bytes whoever asks
    assert.is(html, await (await fetch(`${w.api.url}/`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).text());
  });

  test('the policy is in force in the page: an inline script is refused, and the dashboard itself causes no violation', async () => {
    const { page } = await newPage();
    const before = violations.length;
    await signIn(page, READ_TOKEN);
    await page.locator('#runs tbody tr[data-run-id]').first().waitFor({ timeout: 10_000 });
    assert.is(violations.length, before, `no violation from the dashboard: ${violations.slice(before).join(' | ')}`);
    await page.evaluate(() => { const d = (globalThis as any).document; const s = d.createElement('script'); s.textContent = 'window.__inline = 1'; d.body.appendChild(s); });
    await page.waitForTimeout(200);
    assert.is(await page.evaluate(() => (globalThis as any).__inline ?? null), null, 'the inline script did not run');
    assert.ok(violations.slice(before).some((v) => /inline script/i.test(v)), `Chromium reported the refusal: ${violations.slice(before).join(' | ')}`);
    violations.splice(before);
    await page.close();
  });

  test('sign-in: a form, the token never in the address, a Bearer header on every data request; wrong and write tokens refused; sign out forgets it', async () => {
    const { page, requests } = await newPage();
    await page.goto(`${w.api.url}/`);
    await page.locator('#signin-view:not([hidden])').waitFor();
    assert.ok(await page.locator('#app').isHidden(), 'no data view before signing in');
    assert.is(await page.locator('#signin-token').getAttribute('name'), null, 'the token field has no name: a form submission never carries it');
    await shot(page, 'sign-in');

    await page.fill('#signin-token', 'not-a-token-at-all-0000');
    await page.click('#signin-form button[type="submit"]');
    await page.locator('#signin-error', { hasText: 'not accepted' }).waitFor({ timeout: 5_000 });
    await page.fill('#signin-token', WRITE_TOKEN);
    await page.click('#signin-form button[type="submit"]');
    await page.locator('#signin-error', { hasText: 'may not read the dashboard' }).waitFor({ timeout: 5_000 });

    await page.fill('#signin-token', READ_TOKEN);
    await page.click('#signin-form button[type="submit"]');
    await page.locator('#who-name', { hasText: 'viewer-bob' }).waitFor({ timeout: 5_000 });
    assert.is(await page.textContent('#who-role'), 'read');
    await page.locator('#runs tbody tr[data-run-id]').first().waitFor({ timeout: 10_000 });
    await page.reload();
    await page.locator('#who-name', { hasText: 'viewer-bob' }).waitFor({ timeout: 5_000 }); // kept for this tab
    await page.locator('#runs tbody tr[data-run-id]').first().waitFor({ timeout: 10_000 });

    for (const r of requests) assert.not.ok(r.url.includes(READ_TOKEN) || r.url.includes(WRITE_TOKEN), `no token in a URL: ${r.url}`);
    assert.not.ok(page.url().includes(READ_TOKEN));
    const data = requests.filter((r) => /\/dashboard\/(summary|holds|customers|charts|orders)/.test(r.url));
    assert.ok(data.length >= 2, 'the page asked for its data');
    for (const r of data) assert.is(r.auth, `Bearer ${READ_TOKEN}`, r.url);
    assert.is(await page.evaluate(() => (globalThis as any).document.cookie), '', 'no cookie');
    assert.match((await page.evaluate(() => (globalThis as any).sessionStorage.getItem('lendpay.dashboard.session'))) ?? '', READ_TOKEN);
    assert.is(await page.evaluate(() => (globalThis as any).localStorage.length), 0, 'nothing kept beyond the tab');

    await page.click('#sign-out');
    await page.locator('#signin-view:not([hidden])').waitFor();
    assert.is(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('lendpay.dashboard.session')), null);
    await page.reload();
    await page.locator('#signin-view:not([hidden])').waitFor();
    await page.close();
  });

  test('overview: batch runs, orders by state, holds, the operator queue (no buttons for read), loans with times in Asia/Shanghai', async () => {
    const { page } = await newPage();
    await signIn(page, READ_TOKEN);
    await page.locator('#runs tbody tr[data-run-id]').first().waitFor({ timeout: 10_000 });
    const runs = await w.t.db.selectFrom('batch_runs').select(['id', 'kind', 'status']).orderBy('id').execute();
    assert.is(await page.locator('#runs tbody tr[data-run-id]').count(), runs.length);
    for (const r of runs) assert.match((await page.textContent(`#runs tr[data-run-id="${r.id}"]`)) ?? '', new RegExp(`${r.kind}.*${r.status}`));

    const states = await sql<{ status: string; n: number; amount: number }>`select status, count(*)::int8 as n, sum(amount_fen)::int8 as amount from orders group by 1`.execute(w.t.db);
    for (const s of states.rows) {
      const text = (await page.textContent(`#funnel [data-state="${s.status}"]`)) ?? '';
      assert.match(text, new RegExp(`${Number(s.n)}\\s*${esc(yuan(Number(s.amount)))}`), `${s.status}: ${text}`);
    }
    const h = (await sql<{ n: number; amount: number }>`select count(*)::int8 as n, sum(amount_fen)::int8 as amount from holds where status = 'open'`.execute(w.t.db)).rows[0]!;
    assert.ok(Number(h.n) > 0, 'the demo left borrowers on hold');
    assert.is(await page.textContent('#holds-summary'), `${yuan(Number(h.amount))} on hold`);
    assert.match((await page.textContent('#holds-detail')) ?? '', new RegExp(`^${Number(h.n)} open holds · ${Number(h.n)} borrowers with outflow blocked`));

    const queued = page.locator(`#queue tbody tr[data-order-id="${w.queuedOrder}"]`);
    assert.match((await queued.textContent()) ?? '', /¥100,001\.00.*CHANNEL_UNAVAILABLE.*channel_resend/);
    assert.is(await page.locator('#queue button').count(), 0, 'a read token sees no operator buttons');

    const loan = await w.t.db.selectFrom('loans').select(['id', 'customer_id', 'principal_fen', 'created_at']).orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirstOrThrow();
    const first = (await page.textContent('#loans tbody tr:first-child')) ?? '';
    assert.ok(first.includes(loan.id) && first.includes(loan.customer_id) && first.includes(yuan(loan.principal_fen)), first);
    assert.ok(first.includes(shanghai(loan.created_at)), `created in Asia/Shanghai (the browser is in New York): ${first}`);
    assert.match((await page.textContent('#status')) ?? '', /updated \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(Asia\/Shanghai\)/);
    await shot(page, 'overview');
    await page.close();
  });

  test('holds: one row per borrower on hold or blocked, with amount, since, days, accounts and last attempt; search narrows it; a row opens the customer', async () => {
    const { page } = await newPage();
    await signIn(page, READ_TOKEN);
    await page.click('#nav a[data-nav="holds"]');
    await page.locator('#holds-table tbody tr[data-customer-id]').first().waitFor({ timeout: 10_000 });
    const holds = (await sql<{ customer_id: string; amount_fen: number; opened_at: Date }>`
      select customer_id, amount_fen, opened_at from holds where status = 'open' order by amount_fen desc, customer_id`.execute(w.t.db)).rows;
    const rows = page.locator('#holds-table tbody tr[data-customer-id]');
    assert.is(await rows.count(), holds.length);
    assert.equal(await rows.evaluateAll((trs) => trs.map((t) => (t as any).dataset['customerId'])), holds.map((x) => x.customer_id), 'largest amount first');
    const top = holds[0]!;
    const topText = (await rows.first().textContent()) ?? '';
    assert.ok(topText.includes(yuan(Number(top.amount_fen))), topText);
    assert.ok(topText.includes(shanghai(top.opened_at)), topText);
    assert.match(topText, /blocked/);
    const last = await sql<{ amount_fen: number; key: string }>`
      select o.amount_fen, o.idempotency_key as key from orders o join order_attempts a on a.order_id = o.id
      where o.customer_id = ${top.customer_id} and o.purpose like 'collect.%' order by a.submitted_at desc, o.id desc limit 1`.execute(w.t.db);
    assert.ok(topText.includes(yuan(Number(last.rows[0]!.amount_fen))), `last attempt's amount: ${topText}`);
    assert.ok(topText.includes(/:([a-z_]+):[^:]*$/.exec(last.rows[0]!.key)![1]!), `last attempt's step: ${topText}`);
    const accounts = await w.t.db.selectFrom('customer_accounts').select('id').where('customer_id', '=', top.customer_id).execute();
    for (const a of accounts) assert.ok(topText.includes(a.id), `account ${a.id} listed`);
    assert.match((await page.textContent('#holds-totals')) ?? '', new RegExp(`^${holds.length} open holds, ${esc(yuan(holds.reduce((s, x) => s + Number(x.amount_fen), 0)))} · ${holds.length} blocked`));
    await shot(page, 'holds');

    // search by one of the second borrower's account ids (lower case: any case matches)
    const second = holds[1]!;
    const acc = (await w.t.db.selectFrom('customer_accounts').select('id').where('customer_id', '=', second.customer_id).orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
    await page.fill('#holds-q', acc.toLowerCase());
    await page.press('#holds-q', 'Enter');
    await page.waitForFunction((id) => { const r = (globalThis as any).document.querySelectorAll('#holds-table tbody tr[data-customer-id]'); return r.length === 1 && (r[0] as any).dataset['customerId'] === id; }, second.customer_id, { timeout: 10_000 });
    assert.match(page.url(), /#\/holds\?q=/);
    await page.fill('#holds-q', 'nobody-like-this');
    await page.press('#holds-q', 'Enter');
    await page.locator('#holds-table .empty', { hasText: 'No hold or blocked borrower matches' }).waitFor({ timeout: 10_000 });

    await page.fill('#holds-q', '');
    await page.press('#holds-q', 'Enter');
    await page.locator(`#holds-table tr[data-customer-id="${top.customer_id}"] td:nth-child(2)`).click();
    await page.waitForURL(new RegExp(`#/customers/${top.customer_id}$`));
    await page.locator('#c-decision dd').first().waitFor();
    assert.is(await page.textContent('#c-title'), top.customer_id);
    await page.close();
  });

  test('customer page: decision and limit with the rule version, loans with their schedules, what is due, the hold, outflow blocked, notifications sent', async () => {
    const { page } = await newPage();
    const c = (await sql<{ customer_id: string; amount_fen: number }>`
      select h.customer_id, h.amount_fen from holds h where h.status = 'open'
      and exists (select 1 from notifications n where n.customer_id = h.customer_id) order by h.amount_fen desc limit 1`.execute(w.t.db)).rows[0]!;
    await signIn(page, READ_TOKEN);
    await page.fill('#search', c.customer_id);
    await page.press('#search', 'Enter');
    await page.waitForURL(new RegExp(`#/customers/${c.customer_id}$`), { timeout: 10_000 });
    await page.locator('#c-loans details.loan').first().waitFor({ timeout: 10_000 });

    const d = await w.t.db.selectFrom('eligibility_decisions').select(['limit_fen', 'business_date', 'rule_set_hash']).where('customer_id', '=', c.customer_id).orderBy('business_date', 'desc').executeTakeFirstOrThrow();
    const decision = (await page.textContent('#c-decision')) ?? '';
    assert.ok(decision.includes(yuan(d.limit_fen)), decision);
    assert.ok(decision.includes(`version 1 · ${d.rule_set_hash.slice(0, 12)}`), decision);
    assert.ok(decision.includes(d.business_date), decision);

    const today = DateTime.now().setZone('Asia/Shanghai').toISODate()!;
    const inst = (await sql<{ loan_id: string; n: number; due: number; left: number }>`
      select i.loan_id, count(*)::int8 as n,
        sum(case when i.due_date <= ${today}::date then i.principal_fen - i.paid_principal_fen + i.interest_fen - i.paid_interest_fen else 0 end)::int8 as due,
        sum(i.principal_fen - i.paid_principal_fen + i.interest_fen - i.paid_interest_fen)::int8 as left
      from installments i join loans l on l.id = i.loan_id where l.customer_id = ${c.customer_id} group by 1`.execute(w.t.db)).rows;
    assert.ok(inst.length > 0);
    for (const l of inst) {
      assert.is(await page.locator(`#c-loans details[data-loan-id="${l.loan_id}"] tbody tr`).count(), Number(l.n), `schedule of ${l.loan_id}`);
    }
    const due = inst.reduce((s, l) => s + Number(l.due), 0);
    const left = inst.reduce((s, l) => s + Number(l.left), 0);
    const dueText = (await page.textContent('#c-due')) ?? '';
    assert.ok(dueText.includes(`due now${yuan(due)}`), dueText);
    assert.ok(dueText.includes(`still to pay${yuan(left)}`), dueText);
    assert.ok(due > 0, 'a borrower on hold owes something today');
    assert.ok(await page.locator('#c-loans tr[data-state="due"]').count() > 0, 'the unpaid due installments are marked due');

    const outflow = (await page.textContent('#c-outflow')) ?? '';
    assert.ok(outflow.includes('blocked') && outflow.includes(yuan(Number(c.amount_fen))), outflow);
    assert.match((await page.textContent('#c-holds tbody')) ?? '', new RegExp(`${esc(yuan(Number(c.amount_fen)))}.*open`));

    const notes = await w.t.db.selectFrom('notifications').select(['body']).where('customer_id', '=', c.customer_id).orderBy('id', 'desc').execute();
    assert.is(await page.locator('#c-notifications tbody tr').count(), notes.length);
    assert.ok(((await page.textContent('#c-notifications')) ?? '').includes(notes[0]!.body), 'the text sent is shown');
    const orders = await w.t.db.selectFrom('orders').select('id').where('customer_id', '=', c.customer_id).execute();
    assert.is(await page.locator('#c-orders tbody tr').count(), Math.min(30, orders.length));
    await shot(page, 'customer');

    await page.fill('#search', 'NO-SUCH-CUSTOMER');
    await page.press('#search', 'Enter');
    await page.locator('#timeline li', { hasText: 'No order NO-SUCH-CUSTOMER' }).waitFor({ timeout: 10_000 });
    await page.close();
  });

  test('charts: disbursed by rail and collected by step per day, collection rate, holds over time, orders by hour, each drawn and its numbers equal to the database', async () => {
    const { page } = await newPage();
    await signIn(page, READ_TOKEN);
    await page.click('#nav a[data-nav="charts"]');
    await page.locator('#table-orders tbody tr').first().waitFor({ state: 'attached', timeout: 10_000 });
    for (const id of ['chart-disbursed', 'chart-collected', 'chart-rate', 'chart-holds', 'chart-orders']) {
      const sets = await page.evaluate((cid) => {
        const g = globalThis as any;
        const chart = g.Chart.getChart(g.document.getElementById(cid));
        return chart ? (chart.data.datasets as { data: number[] }[]).map((s) => s.data.reduce((a, b) => a + b, 0)) : null;
      }, id);
      assert.ok(sets && sets.length > 0 && sets.some((x) => x > 0), `${id} is drawn with data: ${JSON.stringify(sets)}`);
      assert.ok(await page.locator(`#${id}-box .empty`).isHidden(), `${id}: no empty state`);
    }
    const rail = (await sql<{ rail: string; amount: number }>`
      select l.rail, sum(o.amount_fen)::int8 as amount from orders o join loans l on l.id = o.loan_id
      where o.purpose = 'disburse.payout' and o.status = 'succeeded' group by 1 order by 1`.execute(w.t.db)).rows;
    const disbursedTotals = await page.locator('#table-disbursed tbody tr:last-child td').allTextContents();
    assert.equal(disbursedTotals, ['total', ...rail.map((r) => yuan(Number(r.amount)))], 'balance then card');

    const steps = (await sql<{ step: string; amount: number }>`
      select substring(idempotency_key from ':([a-z_]+):[^:]*$') as step, sum(amount_fen)::int8 as amount from orders
      where purpose like 'collect.%' and status = 'succeeded' group by 1`.execute(w.t.db)).rows;
    const heads = await page.locator('#table-collected thead td').allTextContents();
    const totals = await page.locator('#table-collected tbody tr:last-child td').allTextContents();
    const labels: Record<string, string> = { own_balance: 'own balance', cross_account: 'cross-account', hold: 'hold sweep' };
    for (const s of steps) assert.is(totals[heads.indexOf(labels[s.step]!)], yuan(Number(s.amount)), s.step);

    const items = (await sql<{ n: number; due: number; held: number }>`
      select count(*)::int8 as n, sum(due_fen)::int8 as due, sum(held_fen)::int8 as held from collection_items where business_date = ${w.date}`.execute(w.t.db)).rows[0]!;
    const batch = (await sql<{ got: number }>`select sum(amount_fen)::int8 as got from orders where purpose = 'collect.batch' and status = 'succeeded'`.execute(w.t.db)).rows[0]!;
    const bp = Math.floor((Number(batch.got) * 10_000) / Number(items.due));
    assert.equal(await page.locator('#table-rate tbody tr').first().locator('td').allTextContents(),
      [w.date, String(Number(items.n)), yuan(Number(items.due)), yuan(Number(batch.got)), yuan(Number(items.held)), `${Math.trunc(bp / 100)}.${String(bp % 100).padStart(2, '0')}%`]);

    const open = (await sql<{ n: number }>`select count(*)::int8 as n from holds where status = 'open'`.execute(w.t.db)).rows[0]!;
    const today = (await page.locator('#table-holds tbody tr:last-child td').allTextContents());
    assert.is(today[0], w.date);
    assert.is(today[1], String(Number(open.n)), 'open at the end of today = open now');

    const recent = (await sql<{ n: number }>`select count(*)::int8 as n from orders where created_at >= date_trunc('hour', now()) - interval '23 hours'`.execute(w.t.db)).rows[0]!;
    const cells = await page.locator('#table-orders tbody td:not(:first-child)').allTextContents();
    assert.is(cells.reduce((s, x) => s + Number(x), 0), Number(recent.n), 'every order of the last 24 hours, by state');
    await page.click('#chart-collected-box details summary');
    await shot(page, 'charts');
    await page.close();
  });

  test('order timeline: opened by its key, in time order, amounts in yuan and never in fen', async () => {
    const { page } = await newPage();
    await signIn(page, READ_TOKEN);
    const key = (await w.t.db.selectFrom('orders').select('idempotency_key').where('id', '=', w.queuedOrder).executeTakeFirstOrThrow()).idempotency_key;
    await page.fill('#search', key);
    await page.press('#search', 'Enter');
    await page.locator('#timeline li[data-kind="escalation"]').waitFor({ timeout: 10_000 });
    const kinds = await page.locator('#timeline li').evaluateAll((lis) => lis.map((l) => (l as any).dataset['kind']));
    for (const k of ['decision', 'loan', 'order', 'attempt', 'outcome', 'escalation']) assert.ok(kinds.includes(k), `${k} in ${kinds.join(',')}`);
    assert.ok(kinds.indexOf('decision') < kinds.indexOf('loan') && kinds.indexOf('loan') < kinds.indexOf('order') && kinds.indexOf('attempt') < kinds.indexOf('outcome'), kinds.join(','));
    const text = (await page.textContent('#view-order')) ?? '';
    assert.match(text, /¥100,001\.00/);
    assert.not.match(text, /\bfen\b/);

    // a collected debit: attempt, outcome, journal and the SMS, in that order
    const debit = (await sql<{ id: number }>`select o.id from orders o where o.purpose = 'collect.batch' and o.status = 'succeeded'
      and exists (select 1 from notifications n where n.order_id = o.id) order by o.id limit 1`.execute(w.t.db)).rows[0]!;
    await page.fill('#search', String(debit.id));
    await page.press('#search', 'Enter');
    await page.locator('#timeline li[data-kind="journal"]').waitFor({ timeout: 10_000 });
    const times = await page.locator('#timeline li time').evaluateAll((ts) => ts.map((t) => (t as any).dateTime));
    assert.equal([...times].sort(), times, 'oldest first');
    const order = await page.locator('#timeline li').evaluateAll((lis) => lis.map((l) => (l as any).dataset['kind']));
    assert.ok(order.indexOf('attempt') < order.indexOf('outcome') && order.indexOf('outcome') < order.indexOf('journal') && order.indexOf('journal') < order.indexOf('notification'), order.join(','));
    const amount = (await w.t.db.selectFrom('orders').select('amount_fen').where('id', '=', debit.id).executeTakeFirstOrThrow()).amount_fen;
    assert.match((await page.textContent('#timeline li[data-kind="journal"]')) ?? '', new RegExp(`Dr lender\\.platform_balance ${esc(yuan(amount))}`));
    await shot(page, 'order');
    await page.close();
  });

  test('an operator confirms from the queue: no name typed, recorded under the token\'s name, the payout goes through', async () => {
    const { page, requests } = await newPage();
    await signIn(page, OPERATOR_TOKEN);
    assert.is(await page.textContent('#who-role'), 'operator');
    const row = page.locator(`#queue tbody tr[data-order-id="${w.queuedOrder}"]`);
    await row.waitFor({ timeout: 10_000 });
    await shot(page, 'queue-operator');
    await row.locator('button[data-action="confirm"]').click();
    await page.locator('#op-result', { hasText: `order ${w.queuedOrder}:` }).waitFor({ timeout: 10_000 });
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    assert.match((await page.textContent('#op-result')) ?? '', /as ops-alice/);
    const post = requests.find((r) => r.method === 'POST' && r.url.endsWith(`/ops/orders/${w.queuedOrder}/confirm`));
    assert.ok(post, 'confirmed through the API');
    assert.is(post!.auth, `Bearer ${OPERATOR_TOKEN}`);
    assert.not.ok('by' in JSON.parse(post!.body ?? '{}'), 'the body names nobody');
    const actions = await sql<{ operator: string; action: string }>`select operator, action from operator_actions where order_id = ${w.queuedOrder}`.execute(w.t.db);
    assert.equal(actions.rows, [{ operator: 'ops-alice', action: 'confirm' }]);
    assert.is((await w.t.db.selectFrom('loans').select('status').where('id', '=', w.queuedLoan).executeTakeFirstOrThrow()).status, 'disbursed');
    await page.close();
  });

  test('no page of these tests met a CSP violation or a script error', () => {
    assert.equal(violations, []);
    assert.equal(pageErrors, []);
  });
}

test.run();
