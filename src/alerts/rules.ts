// The alert rules file: each rule names a kind of check and its params. Parsed and
// checked like every rule file: problems as `file: JSON path: reason`.
import type { ParseResult } from '../eligibility/rules.ts';

export const ALERT_KINDS = ['order_stuck', 'failure_rate', 'batch_late', 'trial_balance_nonzero', 'settlement_missing'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export type AlertRule =
  | { name: string; kind: 'order_stuck'; severity: Severity; statuses: ('submitted' | 'unknown' | 'created')[]; olderThanMinutes: number }
  | { name: string; kind: 'failure_rate'; severity: Severity; windowMinutes: number; numerator: number; denominator: number; minAttempts: number }
  | { name: string; kind: 'batch_late'; severity: Severity; batch: 'nightly' | 'post_settlement'; deadline: string }
  | { name: string; kind: 'trial_balance_nonzero'; severity: Severity }
  | { name: string; kind: 'settlement_missing'; severity: Severity; by: string };
export type Severity = 'warning' | 'critical';

export interface AlertRules {
  file: string;
  rules: AlertRule[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

export function parseAlertRules(json: unknown, file: string): ParseResult<AlertRules> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const err = (at: string, why: string) => errors.push(`${file}: ${at}: ${why}`);
  if (!isObj(json) || !Array.isArray(json['rules'])) {
    err('$.rules', 'expected an array of alert rules');
    return { errors, warnings };
  }
  const rules: AlertRule[] = [];
  const names = new Set<string>();
  (json['rules'] as unknown[]).forEach((r, i) => {
    const at = `$.rules[${i}]`;
    if (!isObj(r)) return err(at, 'expected an object');
    const name = r['name'];
    if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(name)) return err(`${at}.name`, 'expected a lower-case name of letters, digits and dashes');
    if (names.has(name)) return err(`${at}.name`, `"${name}" is used twice`);
    names.add(name);
    const severity = (r['severity'] ?? 'warning') as Severity;
    if (severity !== 'warning' && severity !== 'critical') return err(`${at}.severity`, 'expected "warning" or "critical"');
    const p = r['params'];
    if (!isObj(p)) return err(`${at}.params`, 'expected an object');
    const int = (k: string, min: number, max: number): number | null => {
      const v = p[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        err(`${at}.params.${k}`, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
        return null;
      }
      return v;
    };
    const time = (k: string): string | null => {
      const v = p[k];
      if (typeof v !== 'string' || !TIME.test(v)) {
        err(`${at}.params.${k}`, `expected a time HH:MM (Asia/Shanghai), got ${JSON.stringify(v)}`);
        return null;
      }
      return v;
    };
    switch (r['kind']) {
      case 'order_stuck': {
        const statuses = p['statuses'];
        const ok = Array.isArray(statuses) && statuses.length > 0 && statuses.every((s) => s === 'submitted' || s === 'unknown' || s === 'created');
        if (!ok) err(`${at}.params.statuses`, 'expected a non-empty list of "created", "submitted", "unknown"');
        const m = int('olderThanMinutes', 1, 10_080);
        if (ok && m !== null) rules.push({ name, kind: 'order_stuck', severity, statuses: statuses as ('submitted' | 'unknown' | 'created')[], olderThanMinutes: m });
        return;
      }
      case 'failure_rate': {
        const w = int('windowMinutes', 1, 1440);
        const min = int('minAttempts', 1, 1_000_000);
        const t = p['threshold'];
        const ok = isObj(t) && Number.isInteger(t['numerator']) && Number.isInteger(t['denominator']) && (t['denominator'] as number) > 0
          && (t['numerator'] as number) >= 0 && (t['numerator'] as number) <= (t['denominator'] as number);
        if (!ok) err(`${at}.params.threshold`, 'expected {"numerator": n, "denominator": d} with 0 ≤ n ≤ d, d > 0');
        if (w !== null && min !== null && ok) rules.push({ name, kind: 'failure_rate', severity, windowMinutes: w, minAttempts: min, numerator: t['numerator'] as number, denominator: t['denominator'] as number });
        return;
      }
      case 'batch_late': {
        const b = p['batch'];
        if (b !== 'nightly' && b !== 'post_settlement') err(`${at}.params.batch`, 'expected "nightly" or "post_settlement"');
        const d = time('deadline');
        if ((b === 'nightly' || b === 'post_settlement') && d) rules.push({ name, kind: 'batch_late', severity, batch: b, deadline: d });
        return;
      }
      case 'trial_balance_nonzero':
        rules.push({ name, kind: 'trial_balance_nonzero', severity });
        return;
      case 'settlement_missing': {
        const by = time('by');
        if (by) rules.push({ name, kind: 'settlement_missing', severity, by });
        return;
      }
      default:
        err(`${at}.kind`, `unknown kind ${JSON.stringify(r['kind'])}; expected one of ${ALERT_KINDS.join(', ')}`);
    }
  });
  return errors.length > 0 ? { errors, warnings } : { value: { file, rules }, errors, warnings };
}
