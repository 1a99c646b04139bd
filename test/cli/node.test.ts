// Which Node runs lendpay: the Node 24 that npm install brings (CI tests it, the README
// names it). Started by an older Node, bin.js hands over to it, or says in one line
// what to install. The hand-over tests need an older Node on the machine (this
// machine's default is Node 20); without one they are skipped and say so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';

const ROOT = path.resolve('.');
const BIN = path.join(ROOT, 'src/cli/bin.js');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; optionalDependencies?: Record<string, string> };

function olderNode(): string | null {
  const candidates = new Set(['/usr/bin/node', '/usr/local/bin/node']);
  try {
    for (const p of execFileSync('bash', ['-c', 'type -ap node'], { encoding: 'utf8' }).split('\n')) if (p) candidates.add(p);
  } catch {}
  for (const c of candidates) {
    try {
      const [major, minor] = execFileSync(c, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim().split('.').map(Number) as [number, number];
      if (major < 22 || (major === 22 && minor < 12)) return c;
    } catch {}
  }
  return null;
}

const old = olderNode();
const bundled = path.join(ROOT, 'node_modules', 'node', 'bin', 'node');

function run(node: string, bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env['LENDPAY_NODE_HANDOFF'];
    execFile(node, [bin, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('the README names the Node CI tests, which is the Node npm install brings', () => {
  const runtime = pkg.optionalDependencies?.['node'];
  assert.ok(runtime, 'package.json brings a Node runtime');
  const major = /(\d+)/.exec(runtime)![1];
  assert.match(fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8'), new RegExp(`node@${major}\\b`), 'CI runs that major');
  assert.match(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), new RegExp(`lendpay runs on Node\\.js ${major}, the version CI tests`));
});

(old && fs.existsSync(bundled) ? test : test.skip)(`an older Node (${old ?? 'none on this machine'}) hands over to the Node 24 in node_modules`, async () => {
  const res = await run(old!, BIN, ['--version']);
  assert.is(res.code, 0, res.stderr);
  assert.is(res.stdout.trim(), pkg.version);
  assert.is(res.stderr, '', 'no warning, no EBADENGINE');
  const bad = await run(old!, BIN, ['decisions', '--date', 'yesterday']);
  assert.is(bad.code, 1, 'the exit code comes back through the hand-over');
  assert.match(bad.stderr, /--date/);
});

(old ? test : test.skip)(`an older Node (${old ?? 'none on this machine'}) without Node 24 in node_modules says in one line what to install`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-node-'));
  try {
    fs.mkdirSync(path.join(dir, 'src', 'cli'), { recursive: true });
    fs.copyFileSync(BIN, path.join(dir, 'src', 'cli', 'bin.js'));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'lendpay', type: 'module' }));
    const res = await run(old!, path.join(dir, 'src', 'cli', 'bin.js'), ['--version']);
    assert.is(res.code, 1);
    assert.is(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, new RegExp(`^error: lendpay needs Node\\.js 22\\.12 or newer \\(this is v[\\d.]+\\): run npm install in ${dir} \\(it brings Node 24 along\\), or install Node 24`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
