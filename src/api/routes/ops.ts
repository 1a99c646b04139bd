// Operators over HTTP (the dashboard's buttons): the queue, and confirm or reject an
// escalation. The same use-cases as `lendpay ops confirm|reject`, audited the same way;
// they change money, so they need the API token and carry who decided.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { operatorQueue } from '../../../db/escalation.repository.ts';
import { confirmEscalation, rejectEscalation } from '../../escalation/service.ts';
import { LendpayError } from '../../errors.ts';
import { formatYuan } from '../../money.ts';
import { ApiProblem } from '../problem.ts';
import { PROBLEM, SECURED } from '../schemas.ts';

const STEPS = ['channel_resend', 'system_resend', 'void_and_reissue', 'give_up', 'manual_review'] as const;
const OPERATOR = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ._@-]+$' } as const;

export function opsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/ops/queue', { schema: { summary: 'What waits for an operator, and dead-lettered jobs', tags: ['operators'] } }, async () => {
    const q = await operatorQueue(deps.db);
    return { items: q.items.map((i) => ({ ...i, amount: formatYuan(i.amount) })), deadLetters: q.deadLetters };
  });

  const params = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } } as const;
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    if (!deps.escalationDeps) throw new ApiProblem(503, 'ESCALATION_UNAVAILABLE', 'this server has no escalation rules loaded');
    try {
      return await f();
    } catch (e) {
      if (e instanceof LendpayError && (e.code === 'CONFLICT' || e.code === 'INVALID_INPUT')) throw new ApiProblem(409, e.code, e.message);
      throw e;
    }
  };

  app.post<{ Params: { id: string }; Body: { by: string; step?: (typeof STEPS)[number]; reason?: string } }>('/ops/orders/:id/confirm', {
    config: { auth: true },
    schema: {
      summary: 'Carry out the proposed escalation step (or the named one); audited', tags: ['operators'], security: SECURED, params,
      body: { type: 'object', required: ['by'], additionalProperties: false, properties: { by: OPERATOR, step: { type: 'string', enum: [...STEPS] }, reason: { type: 'string', maxLength: 500 } } },
      response: { 400: PROBLEM, 401: PROBLEM, 409: PROBLEM },
    },
  }, async (req) => run(async () => {
    const r = await confirmEscalation(await deps.escalationDeps!(), {
      orderId: Number(req.params.id), by: req.body.by, ...(req.body.step ? { step: req.body.step } : {}), ...(req.body.reason ? { reason: req.body.reason } : {}),
    });
    return { orderId: Number(req.params.id), done: r.done, message: r.message, newOrderId: r.newOrderId ?? null };
  }));

  app.post<{ Params: { id: string }; Body: { by: string; reason: string } }>('/ops/orders/:id/reject', {
    config: { auth: true },
    schema: {
      summary: 'Do not carry out the escalation: the order stays failed; audited', tags: ['operators'], security: SECURED, params,
      body: { type: 'object', required: ['by', 'reason'], additionalProperties: false, properties: { by: OPERATOR, reason: { type: 'string', minLength: 1, maxLength: 500 } } },
      response: { 400: PROBLEM, 401: PROBLEM, 409: PROBLEM },
    },
  }, async (req) => run(async () => {
    await rejectEscalation(await deps.escalationDeps!(), { orderId: Number(req.params.id), by: req.body.by, reason: req.body.reason });
    return { orderId: Number(req.params.id), rejected: true };
  }));
}
