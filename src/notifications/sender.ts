// Where customer notifications go. The default writes one JSON line per message to a
// file (a stand-in for an SMS or app-push gateway); anything with send() plugs in.
import fs from 'node:fs';
import path from 'node:path';

export interface OutgoingNotification {
  id: number;
  customerId: string;
  kind: string;
  body: string;
  createdAt: Date;
}

export interface NotificationSender {
  send(batch: readonly OutgoingNotification[]): Promise<void>;
}

export function fileSender(file: string): NotificationSender {
  return {
    async send(batch) {
      if (batch.length === 0) return;
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await fs.promises.appendFile(file, batch.map((n) => JSON.stringify({ id: n.id, customerId: n.customerId, kind: n.kind, body: n.body, createdAt: n.createdAt })).join('\n') + '\n');
    },
  };
}
