// Each test file gets its own fresh database on the real server: DATABASE_URL when
// set, else the embedded default under .lendpay/. Dropped again when the file ends.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { resolveDatabaseUrl, openUrl, type OpenDatabase } from '../../db/open.ts';

export interface TestDatabase extends OpenDatabase {
  name: string;
  drop(): Promise<void>;
}

export async function freshDatabase(label: string): Promise<TestDatabase> {
  const adminUrl = await resolveDatabaseUrl(loadConfig());
  const name = `lendpay_t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await admin(adminUrl, `create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const open = await openUrl(url, true, 8);
  return {
    ...open,
    name,
    async drop() {
      await open.close();
      await admin(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** One statement on its own connection (create or drop a database: not inside a pool's transaction). */
export async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
