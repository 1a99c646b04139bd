// Connection to lendpay's database. int8/numeric parsing is set once, globally,
// with a range check, so no bigint ever arrives as a string or loses precision.
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Database } from './types.ts';
import { migrations } from './migrations/index.ts';
import { LendpayError } from '../src/errors.ts';

const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;

function parseSafeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new LendpayError('INVALID_AMOUNT', `database value ${text} is outside the safe integer range`);
  return n;
}
pg.types.setTypeParser(INT8, parseSafeInteger);
const parseTextArray = pg.types.getTypeParser(1009 as never) as (text: string) => (string | null)[];
pg.types.setTypeParser(1016 as never /* int8[] */, (text: string) => parseTextArray(text).map((v) => (v === null ? null : parseSafeInteger(v))));
pg.types.setTypeParser(NUMERIC, (text: string) => (/^-?\d+$/.test(text) ? parseSafeInteger(text) : text));
// Business dates stay 'YYYY-MM-DD': a JS Date would shift them by the process's zone.
pg.types.setTypeParser(DATE, (text: string) => text);

export type Db = Kysely<Database>;

/**
 * Settings every lendpay session starts with. Statements join ~1,000 keys to tables that
 * grow with the population; with the default random_page_cost (4, a spinning disk's)
 * the planner turns such a join into a hash over a sequential scan of the whole table
 * once it is mid-sized (measured at 100k merchants: 29 ms instead of ~3 ms), so every
 * chunk would cost O(table). On SSD or cached data an index lookup costs nearly what a
 * sequential page does. And no JIT: a statement that runs for milliseconds pays ~100 ms
 * to compile whenever a stale estimate pushes its cost over jit_above_cost (measured at 1M).
 */
export const SESSION_OPTIONS = '-c random_page_cost=1.1 -c jit=off';

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'lendpay', options: SESSION_OPTIONS });
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => {});
  // Nor one that is checked out between two queries (inside a transaction, say) when
  // its backend is terminated: pg emits 'error' on the client, which with no listener
  // is an uncaught exception. The query that next uses it fails and its caller handles that.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/** Statements this process has sent through Kysely (the benchmark's statements per loan, /metrics). */
let statements = 0;
export function statementsSent(): number {
  return statements;
}

const pools = new WeakMap<object, pg.Pool>();

export function createDb(pool: pg.Pool): Db {
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: () => {
      statements++;
    },
  });
  pools.set(db, pool);
  return db;
}

/** The pool behind a Db made by createDb: for what Kysely cannot do, such as COPY. */
export function poolOf(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new LendpayError('DATABASE_UNAVAILABLE', 'this Db was not made by createDb: it has no pool for COPY');
  return pool;
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // Unordered: two branches may each add a numbered migration; each is independent.
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const what = failed ? `migration ${failed.migrationName}` : 'migrating the database';
    throw new LendpayError('DATABASE_UNAVAILABLE', `${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
