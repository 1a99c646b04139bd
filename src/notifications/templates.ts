// rules/notifications.json: the customer messages, one template per kind, with
// {placeholders} filled from the event. Unknown kinds and placeholders are refused
// at load with `file: $.json.path: reason`, never discovered while sending.
import type { ParseResult } from '../eligibility/rules.ts';

export const NOTIFICATION_KINDS = ['debit', 'hold', 'hold_cleared', 'card_repayment'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
/** kinds the file must have: lendpay writes them on every successful debit / new hold */
export const REQUIRED_KINDS: readonly NotificationKind[] = ['debit', 'hold'];

/** Every placeholder any template may use; all are derived from NotificationParams. */
export const PLACEHOLDERS = ['last4', 'year', 'month', 'day', 'MM', 'DD', 'hh', 'mm', 'amount', 'loanId', 'bank'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** A template split once at load: literal text and placeholders, alternating. */
export type TemplatePart = { readonly text: string } | { readonly placeholder: Placeholder };

export interface NotificationTemplates {
  readonly file: string;
  readonly templates: Readonly<Partial<Record<NotificationKind, readonly TemplatePart[]>>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));

/** Splits "a{x}b" into parts; returns the reasons it cannot (unknown or malformed placeholders). */
export function compileTemplate(text: string): { parts: TemplatePart[]; problems: string[] } {
  const parts: TemplatePart[] = [];
  const problems: string[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    const name = m[1]!;
    if ((PLACEHOLDERS as readonly string[]).includes(name)) parts.push({ placeholder: name as Placeholder });
    else problems.push(`unknown placeholder "{${name}}" (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  for (const part of parts) {
    if ('text' in part && /[{}]/.test(part.text)) problems.push(`unbalanced "{" or "}" in ${show(part.text)}`);
  }
  return { parts, problems };
}

export function parseNotificationTemplates(json: unknown, file: string): ParseResult<NotificationTemplates> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const err = (path: string, reason: string): void => void errors.push(`${file}: ${path}: ${reason}`);
  if (!isObject(json)) {
    err('$', `expected an object with "templates", got ${show(json)}`);
    return { errors, warnings };
  }
  for (const k of Object.keys(json)) if (!['$schema', 'description', 'templates'].includes(k)) err(`$.${k}`, `unknown property "${k}" (allowed: $schema, description, templates)`);
  const raw = json['templates'];
  if (!isObject(raw)) {
    err('$.templates', `expected {"debit": {"text": "..."}, ...}, got ${show(raw)}`);
    return { errors, warnings };
  }
  const templates: Partial<Record<NotificationKind, readonly TemplatePart[]>> = {};
  for (const [kind, t] of Object.entries(raw)) {
    const at = `$.templates.${kind}`;
    if (!(NOTIFICATION_KINDS as readonly string[]).includes(kind)) {
      err(at, `unknown notification kind "${kind}" (known: ${NOTIFICATION_KINDS.join(', ')})`);
      continue;
    }
    if (!isObject(t)) {
      err(at, `expected {"text": "..."}, got ${show(t)}`);
      continue;
    }
    for (const k of Object.keys(t)) if (!['text', 'description'].includes(k)) err(`${at}.${k}`, `unknown property "${k}" (allowed: text, description)`);
    const text = t['text'];
    if (typeof text !== 'string' || text.trim() === '') {
      err(`${at}.text`, `expected the message text, got ${show(text)}`);
      continue;
    }
    const { parts, problems } = compileTemplate(text);
    for (const p of problems) err(`${at}.text`, p);
    if (problems.length === 0) templates[kind as NotificationKind] = parts;
  }
  for (const kind of REQUIRED_KINDS) if (!(kind in raw)) err(`$.templates.${kind}`, 'missing: lendpay sends this message');
  if (errors.length > 0) return { errors, warnings };
  return { value: { file, templates }, errors, warnings };
}
