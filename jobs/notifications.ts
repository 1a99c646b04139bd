// Hands the notification outbox to a sender, a page at a time. The rows are claimed
// with SKIP LOCKED inside a transaction that marks them sent only after the sender
// returned: a crash resends a page (at least once), it never loses one.
import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { NotificationSender, OutgoingNotification } from '../src/notifications/sender.ts';

export async function sendNotifications(db: Db, sender: NotificationSender, now: Date, pageSize = 1000): Promise<number> {
  let sent = 0;
  for (;;) {
    const n = await db.transaction().execute(async (trx) => {
      const rows = await sql<{ id: number; customer_id: string; kind: string; body: string; created_at: Date }>`
        select id, customer_id, kind, body, created_at from notifications where sent_at is null order by id limit ${pageSize} for update skip locked
      `.execute(trx);
      if (rows.rows.length === 0) return 0;
      const batch: OutgoingNotification[] = rows.rows.map((r) => ({ id: r.id, customerId: r.customer_id, kind: r.kind, body: r.body, createdAt: r.created_at }));
      await sender.send(batch);
      await sql`update notifications set sent_at = ${now} where id = any(${batch.map((b) => b.id)}::int8[])`.execute(trx);
      return batch.length;
    });
    sent += n;
    if (n < pageSize) return sent;
  }
}
