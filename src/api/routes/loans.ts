// POST /loans: apply and disburse (the Idempotency-Key is the business request id,
// so a replay through the API or the CLI finds the same loan), as a product of
// rules/products.json (or the default one), or on the request's own schedule.
// GET /loans/{id}: the loan, its product, its installments and its orders.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { applyForProduct } from '../../loans/apply.ts';
import { loanScheduleView } from '../../loans/view.ts';
import { getLoan, installmentsOf } from '../../../db/loans.repository.ts';
import { ordersOfLoan } from '../../../db/orders.repository.ts';
import { parseYuan } from '../../money.ts';
import { businessDateAt } from '../../dates.ts';
import { ApiProblem, badField, notFound } from '../problem.ts';
import { loanView, orderView } from '../views.ts';
import { BODY_PROBLEMS, ID, SECURED, SECURED_PROBLEMS, WRITE_HEADERS, YUAN_IN, responses } from '../schemas.ts';
import { LOAN_WITH_ORDERS_SCHEMA } from '../views.ts';

interface LoanBody {
  customerId: string;
  amount: string;
  rail: 'balance' | 'card';
  destinationId?: string;
  product?: string;
  term?: number;
  schedule?: unknown[];
}

const REQUEST_FIELD = { product: 'body.product', term: 'body.term', amount: 'body.amount', rail: 'body.rail', schedule: 'body.schedule' } as const;

export function loanRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Body: LoanBody; Headers: { 'idempotency-key': string } }>('/loans', {
    config: { role: 'write', idempotent: true },
    schema: {
      operationId: 'applyForLoan',
      summary: 'Apply for a loan of a product (or on your own schedule) and disburse it (collection into the lender account, then payout to the borrower)',
      tags: ['loans'],
      security: SECURED,
      headers: WRITE_HEADERS,
      body: {
        type: 'object',
        required: ['customerId', 'amount', 'rail'],
        additionalProperties: false,
        properties: {
          customerId: ID, amount: YUAN_IN, rail: { type: 'string', enum: ['balance', 'card'] }, destinationId: ID,
          product: { ...ID, description: 'a product id of rules/products.json; absent: the default product' },
          term: { type: 'integer', minimum: 1, maximum: 365, description: 'in the product\'s unit (days or months), where the product allows a range; absent: its default' },
          schedule: {
            type: 'array', minItems: 1, maxItems: 1000,
            description: 'your own schedule instead of the product\'s: [{dueDate, principal, interest}], due dates ascending and after today, principals adding up to the amount',
            items: { type: 'object' },
          },
        },
      },
      response: responses({
        201: { description: 'the loan, created, with its orders (collection into the lender account, payout)', schema: LOAN_WITH_ORDERS_SCHEMA },
        200: { description: 'a replay: the loan this Idempotency-Key created before', schema: LOAN_WITH_ORDERS_SCHEMA },
      }, [...SECURED_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 422]),
    },
  }, async (req, reply) => {
    const amount = parseYuan(req.body.amount, 'body.amount');
    if (amount <= 0) throw badField('body.amount', 'must be more than 0.00');
    const rules = deps.rules ? await deps.rules() : null;
    const res = await applyForProduct(await deps.disburseDeps(), rules?.products ?? null, {
      customerId: req.body.customerId, amount, rail: req.body.rail, requestId: req.headers['idempotency-key'],
      destinationId: req.body.destinationId ?? null, product: req.body.product, term: req.body.term, schedule: req.body.schedule,
    });
    if (!res.ok) {
      if ('problems' in res) {
        const errors = res.problems.map((p) => ({ path: `${REQUEST_FIELD[p.field]}${p.at.replace(/^\$/, '')}`, message: p.message }));
        // a schedule that does not hold together is bad input (fix it, same key); the rest the product refuses
        const status = res.problems.every((p) => p.code === 'INVALID_SCHEDULE') ? 400 : 422;
        throw new ApiProblem(status, status === 400 ? 'INVALID_INPUT' : res.code, errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
      }
      if (res.code === 'CUSTOMER_NOT_FOUND') throw new ApiProblem(404, res.code, res.message);
      if (res.code === 'REQUEST_ID_REUSED') throw new ApiProblem(409, res.code, res.message);
      throw new ApiProblem(422, res.code, res.message);
    }
    // the group hands back the orders it made; a replay reads them as they stand now
    const orders = res.orders ?? (await ordersOfLoan(deps.db, res.loan.id));
    const installments = res.installments ?? (await installmentsOf(deps.db, res.loan.id));
    return reply.code(res.replay ? 200 : 201).send({
      loan: { ...loanView(res.loan), ...loanScheduleView(res.loan, installments, businessDateAt(deps.clock.now())) },
      orders: orders.map(orderView),
    });
  });

  app.get<{ Params: { id: string } }>('/loans/:id', {
    config: { role: ['read', 'write'] },
    schema: {
      operationId: 'getLoan', summary: 'A loan, its product and installments, and its orders', tags: ['loans'], security: SECURED, params: { type: 'object', required: ['id'], properties: { id: ID } },
      response: responses({ 200: { description: 'the loan', schema: LOAN_WITH_ORDERS_SCHEMA } }, [...SECURED_PROBLEMS, 400, 404]),
    },
  }, async (req) => {
    const l = await getLoan(deps.db, req.params.id);
    if (!l) throw notFound(`no loan ${req.params.id}`);
    const orders = await ordersOfLoan(deps.db, l.id);
    const installments = await installmentsOf(deps.db, l.id);
    return { loan: { ...loanView(l), ...loanScheduleView(l, installments, businessDateAt(deps.clock.now())) }, orders: orders.map(orderView) };
  });
}
