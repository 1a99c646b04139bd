// What each alert rule finds firing now (one query per rule), and the alerts table:
// one open alert per (rule, subject), resolved when its condition no longer holds.
import { sql } from 'kysely';
import type { Db } from './connection.ts';
import type { AlertRule } from '../src/alerts/rules.ts';
import { trialBalance } from './ledger.repository.ts';

export interface Firing {
  subject: string;
  orderId: number | null;
  message: string;
}

/** `today` and `nowLocal` ('HH:MM') are the business date and time in Asia/Shanghai. */
export async function firing(db: Db, rule: AlertRule, now: Date, today: string, nowLocal: string): Promise<Firing[]> {
  switch (rule.kind) {
    case 'order_stuck': {
      const before = new Date(now.getTime() - rule.olderThanMinutes * 60_000);
      const r = await sql<{ id: number; idempotency_key: string; status: string; updated_at: Date }>`
        select id, idempotency_key, status, updated_at from orders
        where status = any(${rule.statuses}::text[]) and updated_at < ${before} order by id limit 1000
      `.execute(db);
      return r.rows.map((o) => ({ subject: `order:${o.id}`, orderId: o.id, message: `order ${o.id} (${o.idempotency_key}) has been ${o.status} since ${o.updated_at.toISOString()}` }));
    }
    case 'failure_rate': {
      const since = new Date(now.getTime() - rule.windowMinutes * 60_000);
      const r = await sql<{ failed: number; total: number }>`
        select count(*) filter (where status = 'failed')::int8 as failed, count(*)::int8 as total
        from order_attempts where resolved_at >= ${since} and status in ('succeeded', 'failed')
      `.execute(db);
      const { failed, total } = r.rows[0] ?? { failed: 0, total: 0 };
      // failed / total > numerator / denominator, in integers
      if (total < rule.minAttempts || failed * rule.denominator <= rule.numerator * total) return [];
      return [{ subject: 'attempts', orderId: null, message: `${failed} of ${total} attempts failed in the last ${rule.windowMinutes} minutes (threshold ${rule.numerator}/${rule.denominator})` }];
    }
    case 'batch_late': {
      if (nowLocal < rule.deadline) return [];
      const run = await db.selectFrom('batch_runs').select(['id', 'status']).where('kind', '=', rule.batch).where('business_date', '=', today).executeTakeFirst();
      if (run?.status === 'finished') return [];
      return [{ subject: `${rule.batch}:${today}`, orderId: null, message: `the ${rule.batch} batch for ${today} is ${run ? `${run.status} (run ${run.id})` : 'not started'} after its ${rule.deadline} deadline` }];
    }
    case 'trial_balance_nonzero': {
      const tb = await trialBalance(db);
      if (tb.totalDebit === tb.totalCredit && tb.unbalancedEntries === 0) return [];
      return [{ subject: 'ledger', orderId: null, message: `trial balance is not zero: debits ${tb.totalDebit} ≠ credits ${tb.totalCredit} fen, ${tb.unbalancedEntries} unbalanced entries` }];
    }
    case 'settlement_missing': {
      if (nowLocal < rule.by) return [];
      const s = await db.selectFrom('settlements').select('business_date').where('business_date', '=', today).executeTakeFirst();
      if (s) return [];
      return [{ subject: `settlement:${today}`, orderId: null, message: `no settlement event for ${today} by ${rule.by}: the post-settlement fallback runs the batch without it` }];
    }
  }
}

export interface StoredAlert {
  id: number;
  rule: string | null;
  kind: string;
  subject: string | null;
  severity: string | null;
  orderId: number | null;
  message: string;
  createdAt: Date;
  resolvedAt: Date | null;
  notifiedAt: Date | null;
}

/** Opens alerts for what fires (once per rule and subject) and resolves those that stopped. */
export async function syncRuleAlerts(db: Db, rule: AlertRule, fired: readonly Firing[], now: Date): Promise<{ opened: StoredAlert[]; resolved: number }> {
  return db.transaction().execute(async (trx) => {
    const opened = await sql<{ id: number; created_at: Date; subject: string; order_id: number | null; message: string }>`
      insert into alerts (kind, order_id, message, created_at, rule, subject, severity)
      select ${rule.kind}, o, m, ${now}, ${rule.name}, s, ${rule.severity}
      from unnest(${fired.map((f) => f.subject)}::text[], ${fired.map((f) => f.orderId)}::int8[], ${fired.map((f) => f.message)}::text[]) as u(s, o, m)
      on conflict (rule, subject) where resolved_at is null and rule is not null do nothing
      returning id, created_at, subject, order_id, message
    `.execute(trx);
    const resolved = await sql`
      update alerts set resolved_at = ${now}, resolved_by = 'auto'
      where rule = ${rule.name} and resolved_at is null and not (subject = any(${fired.map((f) => f.subject)}::text[]))
    `.execute(trx);
    return {
      opened: opened.rows.map((a) => ({ id: a.id, rule: rule.name, kind: rule.kind, subject: a.subject, severity: rule.severity, orderId: a.order_id, message: a.message, createdAt: a.created_at, resolvedAt: null, notifiedAt: null })),
      resolved: Number(resolved.numAffectedRows ?? 0),
    };
  });
}

export async function openAlerts(db: Db, limit = 500): Promise<StoredAlert[]> {
  const rows = await sql<{ id: number; rule: string | null; kind: string; subject: string | null; severity: string | null; order_id: number | null; message: string; created_at: Date; resolved_at: Date | null; notified_at: Date | null }>`
    select id, rule, kind, subject, severity, order_id, message, created_at, resolved_at, notified_at from alerts
    where resolved_at is null order by created_at desc, id desc limit ${limit}
  `.execute(db);
  return rows.rows.map((a) => ({ id: a.id, rule: a.rule, kind: a.kind, subject: a.subject, severity: a.severity, orderId: a.order_id, message: a.message, createdAt: a.created_at, resolvedAt: a.resolved_at, notifiedAt: a.notified_at }));
}

export async function markNotified(db: Db, ids: readonly number[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await sql`update alerts set notified_at = ${now} where id = any(${[...ids]}::int8[])`.execute(db);
}

export async function openAlertCounts(db: Db): Promise<{ rule: string; severity: string; count: number }[]> {
  const r = await sql<{ rule: string; severity: string; n: number }>`
    select coalesce(rule, kind) as rule, coalesce(severity, 'warning') as severity, count(*)::int8 as n
    from alerts where resolved_at is null group by 1, 2 order by 1, 2
  `.execute(db);
  return r.rows.map((x) => ({ rule: x.rule, severity: x.severity, count: x.n }));
}
