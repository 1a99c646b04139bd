// The demo (what `npm start` runs), small: it sells more than one product and
// exports its day's vouchers, which add up to the journal; running it again numbers
// nothing new.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { createContext, type Context } from '../../src/cli/context.ts';
import { runDemo } from '../../src/cli/demo.ts';
import { businessDateAt, systemClock } from '../../src/dates.ts';
import { addDays } from '../../src/loans/schedule.ts';

let t: TestDatabase;
let ctx: Context;
const lines: string[] = [];
const today = businessDateAt(systemClock.now());

test.before(async () => {
  t = await freshDatabase('demo_products');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-demo-'));
  ctx = createContext({ ...process.env, DATABASE_URL: t.url, LENDPAY_DATA_DIR: dataDir, LENDPAY_CHANNEL_URL: '' });
});
test.after(async () => {
  await ctx.close();
  await t.drop();
});

test('the demo sells several products and exports its day\'s vouchers, once', async () => {
  await runDemo(ctx, { size: 600, seed: 7, loans: 60, date: today }, (l) => void lines.push(l));
  const byProduct = await sql<{ product_id: string; n: number }>`select product_id, count(*)::int8 as n from loans where status = 'disbursed' group by product_id order by product_id`.execute(t.db);
  assert.ok(byProduct.rows.length >= 3, JSON.stringify(byProduct.rows));
  assert.ok(byProduct.rows.every((r) => r.product_id !== null));
  // the loans were disbursed ten days ago (by the demo's clock), collected today: a day of vouchers each
  const lent = lines.find((l) => l.startsWith(`vouchers of ${addDays(today, -10)}:`));
  assert.ok(lent, lines.join('\n'));
  assert.match(lent!, /记-0001 放款资金划拨（资金卡→平台账户） \d+笔; 记-0002 贷款发放 \d+笔/, lines.join("\n"));
  assert.match(lines.find((l) => l.startsWith(`vouchers of ${today}:`)) ?? '', /记-0001 贷款回收/);
  const unbooked = await sql<{ n: number }>`
    select count(*)::int8 as n from journal_lines l
    where not exists (select 1 from voucher_postings v where v.grouping = 'type' and v.entry_id = l.entry_id and v.line_no = l.line_no)
  `.execute(t.db);
  assert.is(unbooked.rows[0]!.n, 0);
  const csv = fs.readFileSync(/CSV for the finance package: (.*)$/.exec(lines.find((l) => l.includes('CSV for the finance package'))!)![1]!, 'utf8');
  assert.ok(csv.startsWith('\uFEFF凭证日期,凭证字,凭证号'));
  const before = Number((await sql<{ n: number }>`select count(*)::int8 as n from vouchers`.execute(t.db)).rows[0]!.n);
  lines.length = 0;
  await runDemo(ctx, { size: 600, seed: 7, loans: 60, date: today }, (l) => void lines.push(l));
  assert.match(lines.find((l) => l.startsWith(`vouchers of ${today}:`))!, /\(0 numbered now\)/);
  assert.is(Number((await sql<{ n: number }>`select count(*)::int8 as n from vouchers`.execute(t.db)).rows[0]!.n), before);
});

test.run();
