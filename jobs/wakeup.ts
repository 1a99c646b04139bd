// Wake-ups for queues an operator waits on (ad-hoc reprocessing). pg-boss NOTIFYs a
// channel derived from its schema, with the queue's name, when a job is sent to a queue
// created with `notify`; its own listener connection, dropped while a worker starts or
// runs, can emit 'error' with no listener left on it and kill the process (see
// startBoss). This listener is lendpay's own: a connection whose every error is handled,
// reconnected with backoff, and on a notification it only tells pg-boss to poll that
// queue now (boss.notifyWorker). Lost notifications cost nothing but time: polling stays.
import { createHash } from 'node:crypto';
import pg from 'pg';

/** pg-boss's channel: 'pgboss_' and the first 24 hex digits of sha224(schema). */
export function bossNotifyChannel(schema: string): string {
  return `pgboss_${createHash('sha224').update(schema).digest('hex').slice(0, 24)}`;
}

export interface Wakeups {
  close(): Promise<void>;
}

export function listenForJobs(url: string, schema: string, onQueue: (queue: string) => void): Wakeups {
  const channel = bossNotifyChannel(schema);
  let client: pg.Client | null = null;
  let closed = false;
  let backoff = 250;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const again = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, backoff);
    backoff = Math.min(backoff * 2, 5000);
  };
  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, application_name: 'lendpay-wakeup', keepAlive: true });
    client = c;
    // every error and end of this connection is handled here, for as long as it exists
    c.on('error', () => {
      if (client === c) client = null;
      c.end().catch(() => {});
      again();
    });
    c.on('end', () => {
      if (client === c) client = null;
      again();
    });
    c.on('notification', (m) => {
      if (m.channel === channel && m.payload) onQueue(m.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${channel}"`);
      backoff = 250;
    } catch {
      if (client === c) client = null;
      c.end().catch(() => {});
      again();
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
