// Seeded generators for the hostile-input tests. Every case derives from (seed, case
// number), so a failure prints what to replay: LENDPAY_FUZZ_SEED=s LENDPAY_FUZZ_RUNS=n.
// The defaults keep the suite fast; raise LENDPAY_FUZZ_RUNS for a long soak.
export function fuzzRuns(dflt: number): number {
  const raw = process.env['LENDPAY_FUZZ_RUNS'];
  const n = raw === undefined || raw === '' ? dflt : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`LENDPAY_FUZZ_RUNS: expected a whole number ≥ 1, got "${raw}"`);
  return n;
}

export function fuzzSeed(): number {
  const raw = process.env['LENDPAY_FUZZ_SEED'];
  return raw === undefined || raw === '' ? 20261124 : Number(raw) >>> 0;
}

/** mulberry32: small, fast, good enough to pick mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export function caseRng(seed: number, i: number): Rng {
  return new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
}

const WEIRD_STRINGS = [
  '', ' ', 'NaN', 'Infinity', '-Infinity', '1e999', '-0', '0x10', '1_000', '１２３', '9'.repeat(400), '12.345', '-1.00', '1e5',
  '\u0000', 'a\u0000b', '\ud800', '\u202e1.00', '<script>alert(1)</script>', "'; drop table customers; --", '${x}', '{{x}}',
  'equalz', 'lessThanInclusive', '__proto__', 'constructor', '$.x', '😀'.repeat(50), 'null', 'true', '2026-02-30', '2026-13-01', '0000-01-01',
];
const WEIRD_NUMBERS = [0, -1, 1.5, -0.01, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, 1e-300, 123456789012345680000];

/** Any JSON value, biased to what breaks parsers: wrong types, huge numbers, NaN-like strings. */
export function weirdValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 8)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick(WEIRD_NUMBERS);
    case 3: return r.pick(WEIRD_STRINGS);
    case 4: return r.int(1000) - 500;
    case 5: return Array.from({ length: r.int(4) }, () => weirdValue(r, depth + 1));
    case 6: return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(WEIRD_STRINGS.slice(0, 24)) || 'k', weirdValue(r, depth + 1)]));
    default: return r.pick(WEIRD_STRINGS);
  }
}

type Path = (string | number)[];

/** Every path to a node of the tree (the root is []). */
export function nodePaths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => nodePaths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) nodePaths(x, [...at, k], out);
  return out;
}

function parentOf(root: unknown, p: Path): { parent: any; key: string | number } | null {
  if (p.length === 0) return null;
  let cur: any = root;
  for (const k of p.slice(0, -1)) cur = cur[k];
  return { parent: cur, key: p[p.length - 1]! };
}

/** One structural mutation of a JSON tree (a deep copy is mutated and returned). */
export function mutateTree(json: unknown, r: Rng): unknown {
  const root = structuredClone(json);
  const paths = nodePaths(root);
  const p = r.pick(paths);
  const at = parentOf(root, p);
  const op = r.int(6);
  if (at === null) return op < 3 ? weirdValue(r) : root;
  const { parent, key } = at;
  if (op === 0) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (op === 1) {
    if (Array.isArray(parent)) parent.splice(r.int(parent.length + 1), 0, r.chance(0.5) ? structuredClone(parent[key as number]) : weirdValue(r));
    else parent[r.chance(0.5) ? r.pick(WEIRD_STRINGS) || 'x' : `extra${r.int(5)}`] = weirdValue(r);
  } else if (op === 2 || op === 3) {
    parent[key] = weirdValue(r);
  } else if (op === 4) {
    // operators and facts by name: an unknown one must be named, not crash
    if (typeof parent[key] === 'string') parent[key] = r.pick(['equalz', 'in ', 'EQUAL', 'regex', 'eval', '__proto__', '']);
    else parent[key] = weirdValue(r);
  } else {
    // a whole subtree copied somewhere else (structurally plausible, semantically wrong)
    const other = r.pick(paths);
    let v: any = root;
    for (const k of other) v = v?.[k];
    parent[key] = structuredClone(v ?? null);
  }
  return root;
}

/** Text-level damage to a JSON document. */
export function mutateText(text: string, r: Rng): string {
  switch (r.int(8)) {
    case 0: return `\ufeff${text}`;
    case 1: return `${text}${r.pick(['garbage', '}', ',', '\u0000', ' {"a":1}', '\n]'])}`;
    case 2: { const i = r.int(text.length); return text.slice(0, i) + text.slice(i + 1 + r.int(20)); }
    case 3: { const i = r.int(text.length); return text.slice(0, i) + r.pick(['"', '{', '[', ':', ',', '\\', '\u0000', 'NaN', '1e99999']) + text.slice(i); }
    case 4: return text.replace(/^\{/, () => `{${JSON.stringify(r.pick(['version', 'rules', 'years', 'steps', 'x']))}: ${JSON.stringify(weirdValue(r))},`); // a duplicate key
    case 5: return text.slice(0, r.int(text.length));
    case 6: return text.replace(/\d+/, () => r.pick(['1e400', '-0', '9'.repeat(500), '0.1e-999']));
    default: return text.replace(/"[^"]*"/, () => JSON.stringify(r.pick(['😀', '\ud800', '\u202e', 'x'.repeat(1000)])));
  }
}

export function deepNesting(depth: number, leaf = '1'): string {
  return '['.repeat(depth) + leaf + ']'.repeat(depth);
}

export function deepObject(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}
