// A TCP proxy in front of the test's PostgreSQL that can lose the database on cue:
// cut() first has the server terminate the backends that came through it (the client
// reads "terminating connection due to administrator command", as in a failover),
// then drops every socket and refuses new connections for a while. A worker pointed
// at it loses its database exactly when a test says so.
import net from 'node:net';
import pg from 'pg';

export interface CutProxy {
  /** `url` (the real server's) rewritten to go through the proxy */
  url: string;
  cut(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCutProxy(realUrl: string, appName: string): Promise<CutProxy> {
  const target = new URL(realUrl);
  const sockets = new Set<net.Socket>();
  let refuseUntil = 0;
  const server = net.createServer((client) => {
    if (Date.now() < refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(realUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.searchParams.set('application_name', appName);
  return {
    url: url.toString(),
    async cut(ms) {
      refuseUntil = Date.now() + ms;
      const admin = new pg.Client({ connectionString: realUrl });
      await admin.connect();
      try {
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
      } finally {
        await admin.end();
      }
      // let the server's FATAL reach the clients, then nothing more gets through
      await new Promise((r) => setTimeout(r, 50));
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
