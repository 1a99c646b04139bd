// Prepayment (提前还款): GET /loans/{id}/payoff?date=D quotes what closes the loan;
// POST /loans/{id}/prepayments {cardId, amount?} pays it (or part of it) from a bound
// card, as `lendpay loan payoff` and `lendpay repay --prepay`.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { prepayFromCard, quotePayoff } from '../../collection/prepay.ts';
import { payoffView } from '../../loans/view.ts';
import { parseBusinessDate } from '../../dates.ts';
import { parseYuan } from '../../money.ts';
import { ApiProblem, badField, orderSummary, refusal } from '../problem.ts';
import { BODY_PROBLEMS, ID, SECURED, SECURED_PROBLEMS, WRITE_HEADERS, YUAN_IN, responses } from '../schemas.ts';
import { SCHEMA_PARTS } from '../views.ts';
import { ORDER_SUMMARY_SCHEMA } from './repayments.ts';

const PARAMS = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const { obj, str, yuan, date } = SCHEMA_PARTS;

export const PAYOFF_SCHEMA = obj({
  loanId: str, date, principal: yuan, prepaidPrincipal: yuan, interestDue: yuan, interestAccrued: yuan, penalty: yuan, fee: yuan, total: yuan,
  currentPeriod: {
    ...obj({ no: { type: 'integer' }, from: date, to: date, days: { type: 'integer' }, elapsed: { type: 'integer' } }),
    nullable: true, description: 'the installment whose period the date falls in; null past the last due date',
  },
});

const PREPAYMENT = obj({
  order: ORDER_SUMMARY_SCHEMA,
  quote: { ...PAYOFF_SCHEMA, nullable: true, description: 'the payoff it paid (no amount asked); null for a part' },
  prepayment: { type: 'string', description: 'what the prepayment did: paid what was due, took principal off the last installments, closed the loan' },
  loanClosed: { type: 'boolean' },
  holdCleared: { type: 'boolean' },
});

export function prepaymentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Params: { id: string }; Querystring: { date?: string } }>('/loans/:id/payoff', {
    config: { role: ['read', 'write'] },
    schema: {
      operationId: 'quotePayoff',
      summary: 'What closes the loan on a date: principal, interest due and of the current period so far, penalty, prepayment fee',
      tags: ['loans'],
      security: SECURED,
      params: PARAMS,
      querystring: { type: 'object', additionalProperties: false, properties: { date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } } },
      response: responses({ 200: { description: 'the payoff quote', schema: PAYOFF_SCHEMA } }, [...SECURED_PROBLEMS, 400, 404]),
    },
  }, async (req) => {
    const date = req.query.date === undefined ? undefined : parseBusinessDate(req.query.date, 'querystring.date');
    return payoffView(await quotePayoff(deps, req.params.id, date));
  });

  app.post<{ Params: { id: string }; Body: { cardId: string; amount?: string }; Headers: { 'idempotency-key': string } }>('/loans/:id/prepayments', {
    config: { role: 'write', idempotent: true },
    schema: {
      operationId: 'prepayLoan',
      summary: 'Prepay a loan from a bound bank card: the payoff (no amount; closes the loan) or part of it (what is due first, then principal off the last installments)',
      tags: ['loans'],
      security: SECURED,
      headers: WRITE_HEADERS,
      params: PARAMS,
      body: { type: 'object', required: ['cardId'], additionalProperties: false, properties: { cardId: ID, amount: YUAN_IN } },
      response: responses({
        201: { description: 'the collection order of this prepayment, and what it did', schema: PREPAYMENT },
        200: { description: 'a replay: the prepayment this Idempotency-Key made before', schema: PREPAYMENT },
      }, [...SECURED_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 422, 503]),
    },
  }, async (req, reply) => {
    if (!deps.collectionDeps) throw new ApiProblem(503, 'COLLECTION_UNAVAILABLE', 'this server has no collection rules loaded');
    const amount = req.body.amount === undefined ? undefined : parseYuan(req.body.amount, 'body.amount');
    if (amount !== undefined && amount <= 0) throw badField('body.amount', 'must be more than 0.00');
    const r = await prepayFromCard(await deps.collectionDeps(), { loanId: req.params.id, cardId: req.body.cardId, amount, requestId: req.headers['idempotency-key'] });
    if (!r.ok) throw refusal(r);
    return reply.code(r.replay ? 200 : 201).send({
      order: orderSummary(r.order),
      quote: r.quote ? payoffView(r.quote) : null,
      prepayment: r.description,
      loanClosed: r.loanClosed,
      holdCleared: r.holdCleared,
    });
  });
}
