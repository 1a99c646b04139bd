// Operator actions that change what lendpay enforces, each with its audit row in the
// same transaction: the change and the record of who made it stand or fall together.
// The audit_log and the platform-block check use plain `sql` so that they need no
// entry in types.ts (kept apart from the escalation tables being added meanwhile).
import { sql } from 'kysely';
import type { Db } from './connection.ts';

export type ReleaseResult =
  | { kind: 'released'; holdId: number; amountFen: number; auditId: number }
  | { kind: 'no-customer' }
  | { kind: 'no-hold' };

/** Clears the customer's open hold as `operator:<actor>` and records why, or says why not. */
export async function releaseOpenHold(db: Db, customerId: string, actor: string, reason: string, now: Date): Promise<ReleaseResult> {
  return db.transaction().execute(async (trx) => {
    // the same lock the collection planner and syncHolds take: no batch races this
    const c = await sql<{ id: string }>`select id from customers where id = ${customerId} for update`.execute(trx);
    if (c.rows.length === 0) return { kind: 'no-customer' } as const;
    const h = await sql<{ id: number; amount_fen: number; as_of_date: string }>`
      select id, amount_fen, as_of_date::text as as_of_date from holds where customer_id = ${customerId} and status = 'open' for update
    `.execute(trx);
    const hold = h.rows[0];
    if (!hold) return { kind: 'no-hold' } as const;
    await sql`update holds set status = 'cleared', cleared_at = ${now}, cleared_by = ${`operator:${actor}`} where id = ${hold.id}`.execute(trx);
    const a = await sql<{ id: number }>`
      insert into audit_log (at, actor, action, subject, reason, details)
      values (${now}, ${actor}, 'hold.release', ${`customer:${customerId}`}, ${reason},
              ${JSON.stringify({ holdId: Number(hold.id), amountFen: Number(hold.amount_fen), asOfDate: hold.as_of_date })}::jsonb)
      returning id
    `.execute(trx);
    return { kind: 'released', holdId: Number(hold.id), amountFen: Number(hold.amount_fen), auditId: Number(a.rows[0]!.id) } as const;
  });
}

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  reason: string;
  details: Record<string, unknown>;
}

export async function auditOf(db: Db, subject: string): Promise<AuditRow[]> {
  const r = await sql<AuditRow>`select id, at, actor, action, subject, reason, details from audit_log where subject = ${subject} order by id`.execute(db);
  return r.rows.map((x) => ({ ...x, id: Number(x.id) }));
}

/** The balance accounts of these customers (the platform's outflow flag is per account). */
export async function accountsOfCustomers(db: Db, customerIds: readonly string[]): Promise<{ customerId: string; accountId: string }[]> {
  if (customerIds.length === 0) return [];
  const r = await sql<{ customer_id: string; id: string }>`
    select customer_id, id from customer_accounts where customer_id = any(${[...customerIds]}::text[]) order by customer_id, id
  `.execute(db);
  return r.rows.map((x) => ({ customerId: x.customer_id, accountId: x.id }));
}
