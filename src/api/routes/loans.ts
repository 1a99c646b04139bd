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
import { ID, PROBLEM, SECURED, WRITE_HEADERS, YUAN_IN } from '../schemas.ts';

interface LoanBody {
  customerId: string;
  amount: string;
  rail: 'balance' | 'card';
  destinationId?: string;
}

export function loanRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Body: LoanBody; Headers: { 'idempotency-key': string } }>('/loans', {
    config: { auth: true, idempotent: true },
    schema: {
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
      response: { 400: PROBLEM, 401: PROBLEM, 409: PROBLEM, 422: PROBLEM },
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
    // the group hands back the orders it made; a replay reads them as they stand now
    const orders = res.orders ?? (await ordersOfLoan(deps.db, res.loan.id));
    return reply.code(res.replay ? 200 : 201).send({ loan: loanView(res.loan), orders: orders.map(orderView) });
  });

  app.get<{ Params: { id: string } }>('/loans/:id', {
    schema: { summary: 'A loan and its orders', tags: ['loans'], params: { type: 'object', required: ['id'], properties: { id: ID } } },
  }, async (req) => {
    const l = await getLoan(deps.db, req.params.id);
    if (!l) throw notFound(`no loan ${req.params.id}`);
    const orders = await ordersOfLoan(deps.db, l.id);
    return { loan: loanView(l), orders: orders.map(orderView) };
  });
}
