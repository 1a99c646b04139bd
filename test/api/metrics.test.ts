// Issue 15: /metrics passes Prometheus's own linter, `promtool check metrics` (Debian's
// `prometheus` package; .ci/run installs it), with no warning. Where promtool is not
// installed the test says so and is skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { world, type World } from '../disbursement/setup.ts';
import { startApi, type ApiServer } from '../../src/api/server.ts';
import { makeLogger } from '../../src/api/log.ts';
import { systemClock } from '../../src/dates.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import type { Fen } from '../../src/money.ts';

const READ = 'metrics-read-token-0123456789ab';
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const available = promtool.status === 0;

function check(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}

if (!available) {
  console.log('metrics lint SKIPPED: promtool is not installed (apt-get install -y prometheus); .ci/run installs it');
  test.skip('/metrics passes promtool check metrics (promtool not installed)', () => {});
} else {
  let w: World;
  let api: ApiServer;

  test.before(async () => {
    w = await world('metrics_lint');
    // some orders, attempts and a batch-like state, so that labelled series exist
    const res = await applyForLoan(w.deps, { customerId: 'G1', amount: 100_000 as Fen, rail: 'balance', requestId: 'metrics-1' });
    assert.ok(res.ok);
    await w.t.db.insertInto('alerts' as never).values({ kind: 'order_stuck', message: 'test', rule: 'order-stuck', subject: 'x', severity: 'critical' } as never).execute();
    api = await startApi({
      db: w.t.db, log: makeLogger('silent'), clock: systemClock, host: '127.0.0.1', port: 0, stuckAfterMinutes: 10,
      tokens: [{ name: 'prometheus', role: 'read', token: READ }], disburseDeps: async () => w.deps,
    });
  });
  test.after(async () => {
    await api?.close();
    await w?.close();
  });

  test('/metrics passes promtool check metrics with no warning (regression: lendpay_process_nodejs_active_{handles,requests,resources}_total were gauges named _total, and the process prefix was doubled)', async () => {
    const res = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${READ}` } });
    assert.is(res.status, 200);
    const text = await res.text();
    assert.match(text, /lendpay_orders\{kind="payout",state="succeeded"\} 1/);
    assert.match(text, /lendpay_process_cpu_seconds_total/);
    assert.match(text, /lendpay_nodejs_active_handles\{/);
    assert.not.match(text, /lendpay_process_process_|_active_(handles|requests|resources)_total/);
    const r = await check(text);
    assert.is(r.output.trim(), '', `promtool says:\n${r.output}`);
    assert.is(r.code, 0);
  });

  test('promtool is a real check: it warns about what the issue found', async () => {
    const r = await check('# HELP lendpay_process_nodejs_active_handles_total x\n# TYPE lendpay_process_nodejs_active_handles_total gauge\nlendpay_process_nodejs_active_handles_total 3\n');
    assert.match(r.output, /non-counter metrics should not have "_total" suffix/);
  });
}

test.run();
