// One pass of the alert rules: what fires is stored (once per rule and subject),
// logged, and sent to the webhook; what stopped firing is resolved.
import { DateTime } from 'luxon';
import type { Db } from '../../db/connection.ts';
import { firing, markNotified, openAlerts, syncRuleAlerts, type StoredAlert } from '../../db/alerts.repository.ts';
import type { AlertRules } from './rules.ts';
import { ZONE } from '../dates.ts';

export interface AlertDeps {
  db: Db;
  rules: AlertRules;
  now: Date;
  log: (alert: StoredAlert) => void;
  /** POSTs the new alerts; null: no webhook configured */
  webhook: string | null;
}

export async function checkAlerts(deps: AlertDeps): Promise<{ opened: StoredAlert[]; resolved: number; open: number }> {
  const local = DateTime.fromJSDate(deps.now, { zone: ZONE });
  const today = local.toISODate()!;
  const hhmm = local.toFormat('HH:mm');
  const opened: StoredAlert[] = [];
  let resolved = 0;
  for (const rule of deps.rules.rules) {
    const fired = await firing(deps.db, rule, deps.now, today, hhmm);
    const r = await syncRuleAlerts(deps.db, rule, fired, deps.now);
    opened.push(...r.opened);
    resolved += r.resolved;
  }
  for (const a of opened) deps.log(a);
  // A webhook that is down must not stop the checks: the alerts are stored either way,
  // and the ones never notified are sent on a later pass.
  const pending = deps.webhook ? (await openAlerts(deps.db)).filter((a) => a.notifiedAt === null && a.rule !== null) : [];
  if (deps.webhook && pending.length > 0) {
    try {
      const res = await fetch(deps.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ alerts: pending.map((a) => ({ id: a.id, rule: a.rule, kind: a.kind, severity: a.severity, subject: a.subject, message: a.message, at: a.createdAt })) }),
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) await markNotified(deps.db, pending.map((a) => a.id), deps.now);
    } catch {
      // left for the next pass
    }
  }
  return { opened, resolved, open: (await openAlerts(deps.db)).length };
}
