// Shared by the sandbox tests: a fresh database, the real server on a free port,
// the HTTP channel pointed at it, and small admin helpers. (Not a *.test.ts file.)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { loadCalendar } from '../../src/calendar/calendar.ts';
import { startSandbox, type SandboxServer } from '../../src/sandbox/server.ts';
import { createHttpChannel } from '../../src/channel/http-channel.ts';
import type { PaymentChannel } from '../../src/channel/types.ts';

export const calendar = loadCalendar(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../rules/calendar.json'));

export interface Harness {
  t: TestDatabase;
  server: SandboxServer;
  channel: PaymentChannel;
  admin(method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

export async function startHarness(label: string, timeoutMs = 2000): Promise<Harness> {
  const t = await freshDatabase(label);
  const server = await startSandbox({ databaseUrl: t.url, port: 0, host: '127.0.0.1', calendar });
  const channel = createHttpChannel({ baseUrl: server.url, timeoutMs });
  return {
    t,
    server,
    channel,
    async admin(method, route, body) {
      // the admin routes take the sandbox's admin token; the platform routes ignore it
      const auth = { authorization: `Bearer ${server.adminToken}` };
      const res = await fetch(`${server.url}${route}`, {
        method,
        ...(body === undefined ? { headers: auth } : { headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, text };
    },
    async close() {
      await server.close();
      await t.drop();
    },
  };
}
