// POST /loans: apply and disburse (the Idempotency-Key is the business request id,
// so a replay through the API or the CLI finds the same loan). GET /loans/{id}.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { applyForLoan } from '../../disbursement/disburse.ts';
import { getLoan } from '../../../db/loans.repository.ts';
import { ordersOfLoan } from '../../../db/orders.repository.ts';
import { parseYuan } from '../../money.ts';
import { ApiProblem, badField, notFound } from '../problem.ts';
import { loanView, orderView } from '../views.ts';
import { BODY_PROBLEMS, ID, SECURED, SECURED_PROBLEMS, WRITE_HEADERS, YUAN_IN, responses } from '../schemas.ts';
import { LOAN_WITH_ORDERS_SCHEMA } from '../views.ts';

interface LoanBody {
  customerId: string;
  amount: string;
  rail: 'balance' | 'card';
  destinationId?: string;
}

export function loanRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Body: LoanBody; Headers: { 'idempotency-key': string } }>('/loans', {
    config: { role: 'write', idempotent: true },
    schema: {
      operationId: 'applyForLoan',
      summary: 'Apply for a loan and disburse it (collection into the lender account, then payout to the borrower)',
      tags: ['loans'],
      security: SECURED,
      headers: WRITE_HEADERS,
      body: {
        type: 'object',
        required: ['customerId', 'amount', 'rail'],
        additionalProperties: false,
        properties: { customerId: ID, amount: YUAN_IN, rail: { type: 'string', enum: ['balance', 'card'] }, destinationId: ID },
      },
      response: responses({
        201: { description: 'the loan, created, with its orders (collection into the lender account, payout)', schema: LOAN_WITH_ORDERS_SCHEMA },
        200: { description: 'a replay: the loan this Idempotency-Key created before', schema: LOAN_WITH_ORDERS_SCHEMA },
      }, [...SECURED_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 422]),
    },
  }, async (req, reply) => {
    const amount = parseYuan(req.body.amount, 'body.amount');
    if (amount <= 0) throw badField('body.amount', 'must be more than 0.00');
    const res = await applyForLoan(await deps.disburseDeps(), {
      customerId: req.body.customerId, amount, rail: req.body.rail, requestId: req.headers['idempotency-key'],
      destinationId: req.body.destinationId ?? null,
    });
    if (!res.ok) {
      if (res.code === 'CUSTOMER_NOT_FOUND') throw new ApiProblem(404, res.code, res.message);
      if (res.code === 'REQUEST_ID_REUSED') throw new ApiProblem(409, res.code, res.message);
      throw new ApiProblem(422, res.code, res.message);
    }
    const orders = await ordersOfLoan(deps.db, res.loan.id);
    return reply.code(res.replay ? 200 : 201).send({ loan: loanView(res.loan), orders: orders.map(orderView) });
  });

  app.get<{ Params: { id: string } }>('/loans/:id', {
    config: { role: ['read', 'write'] },
    schema: {
      operationId: 'getLoan', summary: 'A loan and its orders', tags: ['loans'], security: SECURED, params: { type: 'object', required: ['id'], properties: { id: ID } },
      response: responses({ 200: { description: 'the loan', schema: LOAN_WITH_ORDERS_SCHEMA } }, [...SECURED_PROBLEMS, 400, 404]),
    },
  }, async (req) => {
    const l = await getLoan(deps.db, req.params.id);
    if (!l) throw notFound(`no loan ${req.params.id}`);
    const orders = await ordersOfLoan(deps.db, l.id);
    return { loan: loanView(l), orders: orders.map(orderView) };
  });
}
