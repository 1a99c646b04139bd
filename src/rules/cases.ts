// The risk team's test cases (rules/tests/*.json) for each rule file: how a case is
// read (every malformed field named), how it runs through the compiled evaluator and
// json-rules-engine, and what it is compared on. A test file is for the rule file of
// its own name (tests/collection.json → collection.json), or says so with
// "rules": "collection.json"; any other file holds eligibility cases.
import { formatYuan, parseYuan, type Fen } from '../money.ts';
import { monthsBefore, parseBusinessDate, parseMonth, type BusinessDate, type Month } from '../dates.ts';
import { SEGMENTS, type CustomerId, type Segment } from '../customers/types.ts';
import type { DeclaredValue, EligibilityDecision, EligibilityInput } from '../eligibility/types.ts';
import { compileEligibility } from '../eligibility/evaluate.ts';
import { evaluateWithEngine } from '../eligibility/engine.ts';
import { buildContext, factReader, type FactContext } from '../eligibility/facts.ts';
import { feedValue } from '../eligibility/declared.ts';
import { compileCollectionRules } from '../collection/evaluate.ts';
import { evaluateCollectionWithEngine } from '../collection/engine.ts';
import { COLLECTION_FACTS, type CollectionFacts } from '../collection/facts.ts';
import type { CollectionDecision } from '../collection/rules.ts';
import { planCollection, type BorrowerAccount } from '../collection/plan.ts';
import { allocatePayment, type OutstandingInstallment } from '../collection/waterfall.ts';
import { compileEscalationRules } from '../escalation/evaluate.ts';
import { evaluateEscalationWithEngine } from '../escalation/engine.ts';
import { ESCALATION_FACTS, type EscalationFacts } from '../escalation/facts.ts';
import type { EscalationDecision } from '../escalation/rules.ts';
import { byName, isObject, typedValue, type FactReader, type FactTable, type Rule } from './kernel.ts';
import type { RuleSet } from './load.ts';

/** What one case gives and expects. `expect` holds only the fields the case cares about. */
export interface RuleCase<X> {
  readonly name: string;
  readonly expect: Readonly<Record<string, unknown>>;
  /** the facts the rules see; null when the rules are not evaluated at all (a missing declared fact) */
  readonly context: X | null;
  readonly input: unknown;
}

export interface CaseRun {
  /** every field the case may expect, from the reference (json-rules-engine) */
  readonly actual: Readonly<Record<string, unknown>>;
  /** the compiled evaluator's and the engine's fields where they differ, else null */
  readonly disagreement: { readonly compiled: unknown; readonly engine: unknown } | null;
}

/** One rule file's test cases. */
export interface CaseDomain<X = unknown> {
  /** the rule file the cases test */
  readonly file: string;
  /** the keys `expect` may hold */
  readonly expectKeys: readonly string[];
  rules(rs: RuleSet): readonly Rule<unknown>[] | null;
  table(rs: RuleSet): FactTable;
  reader(rs: RuleSet): FactReader<X>;
  /** throws an Error naming the field */
  parse(raw: unknown, at: string, rs: RuleSet): RuleCase<X>;
  run(c: RuleCase<X>, rs: RuleSet): Promise<CaseRun>;
}

function fail(msg: string): never {
  throw new Error(msg);
}

function obj(v: unknown, at: string, what: string): Record<string, unknown> {
  if (!isObject(v)) fail(`${at}: expected ${what}`);
  return v;
}

function known(o: Record<string, unknown>, at: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${at}.${k}: unknown field (known: ${keys.join(', ')})`);
}

/** A fact of `table` given in a case, in engine units. */
function fact(table: FactTable, name: string, raw: unknown, at: string): unknown {
  const r = typedValue(table[name]!, name, raw);
  if ('error' in r) fail(`${at}: ${r.error}`);
  return r.value;
}

const yuan = (v: unknown, at: string): string => formatYuan(parseYuan(v, at));

function expectOf(raw: Record<string, unknown>, at: string, keys: readonly string[], norm: (k: string, v: unknown, at: string) => unknown): Record<string, unknown> {
  const e = obj(raw['expect'], `${at}.expect`, `{${keys.map((k) => `"${k}"`).join(', ')}} (any of them)`);
  known(e, `${at}.expect`, keys);
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, norm(k, v, `${at}.expect.${k}`)]));
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

// ---------------------------------------------------------------------------
// eligibility.json: a customer on a date → eligible, door, limit, reasons

function eligibilityCase(raw: unknown, at: string, rs: RuleSet): RuleCase<FactContext> {
  const r = obj(raw, at, 'a test case object');
  const name = r['name'];
  if (typeof name !== 'string' || name === '') fail(`${at}.name: expected a name`);
  const date = parseBusinessDate(r['date'], `${at}.date`);
  const c = obj(r['customer'], `${at}.customer`, 'an object');
  const segment = c['segment'];
  if (typeof segment !== 'string' || !(SEGMENTS as readonly string[]).includes(segment)) {
    fail(`${at}.customer.segment: expected one of ${SEGMENTS.join(', ')}, got ${JSON.stringify(segment)}`);
  }
  const verified = c['realNameVerified'];
  if (typeof verified !== 'boolean') fail(`${at}.customer.realNameVerified: expected true or false`);
  let whitelist: EligibilityInput['whitelist'] = null;
  const wl = c['whitelist'] ?? null;
  if (wl !== null) {
    if (!isObject(wl)) fail(`${at}.customer.whitelist: expected null or {"limit", "expiresOn"}`);
    const exp = wl['expiresOn'] ?? null;
    whitelist = {
      limit: parseYuan(wl['limit'], `${at}.customer.whitelist.limit`),
      expiresOn: exp === null ? null : parseBusinessDate(exp, `${at}.customer.whitelist.expiresOn`),
    };
  }
  const flows = new Map<Month, Fen>();
  const mf = c['monthlyFlow'] ?? {};
  if (!isObject(mf)) fail(`${at}.customer.monthlyFlow: expected {"YYYY-MM": "yuan"}`);
  for (const [m, v] of Object.entries(mf)) {
    flows.set(parseMonth(m, `${at}.customer.monthlyFlow`), parseYuan(v, `${at}.customer.monthlyFlow["${m}"]`));
  }
  // Declared facts as a feed would give them; left out: no value.
  const declared = new Map<string, DeclaredValue>();
  const fs = c['facts'] ?? {};
  if (!isObject(fs)) fail(`${at}.customer.facts: expected {"declaredFact": value}`);
  for (const [k, v] of Object.entries(fs)) {
    const d = rs.facts?.facts.get(k);
    if (d === undefined) fail(`${at}.customer.facts.${k}: not a fact declared in facts.json (declared: ${[...(rs.facts?.facts.keys() ?? [])].join(', ') || 'none'})`);
    const fv = feedValue(d, v);
    if ('error' in fv) fail(`${at}.customer.facts.${k}: ${fv.error}`);
    declared.set(k, { value: v, asOf: date });
  }
  const expect = expectOf(r, at, ['eligible', 'door', 'limit', 'reasons'], (k, v, a) => {
    if (k === 'eligible' && typeof v !== 'boolean') fail(`${a}: expected true or false`);
    if (k === 'door' && v !== null && typeof v !== 'string') fail(`${a}: expected a door or null`);
    if (k === 'limit') return yuan(v, a);
    if (k === 'reasons' && (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))) fail(`${a}: expected a list of codes`);
    return v;
  });
  const id = typeof c['id'] === 'string' ? c['id'] : 'TEST';
  const input: EligibilityInput = {
    customerId: id as CustomerId, segment: segment as Segment, realNameVerified: verified, whitelist, monthlyFlow: flows,
    ...(declared.size > 0 ? { declared } : {}),
  };
  const ctx = buildContext(input, date, monthsBefore(date, rs.eligibility.flowMonths), rs.eligibility.declared);
  return { name, expect, context: ctx.missing.length > 0 ? null : ctx, input: { input, date } };
}

const eligibilitySummary = (d: EligibilityDecision) => ({ eligible: d.eligible, door: d.door, limit: formatYuan(d.limit), reasons: [...d.reasons] });

export const ELIGIBILITY_CASES: CaseDomain<FactContext> = {
  file: 'eligibility.json',
  expectKeys: ['eligible', 'door', 'limit', 'reasons'],
  rules: (rs) => rs.eligibility.rules,
  table: (rs) => rs.eligibility.table,
  reader: (rs) => factReader(rs.eligibility.declared),
  parse: eligibilityCase,
  async run(c, rs) {
    const { input, date } = c.input as { input: EligibilityInput; date: BusinessDate };
    const fast = compileEligibility(rs.eligibility).evaluate(input, date);
    const { decision } = await evaluateWithEngine(rs.eligibility, input, date);
    const a = { ...eligibilitySummary(fast), fired: fast.fired };
    const b = { ...eligibilitySummary(decision), fired: decision.fired };
    return { actual: eligibilitySummary(decision), disagreement: same(a, b) ? null : { compiled: a, engine: b } };
  },
};

// ---------------------------------------------------------------------------
// collection.json: a borrower, their accounts and what is due → plan, debits, held, waterfall

interface CollectionInput {
  facts: CollectionFacts;
  accounts: BorrowerAccount[];
  installments: OutstandingInstallment[] | null;
}

function collectionCase(raw: unknown, at: string): RuleCase<CollectionFacts> {
  const r = obj(raw, at, 'a test case object');
  known(r, at, ['name', 'description', 'borrower', 'due', 'expect']);
  const name = r['name'];
  if (typeof name !== 'string' || name === '') fail(`${at}.name: expected a name`);
  const b = obj(r['borrower'], `${at}.borrower`, '{"segment", "accounts", ...}');
  known(b, `${at}.borrower`, ['segment', 'kind', 'daysOverdue', 'holdOpen', 'accounts', 'installments']);
  const rawAccounts = b['accounts'];
  if (!Array.isArray(rawAccounts)) fail(`${at}.borrower.accounts: expected a list of {"id", "primary", "balance"}`);
  const accounts = rawAccounts.map((a: unknown, i) => {
    const aa = obj(a, `${at}.borrower.accounts[${i}]`, '{"id", "primary", "balance"}');
    known(aa, `${at}.borrower.accounts[${i}]`, ['id', 'primary', 'balance']);
    if (typeof aa['id'] !== 'string' || aa['id'] === '') fail(`${at}.borrower.accounts[${i}].id: expected an account id`);
    const primary = aa['primary'] ?? false;
    if (typeof primary !== 'boolean') fail(`${at}.borrower.accounts[${i}].primary: expected true or false`);
    return { id: aa['id'], primary, balance: parseYuan(aa['balance'], `${at}.borrower.accounts[${i}].balance`) };
  });
  let installments: OutstandingInstallment[] | null = null;
  if (b['installments'] !== undefined) {
    if (!Array.isArray(b['installments'])) fail(`${at}.borrower.installments: expected a list of {"dueDate", "principal", "interest"}`);
    installments = b['installments'].map((x: unknown, i) => {
      const ia = `${at}.borrower.installments[${i}]`;
      const o = obj(x, ia, '{"dueDate", "principal", "interest"}');
      known(o, ia, ['dueDate', 'principal', 'interest']);
      return { no: i + 1, dueDate: parseBusinessDate(o['dueDate'], `${ia}.dueDate`), principal: parseYuan(o['principal'], `${ia}.principal`), interest: parseYuan(o['interest'], `${ia}.interest`) };
    });
  }
  const due = r['due'] !== undefined
    ? parseYuan(r['due'], `${at}.due`)
    : installments !== null ? (installments.reduce((s, i) => s + i.principal + i.interest, 0) as Fen) : fail(`${at}.due: expected what is due, e.g. "120.00" (or the borrower's installments)`);
  const primary = accounts.find((a) => a.primary);
  // The derived facts, as the post-settlement batch computes them from the accounts.
  const facts: CollectionFacts = {
    segment: fact(COLLECTION_FACTS, 'segment', b['segment'], `${at}.borrower.segment`) as Segment,
    kind: fact(COLLECTION_FACTS, 'kind', b['kind'] ?? 'installment', `${at}.borrower.kind`) as CollectionFacts['kind'],
    amountDue: due,
    daysOverdue: fact(COLLECTION_FACTS, 'daysOverdue', b['daysOverdue'] ?? 0, `${at}.borrower.daysOverdue`) as number,
    accountCount: accounts.length,
    holdOpen: fact(COLLECTION_FACTS, 'holdOpen', b['holdOpen'] ?? false, `${at}.borrower.holdOpen`) as boolean,
    primaryBalance: (primary?.balance ?? 0) as Fen,
    totalBalance: accounts.reduce((s, a) => s + a.balance, 0) as Fen,
  };
  const expect = expectOf(r, at, COLLECTION_EXPECT, (k, v, a) => {
    if (['collected', 'held', 'left', 'remainder'].includes(k)) return yuan(v, a);
    if (k === 'debits') {
      if (!Array.isArray(v)) fail(`${a}: expected a list of {"step", "account", "amount"}`);
      return v.map((d: unknown, i) => {
        const o = obj(d, `${a}[${i}]`, '{"step", "account", "amount"}');
        known(o, `${a}[${i}]`, ['step', 'account', 'amount']);
        return { step: o['step'], account: o['account'], amount: yuan(o['amount'], `${a}[${i}].amount`) };
      });
    }
    if (k === 'allocation') {
      if (installments === null) fail(`${a}: give the borrower's "installments" to expect an allocation`);
      if (!Array.isArray(v)) fail(`${a}: expected a list of {"installment", "interest", "principal"}`);
      return v.map((d: unknown, i) => {
        const o = obj(d, `${a}[${i}]`, '{"installment", "interest", "principal"}');
        known(o, `${a}[${i}]`, ['installment', 'interest', 'principal']);
        return { installment: o['installment'], interest: yuan(o['interest'], `${a}[${i}].interest`), principal: yuan(o['principal'], `${a}[${i}].principal`) };
      });
    }
    if ((k === 'steps' || k === 'fired') && (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))) fail(`${a}: expected a list of names`);
    if (k === 'block' && typeof v !== 'boolean') fail(`${a}: expected true or false`);
    return v;
  });
  return { name, expect, context: facts, input: { facts, accounts, installments } satisfies CollectionInput };
}

const COLLECTION_EXPECT = ['steps', 'step', 'debits', 'collected', 'held', 'left', 'block', 'waterfall', 'allocation', 'remainder', 'fired'];

function collectionOutcome(d: CollectionDecision, x: CollectionInput): Record<string, unknown> {
  const plan = planCollection({ due: x.facts.amountDue, accounts: x.accounts, steps: d.steps });
  const out: Record<string, unknown> = {
    steps: d.steps.map((s) => s.step), step: plan.step,
    debits: plan.debits.map((b) => ({ step: b.step, account: b.accountId, amount: formatYuan(b.amount) })),
    collected: formatYuan(plan.collected), held: formatYuan(plan.held), left: formatYuan(plan.left), block: plan.block,
    waterfall: d.waterfall, fired: [...d.fired],
  };
  if (x.installments !== null) {
    const w = allocatePayment(x.installments, plan.collected, d.waterfall);
    out['allocation'] = w.allocations.map((a) => ({ installment: a.installmentNo, interest: formatYuan(a.interest), principal: formatYuan(a.principal) }));
    out['remainder'] = formatYuan(w.remainder);
  }
  return out;
}

export const COLLECTION_CASES: CaseDomain<CollectionFacts> = {
  file: 'collection.json',
  expectKeys: COLLECTION_EXPECT,
  rules: (rs) => rs.collection?.rules ?? null,
  table: () => COLLECTION_FACTS,
  reader: () => byName as unknown as FactReader<CollectionFacts>,
  parse: (raw, at) => collectionCase(raw, at),
  async run(c, rs) {
    const x = c.input as CollectionInput;
    const a = collectionOutcome(compileCollectionRules(rs.collection!)(x.facts), x);
    const b = collectionOutcome(await evaluateCollectionWithEngine(rs.collection!, x.facts), x);
    return { actual: b, disagreement: same(a, b) ? null : { compiled: a, engine: b } };
  },
};

// ---------------------------------------------------------------------------
// escalation.json: a failed order, its error and its history → the next step

/** The kind of order each purpose uses (src/disbursement, src/collection): a case may say otherwise. */
const KIND_OF_PURPOSE: Readonly<Record<string, string>> = {
  'disburse.fund': 'collection', 'disburse.topup': 'topup', 'disburse.payout': 'payout',
  'collect.batch': 'debit', 'collect.hold': 'debit', 'collect.recovery': 'debit', 'repay.card': 'collection',
};
const ESCALATION_EXPECT = ['step', 'automatic', 'backoffSeconds', 'rule', 'reason', 'fired'];

function escalationCase(raw: unknown, at: string, rs: RuleSet): RuleCase<EscalationFacts> {
  const rules = rs.escalation!;
  const r = obj(raw, at, 'a test case object');
  known(r, at, ['name', 'description', 'order', 'errorCode', 'history', 'businessHours', 'expect']);
  const name = r['name'];
  if (typeof name !== 'string' || name === '') fail(`${at}.name: expected a name`);
  const o = obj(r['order'], `${at}.order`, '{"purpose", "channel", "amount", ...}');
  known(o, `${at}.order`, ['purpose', 'orderKind', 'channel', 'amount', 'minutesSinceCreated', 'hasAlternative']);
  const h = obj(r['history'] ?? {}, `${at}.history`, '{"channelResends", "systemResends", "reissues"}');
  known(h, `${at}.history`, ['channelResends', 'systemResends', 'reissues']);
  const purpose = fact(ESCALATION_FACTS, 'purpose', o['purpose'], `${at}.order.purpose`) as EscalationFacts['purpose'];
  const code = r['errorCode'];
  if (typeof code !== 'string' || code === '') fail(`${at}.errorCode: expected the platform's error code, e.g. "CHANNEL_UNAVAILABLE"`);
  const spec = rules.errorCodes[code];
  const count = (k: string, v: unknown, a: string) => fact(ESCALATION_FACTS, k, v ?? 0, a) as number;
  // Derived as the escalation service derives them: family from the purpose, error class from the file's table.
  const facts: EscalationFacts = {
    orderKind: fact(ESCALATION_FACTS, 'orderKind', o['orderKind'] ?? KIND_OF_PURPOSE[purpose], `${at}.order.orderKind`) as EscalationFacts['orderKind'],
    family: purpose.startsWith('disburse.') ? 'disbursement' : 'collection',
    purpose,
    errorCode: code,
    errorKnown: spec !== undefined,
    errorClass: spec?.class ?? 'unknown',
    channel: fact(ESCALATION_FACTS, 'channel', o['channel'], `${at}.order.channel`) as EscalationFacts['channel'],
    channelResends: count('channelResends', h['channelResends'], `${at}.history.channelResends`),
    systemResends: count('systemResends', h['systemResends'], `${at}.history.systemResends`),
    reissues: count('reissues', h['reissues'], `${at}.history.reissues`),
    minutesSinceCreated: count('minutesSinceCreated', o['minutesSinceCreated'], `${at}.order.minutesSinceCreated`),
    amount: fact(ESCALATION_FACTS, 'amount', o['amount'], `${at}.order.amount`) as Fen,
    businessHours: fact(ESCALATION_FACTS, 'businessHours', r['businessHours'] ?? true, `${at}.businessHours`) as boolean,
    hasAlternative: fact(ESCALATION_FACTS, 'hasAlternative', o['hasAlternative'] ?? false, `${at}.order.hasAlternative`) as boolean,
  };
  const expect = expectOf(r, at, ESCALATION_EXPECT, (k, v, a) => {
    if (k === 'automatic' && typeof v !== 'boolean') fail(`${a}: expected true or false`);
    if (k === 'backoffSeconds' && (typeof v !== 'number' || !Number.isInteger(v))) fail(`${a}: expected whole seconds`);
    if (k === 'rule' && v !== null && typeof v !== 'string') fail(`${a}: expected a rule name or null (no rule fired)`);
    if (k === 'fired' && (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))) fail(`${a}: expected a list of rule names`);
    return v;
  });
  return { name, expect, context: facts, input: facts };
}

const escalationOutcome = (d: EscalationDecision) => ({ step: d.step, automatic: d.automatic, backoffSeconds: d.backoffSeconds, rule: d.rule, reason: d.reason, fired: [...d.fired] });

export const ESCALATION_CASES: CaseDomain<EscalationFacts> = {
  file: 'escalation.json',
  expectKeys: ESCALATION_EXPECT,
  rules: (rs) => rs.escalation?.rules ?? null,
  table: () => ESCALATION_FACTS,
  reader: () => byName as unknown as FactReader<EscalationFacts>,
  parse: escalationCase,
  async run(c, rs) {
    const facts = c.input as EscalationFacts;
    const a = escalationOutcome(compileEscalationRules(rs.escalation!)(facts));
    const b = escalationOutcome(await evaluateEscalationWithEngine(rs.escalation!, facts));
    return { actual: b, disagreement: same(a, b) ? null : { compiled: a, engine: b } };
  },
};

// Each domain's context type is its own; the list holds them side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCaseDomain = CaseDomain<any>;
export const CASE_DOMAINS: readonly AnyCaseDomain[] = [ELIGIBILITY_CASES, COLLECTION_CASES, ESCALATION_CASES];

/** The domain a test file's cases are for: by its "rules" field, else its own name, else eligibility. */
export function domainOf(testFile: string, json: unknown): AnyCaseDomain | string {
  const named = isObject(json) ? json['rules'] : undefined;
  if (named !== undefined) {
    const d = CASE_DOMAINS.find((x) => x.file === named);
    return d ?? `"rules": ${JSON.stringify(named)} names no rule file with test cases (known: ${CASE_DOMAINS.map((x) => x.file).join(', ')})`;
  }
  return CASE_DOMAINS.find((x) => x.file === testFile) ?? CASE_DOMAINS[0]!;
}

