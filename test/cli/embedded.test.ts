// The embedded PostgreSQL as a new user meets it: as root, in a clone under a
// private directory (mode 700, as /root or `mktemp -d` are), `npm start` works, says
// where PostgreSQL's files went and how to stop it; every directory of the project
// reaches the same server; `db stop` finds it. Runs only as root (CI and containers
// are): as another user PostgreSQL runs as that user and no directory is out of reach.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';

const ROOT = path.resolve('.');
const asRoot = process.getuid?.() === 0;
let dir = '';
let clone = '';

function lendpay(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LENDPAY_') && k !== 'DATABASE_URL') env[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(clone, 'src/cli/bin.js'), ...args], { cwd, env, timeout: 300_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test.before(() => {
  if (!asRoot) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-private-'));
  assert.is(fs.statSync(dir).mode & 0o777, 0o700, 'mkdtemp makes a private directory');
  clone = path.join(dir, 'lendpay');
  // the tracked files as a clone has them, and node_modules hard-linked (as fast as a
  // symlink, but the binaries' real path is inside the private directory, as after
  // npm install there)
  fs.mkdirSync(clone);
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    files = ['package.json', 'src', 'db', 'jobs', 'rules'];
  }
  for (const f of files) {
    if (!fs.existsSync(path.join(ROOT, f))) continue;
    fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
    fs.cpSync(path.join(ROOT, f), path.join(clone, f), { recursive: true });
  }
  try {
    execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules')]);
  } catch {
    // another file system: the data directory is still out of postgres's reach
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
  }
});

test.after(async () => {
  if (!clone) return;
  await lendpay(['db', 'stop'], clone);
  const location = path.join(clone, '.lendpay', 'pgdata-location');
  if (fs.existsSync(location)) fs.rmSync(path.dirname(fs.readFileSync(location, 'utf8').trim()), { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

(asRoot ? test : test.skip)('as root in a private directory the demo runs, says where PostgreSQL went and how to stop it', async () => {
  const res = await lendpay(['demo', '--size', '60', '--loans', '3'], clone);
  assert.is(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.not.match(res.stderr, /EACCES|\n\s+at /);
  assert.match(res.stderr, new RegExp(`as root, PostgreSQL runs as user postgres, who cannot enter ${dir}: its data is kept in /var/lib/lendpay/`));
  assert.match(res.stdout, /the embedded PostgreSQL/);
  assert.match(res.stdout, /The embedded PostgreSQL keeps running for those commands; stop it with: npx lendpay db stop$/m);
  assert.match(res.stdout, /trial balance: .* — zero/);
});

(asRoot ? test : test.skip)('one project, one database: from rules/ the same server; db stop finds it', async () => {
  const top = await lendpay(['db', 'url'], clone);
  const sub = await lendpay(['db', 'url'], path.join(clone, 'rules'));
  assert.is(top.code, 0, top.stderr);
  assert.is(sub.stdout, top.stdout, 'cd rules && npx lendpay … uses the project\'s server');
  assert.not.ok(fs.existsSync(path.join(clone, 'rules', '.lendpay')), 'no second server under rules/');
  const history = await lendpay(['rules', 'history'], path.join(clone, 'rules'));
  assert.match(history.stdout, /version 1 .* by system/, 'the demo\'s first version is there');
  const stop = await lendpay(['db', 'stop'], path.join(clone, 'rules'));
  assert.is(stop.stdout.trim(), 'embedded PostgreSQL stopped');
  assert.is((await lendpay(['db', 'stop'], clone)).stdout.trim(), 'embedded PostgreSQL was not running');
});

test.run();
