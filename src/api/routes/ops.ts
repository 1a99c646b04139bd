// Operators over HTTP (the dashboard's buttons): the queue (role read); confirm or
// reject an escalation, reprocess an order, release a hold (role operator). The same
// use-cases as `lendpay ops confirm|reject`, `reprocess order` and `holds release`,
// audited the same way, with one difference: the actor is the name of the token that
// made the request, never a name in the body (a body with `by` is refused).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { operatorQueue } from '../../../db/escalation.repository.ts';
import { confirmEscalation, rejectEscalation, reprocessByOperator } from '../../escalation/service.ts';
import { releaseHold } from '../../collection/release.ts';
import { LendpayError } from '../../errors.ts';
import { formatYuan } from '../../money.ts';
import { ApiProblem, badField } from '../problem.ts';
import { BODY_PROBLEMS, ID, SECURED, SECURED_PROBLEMS, responses } from '../schemas.ts';
import { SCHEMA_PARTS } from '../views.ts';

const STEPS = ['channel_resend', 'system_resend', 'void_and_reissue', 'give_up', 'manual_review'] as const;
const { obj, str, nstr, yuan, time } = SCHEMA_PARTS;

const QUEUE = obj({
  items: {
    type: 'array',
    items: obj({
      escalationId: { type: 'integer' }, orderId: { type: 'integer' }, idempotencyKey: str, purpose: str, loanId: nstr, customerId: nstr, amount: yuan,
      orderStatus: str, errorCode: str, proposedStep: { type: 'string', enum: [...STEPS] }, reason: str, rule: nstr, waitingSince: time,
      alerts: { type: 'array', items: obj({ kind: str, message: str, createdAt: time }) },
    }),
  },
  deadLetters: { type: 'array', items: obj({ id: { type: 'integer' }, queue: str, jobId: str, payload: { description: 'the job\'s payload as it was sent' }, error: str, createdAt: time }) },
});
const CONFIRMED = obj({ orderId: { type: 'integer' }, done: { type: 'boolean' }, message: str, newOrderId: { type: 'integer', nullable: true }, by: str });
const REJECTED = obj({ orderId: { type: 'integer' }, rejected: { type: 'boolean', enum: [true] }, by: str });
const REPROCESSED = obj({ orderId: { type: 'integer' }, action: { type: 'string', enum: ['none', 'queried', 'escalated', 'sent', 'waiting'] }, message: str, by: str });
const RELEASED = obj({ customerId: str, holdId: { type: 'integer' }, amount: yuan, auditId: { type: 'integer' }, unblocked: { type: 'boolean' }, by: str });

const ORDER_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'the order id' } } } as const;
const REASON = { type: 'string', minLength: 1, maxLength: 500 } as const;
const NO_BY = 'is not accepted: the operator is the name of the token that makes the request';

/** The name that goes into the audit rows: the token's, set by the role check. */
function actor(req: FastifyRequest): string {
  if (!req.principal) throw new ApiProblem(401, 'UNAUTHORIZED', 'no principal on an operator route');
  return req.principal.name;
}

/** `by` used to name the operator; a client still sending it is told, not ignored. */
async function refuseBy(req: FastifyRequest): Promise<void> {
  const b = req.body as Record<string, unknown> | null | undefined;
  if (b && typeof b === 'object' && Object.hasOwn(b, 'by')) throw badField('body.by', NO_BY);
}

export function opsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/ops/queue', {
    config: { role: 'read' },
    schema: {
      operationId: 'getOperatorQueue', summary: 'What waits for an operator, and dead-lettered jobs', tags: ['operators'], security: SECURED,
      response: responses({ 200: { description: 'the queue, oldest first', schema: QUEUE } }, SECURED_PROBLEMS),
    },
  }, async () => {
    const q = await operatorQueue(deps.db);
    return {
      items: q.items.map((i) => ({
        escalationId: i.escalationId, orderId: i.orderId, idempotencyKey: i.idempotencyKey, purpose: i.purpose, loanId: i.loanId, customerId: i.customerId,
        amount: formatYuan(i.amount), orderStatus: i.orderStatus, errorCode: i.errorCode, proposedStep: i.proposedStep, reason: i.reason, rule: i.rule,
        waitingSince: i.waitingSince.toISOString(), alerts: i.alerts.map((a) => ({ kind: a.kind, message: a.message, createdAt: a.createdAt.toISOString() })),
      })),
      deadLetters: q.deadLetters.map((d) => ({ id: d.id, queue: d.queue, jobId: d.jobId, payload: d.payload, error: d.error, createdAt: d.createdAt.toISOString() })),
    };
  });

  const escalation = async () => {
    if (!deps.escalationDeps) throw new ApiProblem(503, 'ESCALATION_UNAVAILABLE', 'this server has no escalation rules loaded');
    return deps.escalationDeps();
  };
  /** A state that does not allow the action is a conflict, not a server error. */
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof LendpayError && (e.code === 'CONFLICT' || e.code === 'INVALID_INPUT')) throw new ApiProblem(409, e.code, e.message);
      throw e;
    }
  };
  const actionProblems = [...SECURED_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 503] as const;

  app.post<{ Params: { id: string }; Body: { step?: (typeof STEPS)[number]; reason?: string } }>('/ops/orders/:id/confirm', {
    config: { role: 'operator' },
    preValidation: refuseBy,
    schema: {
      operationId: 'confirmEscalation', summary: 'Carry out the proposed escalation step (or the named one); recorded under the token\'s name', tags: ['operators'], security: SECURED, params: ORDER_PARAMS,
      body: { type: 'object', additionalProperties: false, properties: { step: { type: 'string', enum: [...STEPS] }, reason: REASON } },
      response: responses({ 200: { description: 'what was done', schema: CONFIRMED } }, actionProblems),
    },
  }, async (req) => run(async () => {
    const by = actor(req);
    const body = req.body ?? {};
    const r = await confirmEscalation(await escalation(), { orderId: Number(req.params.id), by, ...(body.step ? { step: body.step } : {}), ...(body.reason ? { reason: body.reason } : {}) });
    return { orderId: Number(req.params.id), done: r.done, message: r.message, newOrderId: r.newOrderId ?? null, by };
  }));

  app.post<{ Params: { id: string }; Body: { reason: string } }>('/ops/orders/:id/reject', {
    config: { role: 'operator' },
    preValidation: refuseBy,
    schema: {
      operationId: 'rejectEscalation', summary: 'Do not carry out the escalation: the order stays failed; recorded under the token\'s name', tags: ['operators'], security: SECURED, params: ORDER_PARAMS,
      body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: REASON } },
      response: responses({ 200: { description: 'rejected', schema: REJECTED } }, actionProblems),
    },
  }, async (req) => run(async () => {
    const by = actor(req);
    await rejectEscalation(await escalation(), { orderId: Number(req.params.id), by, reason: req.body.reason });
    return { orderId: Number(req.params.id), rejected: true as const, by };
  }));

  app.post<{ Params: { id: string }; Body: { reason?: string } }>('/ops/orders/:id/reprocess', {
    config: { role: 'operator' },
    preValidation: refuseBy,
    schema: {
      operationId: 'reprocessOrder', summary: 'Reprocess one order now (query an unknown outcome, send a created order, run its escalation); recorded under the token\'s name', tags: ['operators'], security: SECURED, params: ORDER_PARAMS,
      body: { type: 'object', additionalProperties: false, properties: { reason: REASON } },
      response: responses({ 200: { description: 'what was done (a settled order: nothing, and says so)', schema: REPROCESSED } }, actionProblems),
    },
  }, async (req) => run(async () => {
    const by = actor(req);
    const r = await reprocessByOperator(await escalation(), { orderId: Number(req.params.id), by, reason: req.body?.reason ?? null });
    return { orderId: r.orderId, action: r.action, message: r.message, by };
  }));

  app.post<{ Params: { customerId: string }; Body: { reason: string } }>('/ops/holds/:customerId/release', {
    config: { role: 'operator' },
    preValidation: refuseBy,
    schema: {
      operationId: 'releaseHold', summary: 'Clear the customer\'s open hold and lift the outflow block (the debt stays owed); recorded under the token\'s name', tags: ['operators'], security: SECURED,
      params: { type: 'object', required: ['customerId'], properties: { customerId: ID } },
      body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 3, maxLength: 1000, pattern: '\\S' } } },
      response: responses({ 200: { description: 'released', schema: RELEASED } }, [...SECURED_PROBLEMS, ...BODY_PROBLEMS, 404, 409]),
    },
  }, async (req) => {
    const by = actor(req);
    const d = await deps.disburseDeps();
    const r = await releaseHold({ db: deps.db, channel: d.channel, clock: deps.clock }, { customerId: req.params.customerId, by, reason: req.body.reason });
    return { customerId: r.customerId, holdId: r.holdId, amount: formatYuan(r.amountFen), auditId: r.auditId, unblocked: r.unblocked, by };
  });
}
