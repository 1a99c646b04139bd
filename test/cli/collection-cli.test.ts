// The money commands end to end, as an operator runs them: real processes, the
// sandbox started in-process by each command with its state in the database.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { businessDateAt, monthsBefore, systemClock } from '../../src/dates.ts';
import { addDays } from '../../src/loans/schedule.ts';

const BIN = path.resolve('src/cli/bin.js');
const today = businessDateAt(systemClock.now());
let t: TestDatabase;
let tmp: string;

function lendpay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: t.url, LENDPAY_CHANNEL_URL: '', LENDPAY_SANDBOX_IN_PROCESS: '1' }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test.before(async () => {
  t = await freshDatabase('cli_money');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-cli-'));
  const flow = Object.fromEntries(monthsBefore(today, 6).map((m) => [m, '100000.00']));
  const line = (id: string, balance: string) => JSON.stringify({
    id, name: 'x', segment: 'supply_chain', realNameVerified: true, whitelist: null,
    accounts: [{ id: `${id}-A`, primary: true, balance }], bankCards: [{ id: `${id}-K`, bank: 'CMB', last4: '9651', balance: '100000.00' }], monthlyFlow: flow,
  });
  fs.writeFileSync(path.join(tmp, 'c.jsonl'), [line('P1', '0.00'), line('P2', '0.00')].join('\n') + '\n');
});
test.after(async () => {
  await t.drop();
});

test('import, nightly, a loan, settlement with collection, a hold, a card repayment that clears it', async () => {
  const imp = await lendpay(['import', path.join(tmp, 'c.jsonl')]);
  assert.is(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /opened 2 balance accounts and 2 cards on the platform sandbox/);
  assert.is((await lendpay(['batch', 'nightly', '--date', today, '--no-progress'])).code, 0);

  const apply = await lendpay(['loan', 'apply', '--customer', 'P1', '--amount', '3000.00', '--to', 'balance', '--request-id', 'cli-1', '--json']);
  assert.is(apply.code, 0, apply.stderr);
  const loan = JSON.parse(apply.stdout).loan;
  assert.is(loan.status, 'disbursed');
  const again = await lendpay(['loan', 'apply', '--customer', 'P1', '--amount', '3000.00', '--to', 'balance', '--request-id', 'cli-1', '--json']);
  assert.is(JSON.parse(again.stdout).loan.id, loan.id, 'a repeated request id returns the first loan');
  const refused = await lendpay(['loan', 'apply', '--customer', 'P1', '--amount', '9999999.00', '--to', 'balance', '--request-id', 'cli-2']);
  assert.is(refused.code, 3);
  assert.match(refused.stderr, /LIMIT_EXCEEDED/);

  // The borrower spent the loan; three days later the marketplace settles 50.00 only.
  const spend = await lendpay(['sandbox', 'withdraw', '--account', 'P1-A', '--amount', '3000.00']);
  assert.is(spend.code, 0, spend.stderr);
  const D = addDays(today, 3);
  fs.writeFileSync(path.join(tmp, 's.jsonl'), JSON.stringify({ accountId: 'P1-A', amount: '50.00' }) + '\n');
  const settle = await lendpay(['sandbox', 'settle', '--date', D, '--file', path.join(tmp, 's.jsonl')]);
  assert.is(settle.code, 0, settle.stderr);
  assert.match(settle.stdout, /settled 1 accounts, 50\.00 CNY/);
  assert.match(settle.stdout, /hold\s+1 loans/);

  const show = JSON.parse((await lendpay(['customer', 'show', 'P1', '--json'])).stdout);
  assert.ok(show.hold, 'on hold');
  assert.is(show.outflowBlocked, true);
  const blocked = await lendpay(['sandbox', 'withdraw', '--account', 'P1-A', '--amount', '1.00']);
  assert.is(blocked.code, 3);
  assert.match(blocked.stderr, /OUTFLOW_BLOCKED/);

  const repay = await lendpay(['repay', '--loan', loan.id, '--card', 'P1-K', '--amount', show.hold.amount, '--request-id', 'repay-cli-1']);
  assert.is(repay.code, 0, repay.stderr);
  assert.match(repay.stdout, /hold cleared, outflow unblocked/);
  const after = JSON.parse((await lendpay(['customer', 'show', 'P1', '--json'])).stdout);
  assert.is(after.hold, null);
  assert.is(after.outflowBlocked, false);

  const tb = await lendpay(['ledger', 'trial-balance']);
  assert.is(tb.code, 0, tb.stdout + tb.stderr);
  assert.match(tb.stdout, /trial balance is zero/);
  assert.match(tb.stdout, /agree/);
});

test.run();
