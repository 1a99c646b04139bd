// Child processes of a chaos day: the sandbox platform and `lendpay worker`s, each a
// real `node src/cli/bin.js …` process that the harness can SIGKILL and restart.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'src/cli/bin.js');

/** The same database under another application_name (the URL wins over pg's own default), so backends can be told apart. */
export function withApp(url: string, app: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', app);
  return u.toString();
}

export interface Child {
  proc: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

// Children still running when this process is told to stop (Ctrl-C, SIGTERM) are killed
// with it, not left behind as workers on a database nobody drops.
const running = new Set<ChildProcess>();
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    for (const p of running) p.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

export function spawnCli(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => {
    done = true;
    resolve({ code, signal });
  }));
  return { proc, output: () => out, exited, alive: () => !done };
}

/** Waits until `re` matches the output (its first group is returned), or the child exits. */
export async function waitFor(c: Child, re: RegExp, ms: number): Promise<string | null> {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(c.output());
    if (m) return m[1] ?? m[0];
    if (!c.alive() || Date.now() > end) return null;
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs a CLI command to its end: exit code and output. */
export async function runCli(args: string[], env: Record<string, string>, ms = 60_000): Promise<{ code: number | null; out: string }> {
  const c = spawnCli(args, env);
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), ms);
  const { code } = await c.exited;
  clearTimeout(timer);
  return { code, out: c.output() };
}
