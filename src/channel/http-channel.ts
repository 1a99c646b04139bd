// PaymentChannel over HTTP (the sandbox platform speaks this API). For money-moving
// calls, a timeout, 5xx or broken connection is an `unknown` outcome, never an
// exception: the caller records it and later queries by request id.
import { FAILURE_CODES, MAX_BATCH, type BalanceResult, type ChannelOutcome, type CollectRequest, type DebitRequest, type FreezeResult, type PaymentChannel, type PayoutRequest, type QueryResult, type WithdrawRequest } from './types.ts';
import { LendpayError } from '../errors.ts';
import { toFen } from '../money.ts';

export interface HttpChannelOptions {
  baseUrl: string;
  timeoutMs: number;
}

type Sent = { ok: true; status: number; body: unknown } | { ok: false; reason: string };

export function createHttpChannel(opts: HttpChannelOptions): PaymentChannel {
  const base = opts.baseUrl.replace(/\/+$/, '');
  if (!Number.isSafeInteger(opts.timeoutMs) || opts.timeoutMs <= 0) throw new LendpayError('INVALID_CONFIG', `channel timeoutMs must be a positive whole number, got ${opts.timeoutMs}`);

  async function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Sent> {
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      const text = await res.text();
      if (res.status >= 500) return { ok: false, reason: `HTTP ${res.status}: ${text.slice(0, 200)}` };
      let parsed: unknown = null;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        return { ok: false, reason: `HTTP ${res.status} with a body that is not JSON` };
      }
      return { ok: true, status: res.status, body: parsed };
    } catch (e) {
      const err = e as Error;
      const reason = err.name === 'TimeoutError' || err.name === 'AbortError' ? `no answer within ${opts.timeoutMs} ms` : `connection failed: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`;
      return { ok: false, reason };
    }
  }

  function refused(path: string, sent: Extract<Sent, { ok: true }>): never {
    const error = (sent.body as { error?: { code?: string; message?: string } } | null)?.error;
    const code = error?.code === 'REQUEST_ID_REUSED' ? 'REQUEST_ID_REUSED' : 'CHANNEL_REJECTED';
    throw new LendpayError(code, `payment platform refused ${path} (HTTP ${sent.status}${error?.code ? ` ${error.code}` : ''}): ${error?.message ?? 'no reason given'}`);
  }

  async function money(path: string, req: { requestId: string }): Promise<ChannelOutcome> {
    const sent = await send('POST', path, req);
    if (!sent.ok) return { requestId: req.requestId, status: 'unknown', reason: sent.reason };
    if (sent.status !== 200) refused(path, sent);
    return readOutcome(sent.body, req.requestId);
  }

  async function moneyBatch(path: string, reqs: readonly { requestId: string }[]): Promise<ChannelOutcome[]> {
    if (reqs.length === 0) return [];
    if (reqs.length > MAX_BATCH) throw new LendpayError('INVALID_INPUT', `a batch holds at most ${MAX_BATCH} requests, got ${reqs.length}`);
    const sent = await send('POST', path, { requests: reqs });
    if (!sent.ok) return reqs.map((r) => ({ requestId: r.requestId, status: 'unknown', reason: sent.reason }));
    if (sent.status !== 200) refused(path, sent);
    const outcomes = (sent.body as { outcomes?: unknown }).outcomes;
    if (!Array.isArray(outcomes) || outcomes.length !== reqs.length) throw new LendpayError('CHANNEL_REJECTED', `${path}: expected ${reqs.length} outcomes in the answer`);
    return reqs.map((r, i) => readOutcome(outcomes[i], r.requestId));
  }

  /** For reads and freezes: transport trouble is retryable, never a guess. */
  async function read(method: 'GET' | 'POST', path: string, body?: unknown, okStatuses: readonly number[] = [200]): Promise<{ status: number; body: unknown }> {
    const sent = await send(method, path, body);
    if (!sent.ok) throw new LendpayError('CHANNEL_UNAVAILABLE', `payment platform ${path}: ${sent.reason}`, { retryable: true });
    if (!okStatuses.includes(sent.status)) refused(path, sent);
    return sent;
  }

  async function freeze(customerId: string, on: boolean): Promise<FreezeResult> {
    const { body } = await read('POST', `/v1/customers/${encodeURIComponent(customerId)}/${on ? 'freeze' : 'unfreeze'}-outflow`);
    const b = body as { customerId: string; frozenOutflow: boolean; accounts: number };
    return { customerId: b.customerId, frozenOutflow: b.frozenOutflow, accounts: b.accounts };
  }

  async function queryMany(requestIds: readonly string[]): Promise<QueryResult[]> {
    if (requestIds.length === 0) return [];
    const out: QueryResult[] = [];
    for (let i = 0; i < requestIds.length; i += MAX_BATCH) {
      const chunk = requestIds.slice(i, i + MAX_BATCH);
      const { body } = await read('POST', '/v1/requests/query', { requestIds: chunk });
      const results = (body as { results: unknown[] }).results;
      chunk.forEach((id, j) => {
        const r = results[j] as { status?: string };
        out.push(r?.status === 'not_found' ? { requestId: id, status: 'not_found' } : (readOutcome(r, id) as QueryResult));
      });
    }
    return out;
  }

  async function balances(accountIds: readonly string[]): Promise<BalanceResult[]> {
    const out: BalanceResult[] = [];
    for (let i = 0; i < accountIds.length; i += MAX_BATCH) {
      const { body } = await read('POST', '/v1/balances', { accountIds: accountIds.slice(i, i + MAX_BATCH) });
      for (const b of (body as { balances: Record<string, unknown>[] }).balances) {
        out.push(
          b.found
            ? { accountId: String(b.accountId), found: true, customerId: String(b.customerId), balance: toFen(b.balance, 'balance'), frozenOutflow: b.frozenOutflow === true, frozen: b.frozen === true }
            : { accountId: String(b.accountId), found: false, code: 'ACCOUNT_NOT_FOUND' },
        );
      }
    }
    return out;
  }

  return {
    collect: (req: CollectRequest) => money('/v1/collect', req),
    collectBatch: (reqs: readonly CollectRequest[]) => moneyBatch('/v1/collect/batch', reqs),
    payout: (req: PayoutRequest) => money('/v1/payout', req),
    payoutBatch: (reqs: readonly PayoutRequest[]) => moneyBatch('/v1/payout/batch', reqs),
    debit: (req: DebitRequest) => money('/v1/debit', req),
    debitBatch: (reqs: readonly DebitRequest[]) => moneyBatch('/v1/debit/batch', reqs),
    withdraw: (req: WithdrawRequest) => money('/v1/withdraw', req),
    balances,
    async balance(accountId) {
      const [b] = await balances([accountId]);
      return b!;
    },
    freezeOutflow: (customerId) => freeze(customerId, true),
    unfreezeOutflow: (customerId) => freeze(customerId, false),
    async setOutflowBlocks(changes) {
      const out: FreezeResult[] = [];
      for (let i = 0; i < changes.length; i += MAX_BATCH) {
        const chunk = changes.slice(i, i + MAX_BATCH);
        const { body } = await read('POST', '/v1/customers/outflow/batch', { changes: chunk });
        const results = (body as { results?: unknown }).results;
        if (!Array.isArray(results) || results.length !== chunk.length) throw new LendpayError('CHANNEL_REJECTED', `/v1/customers/outflow/batch: expected ${chunk.length} results in the answer`);
        chunk.forEach((c, j) => {
          const r = results[j] as { customerId?: unknown; frozenOutflow?: unknown; accounts?: unknown };
          if (r?.customerId !== c.customerId) throw new LendpayError('CHANNEL_REJECTED', `/v1/customers/outflow/batch: answer out of order at ${j}`);
          out.push({ customerId: c.customerId, frozenOutflow: r.frozenOutflow === true, accounts: Number(r.accounts) });
        });
      }
      return out;
    },
    async query(requestId) {
      const [r] = await queryMany([requestId]);
      return r!;
    },
    queryMany,
    resend: ({ op, ...req }) => money(`/v1/${op}?resend=1`, req),
  };
}

function readOutcome(v: unknown, requestId: string): ChannelOutcome {
  const o = v as Record<string, unknown> | null;
  if (!o || o.requestId !== requestId) throw new LendpayError('CHANNEL_REJECTED', `platform answered for ${JSON.stringify(o?.requestId)} where ${requestId} was expected`);
  switch (o.status) {
    case 'succeeded':
      return {
        requestId,
        status: 'succeeded',
        amount: toFen(o.amount, 'amount'),
        platformRef: String(o.platformRef),
        ...(typeof o.arrivesAt === 'string' ? { arrivesAt: new Date(o.arrivesAt) } : {}),
      };
    case 'failed': {
      const code = FAILURE_CODES.find((c) => c === o.code);
      if (!code) throw new LendpayError('CHANNEL_REJECTED', `platform failure code ${JSON.stringify(o.code)} for ${requestId} is not one lendpay knows`);
      return { requestId, status: 'failed', code, amount: toFen(o.amount, 'amount'), platformRef: String(o.platformRef) };
    }
    case 'rejected':
      return { requestId, status: 'rejected', code: 'REQUEST_ID_REUSED', message: String(o.message) };
    case 'unknown':
      return { requestId, status: 'unknown', reason: String(o.reason ?? 'platform did not record it') };
    default:
      throw new LendpayError('CHANNEL_REJECTED', `platform status ${JSON.stringify(o.status)} for ${requestId} is not one lendpay knows`);
  }
}
