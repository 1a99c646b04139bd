// A customer as the operators see it (no name: the business system has it, and
// nothing here should spread it), and whether an outflow is allowed now. Role read.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { getCustomerRecord } from '../../../db/customers.repository.ts';
import { getDecision } from '../../../db/eligibility.repository.ts';
import { latestDecision, loansOfCustomer, openHoldsOf } from '../../../db/api.repository.ts';
import { formatYuan } from '../../money.ts';
import { loanPositions } from '../../../db/loans.repository.ts';
import { businessDateAt } from '../../dates.ts';
import { notFound } from '../problem.ts';
import { DECISION_SCHEMA, HOLD_SCHEMA, SCHEMA_PARTS, decisionView } from '../views.ts';
import { ID, SECURED, SECURED_PROBLEMS, responses } from '../schemas.ts';
import { customerExists } from './eligibility.ts';

const PARAMS = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const { obj, str, yuan, date, time } = SCHEMA_PARTS;

const CUSTOMER = obj({
  id: str,
  segment: { type: 'string', enum: ['supply_chain', 'open_platform', 'external'] },
  realNameVerified: { type: 'boolean' },
  whitelist: { ...obj({ limit: yuan, expiresOn: { ...date, nullable: true } }), nullable: true },
  accounts: { type: 'array', items: obj({ id: str, primary: { type: 'boolean' } }) },
  bankCards: { type: 'array', items: obj({ id: str, bank: str, last4: { type: 'string', pattern: '^[0-9]{4}$' } }) },
  decision: { ...DECISION_SCHEMA, nullable: true },
  loans: {
    type: 'array',
    items: obj({
      id: str, principal: yuan, status: str, createdAt: time, product: { type: 'string', nullable: true },
      unpaid: { ...yuan, description: 'everything still owed, due or not' }, penalty: { ...yuan, description: 'overdue penalty (罚息) accrued and unpaid' },
      dueNow: { ...yuan, description: 'what has fallen due and is unpaid, penalty included' },
    }),
  },
  holds: { type: 'array', items: HOLD_SCHEMA },
});

const OUTFLOW = obj({
  customerId: str,
  allowed: { type: 'boolean' },
  reason: { type: 'string', enum: ['OPEN_HOLD', null], nullable: true, description: 'null when allowed; OPEN_HOLD when a hold blocks outflows' },
  holds: { type: 'array', items: HOLD_SCHEMA },
});

const holdView = (h: { id: number; amount: number; asOfDate: string; openedAt: Date }) => ({ id: h.id, amount: formatYuan(h.amount), asOfDate: h.asOfDate, openedAt: h.openedAt.toISOString() });

export function customerRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Params: { id: string } }>('/customers/:id', {
    config: { role: 'read' },
    schema: {
      operationId: 'getCustomer', summary: 'A customer: accounts, cards (last 4 only), latest decision, loans, open holds', tags: ['customers'], security: SECURED, params: PARAMS,
      response: responses({ 200: { description: 'the customer', schema: CUSTOMER } }, [...SECURED_PROBLEMS, 400, 404]),
    },
  }, async (req) => {
    const c = await getCustomerRecord(deps.db, req.params.id);
    if (!c) throw notFound(`no customer ${req.params.id}`);
    const latest = await latestDecision(deps.db, c.id);
    const d = latest ? await getDecision(deps.db, c.id, latest.businessDate) : null;
    const loans = await loansOfCustomer(deps.db, c.id);
    const positions = new Map((await loanPositions(deps.db, c.id, businessDateAt(deps.clock.now()))).map((p) => [p.id, p]));
    const holds = await openHoldsOf(deps.db, c.id);
    return {
      id: c.id, segment: c.segment, realNameVerified: c.realNameVerified,
      whitelist: c.whitelist ? { limit: formatYuan(c.whitelist.limit), expiresOn: c.whitelist.expiresOn } : null,
      accounts: c.accounts.map((a) => ({ id: a.id, primary: a.primary })),
      bankCards: c.bankCards.map((k) => ({ id: k.id, bank: k.bank, last4: k.last4 })),
      decision: d ? decisionView(d) : null,
      loans: loans.map((l) => {
        const p = positions.get(l.id);
        return {
          id: l.id, principal: formatYuan(l.principal), status: l.status, createdAt: l.createdAt.toISOString(),
          product: p?.productId ?? null, unpaid: formatYuan(p?.unpaid ?? 0), penalty: formatYuan(p?.penalty ?? 0), dueNow: formatYuan(p?.dueNow ?? 0),
        };
      }),
      holds: holds.map(holdView),
    };
  });

  // The marketplace asks before every withdrawal. Blocked while the customer has an
  // open hold (挂账, collection); the platform-side block is the hold monitor's job.
  app.get<{ Params: { id: string } }>('/customers/:id/outflow', {
    config: { role: 'read' },
    schema: {
      operationId: 'getCustomerOutflow', summary: 'May the customer make an outflow (withdrawal) now?', tags: ['customers'], security: SECURED, params: PARAMS,
      response: responses({ 200: { description: 'allowed, or why not', schema: OUTFLOW } }, [...SECURED_PROBLEMS, 400, 404]),
    },
  }, async (req) => {
    if (!(await customerExists(deps, req.params.id))) throw notFound(`no customer ${req.params.id}`);
    const holds = await openHoldsOf(deps.db, req.params.id);
    return {
      customerId: req.params.id,
      allowed: holds.length === 0,
      reason: holds.length === 0 ? null : 'OPEN_HOLD',
      holds: holds.map(holdView),
    };
  });
}
