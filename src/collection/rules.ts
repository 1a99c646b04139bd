// The collection rule file (rules/collection.json, json-rules-engine format): its
// events (plan, waterfall), the validator of those (conditions and the rule list are
// the rules kernel's) and the one place fired rules are combined into a plan, shared
// by both evaluators.
import { COLLECTION_FACTS, type CollectionFactName } from './facts.ts';
import { Problems, type ParseResult } from '../rules/problems.ts';
import { always, eventEnvelope, isObject, list, parseRuleList, show, type Condition as KernelCondition, type ConditionNode as KernelNode, type Rule } from '../rules/kernel.ts';

export { OPERATORS, type Operator } from '../rules/kernel.ts';

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

export type Condition = KernelCondition<CollectionFactName>;
export type ConditionNode = KernelNode<CollectionFactName>;

export type CollectionEvent =
  | { readonly type: 'plan'; readonly steps: readonly Step[] }
  | { readonly type: 'waterfall'; readonly order: WaterfallOrder };

export type CollectionRule = Rule<CollectionEvent>;

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
  const ev = eventEnvelope(p, raw, path, EVENT_TYPES);
  if (ev === null) return null;
  const { type, params, at } = ev;
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
  const rules = parseRuleList(p, json['rules'], COLLECTION_FACTS, (raw, path) => event(p, raw, path), { noParams: 'collection facts take no params' });
  if (p.errors.length > 0) return p;
  if (!rules.some((r) => r.event.type === 'plan' && always(r))) {
    p.warn('$.rules', 'no "plan" rule with {"all": []}: a due no plan rule matches is not collected at all');
  }
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
