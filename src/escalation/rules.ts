// The escalation rule file (rules/escalation.json, json-rules-engine format): the
// query ladder for unknown outcomes, the error-code table, and rules whose event names
// the next step for a known failure. Normalised type, validator (every message
// `file: $.json.path: reason`) and the one place fired rules become a decision.
import { ERROR_CLASSES, ESCALATION_FACTS, type ErrorClass, type EscalationFactName } from './facts.ts';
import { Problems, type ParseResult } from '../rules/problems.ts';
import { always, eventEnvelope, isObject, list, parseRuleList, show, type Condition as KernelCondition, type ConditionNode as KernelNode, type FactTable, type Rule } from '../rules/kernel.ts';

export { OPERATORS, type Operator } from '../rules/kernel.ts';

export const STEPS = ['channel_resend', 'system_resend', 'void_and_reissue', 'manual_review', 'give_up'] as const;
export type StepName = (typeof STEPS)[number];
/** the business's three levels; manual_review and give_up are not levels */
export const LEVEL_OF: Readonly<Record<StepName, number | null>> = { channel_resend: 1, system_resend: 2, void_and_reissue: 3, manual_review: null, give_up: null };

export type Condition = KernelCondition<EscalationFactName>;
export type ConditionNode = KernelNode<EscalationFactName>;

export interface StepEvent {
  readonly step: StepName;
  /** channel_resend only: carried out without an operator's confirmation */
  readonly automatic: boolean;
  /** system_resend: wait this long after the failure before the new attempt */
  readonly backoffSeconds: number;
  readonly reason: string;
}

export type EscalationRule = Rule<StepEvent>;

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
const CODE = /^[A-Z][A-Z0-9_]*$/;

function stepEvent(p: Problems, raw: Json, path: string): StepEvent | null {
  const ev = eventEnvelope(p, raw, path, ['escalate']);
  if (ev === null) return null;
  const { params, at } = ev;
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
  // A rule may only name a code of the table; the table is the file's own.
  const table: FactTable = { ...ESCALATION_FACTS, errorCode: { kind: 'code', values: Object.keys(codes), valuesFrom: '$.errorCodes' } };
  const rules = parseRuleList(p, json['rules'], table, (raw, path) => stepEvent(p, raw, path), { noParams: 'escalation facts take no params' });
  if (p.errors.length > 0 || lad === null) return p;
  if (!rules.some(always)) {
    p.warn('$.rules', 'no rule with {"all": []}: a failure no rule matches goes to manual review');
  }
  return { value: { file, ladder: lad, businessHours: hours, errorCodes: codes, rules }, errors: p.errors, warnings: p.warnings };
}

/** The first rule in evaluation order decides; none: manual review. */
export function combineEscalation(fired: readonly EscalationRule[]): EscalationDecision {
  const first = fired[0];
  return { ...(first ? first.event : NO_RULE_DECISION), rule: first?.name ?? null, fired: fired.map((r) => r.name) };
}
