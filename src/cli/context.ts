// What every command shares: config, the database (migrated), and pg-boss on demand.
import type { PgBoss } from 'pg-boss';
import { loadConfig, type Config } from '../config.ts';
import { openDatabase, type OpenDatabase } from '../../db/open.ts';
import { startBoss } from '../../jobs/boss.ts';

export interface Context {
  config: Config;
  database(): Promise<OpenDatabase>;
  boss(): Promise<PgBoss>;
  close(): Promise<void>;
}

export function createContext(env: NodeJS.ProcessEnv = process.env): Context {
  const config = loadConfig(env);
  let database: Promise<OpenDatabase> | null = null;
  let boss: Promise<PgBoss> | null = null;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const ctx: Context = {
    config,
    database() {
      database ??= openDatabase(config, { log });
      return database;
    },
    boss() {
      boss ??= ctx.database().then((d) => startBoss(d.url, { onError: (e) => log(`pg-boss: ${e.message}`) }));
      return boss;
    },
    async close() {
      if (boss) await (await boss).stop({ graceful: true, timeout: 10_000 }).catch(() => {});
      if (database) await (await database).close();
    },
  };
  return ctx;
}
