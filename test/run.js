// Runs every test/**/*.test.ts with uvu in one process (tsx loads the TypeScript)
// and ends with the line CI reads: "N passed, N failed".
// Usage: node test/run.js [substring-filter]
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (name === 'bench' || name === 'helpers' || name === 'fixtures') continue;
    if (statSync(full).isDirectory()) out.push(...find(full));
    else if (name.endsWith('.test.ts') && full.includes(filter)) out.push(full);
  }
  return out;
}

const files = find(root);
let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  captured += typeof chunk === 'string' ? chunk : chunk.toString();
  if (captured.length > 100_000) captured = captured.slice(-10_000);
  return write(chunk, ...rest);
};

const { run } = await import('uvu/run');
await run(files.map((file) => ({ name: path.relative(root, file), file })), { bail: false });

process.stdout.write = write;
const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
// uvu's Total counts the tests that ran: skipped ones are outside it
const failed = total - passed;
if (total === 0) process.exitCode = 1;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
// pg pools or servers a test forgot to close must not keep CI waiting.
setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
