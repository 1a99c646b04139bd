// The one rules kernel behind every json-rules-engine rule file lendpay reads
// (eligibility, collection, escalation). A domain hands it a fact table (which facts
// exist, of which kind, with which values and range) and an event parser; the kernel
// parses and validates the conditions and the rule list (every message
// `file: $.json.path: reason`), compiles the conditions into closures for the batch
// hot paths, and checks a fact object at run time. The domain keeps only its facts,
// its events and how fired events combine. src/rules/engine.ts runs the same rules
// through json-rules-engine, the reference the compiled closures are tested against.
import { formatYuan, formatYuanGrouped, parseYuan } from '../money.ts';
import { LendpayError } from '../errors.ts';
import { Problems } from './problems.ts';

export const OPERATORS = ['equal', 'notEqual', 'in', 'notIn', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'] as const;
export type Operator = (typeof OPERATORS)[number];

/**
 * boolean: true/false. enum: one of `values`. code: a code of a table the file
 * itself keeps (`valuesFrom`); at run time any code may arrive. amount: fen, yuan
 * strings in the file. count, integer: whole numbers. decimal: a string with at most
 * `scale` decimals, held as a whole number of 10^-scale. date: "YYYY-MM-DD", held as
 * the whole number YYYYMMDD. Every comparison is between whole numbers or strings:
 * no rounding anywhere.
 */
export type FactKind = 'boolean' | 'enum' | 'code' | 'amount' | 'count' | 'integer' | 'decimal' | 'date';

export interface FactSpec {
  readonly kind: FactKind;
  readonly values?: readonly string[];
  /** code: where the known codes are listed, for the message */
  readonly valuesFrom?: string;
  /** smallest and largest value, in engine units (fen, 10^-scale, YYYYMMDD) */
  readonly min?: number;
  readonly max?: number;
  /** takes {"months": n}; a count fact then ranges 0..n */
  readonly months?: boolean;
  /** decimal: digits after the point */
  readonly scale?: number;
}
export type FactTable = Readonly<Record<string, FactSpec>>;

const NUMERIC: readonly Operator[] = ['equal', 'notEqual', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
const CHOICE: readonly Operator[] = ['equal', 'notEqual', 'in', 'notIn'];
export const OPERATORS_BY_KIND: Readonly<Record<FactKind, readonly Operator[]>> = {
  boolean: ['equal', 'notEqual'],
  enum: CHOICE,
  code: CHOICE,
  amount: NUMERIC,
  count: NUMERIC,
  integer: NUMERIC,
  decimal: NUMERIC,
  date: NUMERIC,
};

export type FactValue = boolean | string | number;

/** One comparison, `value` already in engine units. */
export interface Condition<F extends string = string> {
  readonly fact: F;
  /** {"months": n} for facts that take it, else absent */
  readonly params?: { readonly months: number };
  readonly operator: Operator;
  readonly value: FactValue | readonly string[];
}
export type ConditionNode<F extends string = string> =
  | { readonly all: readonly ConditionNode<F>[] }
  | { readonly any: readonly ConditionNode<F>[] }
  | { readonly not: ConditionNode<F> }
  | Condition<F>;
export type TopCondition<F extends string = string> = Exclude<ConditionNode<F>, Condition<F>>;

export interface Rule<E, F extends string = string> {
  readonly name: string;
  readonly priority: number;
  /** position in the file */
  readonly index: number;
  readonly conditions: TopCondition<F>;
  readonly event: E;
}

/** Amounts above this (100,000,000.00 CNY) in a rule are refused as absurd. */
export const ABSURD_AMOUNT = 10_000_000_000;
/** A months param larger than this is refused as absurd (three years of history). */
export const MAX_MONTHS = 36;

type Json = unknown;
export const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const show = (v: Json): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));
export const list = (xs: readonly string[]): string => xs.join(', ');

// ---------------------------------------------------------------------------
// Typed values: the same text in a rule file, a feed line or a test case.

const DECIMAL = /^(-?)(0|[1-9]\d{0,14})(?:\.(\d+))?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "0.0312" at scale 4 → 312; null when it is not a decimal with at most `scale` decimals. */
export function decimalUnits(text: string, scale: number): number | null {
  const m = DECIMAL.exec(text);
  if (!m || (m[3] ?? '').length > scale) return null;
  const units = Number(m[2]) * 10 ** scale + Number((m[3] ?? '').padEnd(scale, '0') || '0');
  if (!Number.isSafeInteger(units)) return null;
  return m[1] === '-' && units !== 0 ? -units : units;
}

export function formatDecimal(units: number, scale: number): string {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  if (scale === 0) return `${sign}${abs}`;
  const s = String(abs).padStart(scale + 1, '0');
  return `${sign}${s.slice(0, -scale)}.${s.slice(-scale)}`;
}

/** "2026-11-30" → 20261130; null when it is not a calendar date. */
export function dateUnits(text: string): number | null {
  const m = DATE.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (y < 1900 || t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return y * 10_000 + mo * 100 + d;
}

export function formatDateUnits(n: number): string {
  const s = String(n);
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

/** A value in engine units as the risk team writes it: "1,234.56" for amounts, "0.0312", "2026-11-30". */
export function showValue(spec: FactSpec | undefined, v: unknown): string {
  if (v === undefined) return '(not evaluated)';
  if (Array.isArray(v)) return `[${v.map((x) => showValue(spec, x)).join(', ')}]`;
  if (spec && typeof v === 'number') {
    if (spec.kind === 'amount') return formatYuanGrouped(v);
    if (spec.kind === 'decimal') return formatDecimal(v, spec.scale ?? 0);
    if (spec.kind === 'date') return formatDateUnits(v);
  }
  return JSON.stringify(v);
}

function rangeText(spec: FactSpec, lo: number, hi: number): string {
  const one = (x: number) => (spec.kind === 'amount' ? formatYuan(x) : spec.kind === 'decimal' ? `"${formatDecimal(x, spec.scale ?? 0)}"` : spec.kind === 'date' ? formatDateUnits(x) : String(x));
  return `${one(lo)}..${one(hi)}`;
}

/**
 * The value `raw` of fact `fact` in engine units, or a reason it is not one.
 * `months` (a count fact's params) bounds a count to 0..months.
 */
export function typedValue(spec: FactSpec, fact: string, raw: Json, months: number | null = null): { value: FactValue } | { error: string } {
  switch (spec.kind) {
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : { error: `fact "${fact}" is true or false, got ${show(raw)}` };
    case 'enum':
      return typeof raw === 'string' && (spec.values ?? []).includes(raw)
        ? { value: raw }
        : { error: `fact "${fact}" is one of ${(spec.values ?? []).map((x) => `"${x}"`).join(', ')}, got ${show(raw)}` };
    case 'code':
      // A rule may only name a code of the table; what arrives at run time may be any.
      return typeof raw === 'string' && (spec.values === undefined ? raw !== '' : spec.values.includes(raw))
        ? { value: raw }
        : { error: `${show(raw)} is not in ${spec.valuesFrom ?? 'the table'} (known: ${list(spec.values ?? [])}); add it to the table first` };
    case 'amount': {
      if (typeof raw !== 'string') return { error: `expected a yuan amount string like "100.00", got ${show(raw)}` };
      let fen: number;
      try {
        fen = parseYuan(raw);
      } catch {
        return { error: `${show(raw)} is not a yuan amount (digits, at most two decimals, not negative)` };
      }
      if (fen > ABSURD_AMOUNT) return { error: `${show(raw)} is absurd (more than ${formatYuan(ABSURD_AMOUNT)})` };
      if ((spec.min !== undefined && fen < spec.min) || (spec.max !== undefined && fen > spec.max)) {
        return { error: `${show(raw)} is out of range ${rangeText(spec, spec.min ?? 0, spec.max ?? ABSURD_AMOUNT)}` };
      }
      return { value: fen };
    }
    case 'count':
    case 'integer': {
      const lo = spec.min ?? (spec.kind === 'count' ? 0 : Number.MIN_SAFE_INTEGER);
      const hi = months ?? spec.max ?? Number.MAX_SAFE_INTEGER;
      return typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= lo && raw <= hi
        ? { value: raw }
        : { error: `fact "${fact}" is a whole number ${lo}..${hi}, got ${show(raw)}` };
    }
    case 'decimal': {
      const scale = spec.scale ?? 0;
      const units = typeof raw === 'string' ? decimalUnits(raw, scale) : null;
      const example = scale >= 4 ? '0.0312' : `0.${'5'.padEnd(scale, '0')}`;
      if (units === null) return { error: `fact "${fact}" is a decimal string with at most ${scale} decimals like "${example}", got ${show(raw)}` };
      if ((spec.min !== undefined && units < spec.min) || (spec.max !== undefined && units > spec.max)) {
        return { error: `${show(raw)} is out of range ${rangeText(spec, spec.min ?? -Infinity, spec.max ?? Infinity)}` };
      }
      return { value: units };
    }
    case 'date': {
      const units = typeof raw === 'string' ? dateUnits(raw) : null;
      if (units === null) return { error: `fact "${fact}" is a date "YYYY-MM-DD", got ${show(raw)}` };
      if ((spec.min !== undefined && units < spec.min) || (spec.max !== undefined && units > spec.max)) {
        return { error: `${show(raw)} is out of range ${rangeText(spec, spec.min ?? 19000101, spec.max ?? 99991231)}` };
      }
      return { value: units };
    }
  }
}

// ---------------------------------------------------------------------------
// Conditions

export interface ConditionOptions {
  /** the message for params on a fact that takes none (default: `fact "x" takes no params`) */
  readonly noParams?: string;
  /** appended to "unknown fact" messages, e.g. where new facts are declared */
  readonly unknownFactHint?: string;
}

function monthsParam(p: Problems, params: Json, path: string): number | null {
  if (!isObject(params)) {
    p.error(path, `expected {"months": n}, got ${show(params)}`);
    return null;
  }
  p.keys(params, path, ['months']);
  const m = params['months'];
  if (m === undefined) {
    p.error(`${path}.months`, 'missing: this fact needs the number of months');
    return null;
  }
  if (typeof m !== 'number' || !Number.isInteger(m)) {
    p.error(`${path}.months`, `expected a whole number of months, got ${show(m)}`);
    return null;
  }
  if (m < 1 || m > MAX_MONTHS) {
    p.error(`${path}.months`, `${m} months is out of range 1..${MAX_MONTHS}`);
    return null;
  }
  return m;
}

/** A fact's {"months": n} params (or their absence) where a fact is named: a condition or a limit formula. */
export function factParams(p: Problems, table: FactTable, fact: string, params: Json, path: string, opts: ConditionOptions = {}): { ok: boolean; months: number | null } {
  if (table[fact]?.months) {
    const m = monthsParam(p, params, `${path}.params`);
    return { ok: m !== null, months: m };
  }
  if (params !== undefined) {
    p.error(`${path}.params`, opts.noParams ?? `fact "${fact}" takes no params`);
    return { ok: false, months: null };
  }
  return { ok: true, months: null };
}

/** The name of a fact of `table`, or null with the error. */
export function factName(p: Problems, table: FactTable, raw: Json, path: string, opts: ConditionOptions = {}): string | null {
  if (typeof raw !== 'string' || !Object.hasOwn(table, raw)) {
    p.error(path, `unknown fact ${show(raw)} (known: ${list(Object.keys(table))})${opts.unknownFactHint ?? ''}`);
    return null;
  }
  return raw;
}

function conditionValue(p: Problems, spec: FactSpec, fact: string, operator: Operator, raw: Json, path: string, months: number | null): Condition['value'] | null {
  if (raw === undefined) {
    p.error(path, 'missing');
    return null;
  }
  const one = (v: Json, at: string): FactValue | null => {
    const r = typedValue(spec, fact, v, spec.kind === 'count' ? months : null);
    if ('error' in r) {
      p.error(at, r.error);
      return null;
    }
    return r.value;
  };
  if (operator === 'in' || operator === 'notIn') {
    if (!Array.isArray(raw) || raw.length === 0) {
      p.error(path, `operator "${operator}" needs a non-empty list, got ${show(raw)}`);
      return null;
    }
    const out = raw.map((v, i) => one(v, `${path}[${i}]`));
    return out.every((v) => v !== null) ? (out as string[]) : null;
  }
  return one(raw, path);
}

/** Parses a condition node of a rule file against `table`; null (with errors) when it is not one. */
export function parseCondition(p: Problems, table: FactTable, node: Json, path: string, opts: ConditionOptions = {}): ConditionNode | null {
  if (!isObject(node)) {
    p.error(path, `expected a condition object, got ${show(node)}`);
    return null;
  }
  const bools = (['all', 'any', 'not'] as const).filter((k) => k in node);
  if (bools.length > 1 || (bools.length === 1 && 'fact' in node)) {
    p.error(path, 'a condition is one of {"all": [...]}, {"any": [...]}, {"not": {...}} or {"fact": ...}, not several');
    return null;
  }
  if (bools.length === 1) {
    const op = bools[0]!;
    p.keys(node, path, [op]);
    const inner = node[op];
    if (op === 'not') {
      const child = parseCondition(p, table, inner, `${path}.not`, opts);
      return child === null ? null : { not: child };
    }
    if (!Array.isArray(inner)) {
      p.error(`${path}.${op}`, `expected a list of conditions, got ${show(inner)}`);
      return null;
    }
    // json-rules-engine treats an empty "any" as true; refuse it rather than surprise anyone.
    if (op === 'any' && inner.length === 0) {
      p.error(`${path}.any`, 'an empty "any" is not allowed (use {"all": []} for "always")');
      return null;
    }
    const children = inner.map((c, i) => parseCondition(p, table, c, `${path}.${op}[${i}]`, opts));
    if (children.some((c) => c === null)) return null;
    return op === 'all' ? { all: children as ConditionNode[] } : { any: children as ConditionNode[] };
  }
  if ('condition' in node) {
    p.error(`${path}.condition`, 'shared condition references are not supported; write the conditions out');
    return null;
  }
  if ('path' in node) {
    p.error(`${path}.path`, '"path" is not supported: every fact is a plain value');
    return null;
  }
  p.keys(node, path, ['fact', 'params', 'operator', 'value']);
  if (node['fact'] === undefined) {
    p.error(path, 'expected "fact" (or "all", "any", "not")');
    return null;
  }
  const fact = factName(p, table, node['fact'], `${path}.fact`, opts);
  if (fact === null) return null;
  const spec = table[fact]!;
  const prm = factParams(p, table, fact, node['params'], path, opts);
  const operator = node['operator'];
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
    p.error(`${path}.operator`, `unknown operator ${show(operator)} (known: ${list(OPERATORS)})`);
    return null;
  }
  const allowed = OPERATORS_BY_KIND[spec.kind];
  if (!allowed.includes(operator as Operator)) {
    p.error(`${path}.operator`, `operator "${operator}" cannot be used with fact "${fact}" (use ${list(allowed)})`);
    return null;
  }
  const value = conditionValue(p, spec, fact, operator as Operator, node['value'], `${path}.value`, prm.months);
  if (!prm.ok || value === null) return null;
  return prm.months === null
    ? { fact, operator: operator as Operator, value }
    : { fact, params: { months: prm.months }, operator: operator as Operator, value };
}

/** Every leaf condition with its JSON path, in file order. */
export function leaves<F extends string>(node: ConditionNode<F>, at: string, out: { path: string; cond: Condition<F> }[] = []): { path: string; cond: Condition<F> }[] {
  if ('all' in node) node.all.forEach((c, i) => leaves(c, `${at}.all[${i}]`, out));
  else if ('any' in node) node.any.forEach((c, i) => leaves(c, `${at}.any[${i}]`, out));
  else if ('not' in node) leaves(node.not, `${at}.not`, out);
  else out.push({ path: at, cond: node });
  return out;
}

/** `minMonthlyFlow(months=6) greaterThan 0.00` */
export function describeCondition(table: FactTable, c: Condition): string {
  const m = c.params ? `(months=${c.params.months})` : '';
  return `${c.fact}${m} ${c.operator} ${showValue(table[c.fact], c.value)}`;
}

// ---------------------------------------------------------------------------
// The rule list

const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * `$.rules` of a rule file: each rule's name (unique), description, priority (1..100,
 * default 1), conditions and event (parsed by the domain). In evaluation order:
 * priority descending, then file order, the order lendpay promises for fired rules.
 */
export function parseRuleList<E>(
  p: Problems,
  raws: Json,
  table: FactTable,
  event: (raw: Json, path: string) => E | null,
  opts: ConditionOptions = {},
): Rule<E>[] {
  const rules: Rule<E>[] = [];
  if (!Array.isArray(raws) || raws.length === 0) {
    p.error('$.rules', `expected a non-empty list of rules, got ${show(raws)}`);
    return rules;
  }
  const names = new Map<string, number>();
  raws.forEach((raw: Json, index) => {
    const path = `$.rules[${index}]`;
    if (!isObject(raw)) {
      p.error(path, `expected a rule object, got ${show(raw)}`);
      return;
    }
    p.keys(raw, path, ['name', 'description', 'priority', 'conditions', 'event']);
    const name = raw['name'];
    let ok = true;
    if (typeof name !== 'string' || !RULE_NAME.test(name)) {
      p.error(`${path}.name`, `expected a name of letters, digits, "-", "_" or ".", got ${show(name)}`);
      ok = false;
    } else if (names.has(name)) {
      p.error(`${path}.name`, `"${name}" is already the name of $.rules[${names.get(name)}]`);
      ok = false;
    } else names.set(name, index);
    if (raw['description'] !== undefined && typeof raw['description'] !== 'string') {
      p.error(`${path}.description`, `expected text, got ${show(raw['description'])}`);
    }
    let priority = 1;
    if (raw['priority'] !== undefined) {
      const pr = raw['priority'];
      if (typeof pr !== 'number' || !Number.isInteger(pr) || pr < 1 || pr > 100) {
        p.error(`${path}.priority`, `expected a whole number 1..100, got ${show(pr)}`);
        ok = false;
      } else priority = pr;
    }
    const conds = raw['conditions'];
    let top: ConditionNode | null = null;
    if (!isObject(conds) || !('all' in conds || 'any' in conds || 'not' in conds)) {
      p.error(`${path}.conditions`, `expected {"all": [...]}, {"any": [...]} or {"not": {...}}, got ${show(conds)}`);
    } else top = parseCondition(p, table, conds, `${path}.conditions`, opts);
    const ev = event(raw['event'], `${path}.event`);
    if (ok && top !== null && ev !== null) rules.push({ name: name as string, priority, index, conditions: top as TopCondition, event: ev });
  });
  rules.sort((a, b) => b.priority - a.priority || a.index - b.index);
  return rules;
}

/** `{"all": []}`: the rule always fires. */
export const always = (r: Rule<unknown>): boolean => 'all' in r.conditions && r.conditions.all.length === 0;

// ---------------------------------------------------------------------------
// The compiled evaluator

/** Same semantics as json-rules-engine's default operators: strict equality, Array#indexOf, plain < and >. */
export function compare(op: Operator, value: unknown): (a: unknown) => boolean {
  switch (op) {
    case 'equal':
      return (a) => a === value;
    case 'notEqual':
      return (a) => a !== value;
    case 'in': {
      const l = value as readonly unknown[];
      return (a) => l.indexOf(a) > -1;
    }
    case 'notIn': {
      const l = value as readonly unknown[];
      return (a) => l.indexOf(a) === -1;
    }
    case 'lessThan':
      return (a) => (a as number) < (value as number);
    case 'lessThanInclusive':
      return (a) => (a as number) <= (value as number);
    case 'greaterThan':
      return (a) => (a as number) > (value as number);
    case 'greaterThanInclusive':
      return (a) => (a as number) >= (value as number);
  }
}

/** How a domain reads one fact (with its params) from its context. */
export type FactReader<C> = (cond: Condition) => (ctx: C) => unknown;

/** A condition tree compiled once into plain closures. */
export function compileCondition<C>(node: ConditionNode, read: FactReader<C>): (ctx: C) => boolean {
  if ('all' in node) {
    const parts = node.all.map((n) => compileCondition(n, read));
    return (c) => {
      for (const t of parts) if (!t(c)) return false;
      return true;
    };
  }
  if ('any' in node) {
    const parts = node.any.map((n) => compileCondition(n, read));
    return (c) => {
      for (const t of parts) if (t(c)) return true;
      return false;
    };
  }
  if ('not' in node) {
    const inner = compileCondition(node.not, read);
    return (c) => !inner(c);
  }
  const get = read(node);
  const cmp = compare(node.operator, node.value);
  return (c) => cmp(get(c));
}

/** The rules compiled: given a context, the rules that fire, in evaluation order. */
export function compileRules<C, R extends Rule<unknown>>(rules: readonly R[], read: FactReader<C>): (ctx: C) => R[] {
  const compiled = rules.map((rule) => ({ rule, test: compileCondition(rule.conditions as ConditionNode, read) }));
  return (ctx) => {
    const fired: R[] = [];
    for (const c of compiled) if (c.test(ctx)) fired.push(c.rule);
    return fired;
  };
}

/** Plain fact objects (collection, escalation): a fact is read by its name. */
export const byName = (cond: Condition) => {
  const f = cond.fact;
  return (facts: Readonly<Record<string, unknown>>) => facts[f];
};

/**
 * Facts are built by lendpay's own code (a repository, a service); one that does not
 * fit its table is a bug there, so it stops the evaluation naming the fact.
 */
export function checkFacts(table: FactTable, facts: Readonly<Record<string, unknown>>, label: string): void {
  for (const name of Object.keys(table)) {
    const spec = table[name]!;
    const v = facts[name];
    const ok =
      spec.kind === 'boolean' ? typeof v === 'boolean'
      : spec.kind === 'enum' ? typeof v === 'string' && (spec.values ?? []).includes(v)
      : spec.kind === 'code' ? typeof v === 'string' && v.length > 0
      : typeof v === 'number' && Number.isSafeInteger(v) && (v >= 0 || spec.kind === 'integer' || spec.kind === 'decimal');
    if (!ok) throw new LendpayError('INVALID_INPUT', `${label} fact ${name}: ${JSON.stringify(v)} is not a valid ${spec.kind}`);
  }
}

/**
 * A domain whose facts are one plain object checked against its table (collection,
 * escalation): the compiled evaluator is check, fire, combine.
 */
export function compilePlain<F extends object, R extends Rule<unknown>, D>(
  table: FactTable, label: string, rules: readonly R[], combine: (fired: readonly R[]) => D,
): (facts: F) => D {
  const fire = compileRules<Readonly<Record<string, unknown>>, R>(rules, byName);
  return (facts) => {
    const f = facts as Readonly<Record<string, unknown>>;
    checkFacts(table, f, label);
    return combine(fire(f));
  };
}

/** An event's envelope, {"type": one of `types`, "params": {...}}: the type and the params, or null with the error. */
export function eventEnvelope<T extends string>(p: Problems, raw: unknown, path: string, types: readonly T[]): { type: T; params: Record<string, unknown>; at: string } | null {
  if (!isObject(raw)) {
    p.error(path, `expected {"type": ${types.length === 1 ? `"${types[0]}"` : '...'}, "params": {...}}, got ${show(raw)}`);
    return null;
  }
  p.keys(raw, path, ['type', 'params']);
  const type = raw['type'];
  if (typeof type !== 'string' || !(types as readonly string[]).includes(type)) {
    p.error(`${path}.type`, `unknown event type ${show(type)} (known: ${list(types)})`);
    return null;
  }
  const at = `${path}.params`;
  const params = raw['params'];
  if (!isObject(params)) {
    p.error(at, `expected an object, got ${show(params)}`);
    return null;
  }
  return { type: type as T, params, at };
}
