// Hostile command lines: bad dates, negative, fractional and huge amounts, unknown
// options, control characters and unicode, for a handful of commands. Each exits 1
// (refused) or 2 (usage) with a message naming the option at fault, never a stack
// trace, and writes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { caseRng, fuzzRuns, fuzzSeed } from '../helpers/fuzz.ts';

const BIN = path.resolve('src/cli/bin.js');
const seed = fuzzSeed();
let t: TestDatabase;

function lendpay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: t.url, LENDPAY_SANDBOX_IN_PROCESS: '1' }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const BAD_DATES = ['2026-02-30', '2026-13-01', '26-01-01', 'yesterday', '', '0000-01-01', '2026-1-1', '2026-01-01T00:00:00Z', '２０２６-01-01', '2026-01-01\u0001', '2026-01-01\n'];
const BAD_AMOUNTS = ['-1', '-0.01', '1.234', '1e5', 'NaN', 'Infinity', '99999999999999999999', '0x10', '', '1,000.00', '１００'];

/** [args, the option the message must name] */
function hostileCommand(i: number): [string[], string] {
  const r = caseRng(seed, i);
  const date = r.pick(BAD_DATES);
  const amount = r.pick(BAD_AMOUNTS);
  const cases: [string[], string][] = [
    [['decisions', '--date', date], '--date'],
    [['batch', 'nightly', '--date', date], '--date'],
    [['explain', 'G1', '--date', date], '--date'],
    [['batch', 'post-settlement', '--date', date], '--date'],
    [['loan', 'apply', '--customer', 'G1', '--amount', amount, '--to', 'balance', '--request-id', 'r1'], '--amount'],
    [['repay', '--loan', 'L1', '--card', 'K1', '--amount', amount, '--request-id', 'r2'], '--amount'],
    [['sandbox', 'withdraw', '--account', 'A', '--amount', amount], '--amount'],
    [['loan', 'apply', '--customer', 'G1', '--amount', '1.00', '--to', r.pick(['bitcoin', 'BALANCE', '', 'card;rm -rf /']), '--request-id', 'r3'], '--to'],
    [['generate', '--out', '/tmp/lendpay-fuzz-never', '--size', r.pick(['-5', '0', '1.5', 'many', '1e9', '99999999999'])], '--size'],
    [[r.pick(['decisions', 'ledger', 'holds', 'loan']), `--${r.pick(['frobnicate', 'date-', 'évite', 'x\u0001y'])}`], 'unknown'],
    [['holds', 'release', 'G1', '--by', r.pick(['', 'a b', 'x'.repeat(100), '<script>']), '--reason', 'fuzz reason'], '--by'],
  ];
  return r.pick(cases);
}

test.before(async () => {
  t = await freshDatabase('fuzz_cli');
});
test.after(async () => {
  await t.drop();
});

test('hostile arguments: exit 1 or 2, the option named, no stack trace', async () => {
  const runs = fuzzRuns(12);
  const jobs = Array.from({ length: runs }, (_, i) => i);
  const failures: string[] = [];
  // four processes at a time: each is a Node start-up
  for (let k = 0; k < jobs.length; k += 4) {
    await Promise.all(jobs.slice(k, k + 4).map(async (i) => {
      const [args, option] = hostileCommand(i);
      const res = await lendpay(args);
      const ctx = `seed ${seed} case ${i}: lendpay ${args.map((a) => JSON.stringify(a)).join(' ')} → ${res.code}\n${res.stderr.slice(0, 600)}`;
      if (res.code !== 1 && res.code !== 2) failures.push(`exit code: ${ctx}`);
      else if (/\n\s{4}at /.test(res.stderr)) failures.push(`stack trace: ${ctx}`);
      else if (!res.stderr.includes(option === 'unknown' ? 'unknown' : option)) failures.push(`does not name ${option}: ${ctx}`);
    }));
  }
  assert.equal(failures, [], failures.join('\n\n'));
  const n = await t.db.selectFrom('loans').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst().catch(() => ({ n: 0 }));
  assert.is(Number(n?.n ?? 0), 0, 'nothing written');
});

test.run();
