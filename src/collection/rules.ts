// The collection rule file (rules/collection.json, json-rules-engine format): its
// normalised type, the validator (every message `file: $.json.path: reason`) and the
// one place fired rules are combined into a plan, shared by both evaluators.
import { formatYuan, parseYuan, type Fen } from '../money.ts';
import type { ParseResult } from '../eligibility/rules.ts';
import { COLLECTION_FACTS, COLLECTION_FACT_NAMES, isCollectionFact, type CollectionFactName, type FactKind, type FactSpec } from './facts.ts';
import { Problems } from '../rules/problems.ts';

export const OPERATORS = ['equal', 'notEqual', 'in', 'notIn', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'] as const;
export type Operator = (typeof OPERATORS)[number];
const NUMERIC: readonly Operator[] = ['equal', 'notEqual', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
const OPERATORS_BY_KIND: Record<FactKind, readonly Operator[]> = {
  boolean: ['equal', 'notEqual'],
  enum: ['equal', 'notEqual', 'in', 'notIn'],
  amount: NUMERIC,
  count: NUMERIC,
};

export const EVENT_TYPES = ['plan', 'waterfall'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const STEP_NAMES = ['own_balance', 'cross_account', 'hold'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** primary_then_largest: the primary account, then the others by balance, largest first; largest_first: all by balance. Ties: account id. */
export const ACCOUNT_ORDERS = ['primary_then_largest', 'largest_first'] as const;
export type AccountOrder = (typeof ACCOUNT_ORDERS)[number];

export const WATERFALL_ORDERS = ['oldest_first_interest_first', 'oldest_first_principal_first', 'interest_first_then_principal', 'oldest_first_penalty_last', 'penalties_last'] as const;
export type WaterfallOrder = (typeof WATERFALL_ORDERS)[number];
export const DEFAULT_WATERFALL: WaterfallOrder = 'oldest_first_interest_first';

export type Step =
  | { readonly step: 'own_balance'; readonly partial: boolean }
  | { readonly step: 'cross_account'; readonly order: AccountOrder; readonly partial: boolean }
  | { readonly step: 'hold'; readonly sweep: boolean; readonly order: AccountOrder };

export const ABSURD_AMOUNT = 10_000_000_000 as Fen;

export interface Condition {
  readonly fact: CollectionFactName;
  readonly operator: Operator;
  /** in engine units: fen for amount facts */
  readonly value: boolean | string | number | readonly string[];
}
export type ConditionNode =
  | { readonly all: readonly ConditionNode[] }
  | { readonly any: readonly ConditionNode[] }
  | { readonly not: ConditionNode }
  | Condition;
export type TopCondition = Exclude<ConditionNode, Condition>;

export type CollectionEvent =
  | { readonly type: 'plan'; readonly steps: readonly Step[] }
  | { readonly type: 'waterfall'; readonly order: WaterfallOrder };

export interface CollectionRule {
  readonly name: string;
  readonly priority: number;
  readonly index: number;
  readonly conditions: TopCondition;
  readonly event: CollectionEvent;
}

export interface CollectionRules {
  readonly file: string;
  /** evaluation order: priority descending, then file order */
  readonly rules: readonly CollectionRule[];
}

export interface CollectionDecision {
  /** the steps of the first plan rule that fired; [] when none did (collect nothing) */
  readonly steps: readonly Step[];
  /** the order of the first waterfall rule that fired, else oldest_first_interest_first */
  readonly waterfall: WaterfallOrder;
  /** names of every rule that fired, in evaluation order */
  readonly fired: readonly string[];
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: Json): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));
const list = (xs: readonly string[]): string => xs.join(', ');

function amount(p: Problems, v: Json, path: string): Fen | null {
  if (typeof v !== 'string') {
    p.error(path, `expected a yuan amount string like "100.00", got ${show(v)}`);
    return null;
  }
  let fen: Fen;
  try {
    fen = parseYuan(v);
  } catch {
    p.error(path, `${show(v)} is not a yuan amount (digits, at most two decimals, not negative)`);
    return null;
  }
  if (fen > ABSURD_AMOUNT) {
    p.error(path, `${show(v)} is absurd (more than ${formatYuan(ABSURD_AMOUNT)})`);
    return null;
  }
  return fen;
}

function conditionValue(p: Problems, fact: CollectionFactName, operator: Operator, raw: Json, path: string): Condition['value'] | null {
  const spec: FactSpec = COLLECTION_FACTS[fact];
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
    case 'count': {
      const max = spec.max ?? Number.MAX_SAFE_INTEGER;
      if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > max) {
        p.error(path, `fact "${fact}" is a whole number 0..${max}, got ${show(raw)}`);
        return null;
      }
      return raw;
    }
  }
}

function conditionNode(p: Problems, node: Json, path: string): ConditionNode | null {
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
      const child = conditionNode(p, inner, `${path}.not`);
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
    const children = inner.map((c, i) => conditionNode(p, c, `${path}.${op}[${i}]`));
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
  if ('params' in node) {
    p.error(`${path}.params`, 'collection facts take no params');
    return null;
  }
  if (!p.keys(node, path, ['fact', 'operator', 'value'])) return null;
  const fact = node['fact'];
  if (fact === undefined) {
    p.error(path, 'expected "fact" (or "all", "any", "not")');
    return null;
  }
  if (!isCollectionFact(fact)) {
    p.error(`${path}.fact`, `unknown fact ${show(fact)} (known: ${list(COLLECTION_FACT_NAMES)})`);
    return null;
  }
  const operator = node['operator'];
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
    p.error(`${path}.operator`, `unknown operator ${show(operator)} (known: ${list(OPERATORS)})`);
    return null;
  }
  const kind = COLLECTION_FACTS[fact].kind;
  if (!OPERATORS_BY_KIND[kind].includes(operator as Operator)) {
    p.error(`${path}.operator`, `operator "${operator}" cannot be used with fact "${fact}" (use ${list(OPERATORS_BY_KIND[kind])})`);
    return null;
  }
  const value = conditionValue(p, fact, operator as Operator, node['value'], `${path}.value`);
  return value === null ? null : { fact, operator: operator as Operator, value };
}

function bool(p: Problems, v: Json, path: string, dflt: boolean): boolean | null {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') {
    p.error(path, `expected true or false, got ${show(v)}`);
    return null;
  }
  return v;
}

function accountOrder(p: Problems, v: Json, path: string): AccountOrder | null {
  if (v === undefined) return 'primary_then_largest';
  if (typeof v !== 'string' || !(ACCOUNT_ORDERS as readonly string[]).includes(v)) {
    p.error(path, `unknown account order ${show(v)} (known: ${list(ACCOUNT_ORDERS)})`);
    return null;
  }
  return v as AccountOrder;
}

const STEP_PARAMS: Record<StepName, readonly string[]> = {
  own_balance: ['step', 'partial'],
  cross_account: ['step', 'order', 'partial'],
  hold: ['step', 'sweep', 'order'],
};

function step(p: Problems, raw: Json, path: string): Step | null {
  if (!isObject(raw)) {
    p.error(path, `expected a step like {"step": "own_balance", "partial": false}, got ${show(raw)}`);
    return null;
  }
  const name = raw['step'];
  if (typeof name !== 'string' || !(STEP_NAMES as readonly string[]).includes(name)) {
    p.error(`${path}.step`, `unknown step ${show(name)} (known: ${list(STEP_NAMES)})`);
    return null;
  }
  if (!p.keys(raw, path, STEP_PARAMS[name as StepName])) return null;
  switch (name as StepName) {
    case 'own_balance': {
      const partial = bool(p, raw['partial'], `${path}.partial`, false);
      return partial === null ? null : { step: 'own_balance', partial };
    }
    case 'cross_account': {
      const partial = bool(p, raw['partial'], `${path}.partial`, false);
      const order = accountOrder(p, raw['order'], `${path}.order`);
      return partial === null || order === null ? null : { step: 'cross_account', order, partial };
    }
    case 'hold': {
      const sweep = bool(p, raw['sweep'], `${path}.sweep`, true);
      const order = accountOrder(p, raw['order'], `${path}.order`);
      return sweep === null || order === null ? null : { step: 'hold', sweep, order };
    }
  }
}

function event(p: Problems, raw: Json, path: string): CollectionEvent | null {
  if (!isObject(raw)) {
    p.error(path, `expected {"type": ..., "params": {...}}, got ${show(raw)}`);
    return null;
  }
  p.keys(raw, path, ['type', 'params']);
  const type = raw['type'];
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    p.error(`${path}.type`, `unknown event type ${show(type)} (known: ${list(EVENT_TYPES)})`);
    return null;
  }
  const params = raw['params'];
  const at = `${path}.params`;
  if (!isObject(params)) {
    p.error(at, `expected an object, got ${show(params)}`);
    return null;
  }
  if (type === 'waterfall') {
    if (!p.keys(params, at, ['order'])) return null;
    const order = params['order'];
    if (typeof order !== 'string' || !(WATERFALL_ORDERS as readonly string[]).includes(order)) {
      p.error(`${at}.order`, `unknown waterfall order ${show(order)} (known: ${list(WATERFALL_ORDERS)})`);
      return null;
    }
    return { type: 'waterfall', order: order as WaterfallOrder };
  }
  if (!p.keys(params, at, ['steps'])) return null;
  const raws = params['steps'];
  if (!Array.isArray(raws) || raws.length === 0) {
    p.error(`${at}.steps`, `expected a non-empty list of steps, got ${show(raws)}`);
    return null;
  }
  const steps = raws.map((s, i) => step(p, s, `${at}.steps[${i}]`));
  if (steps.some((s) => s === null)) return null;
  const ok = steps as Step[];
  let bad = false;
  ok.forEach((s, i) => {
    const first = ok.findIndex((x) => x.step === s.step);
    if (first !== i) {
      p.error(`${at}.steps[${i}].step`, `"${s.step}" is already $.steps[${first}]: each step at most once`);
      bad = true;
    }
    if (s.step === 'hold' && i !== ok.length - 1) {
      p.error(`${at}.steps[${i}]`, '"hold" settles whatever is left, so it must be the last step');
      bad = true;
    }
  });
  return bad ? null : { type: 'plan', steps: ok };
}

/** Checks the parsed JSON of collection.json and normalises it (amounts to fen, step defaults filled). */
export function parseCollectionRules(json: unknown, file: string): ParseResult<CollectionRules> {
  const p = new Problems(file);
  if (!isObject(json)) {
    p.error('$', `expected an object with "rules", got ${show(json)}`);
    return p;
  }
  p.keys(json, '$', ['$schema', 'description', 'rules']);
  const raws = json['rules'];
  if (!Array.isArray(raws) || raws.length === 0) {
    p.error('$.rules', `expected a non-empty list of rules, got ${show(raws)}`);
    return p;
  }
  const rules: CollectionRule[] = [];
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
    } else top = conditionNode(p, conds, `${path}.conditions`);
    const ev = event(p, raw['event'], `${path}.event`);
    if (ok && top !== null && ev !== null) rules.push({ name: name as string, priority, index, conditions: top as TopCondition, event: ev });
  });
  if (p.errors.length > 0) return p;
  const always = (r: CollectionRule): boolean => 'all' in r.conditions && r.conditions.all.length === 0;
  if (!rules.some((r) => r.event.type === 'plan' && always(r))) {
    p.warn('$.rules', 'no "plan" rule with {"all": []}: a due no plan rule matches is not collected at all');
  }
  rules.sort((a, b) => b.priority - a.priority || a.index - b.index);
  return { value: { file, rules }, errors: p.errors, warnings: p.warnings };
}

/** The first plan and the first waterfall in evaluation order win; the rest only show in `fired`. */
export function combineCollection(fired: readonly CollectionRule[]): CollectionDecision {
  let steps: readonly Step[] | null = null;
  let waterfall: WaterfallOrder | null = null;
  for (const r of fired) {
    if (r.event.type === 'plan') steps ??= r.event.steps;
    else waterfall ??= r.event.order;
  }
  return { steps: steps ?? [], waterfall: waterfall ?? DEFAULT_WATERFALL, fired: fired.map((r) => r.name) };
}
