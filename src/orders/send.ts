// Sending attempts to the platform: batches are the normal case, one attempt is a
// batch of one. Attempts are grouped by operation and sent with the platform's batch
// form (at most MAX_BATCH a call); answers come back in the order asked. Transport
// trouble makes a line `unknown` (query it later), never an exception. A batch the
// platform refuses as a whole is split into single requests, so that one malformed
// line cannot fail the others.
import { MAX_BATCH, type ChannelOutcome, type PaymentChannel } from '../channel/types.ts';
import { LendpayError } from '../errors.ts';
import { requestFor, type ChannelRequest, type Sent } from './requests.ts';
import type { Order } from './types.ts';

export interface ToSend {
  order: Pick<Order, 'kind' | 'sourceRef' | 'destinationRef' | 'amount'>;
  requestId: string;
}

type Op = ChannelRequest['op'];

export async function sendRequests(channel: PaymentChannel, items: readonly ToSend[]): Promise<Sent[]> {
  const out: Sent[] = new Array(items.length);
  const byOp = new Map<Op, { at: number; req: ChannelRequest['req'] }[]>();
  items.forEach((it, at) => {
    let built: ChannelRequest;
    try {
      built = requestFor(it.order, it.requestId);
    } catch (err) {
      out[at] = { requestId: it.requestId, status: 'rejected', code: 'CHANNEL_REJECTED', message: err instanceof Error ? err.message : String(err) };
      return;
    }
    const list = byOp.get(built.op) ?? [];
    list.push({ at, req: built.req });
    byOp.set(built.op, list);
  });
  await Promise.all([...byOp].map(async ([op, list]) => {
    for (let i = 0; i < list.length; i += MAX_BATCH) {
      const slice = list.slice(i, i + MAX_BATCH);
      const answers = await sendBatch(channel, op, slice.map((s) => s.req));
      slice.forEach((s, j) => (out[s.at] = answers[j]!));
    }
  }));
  return out;
}

async function sendBatch(channel: PaymentChannel, op: Op, reqs: readonly ChannelRequest['req'][]): Promise<Sent[]> {
  try {
    const answers = await call(channel, op, reqs);
    return answers.map((a, j) => {
      if (a.requestId !== reqs[j]!.requestId) throw new LendpayError('CHANNEL_REJECTED', `${op} batch answer out of order at ${j}: ${a.requestId} for ${reqs[j]!.requestId}`);
      return a;
    });
  } catch (err) {
    const refused = err instanceof LendpayError && (err.code === 'CHANNEL_REJECTED' || err.code === 'REQUEST_ID_REUSED');
    if (refused && reqs.length > 1) {
      // the platform refused the batch as a whole (nothing applied): find the line it objects to
      const out: Sent[] = [];
      for (const r of reqs) out.push(...(await sendBatch(channel, op, [r])));
      return out;
    }
    if (refused) return [{ requestId: reqs[0]!.requestId, status: 'rejected', code: (err as LendpayError).code as 'CHANNEL_REJECTED' | 'REQUEST_ID_REUSED', message: (err as Error).message }];
    const reason = err instanceof Error ? err.message : String(err);
    return reqs.map((r) => ({ requestId: r.requestId, status: 'unknown' as const, reason }));
  }
}

function call(channel: PaymentChannel, op: Op, reqs: readonly ChannelRequest['req'][]): Promise<ChannelOutcome[]> {
  switch (op) {
    case 'collect':
      return channel.collectBatch(reqs as never);
    case 'payout':
      return channel.payoutBatch(reqs as never);
    case 'debit':
      return channel.debitBatch(reqs as never);
  }
}

/** One request: a batch of one (escalation's resend, recovery's resend under the same id). */
export async function sendOne(channel: PaymentChannel, order: ToSend['order'], requestId: string): Promise<Sent> {
  return (await sendRequests(channel, [{ order, requestId }]))[0]!;
}
