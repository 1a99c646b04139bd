// One test per fault the hostile-input tests found, named after it, small and exact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { validateRules, MAX_PROBLEMS_PER_FILE, MAX_RULE_DEPTH, tooDeep } from '../../src/rules/load.ts';
import { parseCustomerLine } from '../../src/customers/parse.ts';
import { parseBusinessDate } from '../../src/dates.ts';
import { makeLogger } from '../../src/api/log.ts';
import { LendpayError } from '../../src/errors.ts';
import { deepNesting } from '../helpers/fuzz.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-regress-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function rulesWith(file: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'rules-'));
  fs.cpSync(path.resolve('rules'), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

test('regression: a rule file nested 10,000 levels deep overflowed the stack (RangeError from validateRules)', async () => {
  const v = await validateRules(rulesWith('eligibility.json', `{"rules":${deepNesting(10_000)}}`));
  assert.is(v.errors.length, 1);
  assert.match(v.errors[0]!, new RegExp(`eligibility\\.json: \\$\\.rules(\\[0\\])+…?: nested more than ${MAX_RULE_DEPTH} levels deep$`));
  assert.is(tooDeep({ a: [[1]] }, 3), null);
  assert.is(tooDeep({ a: [[{}]] }, 3), '$.a[0][0]');
});

test('regression: a rule file with 100,000 bad items overflowed errors.push(...list) (RangeError)', async () => {
  const v = await validateRules(rulesWith('collection.json', JSON.stringify({ rules: Array.from({ length: 100_000 }, () => 1) })));
  assert.is(v.errors.length, MAX_PROBLEMS_PER_FILE + 1);
  assert.match(v.errors.at(-1)!, /collection\.json: \$: 99900 more problems not listed$/);
});

test('regression: a name in an amount, id, segment or date field was echoed in the import error', () => {
  const NAME = 'Li Si 李四';
  const base = { id: 'M1', name: NAME, segment: 'open_platform', realNameVerified: true, whitelist: null, accounts: [{ id: 'M1-A', primary: true, balance: '1.00' }], bankCards: [], monthlyFlow: { '2026-05': '1.00' } };
  const shifted = [
    { ...base, accounts: [{ id: 'M1-A', primary: true, balance: NAME }] },
    { ...base, id: NAME },
    { ...base, segment: NAME },
    { ...base, whitelist: { limit: '1.00', reason: 'r', expiresOn: NAME } },
    { ...base, monthlyFlow: { [NAME]: '1.00' } },
    { ...base, [NAME]: 1 },
  ];
  for (const o of shifted) {
    const e = (() => { try { parseCustomerLine(JSON.stringify(o), 2); return null; } catch (x) { return x; } })();
    assert.ok(e instanceof LendpayError && e.code === 'IMPORT_INVALID', String(e));
    assert.not.ok(e.message.includes('Li Si') || e.message.includes('李四'), e.message);
    assert.match(e.message, /^line 2: \S/);
  }
  // a plainly wrong number is still shown: that is what helps fix it
  assert.throws(() => parseCustomerLine(JSON.stringify({ ...base, accounts: [{ id: 'M1-A', primary: true, balance: '1.234' }] }), 2), /"1\.234" is not a yuan amount/);
});

test('regression: --date 0000-01-01 reached Postgres (year 0) and the CLI printed a stack trace', () => {
  assert.throws(() => parseBusinessDate('0000-01-01', '--date'), /--date: 0000-01-01 is not a plausible business date/);
  assert.throws(() => parseBusinessDate('1899-12-31', '--date'), /plausible/);
  assert.is(parseBusinessDate('1900-01-01'), '1900-01-01');
});

test('regression: ID numbers were not redacted in the logs (only name and cardNumber were)', () => {
  const lines: string[] = [];
  makeLogger('info', { write: (s: string) => { lines.push(s); } }).info({ idNumber: '110101199003077777', customer: { idNumber: '110101199003077777', phone: '13800138000', realName: 'x y' } }, 'm');
  assert.not.match(lines.join(''), /110101199003077777|13800138000|x y/);
});

test('regression: `generate --size 99999999999` ran until killed; an unexpected error printed a stack trace', async () => {
  const run = (args: string[]) => new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [path.resolve('src/cli/bin.js'), ...args], { timeout: 30_000 }, (err, _o, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
  const big = await run(['generate', '--out', path.join(tmp, 'never.jsonl'), '--size', '99999999999']);
  assert.is(big.code, 1);
  assert.match(big.stderr, /--size: at most 10,000,000/);
  assert.not.ok(fs.existsSync(path.join(tmp, 'never.jsonl')));
  // an error nothing anticipated (here the file system's): one line and a hint, the stack only when asked for
  const unexpected = await run(['generate', '--out', path.join(tmp, 'no-such-dir', 'x.jsonl'), '--size', '5']);
  assert.is(unexpected.code, 1);
  assert.equal(unexpected.stderr.trim().split('\n'), [`error: unexpected failure: ENOENT: no such file or directory, open '${path.join(tmp, 'no-such-dir', 'x.jsonl')}'`, '  (set LENDPAY_DEBUG=1 for the stack trace)']);
  const debug = await new Promise<string>((resolve) => {
    execFile(process.execPath, [path.resolve('src/cli/bin.js'), 'generate', '--out', path.join(tmp, 'no-such-dir', 'x.jsonl'), '--size', '5'], { env: { ...process.env, LENDPAY_DEBUG: '1' }, timeout: 30_000 }, (_e, _o, stderr) => resolve(stderr));
  });
  assert.match(debug, /^Error: ENOENT/m, 'with LENDPAY_DEBUG=1 the error itself follows');
});

test.run();
