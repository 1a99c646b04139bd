// `lendpay import` as a user runs it: progress on stderr counting the real lines (issue
// 16: it printed "10000/10000 lines" for a 50,000-line file), --json with amounts as
// yuan strings, a bad file refused with exit 1 naming the line, and the accounts opened
// on the sandbox only where lendpay has one to administer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { importDisplay, yuanOf } from '../../src/cli/commands/import.ts';

const BIN = path.resolve('src/cli/bin.js');
let t: TestDatabase;
let dir = '';

function line(id: string, balance = '10.50'): string {
  return JSON.stringify({
    id, name: `商户 ${id}`, segment: 'open_platform', realNameVerified: true, whitelist: null,
    accounts: [{ id: `${id}-A`, primary: true, balance }], bankCards: [{ id: `${id}-K`, bank: 'CMB', last4: '1234', balance: '0.25' }],
    monthlyFlow: { '2026-05': '1000.00', '2026-06': '0.10' },
  });
}

function lendpay(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const base = { ...process.env };
    delete base.LENDPAY_SANDBOX_IN_PROCESS;
    delete base.LENDPAY_CHANNEL_URL;
    execFile(process.execPath, [BIN, ...args], { env: { ...base, DATABASE_URL: t.url, ...env }, maxBuffer: 1 << 24, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test.before(async () => {
  t = await freshDatabase('import_cli');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-import-cli-'));
});
test.after(async () => {
  await t.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('progress counts the real lines (regression, issue 16: "10000/10000 lines" for a 50,000-line file); --json gives counts and yuan strings', async () => {
  const f = path.join(dir, 'many.jsonl');
  fs.writeFileSync(f, Array.from({ length: 2500 }, (_, i) => line(`C${i + 1}`)).join('\n') + '\n');
  const r = await lendpay(['import', f, '--json']);
  assert.is(r.code, 0, r.stderr);
  // not a terminal: a line at each phase (and every few seconds), with the lines read so far
  assert.match(r.stderr, /import many\.jsonl: 2,500 lines read \(100% of the file\), done/);
  assert.match(r.stderr, /import many\.jsonl: [\d,]+ lines read \(\d+% of the file\), reading/);
  assert.not.match(r.stderr, /10,?000/);
  const j = JSON.parse(r.stdout);
  assert.equal(j, {
    file: f, lines: 2500, customers: 2500, accounts: 2500, cards: 2500, monthlyFlows: 5000,
    totals: { accountBalances: '26250.00', cardBalances: '625.00', monthlyFlow: '2500250.00' },
    openedOnSandbox: null, seconds: j.seconds,
  });
  assert.type(j.seconds, 'number');
  assert.match(r.stderr, /not opened on a platform: lendpay has no sandbox to administer/);
});

test('with the in-process sandbox asked for, the accounts and cards are opened on it; the text output says what was imported', async () => {
  const f = path.join(dir, 'two.jsonl');
  fs.writeFileSync(f, [line('S1'), line('S2', '0.05')].join('\n'));
  const r = await lendpay(['import', f, '--no-progress'], { LENDPAY_SANDBOX_IN_PROCESS: '1' });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /WARNING: the SANDBOX payment platform is running inside this process/);
  assert.match(r.stdout, /opened \d+ balance accounts and \d+ cards on the platform sandbox/);
  assert.match(r.stdout, /imported 2 customers, 2 accounts, 2 cards, 4 monthly flows from 2 lines in [\d.]+ s/);
  assert.match(r.stdout, /balances: accounts 10\.55 CNY, cards 0\.50 CNY; monthly flow 2,000\.20 CNY/);
  assert.not.match(r.stderr, /lines read/, '--no-progress');
});

test('a file with bad bytes is refused with exit 1, naming the line; nothing is written', async () => {
  const f = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(f, Buffer.concat([Buffer.from(`${line('B1')}\n${line('B2')}\n`), Buffer.from(line('B3').replace('商户', 'XX'), 'latin1').map((b) => (b === 0x58 ? 0xff : b)), Buffer.from('\n')]));
  const before = await t.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const r = await lendpay(['import', f, '--json']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /1 bad line\(s\); nothing was imported/);
  assert.match(r.stderr, /line 3: not valid UTF-8 \(byte \d+ of the line\)/);
  assert.is(r.stdout, '');
  const after = await t.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.is(Number(after.n), Number(before.n));
});

test('the display: periodic lines off a terminal; yuan strings from bigint fen', () => {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  const d = importDisplay('import x', stream, 60_000);
  d.update(1000, { bytes: 100, totalBytes: 1000, phase: 'reading' });
  d.update(2000, { bytes: 200, totalBytes: 1000, phase: 'reading' }); // within the period: quiet
  d.update(9000, { bytes: 1000, totalBytes: 1000, phase: 'merging' }); // a new phase: said at once
  assert.equal(lines, ['import x: 1,000 lines read (10% of the file), reading\n', 'import x: 9,000 lines read (100% of the file), writing\n']);
  assert.equal([yuanOf(0n), yuanOf(5n), yuanOf(123456n), yuanOf(9_007_199_254_740_993n), yuanOf(-150n)], ['0.00', '0.05', '1234.56', '90071992547409.93', '-1.50']);
});

test.run();
