// The worker's log: JSON lines when a machine reads it (a pipe, as here), readable
// lines from pino-pretty when asked for (as on a terminal); the start line names the
// queues it takes, not pg-boss's worker ids.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

const BIN = path.resolve('src/cli/bin.js');
let t: TestDatabase;

/** Starts a worker, waits for `until` in its output, stops it with SIGTERM; its exit code and output. */
async function worker(env: Record<string, string>, until: RegExp): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, 'worker', '--no-schedule'], {
    env: { ...process.env, DATABASE_URL: t.url, LENDPAY_API_PORT: '0', LENDPAY_SANDBOX_IN_PROCESS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString('utf8'); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString('utf8'); });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  for (let i = 0; i < 600 && !until.test(output) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  return { code: await closed, output };
}

test.before(async () => {
  t = await freshDatabase('cli_logs');
});
test.after(async () => {
  await t.drop();
});

test('in a pipe the worker writes JSON lines, and its start line lists queue names', async () => {
  const { code, output } = await worker({}, /"msg":"listening"/);
  assert.is(code, 0, output);
  const lines = output.trim().split('\n');
  for (const l of lines) assert.not.throws(() => JSON.parse(l), `a JSON line: ${l}`);
  const started = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'worker started');
  assert.ok(started, output);
  const queues = started['queues'] as string[];
  assert.ok(queues.includes('reprocess-order') && queues.includes('escalation-tick'), `the escalation queues by name: ${queues.join(', ')}`);
  assert.equal(queues.filter((q) => /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(q)), [], 'no pg-boss worker id among them');
});

test('LENDPAY_LOG_FORMAT=pretty: readable lines, as on a terminal', async () => {
  const { code, output } = await worker({ LENDPAY_LOG_FORMAT: 'pretty' }, /listening/);
  assert.is(code, 0, output);
  assert.match(output, /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\] INFO: worker started/m);
  assert.not.match(output, /^\{"level"/m, 'no JSON lines');
});

test.run();
