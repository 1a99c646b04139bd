// One line of a declared-facts feed (`lendpay facts import`) → the customer, the date
// the values are as of and each value checked against its declaration in
// rules/facts.json, or the first problem as `line N: <field>: <reason>`. Pure; the
// caller streams the file and checks the customers exist.
import { LendpayError } from '../errors.ts';
import { parseBusinessDate, type BusinessDate } from '../dates.ts';
import { isObject, list } from '../rules/kernel.ts';
import { feedValue, type FactsCatalog } from './declared.ts';

export interface FeedLine {
  readonly customerId: string;
  readonly asOf: BusinessDate;
  /** fact name and the value as the feed gave it (checked) */
  readonly values: readonly (readonly [string, unknown])[];
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

// A feed repeats one or a few dates on every line; parseBusinessDate goes through luxon.
const checkedDates = new Map<string, BusinessDate>();
function checkedDate(v: unknown): BusinessDate {
  const hit = typeof v === 'string' ? checkedDates.get(v) : undefined;
  if (hit !== undefined) return hit;
  const d = parseBusinessDate(v, 'asOf');
  if (checkedDates.size > 10_000) checkedDates.clear();
  checkedDates.set(d, d);
  return d;
}
const KEYS = ['customerId', 'asOf', 'facts'];

function bad(lineNo: number, field: string, reason: string): never {
  throw new LendpayError('IMPORT_INVALID', `line ${lineNo}: ${field === '' ? '' : `${field}: `}${reason}`);
}

export function parseFeedLine(text: string, lineNo: number, catalog: FactsCatalog): FeedLine {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec(e instanceof Error ? e.message : '')?.[1];
    bad(lineNo, '', `malformed JSON${at === undefined ? '' : ` at column ${Number(at) + 1}`}`);
  }
  if (!isObject(v)) bad(lineNo, '', 'expected one JSON object per line: {"customerId", "asOf", "facts"}');
  for (const k of Object.keys(v)) if (!KEYS.includes(k)) bad(lineNo, k, `unknown field (known: ${list(KEYS)})`);
  const id = v['customerId'];
  if (typeof id !== 'string' || !ID.test(id)) bad(lineNo, 'customerId', `expected a customer id (letters, digits, "_" or "-"), got ${JSON.stringify(id)}`);
  let asOf: BusinessDate;
  try {
    asOf = checkedDate(v['asOf']);
  } catch (e) {
    bad(lineNo, '', (e as Error).message);
  }
  const facts = v['facts'];
  if (!isObject(facts) || Object.keys(facts).length === 0) bad(lineNo, 'facts', 'expected {"declaredFact": value, ...} with at least one fact');
  const values: (readonly [string, unknown])[] = [];
  for (const [name, raw] of Object.entries(facts)) {
    const field = /^[A-Za-z_$][\w$]*$/.test(name) ? `facts.${name}` : `facts[${JSON.stringify(name).slice(0, 80)}]`;
    const d = catalog.facts.get(name);
    if (d === undefined) bad(lineNo, field, `unknown fact (declared in ${catalog.file}: ${list([...catalog.facts.keys()]) || 'none'})`);
    const r = feedValue(d, raw);
    if ('error' in r) bad(lineNo, field, `${r.error} (declared in ${catalog.file})`);
    values.push([name, raw]);
  }
  return { customerId: id, asOf: asOf!, values };
}
