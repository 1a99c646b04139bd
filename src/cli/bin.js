#!/usr/bin/env node
// The published entry point. lendpay is written in TypeScript and run from source.
//
// Which Node: lendpay's dependencies (pg-boss 12, kysely 0.29) need Node 22.12 or
// newer, and CI tests Node 24. `npm install` brings Node 24 along (the optional
// dependency "node"), and npm puts it first on the PATH of `npm start`, `npm test`
// and `npx lendpay`; started by an older Node directly, this file hands over to that
// Node 24, or says in one line what to install.
//
// Node 24 strips the types itself (the code keeps to erasable syntax, checked by
// tsconfig's erasableSyntaxOnly): that starts a command in half the time of a loader,
// which counts for workers that restart. Node 22 goes through tsx's loader.
//
// Nothing above the version check may need a newer Node than the one it checks.
import module from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const [major, minor] = process.versions.node.split('.').map(Number);

if (major < 22 || (major === 22 && minor < 12)) {
  const bundled = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (fs.existsSync(bundled) && !process.env.LENDPAY_NODE_HANDOFF) {
    handOver(bundled);
  } else {
    process.stderr.write(`error: lendpay needs Node.js 22.12 or newer (this is ${process.version}): run npm install in ${root} (it brings Node 24 along), or install Node 24 from https://nodejs.org\n`);
    process.exit(1);
  }
} else {
  // V8's code cache (and, on Node 24, the stripped TypeScript) kept on disk between
  // runs, so a restarted worker compiles nothing it compiled before
  module.enableCompileCache?.();
  if (process.features.typescript && major >= 24) {
    await import('./main.ts');
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('./main.ts');
  }
}

/** Runs this same command on `node`, passing signals on, and exits as it exits. */
function handOver(node) {
  const child = spawn(node, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, LENDPAY_NODE_HANDOFF: '1' },
  });
  // A terminal's Ctrl-C reaches both processes; the child decides, this one waits for it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('error', (err) => {
    process.stderr.write(`error: could not start ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    // die of the same signal, as a shell expects
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
}
