// The escalation rule file (rules/escalation.json, json-rules-engine format): the
// query ladder for unknown outcomes, the error-code table, and rules whose event names
// the next step for a known failure. Normalised type, validator (every message
// `file: $.json.path: reason`) and the one place fired rules become a decision.
import { formatYuan, parseYuan, type Fen } from '../money.ts';
import type { ParseResult } from '../eligibility/rules.ts';
import { ERROR_CLASSES, ESCALATION_FACTS, ESCALATION_FACT_NAMES, isEscalationFact, type ErrorClass, type EscalationFactName, type FactKind } from './facts.ts';
import { Problems } from '../rules/problems.ts';

export const OPERATORS = ['equal', 'notEqual', 'in', 'notIn', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'] as const;
export type Operator = (typeof OPERATORS)[number];
const NUMERIC: readonly Operator[] = ['equal', 'notEqual', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive'];
const OPERATORS_BY_KIND: Record<FactKind, readonly Operator[]> = {
  boolean: ['equal', 'notEqual'],
  enum: ['equal', 'notEqual', 'in', 'notIn'],
  code: ['equal', 'notEqual', 'in', 'notIn'],
  amount: NUMERIC,
  count: NUMERIC,
};

export const STEPS = ['channel_resend', 'system_resend', 'void_and_reissue', 'manual_review', 'give_up'] as const;
export type StepName = (typeof STEPS)[number];
/** the business's three levels; manual_review and give_up are not levels */
export const LEVEL_OF: Readonly<Record<StepName, number | null>> = { channel_resend: 1, system_resend: 2, void_and_reissue: 3, manual_review: null, give_up: null };

export interface Condition {
  readonly fact: EscalationFactName;
  readonly operator: Operator;
  readonly value: boolean | string | number | readonly string[];
}
export type ConditionNode =
  | { readonly all: readonly ConditionNode[] }
  | { readonly any: readonly ConditionNode[] }
  | { readonly not: ConditionNode }
  | Condition;
export type TopCondition = Exclude<ConditionNode, Condition>;

export interface StepEvent {
  readonly step: StepName;
  /** channel_resend only: carried out without an operator's confirmation */
  readonly automatic: boolean;
  /** system_resend: wait this long after the failure before the new attempt */
  readonly backoffSeconds: number;
  readonly reason: string;
}

export interface EscalationRule {
  readonly name: string;
  readonly priority: number;
  readonly index: number;
  readonly conditions: TopCondition;
  readonly event: StepEvent;
}

export interface ErrorCodeSpec {
  readonly class: ErrorClass;
  readonly description: string;
}

export interface EscalationRules {
  readonly file: string;
  /** seconds after submission of each status query; then, if endOfDay, one at 23:59 Asia/Shanghai */
  readonly ladder: { readonly afterSeconds: readonly number[]; readonly endOfDay: boolean };
  /** local hours [from, to) of a working day */
  readonly businessHours: { readonly from: number; readonly to: number };
  readonly errorCodes: Readonly<Record<string, ErrorCodeSpec>>;
  /** evaluation order: priority descending, then file order */
  readonly rules: readonly EscalationRule[];
}

export interface EscalationDecision extends StepEvent {
  /** the rule that decided; null: none fired, the built-in manual review */
  readonly rule: string | null;
  readonly fired: readonly string[];
}

export const NO_RULE_DECISION: StepEvent = { step: 'manual_review', automatic: false, backoffSeconds: 0, reason: 'no escalation rule matched: an operator decides' };

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: Json): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));
const list = (xs: readonly string[]): string => xs.join(', ');
const CODE = /^[A-Z][A-Z0-9_]*$/;

function value(p: Problems, fact: EscalationFactName, operator: Operator, raw: Json, path: string, codes: ReadonlySet<string>): Condition['value'] | null {
  const spec = ESCALATION_FACTS[fact] as { kind: FactKind; values?: readonly string[]; max?: number };
  if (raw === undefined) {
    p.error(path, 'missing');
    return null;
  }
  const many = operator === 'in' || operator === 'notIn';
  switch (spec.kind) {
    case 'boolean':
      if (typeof raw !== 'boolean') {
        p.error(path, `fact "${fact}" is true or false, got ${show(raw)}`);
        return null;
      }
      return raw;
    case 'enum':
    case 'code': {
      const one = (v: Json, at: string): string | null => {
        if (spec.kind === 'enum' && (typeof v !== 'string' || !spec.values!.includes(v))) {
          p.error(at, `fact "${fact}" is one of ${spec.values!.map((x) => `"${x}"`).join(', ')}, got ${show(v)}`);
          return null;
        }
        if (spec.kind === 'code' && (typeof v !== 'string' || !codes.has(v))) {
          p.error(at, `${show(v)} is not in $.errorCodes (known: ${list([...codes])}); add it to the table first`);
          return null;
        }
        return v as string;
      };
      if (many) {
        if (!Array.isArray(raw) || raw.length === 0) {
          p.error(path, `operator "${operator}" needs a non-empty list, got ${show(raw)}`);
          return null;
        }
        const out = raw.map((v, i) => one(v, `${path}[${i}]`));
        return out.every((v) => v !== null) ? (out as string[]) : null;
      }
      return one(raw, path);
    }
    case 'amount': {
      if (typeof raw !== 'string') {
        p.error(path, `expected a yuan amount string like "100.00", got ${show(raw)}`);
        return null;
      }
      try {
        return parseYuan(raw);
      } catch {
        p.error(path, `${show(raw)} is not a yuan amount (digits, at most two decimals, not negative)`);
        return null;
      }
    }
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

function conditionNode(p: Problems, node: Json, path: string, codes: ReadonlySet<string>): ConditionNode | null {
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
      const child = conditionNode(p, inner, `${path}.not`, codes);
      return child === null ? null : { not: child };
    }
    if (!Array.isArray(inner)) {
      p.error(`${path}.${op}`, `expected a list of conditions, got ${show(inner)}`);
      return null;
    }
    if (op === 'any' && inner.length === 0) {
      p.error(`${path}.any`, 'an empty "any" is not allowed (use {"all": []} for "always")');
      return null;
    }
    const children = inner.map((c, i) => conditionNode(p, c, `${path}.${op}[${i}]`, codes));
    if (children.some((c) => c === null)) return null;
    return op === 'all' ? { all: children as ConditionNode[] } : { any: children as ConditionNode[] };
  }
  if (!p.keys(node, path, ['fact', 'operator', 'value'])) return null;
  const fact = node['fact'];
  if (!isEscalationFact(fact)) {
    p.error(`${path}.fact`, `unknown fact ${show(fact)} (known: ${list(ESCALATION_FACT_NAMES)})`);
    return null;
  }
  const operator = node['operator'];
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
    p.error(`${path}.operator`, `unknown operator ${show(operator)} (known: ${list(OPERATORS)})`);
    return null;
  }
  const kind = ESCALATION_FACTS[fact].kind as FactKind;
  if (!OPERATORS_BY_KIND[kind].includes(operator as Operator)) {
    p.error(`${path}.operator`, `operator "${operator}" cannot be used with fact "${fact}" (use ${list(OPERATORS_BY_KIND[kind])})`);
    return null;
  }
  const v = value(p, fact, operator as Operator, node['value'], `${path}.value`, codes);
  return v === null ? null : { fact, operator: operator as Operator, value: v };
}

function stepEvent(p: Problems, raw: Json, path: string): StepEvent | null {
  if (!isObject(raw)) {
    p.error(path, `expected {"type": "escalate", "params": {...}}, got ${show(raw)}`);
    return null;
  }
  p.keys(raw, path, ['type', 'params']);
  if (raw['type'] !== 'escalate') {
    p.error(`${path}.type`, `unknown event type ${show(raw['type'])} (known: escalate)`);
    return null;
  }
  const at = `${path}.params`;
  const params = raw['params'];
  if (!isObject(params)) {
    p.error(at, `expected an object, got ${show(params)}`);
    return null;
  }
  if (!p.keys(params, at, ['step', 'automatic', 'backoffSeconds', 'reason'])) return null;
  const step = params['step'];
  if (typeof step !== 'string' || !(STEPS as readonly string[]).includes(step)) {
    p.error(`${at}.step`, `unknown step ${show(step)} (known: ${list(STEPS)})`);
    return null;
  }
  const automatic = params['automatic'] ?? (step !== 'channel_resend');
  if (typeof automatic !== 'boolean') {
    p.error(`${at}.automatic`, `expected true or false, got ${show(automatic)}`);
    return null;
  }
  if (params['automatic'] !== undefined && step !== 'channel_resend') {
    p.error(`${at}.automatic`, `only "channel_resend" waits for an operator; "${step}" takes no "automatic"`);
    return null;
  }
  const backoff = params['backoffSeconds'] ?? 0;
  if (typeof backoff !== 'number' || !Number.isInteger(backoff) || backoff < 0 || backoff > 86_400) {
    p.error(`${at}.backoffSeconds`, `expected whole seconds 0..86400, got ${show(backoff)}`);
    return null;
  }
  if (params['backoffSeconds'] !== undefined && step !== 'system_resend') {
    p.error(`${at}.backoffSeconds`, `only "system_resend" takes a backoff`);
    return null;
  }
  const reason = params['reason'];
  if (typeof reason !== 'string' || reason.trim() === '') {
    p.error(`${at}.reason`, 'expected a reason the operator will read, e.g. "channel down: resend once"');
    return null;
  }
  return { step: step as StepName, automatic, backoffSeconds: backoff, reason };
}

function ladder(p: Problems, raw: Json): EscalationRules['ladder'] | null {
  const at = '$.queryLadder';
  if (!isObject(raw)) {
    p.error(at, `expected {"afterSeconds": [30, 120, ...], "endOfDay": true}, got ${show(raw)}`);
    return null;
  }
  if (!p.keys(raw, at, ['afterSeconds', 'endOfDay'])) return null;
  const xs = raw['afterSeconds'];
  if (!Array.isArray(xs) || xs.length === 0 || xs.length > 20) {
    p.error(`${at}.afterSeconds`, `expected 1 to 20 whole seconds, rising, got ${show(xs)}`);
    return null;
  }
  let prev = -1;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 7 * 86_400 || x <= prev) {
      p.error(`${at}.afterSeconds[${i}]`, `expected whole seconds, more than the one before (${prev}), at most a week, got ${show(x)}`);
      return null;
    }
    prev = x;
  }
  const eod = raw['endOfDay'] ?? false;
  if (typeof eod !== 'boolean') {
    p.error(`${at}.endOfDay`, `expected true or false, got ${show(eod)}`);
    return null;
  }
  return { afterSeconds: xs as number[], endOfDay: eod };
}

/** Checks the parsed JSON of escalation.json and normalises it (amounts to fen, defaults filled). */
export function parseEscalationRules(json: unknown, file: string): ParseResult<EscalationRules> {
  const p = new Problems(file);
  if (!isObject(json)) {
    p.error('$', `expected an object with "queryLadder", "errorCodes" and "rules", got ${show(json)}`);
    return p;
  }
  p.keys(json, '$', ['$schema', 'description', 'queryLadder', 'businessHours', 'errorCodes', 'rules']);
  const lad = ladder(p, json['queryLadder']);
  let hours = { from: 9, to: 17 };
  const bh = json['businessHours'];
  if (bh !== undefined) {
    if (!isObject(bh) || !p.keys(bh, '$.businessHours', ['from', 'to'])) p.error('$.businessHours', `expected {"from": 9, "to": 17}, got ${show(bh)}`);
    else {
      const from = bh['from'], to = bh['to'];
      if (typeof from !== 'number' || !Number.isInteger(from) || from < 0 || from > 23) p.error('$.businessHours.from', `expected an hour 0..23, got ${show(from)}`);
      else if (typeof to !== 'number' || !Number.isInteger(to) || to <= from || to > 24) p.error('$.businessHours.to', `expected an hour after "from", at most 24, got ${show(to)}`);
      else hours = { from, to };
    }
  }
  const codes: Record<string, ErrorCodeSpec> = {};
  const rawCodes = json['errorCodes'];
  if (!isObject(rawCodes) || Object.keys(rawCodes).length === 0) p.error('$.errorCodes', `expected the error-code table {"CODE": {"class": ..., "description": ...}}, got ${show(rawCodes)}`);
  else {
    for (const [code, spec] of Object.entries(rawCodes)) {
      const at = `$.errorCodes.${code}`;
      if (!CODE.test(code)) {
        p.error(at, 'a code is upper-case letters, digits and "_"');
        continue;
      }
      if (!isObject(spec) || !p.keys(spec, at, ['class', 'description'])) {
        if (!isObject(spec)) p.error(at, `expected {"class": ..., "description": ...}, got ${show(spec)}`);
        continue;
      }
      const cls = spec['class'];
      if (typeof cls !== 'string' || !(ERROR_CLASSES as readonly string[]).includes(cls)) {
        p.error(`${at}.class`, `unknown class ${show(cls)} (known: ${list(ERROR_CLASSES)})`);
        continue;
      }
      const d = spec['description'];
      if (typeof d !== 'string' || d.trim() === '') {
        p.error(`${at}.description`, 'expected a description');
        continue;
      }
      codes[code] = { class: cls as ErrorClass, description: d };
    }
  }
  const known = new Set(Object.keys(codes));
  const raws = json['rules'];
  const rules: EscalationRule[] = [];
  if (!Array.isArray(raws) || raws.length === 0) p.error('$.rules', `expected a non-empty list of rules, got ${show(raws)}`);
  else {
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
      } else top = conditionNode(p, conds, `${path}.conditions`, known);
      const ev = stepEvent(p, raw['event'], `${path}.event`);
      if (ok && top !== null && ev !== null) rules.push({ name: name as string, priority, index, conditions: top as TopCondition, event: ev });
    });
  }
  if (p.errors.length > 0 || lad === null) return p;
  if (!rules.some((r) => 'all' in r.conditions && r.conditions.all.length === 0)) {
    p.warn('$.rules', 'no rule with {"all": []}: a failure no rule matches goes to manual review');
  }
  rules.sort((a, b) => b.priority - a.priority || a.index - b.index);
  return { value: { file, ladder: lad, businessHours: hours, errorCodes: codes, rules }, errors: p.errors, warnings: p.warnings };
}

/** The first rule in evaluation order decides; none: manual review. */
export function combineEscalation(fired: readonly EscalationRule[]): EscalationDecision {
  const first = fired[0];
  return { ...(first ? first.event : NO_RULE_DECISION), rule: first?.name ?? null, fired: fired.map((r) => r.name) };
}

export function describeAmount(f: Fen): string {
  return formatYuan(f);
}
