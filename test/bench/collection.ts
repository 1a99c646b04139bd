// Bench stages for disbursement and collection, registered in stages.ts after the
// nightly ones, in the same run and database:
//   loans            loans due, written set-based (loans, installments, the fund and payout
//                    orders with attempts and their journal a disbursed loan has), the
//                    borrowers' balances opened on the sandbox in bulk and the marketplace
//                    settlement that makes the own_balance / cross_account / hold mix
//   disburse         applyForLoan over the sandbox's HTTP API: latency percentiles, and the
//                    p99 of one disbursement while 100 others are in flight
//   reprocess        an operator's ad-hoc reprocess jobs, sent one at a time to a worker
//                    (its own pg-boss instance): pickup latency, created_on → started_on
//   post-settlement  the CLI's post-settlement batch (pg-boss, one job per chunk, batch
//                    debits), with per-phase timings of collectBorrowers
//   hold-monitor     money arrives for a third of the holds; one monitor pass over every hold
//   collection-replay  the finished batch run again, and every chunk processed again:
//                    checksums of orders, attempts, journal, installments, plans, holds equal
//   collection-limits  a plain INSERT … SELECT of the same order + journal rows
import { sql } from 'kysely';
import type { Db } from '../../db/connection.ts';
import { createContext, sandboxOf, type Context } from '../../src/cli/context.ts';
import { adminPost } from '../../src/sandbox/admin.ts';
import { applyForLoan, recoverOpenAttempts } from '../../src/disbursement/disburse.ts';
import { collectionDeps, runPostSettlement } from '../../src/cli/commands/collection.ts';
import { monitorHolds } from '../../src/collection/monitor.ts';
import { collectBorrowers, collectionPhases } from '../../src/collection/service.ts';
import { ACCOUNTS } from '../../src/ledger/postings.ts';
import { addDays } from '../../src/loans/schedule.ts';
import { POST_SETTLEMENT, type PostSettlementSummary } from '../../jobs/post-settlement.ts';
import { findBatchRun } from '../../db/batch.repository.ts';
import { startBoss } from '../../jobs/boss.ts';
import { ESCALATION_QUEUES, enqueueReprocess, wakeOnReprocess, workEscalation } from '../../jobs/escalation.ts';
import { escalationDeps } from '../../src/cli/commands/ops.ts';
import type { BusinessDate } from '../../src/dates.ts';
import type { Fen } from '../../src/money.ts';
import type { Stage, StageContext, StageRow } from './stages.ts';
import { productTerms } from '../../src/loans/products.ts';

/** Loans due were disbursed this many days before the business date, on a daily schedule of TERM installments. */
const LOAN_AGE_DAYS = 3;
const TERM_DAYS = 14;
const ADMIN_PAGE = 10_000;

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One CLI context per size (its database pool, pg-boss and the in-process sandbox), closed at the end. */
export function benchCli(ctx: StageContext): Context {
  let c = ctx.state.get('cli') as Context | undefined;
  if (!c) {
    const made = createContext({ ...process.env, DATABASE_URL: ctx.database.url, LENDPAY_LOG_LEVEL: 'warn', LENDPAY_SANDBOX_IN_PROCESS: '1' });
    ctx.state.set('cli', made);
    ctx.onClose(() => made.close());
    c = made;
  }
  return c;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function pages<T>(db: Db, query: (after: string, limit: number) => Promise<(T & { k: string })[]>, each: (rows: T[]) => Promise<void>): Promise<number> {
  let n = 0;
  for (let after = ''; ; ) {
    const rows = await query(after, ADMIN_PAGE);
    if (rows.length === 0) return n;
    await each(rows);
    n += rows.length;
    after = rows[rows.length - 1]!.k;
  }
}

/** Count and an order-independent hash of every row of what collection writes. */
export async function collectionChecksum(db: Db): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of ['orders', 'order_attempts', 'journal_entries', 'journal_lines', 'installments', 'collection_items', 'holds', 'outflow_blocks', 'notifications', 'sandbox.requests', 'sandbox.accounts']) {
    const [schema, table] = t.includes('.') ? t.split('.') as [string, string] : ['public', t];
    const r = await sql<{ n: string; h: string }>`
      select count(*)::text as n, coalesce(sum(hashtextextended(x::text, 0)::numeric), 0)::text as h from ${sql.table(`${schema}.${table}`)} x
    `.execute(db);
    out[t] = `${r.rows[0]!.n}:${r.rows[0]!.h}`;
  }
  return out;
}

function phaseRows(prefix: string, items: number): StageRow[] {
  const rows: StageRow[] = [];
  for (const [name, v] of collectionPhases) {
    rows.push({ stage: `${prefix}:${name}`, items, seconds: v.ms / 1000, note: `summed over ${v.calls} calls (workers run concurrently)` });
  }
  return rows;
}

export const COLLECTION_STAGES: Stage[] = [
  {
    name: 'loans',
    byDefault: true,
    async run(ctx) {
      const c = benchCli(ctx);
      const { db } = ctx.database;
      const platform = await c.platform();
      const lender = { accountId: c.config.lenderAccountId, cardId: c.config.lenderCardId };
      const pricing = (await c.rules()).pricing;
      const ratePpm = pricing?.dailyRatePpm ?? 500;
      // sold as the default product (its overdue penalty accrues in the post-settlement stage: the first installments are overdue)
      const products = (await c.rules()).products;
      const terms = products ? productTerms(products.defaultProduct, TERM_DAYS, 'product') : null;
      const disbursedOn = addDays(ctx.date, -LOAN_AGE_DAYS);
      const at = new Date(`${disbursedOn}T10:00:00+08:00`);
      const share = ctx.options.dueShare;
      const t0 = performance.now();
      const counts = await db.connection().execute(async (k) => {
        await sql`set max_parallel_workers_per_gather = 0`.execute(k);
        await sql`select setseed(${((ctx.seed * 7 + 3) % 2_000_003) / 2_000_003})`.execute(k);
        await sql`drop table if exists bench_due`.execute(k);
        // one row of dice per borrower: mix 60% own balance / 15% cross-account / 25% hold
        await sql`
          create unlogged table bench_due as
          select customer_id, a1, 'L' || nextval('loan_numbers') as loan_id,
            ((10 + floor(r_amt * 490)) * 10000)::int8 as principal,
            case when r_mix < 0.60 then 'own' when r_mix < 0.75 then 'cross' else 'hold' end as mix,
            r_bal, r_extra, 0::int8 as due
          from (
            select c.id as customer_id, a.id as a1, random() as r_pick, random() as r_mix, random() as r_amt, random() as r_bal, random() as r_extra
            from customers c join customer_accounts a on a.customer_id = c.id and a.is_primary
            order by c.id
          ) d where r_pick < ${share}
          order by customer_id
        `.execute(k);
        await sql`alter table bench_due add primary key (loan_id)`.execute(k);
        const ruleSet = await sql<{ hash: string }>`select hash from rule_sets order by hash limit 1`.execute(k);
        const hash = ruleSet.rows[0]?.hash ?? 'migrated';
        const loans = await sql`
          insert into loans (id, customer_id, request_id, request_hash, principal_fen, rail, destination_id, mode, status, decision_date, rule_set_hash, limit_fen, expected_arrival_at, created_at, updated_at,
            product_id, product, disbursed_on)
          select loan_id, customer_id, 'bench:' || customer_id, md5(customer_id), principal, 'balance', a1, 'compliant', 'disbursed', ${disbursedOn}::date,
            ${hash}, principal * 2, ${at}, ${at}, ${at}, ${terms?.id ?? null}, ${terms ? JSON.stringify(terms) : null}::jsonb, ${disbursedOn}::date
          from bench_due order by loan_id
        `.execute(k);
        const inst = await sql`
          insert into installments (loan_id, no, due_date, principal_fen, interest_fen)
          select loan_id, n, ${disbursedOn}::date + n,
            case when n < ${TERM_DAYS} then principal / ${TERM_DAYS} else principal - (${TERM_DAYS} - 1) * (principal / ${TERM_DAYS}) end,
            round((principal - (n - 1) * (principal / ${TERM_DAYS}))::numeric * ${ratePpm} / 1000000)::int8
          from bench_due cross join generate_series(1, ${TERM_DAYS}) n
          order by loan_id, n
        `.execute(k);
        await sql`
          update bench_due b set due = s.due from (
            select loan_id, sum(principal_fen + interest_fen)::int8 as due from installments i
            where i.loan_id in (select loan_id from bench_due) and i.due_date <= ${ctx.date}::date group by loan_id
          ) s where s.loan_id = b.loan_id
        `.execute(k);
        // what a compliant disbursement left behind: the funding collection and the payout,
        // each succeeded on its first attempt, each with its balanced journal entry
        await sql`
          insert into orders (idempotency_key, kind, purpose, loan_id, customer_id, amount_fen, source_ref, destination_ref, status, arrives_at, created_at, updated_at)
          select 'disburse:' || loan_id || ':fund', 'collection', 'disburse.fund', loan_id, customer_id, principal,
            ${`card:${lender.cardId}`}, ${`account:${lender.accountId}`}, 'succeeded', ${at}, ${at}, ${at}
          from bench_due order by loan_id
        `.execute(k);
        await sql`
          insert into orders (idempotency_key, kind, purpose, loan_id, customer_id, amount_fen, source_ref, destination_ref, status, parent_order_id, arrives_at, created_at, updated_at)
          select 'disburse:' || b.loan_id || ':payout', 'payout', 'disburse.payout', b.loan_id, b.customer_id, b.principal,
            ${`account:${lender.accountId}`}, 'account:' || b.a1, 'succeeded', f.id, ${at}, ${at}, ${at}
          from bench_due b join orders f on f.idempotency_key = 'disburse:' || b.loan_id || ':fund'
          order by b.loan_id
        `.execute(k);
        await sql`
          insert into order_attempts (order_id, attempt_no, request_id, status, platform_ref, submitted_at, resolved_at)
          select o.id, 1, o.idempotency_key || '#1', 'succeeded', 'MIGRATED' || o.id, ${at}, ${at}
          from orders o join bench_due b on b.loan_id = o.loan_id order by o.id
        `.execute(k);
        await sql`
          insert into journal_entries (order_id, kind, memo, posted_at)
          select o.id, 'succeeded', o.idempotency_key || case when o.purpose = 'disburse.fund' then ': funding card → platform balance' else ': payout to borrower' end, ${at}
          from orders o join bench_due b on b.loan_id = o.loan_id order by o.id
        `.execute(k);
        const lines = await sql`
          insert into journal_lines (entry_id, line_no, account, customer_id, loan_id, debit_fen, credit_fen)
          select e.id, x.n, x.acct, x.cust, x.loan, x.d, x.c
          from bench_due b join orders o on o.loan_id = b.loan_id join journal_entries e on e.order_id = o.id and e.kind = 'succeeded'
          cross join lateral (values
            (1, case when o.purpose = 'disburse.fund' then ${ACCOUNTS.platformBalance} else ${ACCOUNTS.loansReceivable} end,
                case when o.purpose = 'disburse.payout' then o.customer_id end, case when o.purpose = 'disburse.payout' then o.loan_id end, o.amount_fen, 0::int8),
            (2, case when o.purpose = 'disburse.fund' then ${ACCOUNTS.fundingCard} else ${ACCOUNTS.platformBalance} end, null, null, 0::int8, o.amount_fen)
          ) as x(n, acct, cust, loan, d, c)
          order by e.id, x.n
        `.execute(k);
        // the cross-account borrowers keep money in a second balance account
        await sql`
          insert into customer_accounts (id, customer_id, is_primary, imported_balance_fen)
          select customer_id || '-A2', customer_id, false, 0 from bench_due where mix = 'cross' order by customer_id
          on conflict (id) do nothing
        `.execute(k);
        await sql`reset max_parallel_workers_per_gather`.execute(k);
        await sql`analyze loans, installments, orders, order_attempts, journal_entries, journal_lines, customer_accounts, bench_due`.execute(k);
        return { loans: Number(loans.numAffectedRows ?? 0), installments: Number(inst.numAffectedRows ?? 0), lines: Number(lines.numAffectedRows ?? 0) };
      });
      const dbSeconds = seconds(t0);

      // The platform side: after the loan the merchants spent most of it (what is left is
      // 0–30% of today's due); the cross-account borrowers hold enough in a second account;
      // this morning's settlement pays the own-balance borrowers in full and the hold
      // borrowers part of it (0–40%).
      const t1 = performance.now();
      let settledLines = 0, settledFen = 0;
      await pages<{ a1: string; customer_id: string; mix: string; due: number; r_bal: number; r_extra: number }>(
        db,
        async (after, limit) => (await sql<{ k: string; a1: string; customer_id: string; mix: string; due: number; r_bal: number; r_extra: number }>`
          select customer_id as k, customer_id, a1, mix, due, r_bal, r_extra from bench_due where customer_id > ${after} order by customer_id limit ${limit}
        `.execute(db)).rows,
        async (rows) => {
          const accounts: { id: string; customerId: string; balance: number }[] = [];
          const lines: { accountId: string; amount: number }[] = [];
          for (const r of rows) {
            accounts.push({ id: r.a1, customerId: r.customer_id, balance: Math.floor(r.due * r.r_bal * 0.3) });
            if (r.mix === 'cross') accounts.push({ id: `${r.customer_id}-A2`, customerId: r.customer_id, balance: r.due + Math.floor(r.due * 0.5 * r.r_extra) });
            const amount = r.mix === 'own' ? r.due + Math.floor(r.due * r.r_extra) : r.mix === 'hold' ? Math.floor(r.due * 0.4 * r.r_extra) : 0;
            if (amount > 0) lines.push({ accountId: r.a1, amount });
          }
          for (let i = 0; i < accounts.length; i += ADMIN_PAGE) await adminPost(sandboxOf(platform), '/admin/accounts', { mode: 'replace', accounts: accounts.slice(i, i + ADMIN_PAGE) });
          if (lines.length > 0) await adminPost(sandboxOf(platform), '/admin/settle', { lines });
          settledLines += lines.length;
          settledFen += lines.reduce((s, l) => s + l.amount, 0);
        },
      );
      // after a bulk load the platform's tables need statistics, as autovacuum would give them
      await sql`analyze sandbox.accounts, sandbox.cards, sandbox.movements`.execute(db);
      await db.insertInto('settlements').values({ business_date: ctx.date, lines: settledLines, total_fen: settledFen }).onConflict((oc) => oc.column('business_date').doNothing()).execute();
      const platformSeconds = seconds(t1);
      ctx.state.set('loans', counts);
      return [
        { stage: 'loans', items: counts.loans, seconds: dbSeconds + platformSeconds, note: `${counts.installments} installments, ${counts.lines} journal lines; ${LOAN_AGE_DAYS} of ${TERM_DAYS} due` },
        { stage: 'loans:db', items: counts.loans, seconds: dbSeconds, note: 'set-based insert … select' },
        { stage: 'loans:sandbox', items: counts.loans, seconds: platformSeconds, note: `accounts opened + settlement of ${settledLines} lines over HTTP` },
      ];
    },
  },
  {
    name: 'disburse',
    byDefault: true,
    async run(ctx) {
      const c = benchCli(ctx);
      const { db } = ctx.database;
      const platform = await c.platform();
      const inFlight = 100;
      const probeLoans = Math.max(inFlight * 5, Math.min(2000, Math.floor(ctx.options.disburse / 2)));
      // eligible merchants without a loan, spread over the population
      const pool = await sql<{ customer_id: string; limit_fen: number; a1: string; balance: number }>`
        select d.customer_id, d.limit_fen, a.id as a1, a.imported_balance_fen as balance
        from eligibility_decisions d join customer_accounts a on a.customer_id = d.customer_id and a.is_primary
        where d.business_date = ${ctx.date}::date and d.eligible and d.limit_fen >= 100000
          and not exists (select 1 from loans l where l.customer_id = d.customer_id)
        order by md5(d.customer_id) limit ${ctx.options.disburse + probeLoans}
      `.execute(db);
      const all = pool.rows;
      if (all.length < 2) return [];
      for (let i = 0; i < all.length; i += ADMIN_PAGE) {
        await adminPost(sandboxOf(platform), '/admin/accounts', { mode: 'open', accounts: all.slice(i, i + ADMIN_PAGE).map((r) => ({ id: r.a1, customerId: r.customer_id, balance: r.balance })) });
      }
      const serialLoans = Math.min(100, Math.floor(all.length / 10));
      const serial = all.slice(0, serialLoans);
      const main = all.slice(serialLoans, Math.max(serialLoans + 1, all.length - probeLoans));
      const probe = all.slice(main.length + serialLoans);
      const deps = { ...(await c.disburseDeps()), clock: { now: () => new Date(`${ctx.date}T10:00:00+08:00`) } };
      const run = async (list: typeof all, concurrency: number, tag: string) => {
        const lat: number[] = [];
        const status = new Map<string, number>();
        let next = 0;
        const worker = async () => {
          for (let i = next++; i < list.length; i = next++) {
            const r = list[i]!;
            const amount = Math.max(10_000, Math.floor((r.limit_fen * (10 + ((i * 37) % 51))) / 100 / 10_000) * 10_000) as Fen;
            const t = performance.now();
            const out = await applyForLoan(deps, { customerId: r.customer_id, amount, rail: 'balance', requestId: `bench:${tag}:${r.customer_id}` });
            lat.push(performance.now() - t);
            const s = out.ok ? out.loan.status : `refused ${out.code}`;
            status.set(s, (status.get(s) ?? 0) + 1);
          }
        };
        const xacts = async () => Number((await sql<{ n: string }>`select xact_commit::text as n from pg_stat_database where datname = current_database()`.execute(db)).rows[0]!.n);
        const x0 = await xacts();
        const t0 = performance.now();
        await Promise.all(Array.from({ length: concurrency }, worker));
        const s = seconds(t0);
        await new Promise((r) => setTimeout(r, 1100)); // statistics are flushed at most once a second
        const txPerLoan = (await xacts() - x0) / list.length;
        lat.sort((a, b) => a - b);
        // a call that timed out (a loaded machine) leaves its loan disbursing with the outcome
        // unknown: recovery queries the platform and finishes it, as the worker would
        const unknown = status.get('disbursing') ?? 0;
        if (unknown > 0) {
          const later = { ...deps, clock: { now: () => new Date(deps.clock.now().getTime() + 3600_000) } };
          for (let round = 0; round < 3; round++) await recoverOpenAttempts(later, { olderThanMs: 0 });
          const after = await db.selectFrom('loans').select(['status', sql<number>`count(*)::int`.as('n')]).where('request_id', 'like', `bench:${tag}:%`).groupBy('status').execute();
          status.clear();
          for (const r of after) status.set(r.status, r.n);
        }
        const disbursed = status.get('disbursed') ?? 0;
        if (disbursed !== list.length) throw new Error(`disburse ${tag}: ${JSON.stringify(Object.fromEntries(status))}`);
        return { seconds: s, txPerLoan, n: list.length, unknown, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat[lat.length - 1]! };
      };
      const conc = ctx.options.disburseConcurrency;
      // one at a time first: the latency of a disbursement with nothing else in flight
      const one = serial.length > 0 ? await run(serial, 1, 'serial') : null;
      const a = await run(main, conc, 'main');
      const rows: StageRow[] = [{
        stage: 'disburse', items: a.n, seconds: a.seconds, limitOf: 'limit:disburse+fks+statement-check',
        note: `${conc} concurrent; per loan p50 ${a.p50.toFixed(0)} ms, p95 ${a.p95.toFixed(0)} ms, p99 ${a.p99.toFixed(0)} ms; ${a.txPerLoan.toFixed(1)} transactions a loan (lendpay + sandbox)${a.unknown ? `; ${a.unknown} timed out, finished by recovery` : ''}`,
      }];
      if (one) {
        rows.push({
          stage: 'disburse:one-at-a-time', items: one.n, seconds: one.seconds,
          note: `p50 ${one.p50.toFixed(0)} ms, p95 ${one.p95.toFixed(0)} ms, p99 ${one.p99.toFixed(0)} ms; ${one.txPerLoan.toFixed(1)} transactions a loan`,
        });
      }
      ctx.state.set('disburse', { main: a });
      if (probe.length > 0) {
        // one disbursement while 100 others are in flight: 101 workers, every request sees 100 others
        const b = await run(probe, inFlight + 1, 'probe');
        rows.push({
          stage: 'disburse:p99@100-in-flight', items: b.n, seconds: b.seconds,
          note: `p50 ${b.p50.toFixed(0)} ms, p95 ${b.p95.toFixed(0)} ms, p99 ${b.p99.toFixed(0)} ms (target p99 ≤ 100 ms)${b.unknown ? `; ${b.unknown} timed out, finished by recovery` : ''}`,
        });
        ctx.state.set('disburse', { main: a, probe: b });
      }
      return rows;
    },
  },
  {
    name: 'reprocess',
    byDefault: true,
    async run(ctx) {
      const c = benchCli(ctx);
      const { db } = ctx.database;
      const n = 200;
      const orders = await db.selectFrom('orders').select('id').where('status', '=', 'succeeded').orderBy('id', 'desc').limit(n).execute();
      if (orders.length === 0) return [];
      const sender = await c.boss();
      // the worker: its own pg-boss instance (its own LISTEN connection), as a worker process has
      const worker = await startBoss(ctx.database.url);
      try {
        const [reprocessWorker] = await workEscalation(worker, await escalationDeps(c));
        // as a worker process does: woken by NOTIFY on its own listener
        const wake = wakeOnReprocess(worker, reprocessWorker!, ctx.database.url);
        ctx.onClose(() => wake.close());
        await sleep(1000); // the worker's listener is up and its first poll has passed
        const t0 = performance.now();
        for (const o of orders) {
          // one at a time, as operators send them, at uneven moments
          await sleep(Math.floor(Math.random() * 30));
          await enqueueReprocess(sender, [o.id]);
          for (let i = 0; i < 2000; i++) {
            const r = await sql<{ state: string }>`select state from pgboss.job where name = ${ESCALATION_QUEUES.reprocess} and data->>'orderId' = ${String(o.id)} order by created_on desc limit 1`.execute(db);
            if (r.rows[0] && r.rows[0].state !== 'created' && r.rows[0].state !== 'active') break;
            await sleep(5);
          }
        }
        const s = seconds(t0);
        // both timestamps by the database's clock: no skew between sender and worker
        const lat = (await sql<{ ms: number }>`
          select (extract(epoch from started_on - created_on) * 1000)::float8 as ms from pgboss.job
          where name = ${ESCALATION_QUEUES.reprocess} and started_on is not null and data->>'orderId' = any(${orders.map((o) => String(o.id))}::text[])
          order by 1`.execute(db)).rows.map((r) => r.ms);
        return [{
          stage: 'reprocess:pickup', items: lat.length, seconds: s,
          note: `sent → picked up (NOTIFY): p50 ${percentile(lat, 50).toFixed(0)} ms, p95 ${percentile(lat, 95).toFixed(0)} ms, max ${lat[lat.length - 1]!.toFixed(0)} ms (target p95 ≤ 100 ms)`,
        }];
      } finally {
        await worker.stop({ graceful: true, close: true, timeout: 5000 } as never);
      }
    },
  },
  {
    name: 'post-settlement',
    byDefault: true,
    async run(ctx) {
      const c = benchCli(ctx);
      collectionPhases.clear();
      const t0 = performance.now();
      const res = await runPostSettlement(c, ctx.date as BusinessDate, { work: true, progress: false });
      const s = seconds(t0);
      if (res.run.status !== 'finished') throw new Error(`post-settlement run ${res.run.id} ended ${res.run.status}`);
      const sum = res.run.summary as PostSettlementSummary;
      const expected = (ctx.state.get('loans') as { loans: number } | undefined)?.loans;
      if (expected !== undefined && sum.loans !== expected) throw new Error(`post-settlement planned ${sum.loans} loans, ${expected} were due`);
      const steps = Object.entries(sum.byStep).map(([k, v]) => `${k} ${v.loans}`).join(', ');
      const pen = await sql<{ n: number; fen: number }>`
        select count(*)::int8 as n, coalesce(sum(penalty_fen), 0)::int8 as fen from installments where penalty_through = ${ctx.date}::date
      `.execute(ctx.database.db);
      return [
        {
          stage: 'post-settlement', items: sum.loans, seconds: s, limitOf: 'limit:post-settlement+fks+statement-check',
          note: `${res.run.totalChunks} chunks; ${steps}; ${sum.openHolds} holds, ${sum.blockedBorrowers} blocked; penalty accrued on ${pen.rows[0]!.n} installments (${(pen.rows[0]!.fen / 100).toFixed(2)} CNY)`,
        },
        ...phaseRows('post-settlement', sum.loans),
      ];
    },
  },
  {
    name: 'hold-monitor',
    byDefault: true,
    async run(ctx) {
      const c = benchCli(ctx);
      const { db } = ctx.database;
      const platform = await c.platform();
      // money arrives for every third borrower on hold (not timed)
      const open = await sql<{ account: string; amount_fen: number }>`
        select a.id as account, h.amount_fen from holds h join customer_accounts a on a.customer_id = h.customer_id and a.is_primary
        where h.status = 'open' order by h.customer_id
      `.execute(db);
      const arriving = open.rows.filter((_, i) => i % 3 === 0).map((h) => ({ accountId: h.account, amount: h.amount_fen }));
      for (let i = 0; i < arriving.length; i += ADMIN_PAGE) await adminPost(sandboxOf(platform), '/admin/settle', { lines: arriving.slice(i, i + ADMIN_PAGE) });
      const deps = await collectionDeps(c);
      collectionPhases.clear();
      const t0 = performance.now();
      const m = await monitorHolds(deps, `bench:${ctx.date}`);
      const s = seconds(t0);
      ctx.state.set('hold-monitor', open.rows.length);
      return [
        { stage: 'hold-monitor', items: open.rows.length, seconds: s, limitOf: 'limit:hold-monitor+fks+statement-check', note: `${m.debits} debits, ${m.cleared} cleared, ${m.unblocked} unblocked` },
      ];
    },
  },
  {
    name: 'collection-replay',
    byDefault: true,
    // The finished batch run again by the CLI (the run is found finished), then every
    // chunk's borrowers processed again as if each chunk job had been lost after its
    // work and delivered again: plans are found recorded, nothing is sent, nothing changes.
    async run(ctx) {
      const c = benchCli(ctx);
      const { db } = ctx.database;
      const before = await collectionChecksum(db);
      let t0 = performance.now();
      const again = await runPostSettlement(c, ctx.date as BusinessDate, { work: true, progress: false });
      const rerun = seconds(t0);
      if (again.created) throw new Error('replay claimed a new post-settlement run');
      const run = await findBatchRun(db, POST_SETTLEMENT, ctx.date);
      if (!run) throw new Error('no post-settlement run to replay');
      const chunks = await db.selectFrom('batch_chunks').select(['chunk_no', 'from_key', 'to_key']).where('run_id', '=', run.id).orderBy('chunk_no').execute();
      const deps = { ...(await collectionDeps(c)), ruleSetHash: run.ruleSetHash! };
      t0 = performance.now();
      let next = 0, sent = 0;
      const worker = async () => {
        for (let i = next++; i < chunks.length; i = next++) {
          const ch = chunks[i]!;
          const r = await collectBorrowers(deps, { fromKey: ch.from_key, toKey: ch.to_key }, {
            date: run.businessDate, runId: run.id, keyPrefix: 'collect', purpose: 'collect.batch', openHolds: true,
          });
          sent += r.debits.sent;
        }
      };
      await Promise.all(Array.from({ length: c.config.workerConcurrency }, worker));
      const reprocess = seconds(t0);
      const after = await collectionChecksum(db);
      for (const k of Object.keys(before)) if (before[k] !== after[k]) throw new Error(`collection replay changed ${k}: ${before[k]} → ${after[k]}`);
      if (sent !== 0) throw new Error(`collection replay sent ${sent} debits`);
      const loans = Number((run.summary as PostSettlementSummary | null)?.loans ?? 0);
      return [
        { stage: 'replay:post-settlement-rerun', items: loans, seconds: rerun, note: 'checksums equal' },
        { stage: 'replay:post-settlement-chunks', items: loans, seconds: reprocess, note: `${chunks.length} chunks processed again, 0 sent, checksums equal` },
      ];
    },
  },
  {
    name: 'collection-limits',
    byDefault: true,
    // What the money-path stages are held against: a plain set-based copy of every row
    // each wrote — orders, attempts, journal lines and entries, and for collection the
    // plans and the notifications — into tables LIKE the originals (their indexes),
    // then the same with the foreign keys the real tables carry and the journal's
    // balance check once per statement; for collection also an update of the very
    // installments it paid (paid + 0: the write, not the arithmetic).
    async run(ctx) {
      const { db } = ctx.database;
      const rows: StageRow[] = [];
      const TABLES = ['loans', 'installments', 'collection_items', 'orders', 'order_attempts', 'journal_entries', 'journal_lines', 'notifications'] as const;
      const copy = async (label: string, orderFilter: ReturnType<typeof sql>, items: number, opts: { integrity: boolean; plans: ReturnType<typeof sql> | null; loans?: ReturnType<typeof sql> }) => {
        let n = 0;
        await db.connection().execute(async (k) => {
          for (const t of [...TABLES].reverse()) await sql`drop table if exists ${sql.table(`bench_copy_${t}`)} cascade`.execute(k);
          for (const t of TABLES) await sql`create table ${sql.table(`bench_copy_${t}`)} (like ${sql.table(t)} including all)`.execute(k);
          await sql`drop table if exists bench_orders_written`.execute(k);
          await sql`create temp table bench_orders_written as select id from orders o where ${orderFilter}`.execute(k);
          await sql`analyze bench_orders_written`.execute(k);
          if (opts.integrity) {
            await sql`
              alter table bench_copy_loans add foreign key (customer_id) references customers (id);
              alter table bench_copy_installments add foreign key (loan_id) references bench_copy_loans (id);
              alter table bench_copy_collection_items add foreign key (loan_id) references loans (id), add foreign key (customer_id) references customers (id),
                add foreign key (run_id) references batch_runs (id);
              alter table bench_copy_orders add foreign key (loan_id) references loans (id), add foreign key (customer_id) references customers (id),
                add foreign key (parent_order_id) references orders (id);
              alter table bench_copy_order_attempts add foreign key (order_id) references bench_copy_orders (id);
              alter table bench_copy_journal_entries add foreign key (order_id) references bench_copy_orders (id);
              alter table bench_copy_journal_lines add foreign key (entry_id) references bench_copy_journal_entries (id);
              alter table bench_copy_notifications add foreign key (customer_id) references customers (id), add foreign key (order_id) references bench_copy_orders (id);
              create or replace function bench_balanced_stmt() returns trigger language plpgsql as $$
              declare bad bigint;
              begin
                select entry_id into bad from (select distinct entry_id from new_lines) n
                  cross join lateral (select sum(debit_fen) as d, sum(credit_fen) as c from bench_copy_journal_lines l where l.entry_id = n.entry_id) s
                  where s.d <> s.c limit 1;
                if bad is not null then raise exception 'journal entry % does not balance', bad; end if;
                return null;
              end $$;
              create trigger bench_copy_balanced after insert on bench_copy_journal_lines
                referencing new table as new_lines for each statement execute function bench_balanced_stmt();
            `.execute(k);
          }
          // the rows to write, gathered first (untimed): the limit is the writing alone
          const src = async (t: string, q: ReturnType<typeof sql>) => {
            await sql`drop table if exists ${sql.table(`bench_src_${t}`)}`.execute(k);
            await sql`create temp table ${sql.table(`bench_src_${t}`)} as ${q}`.execute(k);
          };
          // a disbursement makes its loan and schedule too (the copies take new ids: the originals exist)
          await src('loans', opts.loans ? sql`select l.* from loans l where ${opts.loans}` : sql`select * from loans where false`);
          await src('installments', opts.loans ? sql`select i.* from installments i join bench_src_loans l on l.id = i.loan_id` : sql`select * from installments where false`);
          await src('collection_items', opts.plans ? sql`select c.* from collection_items c where ${opts.plans}` : sql`select * from collection_items where false`);
          await src('orders', sql`select o.* from orders o join bench_orders_written w on w.id = o.id order by o.id`);
          await src('order_attempts', sql`select a.* from order_attempts a join bench_orders_written w on w.id = a.order_id order by a.order_id, a.attempt_no`);
          await src('journal_lines', sql`
            select l.* from journal_lines l join orders o on o.loan_id = l.loan_id and o.id = l.order_id join bench_orders_written w on w.id = o.id
            union select l.* from journal_lines l join journal_entries e on e.id = l.entry_id join bench_orders_written w on w.id = e.order_id
            order by 1, 2`);
          await src('journal_entries', sql`select e.* from journal_entries e where e.id in (select entry_id from bench_src_journal_lines) order by e.id`);
          await src('notifications', sql`select x.* from notifications x join bench_orders_written w on w.id = x.order_id order by x.id`);
          await src('paid', sql`
            select i.loan_id, i.no from installments i
            where i.loan_id in (select distinct o.loan_id from orders o join bench_orders_written w on w.id = o.id where o.status = 'succeeded')
              and (i.paid_principal_fen > 0 or i.paid_interest_fen > 0)`);
          await sql`analyze bench_src_paid`.execute(k);
          await sql`begin`.execute(k);
          const t1 = performance.now();
          const ins = async (q: ReturnType<typeof sql>) => (n += Number((await q.execute(k)).numAffectedRows ?? 0));
          for (const t of TABLES) await ins(sql`insert into ${sql.table(`bench_copy_${t}`)} select * from ${sql.table(`bench_src_${t}`)}`);
          // the installments the stage paid, written again as they are
          if (opts.plans) await ins(sql`update installments i set paid_principal_fen = i.paid_principal_fen + 0 from bench_src_paid s where i.loan_id = s.loan_id and i.no = s.no`);
          await sql`commit`.execute(k);
          const s = seconds(t1);
          for (const t of [...TABLES].reverse()) await sql`drop table ${sql.table(`bench_copy_${t}`)}`.execute(k);
          await sql`drop function if exists bench_balanced_stmt()`.execute(k);
          await sql`drop table bench_orders_written`.execute(k);
          for (const t of [...TABLES, 'paid']) await sql`drop table if exists ${sql.table(`bench_src_${t}`)}`.execute(k);
          rows.push({
            stage: `limit:${label}${opts.integrity ? '+fks+statement-check' : ''}`, items, seconds: s,
            note: `insert … select of the ${n} rows it wrote (${opts.loans ? 'loans, schedules, ' : ''}${opts.plans ? 'plans, ' : ''}orders, attempts, journal, notifications${opts.plans ? ', installments updated' : ''})${opts.integrity ? ', with their foreign keys and the balance checked per statement' : ''}`,
          });
        });
      };
      const disb = ctx.state.get('disburse') as { main: { n: number } } | undefined;
      if (disb) {
        const f = sql`o.purpose like 'disburse.%' and o.loan_id in (select id from loans where request_id like 'bench:main:%')`;
        const loans = sql`l.request_id like 'bench:main:%'`;
        await copy('disburse', f, disb.main.n, { integrity: false, plans: null, loans });
        await copy('disburse', f, disb.main.n, { integrity: true, plans: null, loans });
      }
      const run = await findBatchRun(db, POST_SETTLEMENT, ctx.date);
      const loans = Number((run?.summary as PostSettlementSummary | null)?.loans ?? 0);
      if (run) {
        const f = sql`o.purpose = 'collect.batch' and o.idempotency_key like ${`collect:%:${ctx.date}:%`}`;
        const plans = sql`c.business_date = ${ctx.date}::date`;
        await copy('post-settlement', f, loans, { integrity: false, plans });
        await copy('post-settlement', f, loans, { integrity: true, plans });
      }
      const scanned = ctx.state.get('hold-monitor') as number | undefined;
      if (scanned !== undefined) await copy('hold-monitor', sql`o.purpose = 'collect.hold'`, scanned, { integrity: true, plans: null });
      await sql`drop table if exists bench_due`.execute(db);
      return rows;
    },
  },
];
