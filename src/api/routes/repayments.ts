// POST /loans/{id}/repayments: the borrower repays from a bound card (a collection
// 代收 order); the Idempotency-Key is the repayment's request id, as with the CLI's
// `lendpay repay --request-id`. Clears a hold it covers and lifts the outflow block.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { repayFromCard } from '../../collection/repay.ts';
import { parseYuan } from '../../money.ts';
import { ApiProblem, badField, orderSummary, refusal } from '../problem.ts';
import { BODY_PROBLEMS, ID, SECURED, SECURED_PROBLEMS, WRITE_HEADERS, YUAN_IN, responses } from '../schemas.ts';
import { SCHEMA_PARTS } from '../views.ts';

const { obj, str, nstr, yuan } = SCHEMA_PARTS;
/** An order as a repayment or prepayment answers with it (problem.ts orderSummary). */
export const ORDER_SUMMARY_SCHEMA = obj({ id: { type: 'integer' }, idempotencyKey: str, status: { type: 'string', enum: ['created', 'submitted', 'unknown', 'succeeded', 'failed', 'voided'] }, amount: yuan, errorCode: nstr });
const REPAYMENT = obj({
  order: ORDER_SUMMARY_SCHEMA,
  holdCleared: { type: 'boolean', description: 'the repayment covered an open hold: it is cleared and the outflow block lifted' },
});

export function repaymentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Params: { id: string }; Body: { cardId: string; amount: string }; Headers: { 'idempotency-key': string } }>('/loans/:id/repayments', {
    config: { role: 'write', idempotent: true },
    schema: {
      operationId: 'repayLoan',
      summary: 'Repay a loan from a bound bank card (collection order); clears a hold it covers',
      tags: ['loans'],
      security: SECURED,
      headers: WRITE_HEADERS,
      params: { type: 'object', required: ['id'], properties: { id: ID } },
      body: { type: 'object', required: ['cardId', 'amount'], additionalProperties: false, properties: { cardId: ID, amount: YUAN_IN } },
      response: responses({
        201: { description: 'the collection order of this repayment', schema: REPAYMENT },
        200: { description: 'a replay: the repayment this Idempotency-Key made before', schema: REPAYMENT },
      }, [...SECURED_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 422, 503]),
    },
  }, async (req, reply) => {
    if (!deps.collectionDeps) throw new ApiProblem(503, 'COLLECTION_UNAVAILABLE', 'this server has no collection rules loaded');
    const amount = parseYuan(req.body.amount, 'body.amount');
    if (amount <= 0) throw badField('body.amount', 'must be more than 0.00');
    const r = await repayFromCard(await deps.collectionDeps(), { loanId: req.params.id, cardId: req.body.cardId, amount, requestId: req.headers['idempotency-key'] });
    if (!r.ok) throw refusal(r);
    return reply.code(r.replay ? 200 : 201).send({
      order: orderSummary(r.order),
      holdCleared: r.holdCleared,
    });
  });
}
