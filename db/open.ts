// Opens lendpay's database for a command: DATABASE_URL, or the embedded default.
import pg from 'pg';
import { requireDataDir, type Config } from '../src/config.ts';
import { LendpayError } from '../src/errors.ts';
import { createDb, createPool, migrateToLatest, type Db } from './connection.ts';
import { ensureEmbeddedPostgres } from './embedded.ts';

export interface OpenDatabase {
  url: string;
  pool: pg.Pool;
  db: Db;
  close(): Promise<void>;
}

export async function resolveDatabaseUrl(config: Config, log?: (line: string) => void): Promise<string> {
  return config.databaseUrl ?? (await ensureEmbeddedPostgres(requireDataDir(config), log));
}

export async function openDatabase(config: Config, opts: { migrate?: boolean; log?: (line: string) => void } = {}): Promise<OpenDatabase> {
  const url = await resolveDatabaseUrl(config, opts.log);
  const source = config.databaseUrl === null ? 'the embedded PostgreSQL' : 'DATABASE_URL';
  // One connection first, so that a server that is not there is named as such rather
  // than surfacing as a failed migration.
  await checkReachable(url, source);
  return openUrl(url, opts.migrate ?? true);
}

export async function openUrl(url: string, migrate = true, max = 10): Promise<OpenDatabase> {
  const pool = createPool(url, max);
  const db = createDb(pool);
  if (migrate) await migrateToLatest(db);
  return { url, pool, db, close: () => db.destroy() };
}

/** One connection to `url`; a server that does not answer is a one-line DATABASE_UNAVAILABLE naming it. */
export async function checkReachable(url: string, source: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new LendpayError('DATABASE_UNAVAILABLE', `cannot reach the PostgreSQL server ${describeServer(url)} (${source}): ${reason(err, url)}`, { cause: err, retryable: true });
  } finally {
    await client.end().catch(() => {});
  }
}

/** `postgres@db.example:5432/lendpay`: where, as whom, which database — never the password. */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || 'localhost';
    return `${u.username ? `${decodeURIComponent(u.username)}@` : ''}${host}:${u.port || '5432'}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return '(an unreadable URL)';
  }
}

function reason(err: unknown, url: string): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED': return 'connection refused (is PostgreSQL running there, on that port?)';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'no such host';
    case 'ETIMEDOUT': case 'EHOSTUNREACH': case 'ENETUNREACH': return 'no answer (host unreachable or a firewall)';
    case 'ECONNRESET': return 'the connection was reset';
    case '28P01': return 'password authentication failed';
    case '28000': return 'the server refuses this user or address (pg_hba.conf)';
    case '3D000': return `the database does not exist (create it, or name another in the URL)`;
    case '57P03': return 'the server is starting up or shutting down; try again';
    default: {
      // pg's messages do not carry the URL, but be sure nothing of its password leaks
      const pw = (() => { try { return decodeURIComponent(new URL(url).password); } catch { return ''; } })();
      const msg = e.message ?? String(err);
      return pw ? msg.split(pw).join('***') : msg;
    }
  }
}
