// Bench stage `disburse-api`: loan applications through the HTTP API of real
// `lendpay worker` processes (1, then 2, sharing the database), against the bench's
// sandbox platform, at 1, 10 and 100 requests in flight. Latency is request → answer,
// and the answer comes once the payout is accepted (the loan `disbursed`). Per loan:
// lendpay's statements (the workers' own count, /metrics), the database's
// transactions (pg_stat_database, lendpay's and the platform's), and the average
// group the workers' group commit made.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Fen } from '../../src/money.ts';
import type { Stage, StageContext, StageRow } from './stages.ts';
import { adminPost } from '../../src/sandbox/admin.ts';
import { benchCli } from './collection.ts';
import { sandboxOf } from '../../src/cli/context.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const seconds = (t0: number) => (performance.now() - t0) / 1000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Worker {
  proc: ChildProcess;
  url: string;
}

async function startWorker(env: NodeJS.ProcessEnv): Promise<Worker> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'src/cli/bin.js'), 'worker', '--no-schedule', '--port', '0'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`worker did not start in 60 s: ${err}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        const m = /"api":"(http:[^"]+)"/.exec(line);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      }
      out = out.slice(-4000);
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`worker exited ${code} before listening: ${err}`));
    });
  });
  proc.stdout!.resume();
  return { proc, url };
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.proc.exitCode !== null) return;
  const gone = new Promise((r) => w.proc.once('exit', r));
  w.proc.kill('SIGTERM');
  await Promise.race([gone, sleep(15_000).then(() => w.proc.kill('SIGKILL'))]);
}

async function scrape(w: Worker, token: string): Promise<{ statements: number; groups: number; items: number }> {
  const res = await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${token}-read` } });
  const text = await res.text();
  const val = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { statements: val('lendpay_db_statements_total'), groups: val('lendpay_disburse_groups_total'), items: val('lendpay_disburse_group_items_total') };
}

export const DISBURSE_API_STAGE: Stage = {
  name: 'disburse-api',
  byDefault: true,
  async run(ctx: StageContext): Promise<StageRow[]> {
    const c = benchCli(ctx);
    const { db } = ctx.database;
    const platform = await c.platform();
    const plan = [{ inFlight: 1, n: 100 }, { inFlight: 10, n: 1000 }, { inFlight: 100, n: Math.max(1000, ctx.options.disburse) }];
    const perWorkerSet = plan.reduce((s, p) => s + p.n, 0);
    const pool = (await sql<{ customer_id: string; limit_fen: number; a1: string; balance: number }>`
      select d.customer_id, d.limit_fen, a.id as a1, a.imported_balance_fen as balance
      from eligibility_decisions d join customer_accounts a on a.customer_id = d.customer_id and a.is_primary
      where d.business_date = ${ctx.date}::date and d.eligible and d.limit_fen >= 100000
        and not exists (select 1 from loans l where l.customer_id = d.customer_id)
      order by md5(d.customer_id || 'api') limit ${2 * perWorkerSet}
    `.execute(db)).rows;
    if (pool.length < 20) return [];
    // fewer eligible merchants than planned (a small population): every measurement shrinks alike
    const scale = Math.min(1, pool.length / (2 * perWorkerSet));
    for (let i = 0; i < pool.length; i += 10_000) {
      await adminPost(sandboxOf(platform), '/admin/accounts', { mode: 'open', accounts: pool.slice(i, i + 10_000).map((r) => ({ id: r.a1, customerId: r.customer_id, balance: r.balance })) });
    }
    const token = randomBytes(24).toString('hex');
    const env: NodeJS.ProcessEnv = {
      ...process.env, DATABASE_URL: ctx.database.url, LENDPAY_CHANNEL_URL: platform.url, LENDPAY_API_TOKEN: token, LENDPAY_READ_TOKEN: `${token}-read`,
      LENDPAY_LOG_LEVEL: 'info', LENDPAY_API_WRITES_PER_MINUTE: '1000000', LENDPAY_API_HOST: '127.0.0.1',
    };
    const xacts = async () => Number((await sql<{ n: string }>`select xact_commit::text as n from pg_stat_database where datname = current_database()`.execute(db)).rows[0]!.n);
    const rows: StageRow[] = [];
    let next = 0;
    for (const workers of [1, 2]) {
      const ws: Worker[] = [];
      try {
        for (let i = 0; i < workers; i++) ws.push(await startWorker(env));
        // warm each worker with one application, so that start-up (rules, pools, the JIT) is not measured
        for (const w of ws) {
          const r = pool[next++];
          if (!r) break;
          const res = await fetch(`${w.url}/loans`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `bench-api:warm:${r.customer_id}` },
            body: JSON.stringify({ customerId: r.customer_id, amount: '100.00', rail: 'balance' }),
          });
          if (res.status !== 201) throw new Error(`disburse-api warm-up: HTTP ${res.status} ${await res.text()}`);
        }
        for (const p of plan) {
          const n = Math.max(p.inFlight, Math.floor(p.n * scale));
          const list = pool.slice(next, next + n);
          next += list.length;
          const before = await Promise.all(ws.map((w) => scrape(w, token)));
          await sleep(1100); // the statistics collector flushes at most once a second
          const x0 = await xacts();
          const lat: number[] = [];
          const status = new Map<string, number>();
          let k = 0;
          const t0 = performance.now();
          const client = async (slot: number) => {
            for (let i = k++; i < list.length; i = k++) {
              const r = list[i]!;
              const amount = Math.max(10_000, Math.floor((r.limit_fen * (10 + ((i * 37) % 51))) / 100 / 10_000) * 10_000) as Fen;
              const w = ws[(slot + i) % ws.length]!;
              const t = performance.now();
              const res = await fetch(`${w.url}/loans`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `bench-api:${workers}:${p.inFlight}:${r.customer_id}` },
                body: JSON.stringify({ customerId: r.customer_id, amount: (amount / 100).toFixed(2), rail: 'balance' }),
              });
              const body = (await res.json()) as { loan?: { status: string } };
              lat.push(performance.now() - t);
              const s = `${res.status} ${body.loan?.status ?? JSON.stringify(body).slice(0, 80)}`;
              status.set(s, (status.get(s) ?? 0) + 1);
            }
          };
          await Promise.all(Array.from({ length: p.inFlight }, (_, slot) => client(slot)));
          const s = seconds(t0);
          await sleep(1100);
          const x1 = await xacts();
          const after = await Promise.all(ws.map((w) => scrape(w, token)));
          const stmts = after.reduce((a, m, i) => a + m.statements - before[i]!.statements, 0);
          const groups = after.reduce((a, m, i) => a + m.groups - before[i]!.groups, 0);
          const items = after.reduce((a, m, i) => a + m.items - before[i]!.items, 0);
          const ok = status.get('201 disbursed') ?? 0;
          if (ok !== list.length) throw new Error(`disburse-api ${workers} worker(s), ${p.inFlight} in flight: ${JSON.stringify(Object.fromEntries(status))}`);
          lat.sort((a, b) => a - b);
          rows.push({
            stage: `disburse-api:${workers}w:${p.inFlight}`, items: list.length, seconds: s,
            note: `${workers} worker process${workers > 1 ? 'es' : ''}, ${p.inFlight} in flight: p50 ${percentile(lat, 50).toFixed(0)} ms, p95 ${percentile(lat, 95).toFixed(0)} ms, p99 ${percentile(lat, 99).toFixed(0)} ms; `
              + `${(stmts / list.length).toFixed(1)} statements and ${((x1 - x0) / list.length).toFixed(2)} transactions a loan (lendpay + platform); groups of ${(items / Math.max(1, groups)).toFixed(1)} on average`,
          });
        }
      } finally {
        for (const w of ws) await stopWorker(w);
      }
    }
    return rows;
  },
};
