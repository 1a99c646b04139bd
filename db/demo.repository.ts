// What the demo needs to know of a database before it writes 10,000 fake merchants
// into it, and the row that marks a database as a demo's.
import pg from 'pg';
import type { Db } from './connection.ts';

export type DatabaseContents =
  | { kind: 'empty' }
  | { kind: 'demo'; runs: number }
  | { kind: 'other'; what: string };

/**
 * Read before any migration runs, so that nothing is written to a database that turns
 * out not to be lendpay's: empty (no tables, or lendpay's schema with no customers,
 * loans or batch runs), a previous demo's (demo_runs has rows), or something else.
 */
export async function inspectForDemo(url: string): Promise<DatabaseContents> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>(`
      select table_schema || '.' || table_name as name from information_schema.tables
      where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'
      order by 1
    `)).rows.map((r) => r.name);
    if (tables.length === 0) return { kind: 'empty' };
    const has = (t: string) => tables.includes(t);
    if (!has('public.kysely_migration') || !has('public.customers')) {
      return { kind: 'other', what: `${tables.length} table${tables.length === 1 ? '' : 's'} that are not lendpay's (e.g. ${tables[0]})` };
    }
    if (has('public.demo_runs')) {
      const runs = Number((await client.query<{ n: string }>('select count(*) as n from demo_runs')).rows[0]?.n ?? 0);
      if (runs > 0) return { kind: 'demo', runs };
    }
    const counts = (await client.query<{ customers: string; loans: string; runs: string }>(`
      select (select count(*) from customers) as customers,
             ${has('public.loans') ? '(select count(*) from loans)' : '0'} as loans,
             ${has('public.batch_runs') ? '(select count(*) from batch_runs)' : '0'} as runs
    `)).rows[0]!;
    const [customers, loans, runs] = [Number(counts.customers), Number(counts.loans), Number(counts.runs)];
    if (customers + loans + runs === 0) return { kind: 'empty' };
    return { kind: 'other', what: `lendpay data no demo wrote: ${customers.toLocaleString('en')} customers, ${loans.toLocaleString('en')} loans, ${runs.toLocaleString('en')} batch runs` };
  } finally {
    await client.end().catch(() => {});
  }
}

export async function recordDemoRun(db: Db, run: { businessDate: string; seed: number; size: number }): Promise<void> {
  await db.insertInto('demo_runs').values({ business_date: run.businessDate, seed: run.seed, size: run.size }).execute();
}
