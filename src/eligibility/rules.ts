// The eligibility rule file: its normalised type, the events (door, reason, cap) and
// the limit formula, and the one place doors, caps and reasons are combined into a
// decision (shared by the compiled evaluator and the engine). Conditions, the rule
// list and messages come from the rules kernel (src/rules/kernel.ts), with the
// built-in facts and the facts declared in rules/facts.json as the fact table.
import { mulRatioFloor, floorToUnit, type Fen } from '../money.ts';
import { DOORS, REASON_CODES, type Door, type EligibilityDecision } from './types.ts';
import type { CustomerId } from '../customers/types.ts';
import { FACTS } from './facts.ts';
import { NO_DECLARED_FACTS, type DeclaredFact, type FactsCatalog } from './declared.ts';
import { Problems, type ParseResult } from '../rules/problems.ts';
import {
  eventEnvelope, factName, factParams, isObject, leaves, list, parseRuleList, show, typedValue,
  type Condition as KernelCondition, type ConditionNode as KernelNode, type ConditionOptions, type FactTable, type Rule, type TopCondition as KernelTop,
} from '../rules/kernel.ts';

export { OPERATORS, ABSURD_AMOUNT, type Operator } from '../rules/kernel.ts';
export type { ParseResult } from '../rules/problems.ts';

export const EVENT_TYPES = ['door', 'reason', 'cap'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** a built-in code (REASON_CODES) or one rules/facts.json declares */
export type ReasonCode = string;

export type Condition = KernelCondition;
export type ConditionNode = KernelNode;
export type TopCondition = KernelTop;

/** limit = floorToUnit(floor(fact × numerator / denominator × band ratio), roundTo) */
export interface LimitFormula {
  readonly fact: string;
  readonly months: number | null;
  readonly numerator: number;
  readonly denominator: number;
  readonly roundTo: Fen;
  /** a band of another fact (e.g. a score) scales the limit; null: no scaling */
  readonly scale: LimitScale | null;
}

export interface LimitScale {
  readonly fact: string;
  readonly months: number | null;
  /** the first band whose `below` is above the fact's value applies; the last has none */
  readonly bands: readonly { readonly below: number | null; readonly numerator: number; readonly denominator: number }[];
}

export type EligibilityEvent =
  | { readonly type: 'door'; readonly door: Door; readonly limit: LimitFormula }
  | { readonly type: 'reason'; readonly code: ReasonCode }
  | { readonly type: 'cap'; readonly max: Fen };

export type EligibilityRule = Rule<EligibilityEvent>;

export interface EligibilityRules {
  /** the file they came from, for messages */
  readonly file: string;
  /** in evaluation order: priority descending, then file order */
  readonly rules: readonly EligibilityRule[];
  /** the largest months param any fact uses: how many months the input must carry */
  readonly flowMonths: number;
  /** the declared facts (rules/facts.json) the rules use, in the catalog's order: what the nightly batch loads */
  readonly declared: readonly DeclaredFact[];
  /** the fact table the rules were checked against: built-in and declared facts */
  readonly table: FactTable;
}

// ---------------------------------------------------------------------------
// Validation. Every message is `file: $.json.path: reason`.

type Json = unknown;

function amount(p: Problems, v: Json, path: string, opts: { positive?: boolean } = {}): Fen | null {
  const r = typedValue({ kind: 'amount' }, '', v);
  if ('error' in r) {
    p.error(path, r.error.replace('like "100.00"', 'like "5000000.00"'));
    return null;
  }
  if (opts.positive && (r.value as number) <= 0) {
    p.error(path, `must be more than 0.00, got ${show(v)}`);
    return null;
  }
  return r.value as Fen;
}

function ratio(p: Problems, raw: Json, path: string): { numerator: number; denominator: number } | null {
  if (!isObject(raw)) {
    p.error(path, `expected {"numerator": 1, "denominator": 2}, got ${show(raw)}`);
    return null;
  }
  p.keys(raw, path, ['numerator', 'denominator']);
  const n = raw['numerator'];
  const d = raw['denominator'];
  let ok = true;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1_000_000) {
    p.error(`${path}.numerator`, `expected a whole number 0..1000000, got ${show(n)}`);
    ok = false;
  }
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 1_000_000) {
    p.error(`${path}.denominator`, `expected a whole number 1..1000000, got ${show(d)}`);
    ok = false;
  }
  if (!ok) return null;
  if ((n as number) > 10 * (d as number)) {
    p.error(path, `${n}/${d} is absurd (more than 10 times the fact)`);
    return null;
  }
  return { numerator: n as number, denominator: d as number };
}

const NUMERIC_KINDS = ['amount', 'count', 'integer', 'decimal'];

function scale(p: Problems, table: FactTable, raw: Json, path: string, copts: ConditionOptions): LimitScale | null {
  if (!isObject(raw)) {
    p.error(path, `expected {"fact": ..., "bands": [{"below": ..., "ratio": ...}, ..., {"ratio": ...}]}, got ${show(raw)}`);
    return null;
  }
  p.keys(raw, path, ['fact', 'params', 'bands']);
  const fact = factName(p, table, raw['fact'], `${path}.fact`, copts);
  if (fact === null) return null;
  const spec = table[fact]!;
  if (!NUMERIC_KINDS.includes(spec.kind)) {
    p.error(`${path}.fact`, `a limit is scaled by a number (an amount, a count, an integer or a decimal fact), "${fact}" is a ${spec.kind}`);
    return null;
  }
  const prm = factParams(p, table, fact, raw['params'], path, copts);
  const raws = raw['bands'];
  if (!Array.isArray(raws) || raws.length < 2 || raws.length > 20) {
    p.error(`${path}.bands`, `expected 2 to 20 bands, the last without "below", got ${show(raws)}`);
    return null;
  }
  const bands: LimitScale['bands'][number][] = [];
  let ok = prm.ok;
  raws.forEach((b: Json, i) => {
    const at = `${path}.bands[${i}]`;
    const last = i === raws.length - 1;
    if (!isObject(b)) {
      p.error(at, `expected {"below": ..., "ratio": {"numerator": 1, "denominator": 2}}, got ${show(b)}`);
      ok = false;
      return;
    }
    p.keys(b, at, last ? ['ratio'] : ['below', 'ratio']);
    const r = ratio(p, b['ratio'], `${at}.ratio`);
    let below: number | null = null;
    if (!last) {
      const v = typedValue(spec, fact, b['below'], spec.kind === 'count' ? prm.months : null);
      if ('error' in v) {
        p.error(`${at}.below`, b['below'] === undefined ? 'missing: every band but the last says where it ends' : v.error);
        ok = false;
      } else {
        below = v.value as number;
        const prev = bands[i - 1];
        if (prev && prev.below !== null && below <= prev.below) {
          p.error(`${at}.below`, `${show(b['below'])} must be above the band before's "below"`);
          ok = false;
        }
      }
    }
    if (r === null) ok = false;
    else bands.push({ below, ...r });
  });
  return ok ? { fact, months: prm.months, bands } : null;
}

function limitFormula(p: Problems, table: FactTable, raw: Json, path: string, copts: ConditionOptions): LimitFormula | null {
  if (!isObject(raw)) {
    p.error(path, `expected {"fact": ..., "ratio": ..., "roundDownTo": ...}, got ${show(raw)}`);
    return null;
  }
  p.keys(raw, path, ['fact', 'params', 'ratio', 'scale', 'roundDownTo']);
  const fact = factName(p, table, raw['fact'], `${path}.fact`, copts);
  if (fact === null) return null;
  if (table[fact]!.kind !== 'amount') {
    p.error(`${path}.fact`, `a limit is computed from an amount fact, "${fact}" is not one`);
    return null;
  }
  const prm = factParams(p, table, fact, raw['params'], path, copts);
  let ok = prm.ok;
  let numerator = 1;
  let denominator = 1;
  if (raw['ratio'] !== undefined) {
    const r = ratio(p, raw['ratio'], `${path}.ratio`);
    if (r === null) ok = false;
    else ({ numerator, denominator } = r);
  }
  let sc: LimitScale | null = null;
  if (raw['scale'] !== undefined) {
    sc = scale(p, table, raw['scale'], `${path}.scale`, copts);
    if (sc === null) ok = false;
  }
  if (ok) {
    // what the formula lends at most, against the fact
    const most = Math.max(...(sc?.bands ?? [{ numerator: 1, denominator: 1 }]).map((b) => (numerator * b.numerator) / (denominator * b.denominator)));
    if (most > 10) {
      p.error(`${path}${sc ? '.scale.bands' : '.ratio'}`, `lends up to ${most.toFixed(2)} times the fact: absurd (more than 10)`);
      ok = false;
    } else if (most > 1) {
      p.warn(`${path}${sc ? '.scale.bands' : '.ratio'}`, sc ? `lends up to ${most.toFixed(2)} times the fact itself` : `${numerator}/${denominator} lends more than the fact itself`);
    }
  }
  let roundTo = 1 as Fen;
  if (raw['roundDownTo'] !== undefined) {
    const r = amount(p, raw['roundDownTo'], `${path}.roundDownTo`, { positive: true });
    if (r === null) ok = false;
    else roundTo = r;
  }
  if (!ok) return null;
  return { fact, months: prm.months, numerator, denominator, roundTo, scale: sc };
}

function event(p: Problems, table: FactTable, codes: readonly string[], raw: Json, path: string, copts: ConditionOptions): EligibilityEvent | null {
  const ev = eventEnvelope(p, raw, path, EVENT_TYPES);
  if (ev === null) return null;
  const { type, params, at } = ev;
  switch (type) {
    case 'door': {
      p.keys(params, at, ['door', 'limit']);
      const door = params['door'];
      const okDoor = typeof door === 'string' && (DOORS as readonly string[]).includes(door);
      if (!okDoor) p.error(`${at}.door`, `unknown door ${show(door)} (known: ${list(DOORS)})`);
      const limit = limitFormula(p, table, params['limit'], `${at}.limit`, copts);
      return okDoor && limit ? { type: 'door', door: door as Door, limit } : null;
    }
    case 'reason': {
      p.keys(params, at, ['code']);
      const code = params['code'];
      if (typeof code !== 'string' || !codes.includes(code)) {
        p.error(`${at}.code`, `unknown reason code ${show(code)} (known: ${list(codes)}; declare new ones in facts.json "reasonCodes")`);
        return null;
      }
      return { type: 'reason', code };
    }
    case 'cap': {
      p.keys(params, at, ['max']);
      const max = amount(p, params['max'], `${at}.max`, { positive: true });
      return max === null ? null : { type: 'cap', max };
    }
  }
}

/** Every fact a rule names: in conditions, in limit formulas and their scales. */
function factsUsed(rules: readonly EligibilityRule[]): { fact: string; months: number | null }[] {
  const out: { fact: string; months: number | null }[] = [];
  for (const r of rules) {
    for (const l of leaves(r.conditions, '$')) out.push({ fact: l.cond.fact, months: l.cond.params?.months ?? null });
    if (r.event.type === 'door') {
      const f = r.event.limit;
      out.push({ fact: f.fact, months: f.months });
      if (f.scale) out.push({ fact: f.scale.fact, months: f.scale.months });
    }
  }
  return out;
}

/**
 * Checks the parsed JSON of eligibility.json and normalises it (amounts to fen).
 * `catalog`: the facts rules/facts.json declares, usable beside the built-in ones.
 */
export function parseEligibilityRules(json: unknown, file: string, catalog: FactsCatalog = NO_DECLARED_FACTS): ParseResult<EligibilityRules> {
  const p = new Problems(file);
  if (!isObject(json)) {
    p.error('$', `expected an object with "rules", got ${show(json)}`);
    return p;
  }
  p.keys(json, '$', ['$schema', 'description', 'rules']);
  const table: Record<string, FactTable[string]> = { ...FACTS };
  for (const [name, f] of catalog.facts) table[name] = f.spec;
  const codes = [...REASON_CODES, ...catalog.reasonCodes.filter((c) => !(REASON_CODES as readonly string[]).includes(c))];
  const copts: ConditionOptions = { unknownFactHint: '; a new fact is declared in facts.json first' };
  const rules = parseRuleList(p, json['rules'], table, (raw, path) => event(p, table, codes, raw, path, copts), copts);
  if (p.errors.length > 0) return p;
  if (!rules.some((r) => r.event.type === 'door')) p.warn('$.rules', 'no "door" rule: nobody can be eligible');
  if (!rules.some((r) => r.event.type === 'cap')) p.warn('$.rules', 'no "cap" rule: limits are not capped');
  const used = factsUsed(rules);
  const seen = new Set(used.flatMap((u) => (u.months === null ? [] : [u.months])));
  if (seen.size > 1) {
    p.warn('$.rules', `facts use different "months" (${[...seen].sort((a, b) => a - b).join(', ')}); change them together unless that is meant`);
  }
  const names = new Set(used.map((u) => u.fact));
  const declared = [...catalog.facts.values()].filter((f) => names.has(f.name));
  const value: EligibilityRules = { file, rules, flowMonths: seen.size === 0 ? 0 : Math.max(...seen), declared, table };
  return { value, errors: p.errors, warnings: p.warnings };
}

// ---------------------------------------------------------------------------
// Combination, shared by both evaluators.

/** The scale band for `value`: the first whose `below` is above it, else the last. */
export function bandFor(scale: LimitScale, value: number): LimitScale['bands'][number] {
  for (const b of scale.bands) if (b.below === null || value < b.below) return b;
  return scale.bands[scale.bands.length - 1]!;
}

/** One rounding only: the fact × ratio × band ratio, floored to the fen, then to roundTo. */
export function applyLimit(formula: LimitFormula, factValue: number, scaleValue: number | null = null): Fen {
  let n = formula.numerator;
  let d = formula.denominator;
  if (formula.scale !== null) {
    if (scaleValue === null) throw new Error(`limit of ${formula.fact}: the scale fact ${formula.scale.fact} has no value`);
    const b = bandFor(formula.scale, scaleValue);
    n *= b.numerator;
    d *= b.denominator;
  }
  return floorToUnit(mulRatioFloor(factValue as Fen, n, d), formula.roundTo);
}

/**
 * A customer without a value of a declared fact the rules use, whose declaration says
 * "missing: ineligible", is not evaluated: ineligible with those reason codes.
 */
export function missingDecision(customerId: CustomerId, reasons: readonly string[], facts: Record<string, unknown>): EligibilityDecision {
  return { customerId, eligible: false, door: null, limit: 0 as Fen, reasons: [...reasons], fired: [], facts };
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
