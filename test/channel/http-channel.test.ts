// The client's reading of HTTP trouble, against a stub server (no Postgres needed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpChannel } from '../../src/channel/http-channel.ts';
import type { Fen } from '../../src/money.ts';

let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => {};
const server = http.createServer((req, res) => answer(req, res));
let url = '';

test.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const reply = (status: number, body: unknown) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
const debit = { requestId: 'r1', fromAccountId: 'A', toAccountId: 'L', amount: 100 as Fen };

test('a 5xx is an unknown outcome, for one request and for every item of a batch', async () => {
  answer = reply(503, { error: { code: 'INTERNAL' } });
  const ch = createHttpChannel({ baseUrl: url, timeoutMs: 1000 });
  const o = await ch.debit(debit);
  assert.is(o.status, 'unknown');
  assert.match(o.status === 'unknown' ? o.reason : '', /HTTP 503/);
  const outs = await ch.debitBatch([debit, { ...debit, requestId: 'r2' }]);
  assert.equal(outs.map((x) => [x.requestId, x.status]), [['r1', 'unknown'], ['r2', 'unknown']]);
});

test('a server that never answers is unknown after the client timeout', async () => {
  answer = () => {};
  const ch = createHttpChannel({ baseUrl: url, timeoutMs: 200 });
  const started = Date.now();
  const o = await ch.payout({ requestId: 'slow', fromAccountId: 'A', to: { kind: 'card', cardId: 'K' }, amount: 1 as Fen });
  assert.is(o.status, 'unknown');
  assert.ok(Date.now() - started < 1000);
  // Drop the kept-alive sockets and let the client notice before the next test.
  server.closeAllConnections();
  await new Promise((r) => setTimeout(r, 50));
});

test('a 4xx throws a clear error naming the platform reason; outcomes are read with dates and checked amounts', async () => {
  answer = reply(400, { error: { code: 'INVALID_REQUEST', message: '$.amount: expected a positive whole number of fen' } });
  const ch = createHttpChannel({ baseUrl: url, timeoutMs: 1000 });
  const err = await ch.debit(debit).catch((e) => e);
  assert.is(err.code, 'CHANNEL_REJECTED', JSON.stringify(err));
  assert.match(err.message, /HTTP 400 INVALID_REQUEST\): \$\.amount/);
  answer = reply(200, { requestId: 'r1', status: 'succeeded', amount: 100, platformRef: 'SBX1', arrivesAt: '2026-03-12T09:00:00.000Z' });
  const ok = await ch.debit(debit);
  assert.equal(ok, { requestId: 'r1', status: 'succeeded', amount: 100, platformRef: 'SBX1', arrivesAt: new Date('2026-03-12T09:00:00.000Z') });
  answer = reply(200, { requestId: 'r1', status: 'failed', code: 'MYSTERY', amount: 100, platformRef: 'SBX1' });
  assert.is((await ch.debit(debit).catch((e) => e)).code, 'CHANNEL_REJECTED');
  answer = reply(200, { requestId: 'other', status: 'succeeded', amount: 100, platformRef: 'SBX1' });
  assert.match((await ch.debit(debit).catch((e) => e)).message, /where r1 was expected/);
  assert.throws(() => createHttpChannel({ baseUrl: url, timeoutMs: 0 }), /timeoutMs/);
});

test.run();
