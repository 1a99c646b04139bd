// rules/facts.json: the facts the risk team declares on top of the built-in ones
// (a score from another team's feed, a refund rate, a tenure), each with its type,
// range, description, source and what a missing value means. Values arrive as feeds
// (`lendpay facts import`) and are kept by asOf; the eligibility rules use a declared
// fact like a built-in one. Versioned and activated with the other rule files.
import { Problems, type ParseResult } from '../rules/problems.ts';
import { isObject, list, show, typedValue, type FactSpec, type FactValue } from '../rules/kernel.ts';

export const DECLARED_TYPES = ['boolean', 'integer', 'decimal', 'amount', 'enum', 'date'] as const;
export type DeclaredType = (typeof DECLARED_TYPES)[number];

/** A missing value (no value as of the business date, or one that no longer fits the declaration). */
export type Missing =
  /** this value is used instead (engine units), and `raw` as the feed would say it */
  | { readonly default: FactValue; readonly raw: unknown }
  /** the customer is not eligible, with this reason code */
  | { readonly ineligible: string };

export interface DeclaredFact {
  readonly name: string;
  readonly type: DeclaredType;
  /** the kernel's view: kind, range in engine units, scale, values */
  readonly spec: FactSpec;
  readonly description: string;
  readonly source: string;
  readonly missing: Missing;
}

export interface FactsCatalog {
  readonly file: string;
  /** in file order */
  readonly facts: ReadonlyMap<string, DeclaredFact>;
  /** reason codes the declarations add: each `missing.ineligible` and `reasonCodes` */
  readonly reasonCodes: readonly string[];
}

export const NO_DECLARED_FACTS: FactsCatalog = { file: 'facts.json', facts: new Map(), reasonCodes: [] };

/** At most this many declared facts: every one may be loaded for every customer every night. */
export const MAX_DECLARED_FACTS = 50;
const NAME = /^[a-z][A-Za-z0-9]{0,63}$/;
export const REASON_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

const FIELDS: Readonly<Record<DeclaredType, readonly string[]>> = {
  boolean: [],
  integer: ['min', 'max'],
  decimal: ['scale', 'min', 'max'],
  amount: ['min', 'max'],
  enum: ['values'],
  date: ['min', 'max'],
};
const COMMON = ['type', 'description', 'source', 'missing'];

function bound(p: Problems, type: DeclaredType, name: string, raw: unknown, at: string, scale: number): number | null | undefined {
  if (raw === undefined) return undefined;
  const kind = type === 'amount' ? { kind: 'amount' as const } : type === 'decimal' ? { kind: 'decimal' as const, scale } : type === 'date' ? { kind: 'date' as const } : { kind: 'integer' as const };
  const r = typedValue(kind, name, raw);
  if ('error' in r) {
    p.error(at, r.error.replace(`fact "${name}" is`, 'expected'));
    return null;
  }
  return r.value as number;
}

function declaration(p: Problems, name: string, raw: unknown, at: string, reserved: ReadonlySet<string>): DeclaredFact | null {
  if (!NAME.test(name)) {
    p.error(at, 'a fact name starts with a lower-case letter, then letters and digits (camelCase), at most 64');
    return null;
  }
  if (reserved.has(name)) {
    p.error(at, `"${name}" is a built-in fact: choose another name`);
    return null;
  }
  if (!isObject(raw)) {
    p.error(at, `expected {"type": ..., "description": ..., "source": ..., "missing": ...}, got ${show(raw)}`);
    return null;
  }
  const type = raw['type'];
  if (typeof type !== 'string' || !(DECLARED_TYPES as readonly string[]).includes(type)) {
    p.error(`${at}.type`, `unknown type ${show(type)} (known: ${list(DECLARED_TYPES)})`);
    return null;
  }
  const t = type as DeclaredType;
  const before = p.errors.length;
  p.keys(raw, at, [...COMMON, ...FIELDS[t]]);
  for (const k of ['description', 'source'] as const) {
    if (typeof raw[k] !== 'string' || (raw[k] as string).trim() === '') p.error(`${at}.${k}`, `expected text: ${k === 'source' ? 'which team or feed sends the values' : 'what the value means'}`);
  }
  let spec: FactSpec;
  switch (t) {
    case 'boolean':
      spec = { kind: 'boolean' };
      break;
    case 'enum': {
      const values = raw['values'];
      if (!Array.isArray(values) || values.length === 0 || values.length > 100 || !values.every((v) => typeof v === 'string' && v !== '' && v.length <= 64)
        || new Set(values).size !== values.length) {
        p.error(`${at}.values`, `expected a list of 1 to 100 different non-empty strings, got ${show(values)}`);
        return null;
      }
      spec = { kind: 'enum', values: values as string[] };
      break;
    }
    default: {
      let scale = 0;
      if (t === 'decimal') {
        const s = raw['scale'];
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > 8) {
          p.error(`${at}.scale`, `expected the number of decimals, a whole number 1..8, got ${show(s)}`);
          return null;
        }
        scale = s;
      }
      const min = bound(p, t, name, raw['min'], `${at}.min`, scale);
      const max = bound(p, t, name, raw['max'], `${at}.max`, scale);
      if (min === null || max === null) return null;
      if ((t === 'integer' || t === 'decimal') && (min === undefined || max === undefined)) {
        p.error(at, `${t === 'integer' ? 'an' : 'a'} ${t} fact needs its range: "min" and "max"`);
        return null;
      }
      if (min !== undefined && max !== undefined && min > max) {
        p.error(`${at}.max`, `${show(raw['max'])} is below "min" ${show(raw['min'])}`);
        return null;
      }
      const kind = t === 'integer' ? 'integer' : t;
      spec = {
        kind, ...(t === 'decimal' ? { scale } : {}),
        ...(min !== undefined ? { min } : t === 'amount' ? { min: 0 } : {}),
        ...(max !== undefined ? { max } : {}),
      } as FactSpec;
      break;
    }
  }
  const m = raw['missing'];
  let missing: Missing | null = null;
  if (!isObject(m) || Object.keys(m).length !== 1 || !('default' in m || 'ineligible' in m)) {
    p.error(`${at}.missing`, `expected {"default": value} (use this value) or {"ineligible": "REASON_CODE"} (refuse the customer), got ${show(m)}`);
  } else if ('ineligible' in m) {
    const code = m['ineligible'];
    if (typeof code !== 'string' || !REASON_CODE.test(code)) p.error(`${at}.missing.ineligible`, `expected a reason code of upper-case letters, digits and "_", got ${show(code)}`);
    else missing = { ineligible: code };
  } else {
    const r = typedValue(spec, name, m['default']);
    if ('error' in r) p.error(`${at}.missing.default`, r.error);
    else missing = { default: r.value, raw: m['default'] };
  }
  if (p.errors.length > before || missing === null) return null;
  return { name, type: t, spec, description: raw['description'] as string, source: raw['source'] as string, missing };
}

/**
 * Checks the parsed JSON of facts.json. `reserved`: names a declared fact may not
 * take (the built-in facts and what a decision records beside them).
 */
export function parseFactsCatalog(json: unknown, file: string, reserved: readonly string[]): ParseResult<FactsCatalog> {
  const p = new Problems(file);
  if (!isObject(json)) {
    p.error('$', `expected an object with "facts", got ${show(json)}`);
    return p;
  }
  p.keys(json, '$', ['$schema', 'description', 'facts', 'reasonCodes']);
  const raws = json['facts'];
  const facts = new Map<string, DeclaredFact>();
  const codes: string[] = [];
  if (!isObject(raws)) {
    p.error('$.facts', `expected {"factName": {"type": ...}, ...}, got ${show(raws)}`);
    return p;
  }
  const names = Object.keys(raws);
  if (names.length > MAX_DECLARED_FACTS) {
    p.error('$.facts', `${names.length} facts declared; at most ${MAX_DECLARED_FACTS}`);
    return p;
  }
  const taken = new Set(reserved);
  for (const name of names) {
    const d = declaration(p, name, raws[name], `$.facts${/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`}`, taken);
    if (d === null) continue;
    facts.set(name, d);
    if ('ineligible' in d.missing && !codes.includes(d.missing.ineligible)) codes.push(d.missing.ineligible);
  }
  const rc = json['reasonCodes'];
  if (rc !== undefined) {
    if (!isObject(rc)) p.error('$.reasonCodes', `expected {"CODE": "what it means", ...}, got ${show(rc)}`);
    else {
      for (const [code, text] of Object.entries(rc)) {
        const at = `$.reasonCodes.${REASON_CODE.test(code) ? code : JSON.stringify(code)}`;
        if (!REASON_CODE.test(code)) p.error(at, 'a reason code is upper-case letters, digits and "_"');
        else if (typeof text !== 'string' || text.trim() === '') p.error(at, 'expected what the code tells the customer or the risk team');
        else if (!codes.includes(code)) codes.push(code);
      }
    }
  }
  if (p.errors.length > 0) return p;
  return { value: { file, facts, reasonCodes: codes }, errors: p.errors, warnings: p.warnings };
}

/** A feed's value for `fact`: in engine units, or why it breaks the declaration. */
export function feedValue(fact: DeclaredFact, raw: unknown): { value: FactValue } | { error: string } {
  if (raw === null || raw === undefined) return { error: `fact "${fact.name}" has no value (leave it out of the line instead)` };
  return typedValue(fact.spec, fact.name, raw);
}

/** The value a decision uses: the feed's value when it fits, else what `missing` says. */
export function resolveDeclared(fact: DeclaredFact, raw: unknown): { value: FactValue } | { reason: string } {
  if (raw !== undefined && raw !== null) {
    const r = typedValue(fact.spec, fact.name, raw);
    if ('value' in r) return r;
  }
  return 'ineligible' in fact.missing ? { reason: fact.missing.ineligible } : { value: fact.missing.default };
}

/** Only for messages: "0.0312" and 712 are fine, a number where a yuan string belongs is not. */
export function describeType(f: DeclaredFact): string {
  const s = f.spec;
  switch (f.type) {
    case 'boolean': return 'true or false';
    case 'enum': return `one of ${list((s.values ?? []).map((v) => `"${v}"`))}`;
    case 'integer': return `a whole number ${s.min}..${s.max}`;
    case 'decimal': return `a decimal string with at most ${s.scale} decimals`;
    case 'amount': return 'a yuan amount string';
    case 'date': return 'a date "YYYY-MM-DD"';
  }
}
