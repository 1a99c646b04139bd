// The eligibility rule file: its normalised type, the semantic validator that turns
// the JSON the risk team writes into it, and the one place doors, caps and reasons
// are combined into a decision (shared by the compiled evaluator and the engine).
import { formatYuan, mulRatioFloor, floorToUnit, parseYuan, type Fen } from '../money.ts';
import { DOORS, REASON_CODES, type Door, type EligibilityDecision } from './types.ts';
import type { CustomerId } from '../customers/types.ts';
import { FACTS, FACT_NAMES, MAX_MONTHS, isFactName, type FactKind, type FactName } from './facts.ts';
import { Problems } from '../rules/problems.ts';

export const OPERATORS = [
  'equal',
  'notEqual',
  'in',
  'notIn',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
] as const;
export type Operator = (typeof OPERATORS)[number];
const NUMERIC_OPERATORS: readonly Operator[] = ['equal', 'notEqual', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
const OPERATORS_BY_KIND: Record<FactKind, readonly Operator[]> = {
  boolean: ['equal', 'notEqual'],
  enum: ['equal', 'notEqual', 'in', 'notIn'],
  amount: NUMERIC_OPERATORS,
  count: NUMERIC_OPERATORS,
};

export const EVENT_TYPES = ['door', 'reason', 'cap'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type ReasonCode = (typeof REASON_CODES)[number];

/** Amounts above this (100,000,000.00 CNY) in a rule are refused as absurd. */
export const ABSURD_AMOUNT = 10_000_000_000 as Fen;

/** One comparison, with `value` already in engine units (fen for amount facts). */
export interface Condition {
  readonly fact: FactName;
  /** {"months": n} for the months facts, else absent */
  readonly params?: { readonly months: number };
  readonly operator: Operator;
  readonly value: boolean | string | number | readonly string[];
}
export type ConditionNode =
  | { readonly all: readonly ConditionNode[] }
  | { readonly any: readonly ConditionNode[] }
  | { readonly not: ConditionNode }
  | Condition;
export type TopCondition = Exclude<ConditionNode, Condition>;

/** limit = floorToUnit(floor(fact × numerator / denominator), roundTo) */
export interface LimitFormula {
  readonly fact: FactName;
  readonly months: number | null;
  readonly numerator: number;
  readonly denominator: number;
  readonly roundTo: Fen;
}

export type EligibilityEvent =
  | { readonly type: 'door'; readonly door: Door; readonly limit: LimitFormula }
  | { readonly type: 'reason'; readonly code: ReasonCode }
  | { readonly type: 'cap'; readonly max: Fen };

export interface EligibilityRule {
  readonly name: string;
  readonly priority: number;
  /** position in the file */
  readonly index: number;
  readonly conditions: TopCondition;
  readonly event: EligibilityEvent;
}

export interface EligibilityRules {
  /** the file they came from, for messages */
  readonly file: string;
  /** in evaluation order: priority descending, then file order */
  readonly rules: readonly EligibilityRule[];
  /** the largest months param any fact uses: how many months the input must carry */
  readonly flowMonths: number;
}

export interface ParseResult<T> {
  readonly value?: T;
  readonly errors: string[];
  readonly warnings: string[];
}

// ---------------------------------------------------------------------------
// Validation. Every message is `file: $.json.path: reason`.

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: Json): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));

function months(p: Problems, params: Json, path: string): number | null {
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

function amount(p: Problems, v: Json, path: string, opts: { positive?: boolean } = {}): Fen | null {
  if (typeof v !== 'string') {
    p.error(path, `expected a yuan amount string like "5000000.00", got ${show(v)}`);
    return null;
  }
  let fen: Fen;
  try {
    fen = parseYuan(v);
  } catch {
    p.error(path, `${show(v)} is not a yuan amount (digits, at most two decimals, not negative)`);
    return null;
  }
  if (opts.positive && fen <= 0) {
    p.error(path, `must be more than 0.00, got ${show(v)}`);
    return null;
  }
  if (fen > ABSURD_AMOUNT) {
    p.error(path, `${show(v)} is absurd (more than ${formatYuan(ABSURD_AMOUNT)})`);
    return null;
  }
  return fen;
}

function factParams(p: Problems, fact: FactName, params: Json, path: string): { ok: boolean; months: number | null } {
  if (FACTS[fact].months) {
    const m = months(p, params, `${path}.params`);
    return { ok: m !== null, months: m };
  }
  if (params !== undefined) {
    p.error(`${path}.params`, `fact "${fact}" takes no params`);
    return { ok: false, months: null };
  }
  return { ok: true, months: null };
}

function conditionValue(p: Problems, fact: FactName, operator: Operator, raw: Json, path: string, monthsParam: number | null): Condition['value'] | null {
  const spec: { kind: FactKind; values?: readonly string[] } = FACTS[fact];
  if (raw === undefined) {
    p.error(path, 'missing');
    return null;
  }
  switch (spec.kind) {
    case 'boolean':
      if (typeof raw !== 'boolean') {
        p.error(path, `fact "${fact}" is true or false, got ${show(raw)}`);
        return null;
      }
      return raw;
    case 'enum': {
      const values = spec.values ?? [];
      const one = (v: Json, at: string): string | null => {
        if (typeof v !== 'string' || !values.includes(v)) {
          p.error(at, `fact "${fact}" is one of ${values.map((x) => `"${x}"`).join(', ')}, got ${show(v)}`);
          return null;
        }
        return v;
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
    case 'amount':
      return amount(p, raw, path);
    case 'count':
      if (typeof raw !== 'number' || !Number.isInteger(raw)) {
        p.error(path, `fact "${fact}" is a whole number of months, got ${show(raw)}`);
        return null;
      }
      if (raw < 0 || raw > (monthsParam ?? MAX_MONTHS)) {
        p.error(path, `${raw} is out of range 0..${monthsParam ?? MAX_MONTHS}`);
        return null;
      }
      return raw;
  }
}

function conditionNode(p: Problems, node: Json, path: string, seen: Set<number>): ConditionNode | null {
  if (!isObject(node)) {
    p.error(path, `expected a condition object, got ${show(node)}`);
    return null;
  }
  const bools = (['all', 'any', 'not'] as const).filter((k) => k in node);
  if (bools.length > 1 || (bools.length === 1 && 'fact' in node)) {
    p.error(path, `a condition is one of {"all": [...]}, {"any": [...]}, {"not": {...}} or {"fact": ...}, not several`);
    return null;
  }
  if (bools.length === 1) {
    const op = bools[0]!;
    p.keys(node, path, [op]);
    const inner = node[op];
    if (op === 'not') {
      const child = conditionNode(p, inner, `${path}.not`, seen);
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
    const children = inner.map((c, i) => conditionNode(p, c, `${path}.${op}[${i}]`, seen));
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
  const fact = node['fact'];
  if (fact === undefined) {
    p.error(path, 'expected "fact" (or "all", "any", "not")');
    return null;
  }
  if (!isFactName(fact)) {
    p.error(`${path}.fact`, `unknown fact ${show(fact)} (known: ${FACT_NAMES.join(', ')})`);
    return null;
  }
  const prm = factParams(p, fact, node['params'], path);
  const operator = node['operator'];
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
    p.error(`${path}.operator`, `unknown operator ${show(operator)} (known: ${OPERATORS.join(', ')})`);
    return null;
  }
  const kind = FACTS[fact].kind;
  if (!OPERATORS_BY_KIND[kind].includes(operator as Operator)) {
    p.error(`${path}.operator`, `operator "${operator}" cannot be used with fact "${fact}" (use ${OPERATORS_BY_KIND[kind].join(', ')})`);
    return null;
  }
  const value = conditionValue(p, fact, operator as Operator, node['value'], `${path}.value`, prm.months);
  if (!prm.ok || value === null) return null;
  if (prm.months !== null) seen.add(prm.months);
  const out: Condition =
    prm.months === null
      ? { fact, operator: operator as Operator, value }
      : { fact, params: { months: prm.months }, operator: operator as Operator, value };
  return out;
}

function limitFormula(p: Problems, raw: Json, path: string, seen: Set<number>): LimitFormula | null {
  if (!isObject(raw)) {
    p.error(path, `expected {"fact": ..., "ratio": ..., "roundDownTo": ...}, got ${show(raw)}`);
    return null;
  }
  p.keys(raw, path, ['fact', 'params', 'ratio', 'roundDownTo']);
  const fact = raw['fact'];
  if (!isFactName(fact)) {
    p.error(`${path}.fact`, `unknown fact ${show(fact)} (known: ${FACT_NAMES.join(', ')})`);
    return null;
  }
  if (FACTS[fact].kind !== 'amount') {
    p.error(`${path}.fact`, `a limit is computed from an amount fact, "${fact}" is not one`);
    return null;
  }
  const prm = factParams(p, fact, raw['params'], path);
  let numerator = 1;
  let denominator = 1;
  let ok = prm.ok;
  const ratio = raw['ratio'];
  if (ratio !== undefined) {
    if (!isObject(ratio)) {
      p.error(`${path}.ratio`, `expected {"numerator": 1, "denominator": 2}, got ${show(ratio)}`);
      ok = false;
    } else {
      p.keys(ratio, `${path}.ratio`, ['numerator', 'denominator']);
      const n = ratio['numerator'];
      const d = ratio['denominator'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1_000_000) {
        p.error(`${path}.ratio.numerator`, `expected a whole number 0..1000000, got ${show(n)}`);
        ok = false;
      }
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 1_000_000) {
        p.error(`${path}.ratio.denominator`, `expected a whole number 1..1000000, got ${show(d)}`);
        ok = false;
      }
      if (ok) {
        numerator = n as number;
        denominator = d as number;
        if (numerator > 10 * denominator) {
          p.error(`${path}.ratio`, `${numerator}/${denominator} is absurd (more than 10 times the fact)`);
          ok = false;
        } else if (numerator > denominator) {
          p.warn(`${path}.ratio`, `${numerator}/${denominator} lends more than the fact itself`);
        }
      }
    }
  }
  let roundTo = 1 as Fen;
  if (raw['roundDownTo'] !== undefined) {
    const r = amount(p, raw['roundDownTo'], `${path}.roundDownTo`, { positive: true });
    if (r === null) ok = false;
    else roundTo = r;
  }
  if (!ok) return null;
  if (prm.months !== null) seen.add(prm.months);
  return { fact, months: prm.months, numerator, denominator, roundTo };
}

function event(p: Problems, raw: Json, path: string, seen: Set<number>): EligibilityEvent | null {
  if (!isObject(raw)) {
    p.error(path, `expected {"type": ..., "params": {...}}, got ${show(raw)}`);
    return null;
  }
  p.keys(raw, path, ['type', 'params']);
  const type = raw['type'];
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    p.error(`${path}.type`, `unknown event type ${show(type)} (known: ${EVENT_TYPES.join(', ')})`);
    return null;
  }
  const params = raw['params'];
  if (!isObject(params)) {
    p.error(`${path}.params`, `expected an object, got ${show(params)}`);
    return null;
  }
  const at = `${path}.params`;
  switch (type as EventType) {
    case 'door': {
      p.keys(params, at, ['door', 'limit']);
      const door = params['door'];
      const okDoor = typeof door === 'string' && (DOORS as readonly string[]).includes(door);
      if (!okDoor) p.error(`${at}.door`, `unknown door ${show(door)} (known: ${DOORS.join(', ')})`);
      const limit = limitFormula(p, params['limit'], `${at}.limit`, seen);
      return okDoor && limit ? { type: 'door', door: door as Door, limit } : null;
    }
    case 'reason': {
      p.keys(params, at, ['code']);
      const code = params['code'];
      if (typeof code !== 'string' || !(REASON_CODES as readonly string[]).includes(code)) {
        p.error(`${at}.code`, `unknown reason code ${show(code)} (known: ${REASON_CODES.join(', ')})`);
        return null;
      }
      return { type: 'reason', code: code as ReasonCode };
    }
    case 'cap': {
      p.keys(params, at, ['max']);
      const max = amount(p, params['max'], `${at}.max`, { positive: true });
      return max === null ? null : { type: 'cap', max };
    }
  }
}

/** Checks the parsed JSON of eligibility.json and normalises it (amounts to fen). */
export function parseEligibilityRules(json: unknown, file: string): ParseResult<EligibilityRules> {
  const p = new Problems(file);
  if (!isObject(json)) {
    p.error('$', `expected an object with "rules", got ${show(json)}`);
    return p;
  }
  p.keys(json, '$', ['$schema', 'description', 'rules']);
  const list = json['rules'];
  if (!Array.isArray(list) || list.length === 0) {
    p.error('$.rules', `expected a non-empty list of rules, got ${show(list)}`);
    return p;
  }
  const rules: EligibilityRule[] = [];
  const names = new Map<string, number>();
  const seen = new Set<number>();
  list.forEach((raw: Json, index) => {
    const path = `$.rules[${index}]`;
    if (!isObject(raw)) {
      p.error(path, `expected a rule object, got ${show(raw)}`);
      return;
    }
    p.keys(raw, path, ['name', 'description', 'priority', 'conditions', 'event']);
    const name = raw['name'];
    let ok = true;
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
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
    } else top = conditionNode(p, conds, `${path}.conditions`, seen);
    const ev = event(p, raw['event'], `${path}.event`, seen);
    if (ok && top !== null && ev !== null) {
      rules.push({ name: name as string, priority, index, conditions: top as TopCondition, event: ev });
    }
  });
  if (p.errors.length > 0) return p;
  if (!rules.some((r) => r.event.type === 'door')) p.warn('$.rules', 'no "door" rule: nobody can be eligible');
  if (!rules.some((r) => r.event.type === 'cap')) p.warn('$.rules', 'no "cap" rule: limits are not capped');
  if (seen.size > 1) {
    p.warn('$.rules', `facts use different "months" (${[...seen].sort((a, b) => a - b).join(', ')}); change them together unless that is meant`);
  }
  rules.sort((a, b) => b.priority - a.priority || a.index - b.index);
  const value: EligibilityRules = { file, rules, flowMonths: seen.size === 0 ? 0 : Math.max(...seen) };
  return { value, errors: p.errors, warnings: p.warnings };
}

// ---------------------------------------------------------------------------
// Combination, shared by both evaluators.

export function applyLimit(formula: LimitFormula, factValue: number): Fen {
  return floorToUnit(mulRatioFloor(factValue as Fen, formula.numerator, formula.denominator), formula.roundTo);
}

/**
 * Eligible when at least one door rule fired. The door giving the larger limit
 * wins; on a tie the door whose rule comes first (evaluation order) wins, which is
 * why the whitelist door is listed first. Every cap that fired applies (the
 * smallest wins). Reasons are reported only for an ineligible customer.
 */
export function combine(
  customerId: CustomerId,
  fired: readonly EligibilityRule[],
  doorLimit: (rule: EligibilityRule & { event: { type: 'door' } }) => Fen,
  facts: Record<string, unknown>,
): EligibilityDecision {
  let door: Door | null = null;
  let limit = 0;
  let cap = Infinity;
  const reasons: string[] = [];
  const names: string[] = [];
  for (const rule of fired) {
    names.push(rule.name);
    const ev = rule.event;
    if (ev.type === 'door') {
      const l = doorLimit(rule as EligibilityRule & { event: { type: 'door' } });
      if (door === null || l > limit) {
        door = ev.door;
        limit = l;
      }
    } else if (ev.type === 'cap') {
      if (ev.max < cap) cap = ev.max;
    } else if (!reasons.includes(ev.code)) reasons.push(ev.code);
  }
  const eligible = door !== null;
  return {
    customerId,
    eligible,
    door,
    limit: (eligible ? Math.min(limit, cap) : 0) as Fen,
    reasons: eligible ? [] : reasons,
    fired: names,
    facts,
  };
}
