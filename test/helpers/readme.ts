// Reading README.md as a test reads it: its sections and fenced blocks, the transcripts
// in them ("$ command" then what it prints), the diffs a person applies by hand, and
// the normalisation that lets output from any day be compared with the README's.

export interface Block {
  /** the headings above the block, e.g. "For the risk team > One change, from edit to audit" */
  section: string;
  /** the fence's info string: "sh", "diff", "" … */
  lang: string;
  text: string;
  /** 0-based index of the block's first content line in the file */
  line: number;
  /** how many content lines (between the fences) */
  lines: number;
}

export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const headings: string[] = [];
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const h = /^(#{1,6})\s+(.*)$/.exec(lines[i]!);
    if (h) {
      headings.length = h[1]!.length - 1;
      headings[h[1]!.length - 1] = h[2]!.trim();
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    blocks.push({ section: headings.filter(Boolean).slice(1).join(' > '), lang: fence[1]!, text: lines.slice(start, end).join('\n'), line: start, lines: end - start });
    i = end;
  }
  return blocks;
}

export function inSection(blocks: readonly Block[], heading: string): Block[] {
  return blocks.filter((b) => b.section.split(' > ').includes(heading));
}

export interface Step {
  command: string;
  /** what the README says it prints; a line "..." stands for any number of lines */
  expected: string[];
  exit: number;
}

/** A block is a transcript when its lines start with "$ ": commands, each followed by its output. */
export function isTranscript(b: Block): boolean {
  return b.lang === '' && b.text.split('\n').some((l) => l.startsWith('$ '));
}

export function transcriptSteps(b: Block): Step[] {
  const steps: Step[] = [];
  for (const line of b.text.split('\n')) {
    if (line.startsWith('$ ')) {
      steps.push({ command: line.slice(2), expected: [], exit: 0 });
      continue;
    }
    const step = steps[steps.length - 1];
    if (!step) continue;
    const exit = /^\(exit (\d+)\)$/.exec(line.trim());
    if (exit) step.exit = Number(exit[1]);
    else step.expected.push(line);
  }
  // a blank line separates two commands in a block; it is not output
  for (const s of steps) while (s.expected.length > 0 && s.expected[s.expected.length - 1]!.trim() === '') s.expected.pop();
  return steps;
}

/**
 * Applies a unified diff the way a person follows it: each hunk's old lines are found
 * by their text (the nearest match to the hunk's line number when there are several)
 * and replaced by the new ones. Returns the changed files' new text by path.
 */
export function applyDiff(diff: string, read: (file: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  let file: string | null = null;
  let hunk: { at: number; old: string[]; new: string[] } | null = null;
  const flush = () => {
    if (!file || !hunk) return;
    const text = out.get(file) ?? read(file);
    const lines = text.split('\n');
    const matches: number[] = [];
    for (let i = 0; i + hunk.old.length <= lines.length; i++) {
      if (hunk.old.every((l, k) => lines[i + k] === l)) matches.push(i);
    }
    if (matches.length === 0) throw new Error(`${file}: the README's diff does not apply; these lines are not in the file:\n${hunk.old.join('\n')}`);
    const at = matches.reduce((best, i) => (Math.abs(i - hunk!.at) < Math.abs(best - hunk!.at) ? i : best));
    lines.splice(at, hunk.old.length, ...hunk.new);
    out.set(file, lines.join('\n'));
    hunk = null;
  };
  for (const line of diff.split('\n')) {
    if (line.startsWith('--- ')) {
      flush();
      continue;
    }
    if (line.startsWith('+++ ')) {
      file = line.slice(4).trim().replace(/^b\//, '');
      continue;
    }
    const h = /^@@ -(\d+)/.exec(line);
    if (h) {
      flush();
      hunk = { at: Number(h[1]) - 1, old: [], new: [] };
      continue;
    }
    if (!hunk) continue;
    if (line.startsWith('-')) hunk.old.push(line.slice(1));
    else if (line.startsWith('+')) hunk.new.push(line.slice(1));
    else {
      const ctx = line.startsWith(' ') ? line.slice(1) : line;
      hunk.old.push(ctx);
      hunk.new.push(ctx);
    }
  }
  flush();
  return out;
}

const DAY = 86_400_000;

function dayOffset(date: string, base: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${base}T00:00:00Z`)) / DAY);
}

function monthOffset(month: string, base: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const [by, bm] = base.split('-').map(Number) as [number, number];
  return (y - by) * 12 + (m - bm);
}

const sign = (n: number) => (n === 0 ? '' : n > 0 ? `+${n}` : `${n}`);

/** The date `offset` days from `base`, both 'YYYY-MM-DD'. */
export function shiftDate(base: string, offset: number): string {
  return new Date(Date.parse(`${base}T00:00:00Z`) + offset * DAY).toISOString().slice(0, 10);
}

/**
 * Output made comparable across days and machines: dates and months relative to the
 * demo's business day (D, D+1, M-2), rule set hashes by order of first appearance (a
 * 64-character hash and its 12-character prefix are the same hash), times of day,
 * durations and ports blanked, runs of spaces collapsed. One per side of a comparison,
 * so that the same hash must appear in the same places on both.
 */
export class Normaliser {
  private readonly hashes = new Map<string, string>();
  private readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  /** The token a hash (prefix) gets, assigning the next one on first sight. */
  hashToken(hex: string): string {
    const key = hex.slice(0, 12);
    let t = this.hashes.get(key);
    if (!t) {
      t = `#${this.hashes.size + 1}`;
      this.hashes.set(key, t);
    }
    return t;
  }

  /** The hash (prefix) that has `token`, if one was seen. */
  hashOf(token: string): string | null {
    for (const [k, v] of this.hashes) if (v === token) return k;
    return null;
  }

  line(text: string): string {
    return text
      .replace(/(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '$1 <time>')
      .replace(/\b\d{4}-\d{2}-\d{2}\b/g, (d) => `D${sign(dayOffset(d, this.base))}`)
      .replace(/\b(\d{4}-\d{2})\b(?!-\d)/g, (m) => `M${sign(monthOffset(m, this.base.slice(0, 7)))}`)
      .replace(/\b[0-9a-f]{64}\b|\b[0-9a-f]{12}\b/g, (h) => (/[a-f]/.test(h) ? this.hashToken(h) : h))
      .replace(/\b\d+(\.\d+)? s\b/g, '<t> s')
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
      .replace(/\s+/g, ' ')
      .trim();
  }
}

/**
 * Where `actual` departs from `expected` (both normalised), or null when it does not.
 * A line "..." in expected matches any number of actual lines.
 */
export function mismatch(expected: readonly string[], actual: readonly string[]): string | null {
  const segments: string[][] = [[]];
  for (const l of expected) {
    if (l.trim() === '...') segments.push([]);
    else segments[segments.length - 1]!.push(l);
  }
  let pos = 0;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s]!;
    const anchoredStart = s === 0;
    const anchoredEnd = s === segments.length - 1;
    let found = -1;
    for (let i = pos; i + seg.length <= actual.length; i++) {
      if (anchoredStart && i !== pos) break;
      if (seg.every((l, k) => actual[i + k] === l)) {
        found = i;
        if (!anchoredEnd || i + seg.length === actual.length) break;
        found = -1;
      }
    }
    if (found < 0) {
      // the first line of the segment that does not match where it should
      const at = anchoredStart ? pos : actual.indexOf(seg[0] ?? '', pos);
      const base = at < 0 ? pos : at;
      const k = seg.findIndex((l, j) => actual[base + j] !== l);
      return `expected: ${seg[k] ?? '(end of output)'}\n  actual: ${actual[base + k] ?? '(end of output)'}\n(line ${base + k + 1} of the output)`;
    }
    pos = found + seg.length;
  }
  return null;
}
