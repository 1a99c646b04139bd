// What the CLI prints, and how: text for people on stdout, warnings and progress on
// stderr, JSON for scripts with every amount a yuan string. flushOutput() is awaited
// before the process exits, so a slow reader at the end of a pipe gets every line.
import { formatYuan } from '../money.ts';

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * A value as scripts get it: amounts held as fen under a `…Fen` or `…_fen` key become
 * yuan strings under the name without the suffix (`limitFen: 340000` → `limit:
 * "3400.00"`), dates become ISO strings. Amounts under other names are converted by
 * the command before it gets here.
 */
export function yuanJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(yuanJson);
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object') return value;
  const res: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const m = /^(.+?)(Fen|_fen)$/.exec(k);
    if (m && typeof v === 'number' && Number.isSafeInteger(v)) res[m[1]!] = formatYuan(v);
    else res[k] = yuanJson(v);
  }
  return res;
}

/** Pretty JSON of yuanJson(value), one document. */
export function printJson(value: unknown): void {
  out(JSON.stringify(yuanJson(value), null, 2));
}

/** A duration for JSON: seconds to the millisecond, not 0.46976047400000015. */
export function roundSeconds(s: number): number {
  return Math.round(s * 1000) / 1000;
}

/** Resolves once everything written so far to stdout and stderr has been handed to the OS. */
export async function flushOutput(): Promise<void> {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => {
    if (s.destroyed || s.writableEnded) return resolve();
    // a zero-length write completes after every write queued before it
    s.write('', () => resolve());
  })));
}
