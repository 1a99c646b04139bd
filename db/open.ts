// Opens lendpay's database for a command: DATABASE_URL, or the embedded default.
import type pg from 'pg';
import type { Config } from '../src/config.ts';
import { createDb, createPool, migrateToLatest, type Db } from './connection.ts';
import { ensureEmbeddedPostgres } from './embedded.ts';

export interface OpenDatabase {
  url: string;
  pool: pg.Pool;
  db: Db;
  close(): Promise<void>;
}

export async function resolveDatabaseUrl(config: Config, log?: (line: string) => void): Promise<string> {
  return config.databaseUrl ?? (await ensureEmbeddedPostgres(config.dataDir, log));
}

export async function openDatabase(config: Config, opts: { migrate?: boolean; log?: (line: string) => void } = {}): Promise<OpenDatabase> {
  const url = await resolveDatabaseUrl(config, opts.log);
  return openUrl(url, opts.migrate ?? true);
}

export async function openUrl(url: string, migrate = true, max = 10): Promise<OpenDatabase> {
  const pool = createPool(url, max);
  const db = createDb(pool);
  if (migrate) await migrateToLatest(db);
  return { url, pool, db, close: () => db.destroy() };
}
