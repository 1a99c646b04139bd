// Loads and validates the risk team's rule directory. Each known file kind has a
// validator (shape by JSON Schema, meaning by code); a rule set is refused as a
// whole on any problem, with `file: JSON path: reason` per problem.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { LendpayError } from '../errors.ts';
import { parseEligibilityRules, type EligibilityRules, type ParseResult } from '../eligibility/rules.ts';
import { parseFactsCatalog, type FactsCatalog } from '../eligibility/declared.ts';
import { RESERVED_FACT_NAMES } from '../eligibility/facts.ts';
import { parseCalendarRules, type Calendar } from '../calendar/calendar.ts';
import { parseAlertRules, type AlertRules } from '../alerts/rules.ts';
import { parsePricingRules, type PricingRules } from '../loans/pricing.ts';
import { parseCollectionRules, type CollectionRules } from '../collection/rules.ts';
import { parseNotificationTemplates, type NotificationTemplates } from '../notifications/templates.ts';
import { parseEscalationRules, type EscalationRules } from '../escalation/rules.ts';
import { parseProductRules, type ProductRules } from '../loans/products.ts';
import { parseAccountMap, type AccountMap } from '../ledger/accounts.ts';

export interface RuleSet {
  /** sha256 hex of the canonical JSON of every rule file, sorted by file name */
  readonly hash: string;
  readonly dir: string;
  readonly eligibility: EligibilityRules;
  /** the facts the risk team declares (rules/facts.json); null when the directory has none */
  readonly facts: FactsCatalog | null;
  /** holidays and make-up working days; null when the directory has no calendar.json */
  readonly calendar: Calendar | null;
  /** interest rate and default term; null when the directory has no pricing.json */
  readonly pricing: PricingRules | null;
  /** the collection plan and waterfall rules; null when the directory has no collection.json */
  readonly collection: CollectionRules | null;
  /** customer message templates; null when the directory has no notifications.json */
  readonly notifications: NotificationTemplates | null;
  /** what raises an alert */
  readonly alerts: AlertRules | null;
  /** the query ladder, error-code table and escalation steps; null when the directory has no escalation.json */
  readonly escalation: EscalationRules | null;
  /** the loan products on sale; null when the directory has no products.json */
  readonly products: ProductRules | null;
  /** finance's subject for each ledger account; null when the directory has no accounts.json */
  readonly accounts: AccountMap | null;
  /** the parsed rule files that make up the hash, by file name */
  readonly files: Readonly<Record<string, unknown>>;
}

/**
 * One kind of rule file. Adding calendar.json or collection.json later means one
 * more entry here (and a field on RuleSet): the loader, hashing and messages stay.
 */
interface RuleFileKind<T> {
  readonly file: string;
  /** the JSON Schema next to the rule file in the shipped rules/ directory */
  readonly schema: string;
  readonly required: boolean;
  /** `parsed`: the kinds listed before this one that parsed (eligibility reads facts) */
  parse(json: unknown, label: string, parsed: Partial<Record<string, unknown>>): ParseResult<T>;
}

const KINDS = {
  // Before eligibility: its conditions may use the facts declared here.
  facts: { file: 'facts.json', schema: 'facts.schema.json', required: false, parse: (json, label) => parseFactsCatalog(json, label, RESERVED_FACT_NAMES) },
  eligibility: {
    file: 'eligibility.json', schema: 'eligibility.schema.json', required: true,
    parse: (json, label, parsed) => parseEligibilityRules(json, label, parsed['facts'] as FactsCatalog | undefined),
  },
  // Not required so that a directory of eligibility rules alone still validates;
  // whatever schedules payouts asks for it and refuses to run without one.
  calendar: { file: 'calendar.json', schema: 'calendar.schema.json', required: false, parse: parseCalendarRules },
  // Not required for the same reason: whatever lends, collects or notifies refuses
  // to run without its file.
  pricing: { file: 'pricing.json', schema: 'pricing.schema.json', required: false, parse: parsePricingRules },
  collection: { file: 'collection.json', schema: 'collection.schema.json', required: false, parse: parseCollectionRules },
  notifications: { file: 'notifications.json', schema: 'notifications.schema.json', required: false, parse: parseNotificationTemplates },
  alerts: { file: 'alerts.json', schema: 'alerts.schema.json', required: false, parse: parseAlertRules },
  escalation: { file: 'escalation.json', schema: 'escalation.schema.json', required: false, parse: parseEscalationRules },
  products: { file: 'products.json', schema: 'products.schema.json', required: false, parse: parseProductRules },
  accounts: { file: 'accounts.json', schema: 'accounts.schema.json', required: false, parse: parseAccountMap },
} as const satisfies Record<string, RuleFileKind<unknown>>;
type KindName = keyof typeof KINDS;
/** Every rule file name lendpay knows (what a version's content may hold). */
export const RULE_FILE_NAMES: readonly string[] = Object.values(KINDS).map((k) => k.file);

// Schemas are developer-owned and ship with the code, so they are read from the
// repository's rules/ directory, not from the directory being validated.
const SHIPPED_RULES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../rules');
const validators = new Map<string, ValidateFunction>();
async function schemaValidator(schemaFile: string): Promise<ValidateFunction> {
  let v = validators.get(schemaFile);
  if (v === undefined) {
    const schema = JSON.parse(await readFile(path.join(SHIPPED_RULES_DIR, schemaFile), 'utf8')) as object;
    v = new Ajv({ allErrors: true, strict: false }).compile(schema);
    validators.set(schemaFile, v);
  }
  return v;
}

/** Keys sorted at every level, no whitespace: the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function label(full: string): string {
  const rel = path.relative(process.cwd(), full);
  return rel.startsWith('..') || path.isAbsolute(rel) ? full : rel;
}

/** JSON.parse with the line and column of a syntax error. */
export function parseJsonText(text: string, file: string): { json?: unknown; error?: string } {
  try {
    return { json: JSON.parse(text) as unknown };
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      where = `line ${line}, column ${column}: `;
    } else if (/Unexpected end of JSON input/.test(msg)) {
      const lines = text.split('\n');
      where = `line ${lines.length}, column ${(lines.at(-1) ?? '').length + 1}: `;
    }
    return { error: `${file}: ${where}malformed JSON: ${msg.replace(/\s*\(line \d+ column \d+\)/, '')}` };
  }
}

/**
 * Rule files are read by recursive code (the parsers, Ajv, canonicalJson): a file
 * nested deeper than any rule needs is refused here, before it can overflow the stack.
 */
export const MAX_RULE_DEPTH = 64;

/** The JSON path of the first node deeper than `max`, or null. Iterative: safe at any depth. */
export function tooDeep(value: unknown, max = MAX_RULE_DEPTH): string | null {
  const stack: [unknown, string, number][] = [[value, '$', 0]];
  while (stack.length > 0) {
    const [v, at, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return at;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, `${at}[${i}]`, depth + 1]));
    else for (const [k, x] of Object.entries(v)) stack.push([x, /^[A-Za-z_$][\w$]*$/.test(k) ? `${at}.${k}` : `${at}[${JSON.stringify(k)}]`, depth + 1]);
  }
  return null;
}

function jsonPath(pointer: string): string {
  let out = '$';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : /^[A-Za-z_$][\w$]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Problems listed per file; past that, one line says how many more there are. */
export const MAX_PROBLEMS_PER_FILE = 100;

function pushCapped(into: string[], lines: readonly string[], file: string): void {
  const n = Math.min(lines.length, MAX_PROBLEMS_PER_FILE);
  for (let i = 0; i < n; i++) into.push(lines[i]!);
  if (lines.length > n) into.push(`${file}: $: ${lines.length - n} more problems not listed`);
}

interface Checked {
  errors: string[];
  warnings: string[];
  hash?: string;
  values: Partial<Record<KindName, unknown>>;
  files: Record<string, unknown>;
}

async function check(dir: string): Promise<Checked> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const values: Partial<Record<KindName, unknown>> = {};
  const files: Record<string, unknown> = {};
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name).sort();
  } catch (e) {
    return { errors: [`${label(dir)}: cannot read the rules directory: ${(e as Error).message}`], warnings, values, files };
  }
  const known = new Map<string, KindName>(Object.entries(KINDS).map(([k, v]) => [v.file, k as KindName]));
  for (const name of names) {
    if (!name.endsWith('.json') || name.endsWith('.schema.json')) continue;
    if (!known.has(name)) warnings.push(`${label(path.join(dir, name))}: ignored: no validator for this file yet`);
  }
  for (const [kindName, kind] of Object.entries(KINDS) as [KindName, RuleFileKind<unknown>][]) {
    const full = path.join(dir, kind.file);
    const lbl = label(full);
    if (!names.includes(kind.file)) {
      if (kind.required) errors.push(`${lbl}: missing: this rule file is required`);
      continue;
    }
    const parsed = parseJsonText(await readFile(full, 'utf8'), lbl);
    if (parsed.error !== undefined) {
      errors.push(parsed.error);
      continue;
    }
    const deep = tooDeep(parsed.json);
    if (deep !== null) {
      errors.push(`${lbl}: ${deep.length > 200 ? `${deep.slice(0, 200)}…` : deep}: nested more than ${MAX_RULE_DEPTH} levels deep`);
      continue;
    }
    const res = kind.parse(parsed.json, lbl, values);
    // not push(...list): a file with 300,000 bad items would overflow the argument stack
    pushCapped(warnings, res.warnings, lbl);
    if (res.errors.length > 0) {
      pushCapped(errors, res.errors, lbl);
      continue;
    }
    // The code checks everything the schema does, with better messages; the schema
    // still runs so that it cannot drift from what the loader accepts.
    const validate = await schemaValidator(kind.schema);
    if (!validate(parsed.json)) {
      pushCapped(errors, (validate.errors ?? []).map((err) => `${lbl}: ${jsonPath(err.instancePath)}: ${err.message ?? 'invalid'} (schema ${kind.schema})`), lbl);
      continue;
    }
    values[kindName] = res.value;
    files[kind.file] = parsed.json;
  }
  if (errors.length > 0) return { errors, warnings, values, files };
  warnings.push(...pricingAgainstDefaultProduct(values.pricing as PricingRules | undefined, values.products as ProductRules | undefined));
  const sorted = Object.keys(files).sort();
  const hash = createHash('sha256')
    .update(canonicalJson(Object.fromEntries(sorted.map((f) => [f, files[f]]))))
    .digest('hex');
  return { errors, warnings, hash, values, files };
}

/**
 * pricing.json prices what applyForLoan generates when it is given no schedule;
 * requests through the API and the CLI get the default product's. The two should
 * say the same, or a loan's price would depend on the door it came through.
 */
function pricingAgainstDefaultProduct(pricing: PricingRules | undefined, products: ProductRules | undefined): string[] {
  if (!pricing || !products) return [];
  const d = products.defaultProduct;
  if (d.method === 'daily_equal_principal' && d.dailyRatePpm === pricing.dailyRatePpm && d.term.default === pricing.defaultTermDays) return [];
  return [`${products.file}: $.defaultProduct: "${d.id}" (${d.method}, ${d.term.default} ${d.termUnit}) differs from ${pricing.file} (daily_equal_principal, ${pricing.defaultTermDays} days at ${pricing.dailyRatePpm} ppm): a loan's price would depend on whether it came with a product`];
}

/** For `lendpay rules validate [dir]`: every problem, never throws for bad rules. */
export async function validateRules(dir: string): Promise<{ errors: string[]; warnings: string[]; hash?: string }> {
  const res = await check(path.resolve(dir));
  return res.hash === undefined ? { errors: res.errors, warnings: res.warnings } : { errors: res.errors, warnings: res.warnings, hash: res.hash };
}

/** The rule set in `dir`, or LendpayError('RULES_INVALID') with one detail line per problem. */
export async function loadRuleSet(dir: string): Promise<RuleSet> {
  const abs = path.resolve(dir);
  const res = await check(abs);
  if (res.errors.length > 0 || res.hash === undefined) {
    const n = res.errors.length;
    throw new LendpayError('RULES_INVALID', `${n} problem${n === 1 ? '' : 's'} in rules`, { details: res.errors });
  }
  return {
    hash: res.hash,
    dir: abs,
    eligibility: res.values.eligibility as EligibilityRules,
    facts: (res.values.facts as FactsCatalog | undefined) ?? null,
    calendar: (res.values.calendar as Calendar | undefined) ?? null,
    pricing: (res.values.pricing as PricingRules | undefined) ?? null,
    collection: (res.values.collection as CollectionRules | undefined) ?? null,
    notifications: (res.values.notifications as NotificationTemplates | undefined) ?? null,
    alerts: (res.values.alerts as AlertRules | undefined) ?? null,
    escalation: (res.values.escalation as EscalationRules | undefined) ?? null,
    products: (res.values.products as ProductRules | undefined) ?? null,
    accounts: (res.values.accounts as AccountMap | undefined) ?? null,
    files: res.files,
  };
}

/**
 * Only the facts declared in `dir`/facts.json (what a feed import checks its values
 * against), so that a rule file being edited does not stop a feed: null when there is no facts.json.
 */
export async function loadFactsCatalog(dir: string): Promise<FactsCatalog | null> {
  const full = path.join(path.resolve(dir), KINDS.facts.file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch {
    return null;
  }
  const parsed = parseJsonText(text, label(full));
  const res = parsed.error === undefined ? KINDS.facts.parse(parsed.json, label(full)) : { errors: [parsed.error] };
  if (res.errors.length > 0 || !('value' in res) || res.value === undefined) {
    throw new LendpayError('RULES_INVALID', `${label(full)} is not valid`, { details: res.errors.slice(0, MAX_PROBLEMS_PER_FILE) });
  }
  return res.value;
}
