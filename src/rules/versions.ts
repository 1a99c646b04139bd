// Pure helpers for the risk team's versioned rule sets: a readable JSON-path diff of
// two rule sets, and the sanity warnings `rules validate` prints on top of the loader's.
import { formatYuanGrouped, type Fen } from '../money.ts';
import type { Condition, ConditionNode, EligibilityRules } from '../eligibility/rules.ts';
import { describeCondition, type FactSpec, type FactTable } from './kernel.ts';

// ---------------------------------------------------------------------------
// Diff

export interface RuleChange {
  /** the rule file, e.g. "eligibility.json" */
  readonly file: string;
  /** JSON path inside the file; array elements with a "name" are addressed by it */
  readonly path: string;
  readonly op: 'added' | 'removed' | 'changed';
  readonly before?: unknown;
  readonly after?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function keyed(list: readonly unknown[], field = 'name'): Map<string, unknown> | null {
  // Rules are addressed by name so that inserting one does not show every later rule as changed.
  const out = new Map<string, unknown>();
  for (const x of list) {
    if (!isObject(x) || typeof x[field] !== 'string' || out.has(x[field])) return null;
    out.set(x[field], x);
  }
  return out;
}

/** Products (products.json) by id, rules by name. */
function keyedBy(a: readonly unknown[], b: readonly unknown[]): { field: string; ka: Map<string, unknown>; kb: Map<string, unknown> } | null {
  for (const field of ['id', 'name']) {
    const ka = keyed(a, field);
    const kb = keyed(b, field);
    if (ka && kb) return { field, ka, kb };
  }
  return null;
}

function prop(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function diffValue(file: string, path: string, a: unknown, b: unknown, out: RuleChange[]): void {
  if (JSON.stringify(a) === JSON.stringify(b) && canonical(a) === canonical(b)) return;
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      if (!(k in b)) out.push({ file, path: prop(path, k), op: 'removed', before: a[k] });
      else if (!(k in a)) out.push({ file, path: prop(path, k), op: 'added', after: b[k] });
      else diffValue(file, prop(path, k), a[k], b[k], out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const k = keyedBy(a, b);
    if (k) {
      const { field, ka, kb } = k;
      for (const [name, x] of ka) {
        const at = `${path}[${field}=${name}]`;
        if (!kb.has(name)) out.push({ file, path: at, op: 'removed', before: x });
        else diffValue(file, at, x, kb.get(name), out);
      }
      for (const [name, y] of kb) if (!ka.has(name)) out.push({ file, path: `${path}[${field}=${name}]`, op: 'added', after: y });
      const orderA = [...ka.keys()].filter((n) => kb.has(n));
      const orderB = [...kb.keys()].filter((n) => ka.has(n));
      if (orderA.join('\n') !== orderB.join('\n')) out.push({ file, path: `${path}[*].${field}`, op: 'changed', before: orderA, after: orderB });
      return;
    }
    if (a.length === b.length) {
      a.forEach((x, i) => diffValue(file, `${path}[${i}]`, x, b[i], out));
      return;
    }
  }
  if (canonical(a) !== canonical(b)) out.push({ file, path, op: 'changed', before: a, after: b });
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}

/** Changes from rule set `a` to `b` (both: parsed rule files by file name). Descriptions count as changes too. */
export function diffRuleSets(a: Readonly<Record<string, unknown>> | null, b: Readonly<Record<string, unknown>>): RuleChange[] {
  const out: RuleChange[] = [];
  const before = a ?? {};
  for (const file of [...new Set([...Object.keys(before), ...Object.keys(b)])].sort()) {
    if (!(file in b)) out.push({ file, path: '$', op: 'removed' });
    else if (!(file in before)) out.push({ file, path: '$', op: 'added' });
    else diffValue(file, '$', before[file], b[file], out);
  }
  return out;
}

const short = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
};

/** One line a change: `eligibility.json $.rules[name=auto-tag-door].event.params.limit.ratio.denominator: 2 → 3`. */
export function formatChanges(changes: readonly RuleChange[]): string[] {
  return changes.map((c) => {
    const where = `${c.file} ${c.path}`;
    if (c.op === 'added') return c.path === '$' ? `+ ${c.file} (new file)` : `+ ${where}: ${short(c.after)}`;
    if (c.op === 'removed') return c.path === '$' ? `- ${c.file} (file removed)` : `- ${where} (was ${short(c.before)})`;
    return `~ ${where}: ${short(c.before)} → ${short(c.after)}`;
  });
}

// ---------------------------------------------------------------------------
// Sanity warnings

/** The business's hard ceiling on any credit limit (DESIGN.md): 5,000,000.00 CNY. */
export const CREDIT_CEILING = 500_000_000 as Fen;

interface Range {
  /** the values a fact may still take, for boolean and enum facts */
  allowed: Set<unknown> | null;
  lo: number;
  loInclusive: boolean;
  hi: number;
  hiInclusive: boolean;
  /** equal to exactly this number */
  eq: number | null;
  /** not equal to these numbers */
  ne: number[];
  /** the conditions that narrowed it, for the message */
  paths: string[];
}

function domain(spec: FactSpec): Set<unknown> | null {
  if (spec.kind === 'boolean') return new Set([true, false]);
  if (spec.kind === 'enum') return new Set(spec.values ?? []);
  return null;
}

/** Why the conditions of one `all` group can never hold together, or null. */
function contradiction(table: FactTable, conds: readonly { c: Condition; path: string }[]): string | null {
  const ranges = new Map<string, Range & { label: string[] }>();
  for (const { c, path } of conds) {
    const key = `${c.fact}/${c.params?.months ?? ''}`;
    let r = ranges.get(key);
    if (!r) {
      r = { allowed: domain(table[c.fact]!), lo: -Infinity, loInclusive: false, hi: Infinity, hiInclusive: false, eq: null, ne: [], paths: [], label: [] };
      ranges.set(key, r);
    }
    r.paths.push(path);
    r.label.push(describeCondition(table, c));
    if (r.allowed) {
      const vals = Array.isArray(c.value) ? (c.value as readonly unknown[]) : [c.value];
      const keep = c.operator === 'equal' || c.operator === 'in';
      for (const x of [...r.allowed]) if (vals.includes(x) !== keep) r.allowed.delete(x);
      if (r.allowed.size === 0) return `${r.label.join(' and ')} can never hold together (${r.paths.join(', ')})`;
      continue;
    }
    const v = c.value as number;
    switch (c.operator) {
      case 'equal':
        if (r.eq !== null && r.eq !== v) return `${r.label.join(' and ')} can never hold together (${r.paths.join(', ')})`;
        r.eq = v;
        break;
      case 'notEqual':
        r.ne.push(v);
        break;
      case 'greaterThan':
      case 'greaterThanInclusive':
        if (v > r.lo || (v === r.lo && c.operator === 'greaterThan')) {
          r.lo = v;
          r.loInclusive = c.operator === 'greaterThanInclusive';
        }
        break;
      case 'lessThan':
      case 'lessThanInclusive':
        if (v < r.hi || (v === r.hi && c.operator === 'lessThan')) {
          r.hi = v;
          r.hiInclusive = c.operator === 'lessThanInclusive';
        }
        break;
      default:
        break;
    }
    // Facts are whole numbers (fen, month counts, 10^-scale, YYYYMMDD): tighten open bounds to closed ones.
    const spec = table[c.fact]!;
    const lo = r.loInclusive ? r.lo : Math.floor(r.lo) + 1;
    const hi = r.hiInclusive ? r.hi : Math.ceil(r.hi) - 1;
    const empty = lo > hi
      || (r.eq !== null && (r.eq < lo || r.eq > hi || r.ne.includes(r.eq)))
      || (lo === hi && r.ne.includes(lo))
      || hi < (spec.min ?? (spec.kind === 'amount' || spec.kind === 'count' ? 0 : -Infinity))
      || lo > (spec.max ?? Infinity);
    if (empty) return `${r.label.join(' and ')} can never hold together (${r.paths.join(', ')})`;
  }
  return null;
}

/** Finds `all` groups (the top one and nested ones) whose leaf conditions contradict each other. */
function neverHolds(table: FactTable, node: ConditionNode, path: string, out: string[]): void {
  if ('all' in node) {
    const leaves: { c: Condition; path: string }[] = [];
    node.all.forEach((child, i) => {
      const p = `${path}.all[${i}]`;
      if ('fact' in child) leaves.push({ c: child, path: p });
      else neverHolds(table, child, p, out);
    });
    const why = contradiction(table, leaves);
    if (why) out.push(`${path}\u0000${why}`);
  } else if ('any' in node) {
    // A dead branch of an `any` is reported too: the rule may still fire, but the branch is a mistake.
    node.any.forEach((child, i) => {
      if (!('fact' in child)) neverHolds(table, child, `${path}.any[${i}]`, out);
    });
  }
  // Inside a `not`, a contradiction makes the `not` always true: not "never fires", so not checked.
}

/**
 * Warnings for rules that are valid but probably wrong: rules that can never fire,
 * caps above the 5,000,000 CNY ceiling, flows counted over no month at all.
 * Messages are `file: $.json.path: reason` like the loader's.
 */
export function sanityWarnings(rules: EligibilityRules): string[] {
  const out: string[] = [];
  for (const rule of rules.rules) {
    const at = `${rules.file}: $.rules[${rule.index}]`;
    const why: string[] = [];
    neverHolds(rules.table, rule.conditions, `$.rules[${rule.index}].conditions`, why);
    for (const w of why) {
      const [group, reason] = w.split('\u0000') as [string, string];
      out.push(group === `$.rules[${rule.index}].conditions`
        ? `${rules.file}: ${group}: rule "${rule.name}" can never fire: ${reason}`
        : `${rules.file}: ${group}: this group of rule "${rule.name}" is never true: ${reason}`);
    }
    const ev = rule.event;
    if (ev.type === 'cap' && ev.max > CREDIT_CEILING) {
      out.push(`${at}.event.params.max: cap ${formatYuanGrouped(ev.max)} is above the ${formatYuanGrouped(CREDIT_CEILING)} CNY ceiling`);
    }
    if (ev.type === 'door' && ev.limit.months !== null && ev.limit.months <= 0) {
      out.push(`${at}.event.params.limit.params.months: ${ev.limit.months} months counts no flow at all`);
    }
  }
  const caps = rules.rules.filter((r) => r.event.type === 'cap');
  const always = caps.some((r) => 'all' in r.conditions && r.conditions.all.length === 0 && (r.event as { max: Fen }).max <= CREDIT_CEILING);
  if (caps.length > 0 && !always) {
    out.push(`${rules.file}: $.rules: no cap of at most ${formatYuanGrouped(CREDIT_CEILING)} CNY applies always ({"all": []}): some limits may exceed the ceiling`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Rollbacks

/**
 * When content `hash` was active and a later rollback replaced it: that version and
 * the rollback (the working copy often still holds a rolled-back change; activating it
 * again should be a decision, not an accident). Versions oldest first.
 */
export function rolledBackFrom<V extends { version: number; hash: string; rollbackOf: number | null; previousVersion: number | null }>(versions: readonly V[], hash: string): { version: V; by: V } | null {
  const byNo = new Map(versions.map((v) => [v.version, v]));
  for (let i = versions.length - 1; i >= 0; i--) {
    const r = versions[i]!;
    if (r.rollbackOf === null || r.previousVersion === null) continue;
    const before = byNo.get(r.previousVersion);
    if (before && before.hash === hash && r.hash !== hash) return { version: before, by: r };
  }
  return null;
}
