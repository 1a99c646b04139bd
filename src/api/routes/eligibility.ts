// POST /eligibility/check: the customer's latest decision and the credit still available.
// A read with a body, so no Idempotency-Key; it is the loan business system's (role write).
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { getDecision } from '../../../db/eligibility.repository.ts';
import { latestDecision, loansOfCustomer } from '../../../db/api.repository.ts';
import { formatYuan, type Fen } from '../../money.ts';
import { notFound } from '../problem.ts';
import { BODY_PROBLEMS, ID, SECURED, SECURED_PROBLEMS, responses } from '../schemas.ts';
import { SCHEMA_PARTS } from '../views.ts';

const { obj, str, yuan, date } = SCHEMA_PARTS;

const CHECK = obj({
  customerId: str,
  eligible: { type: 'boolean' },
  door: { type: 'string', enum: ['whitelist', 'auto_tag', null], nullable: true },
  reasons: { type: 'array', items: str, description: 'why not eligible (NO_DECISION: no nightly decision yet)' },
  limit: yuan,
  outstanding: yuan,
  available: yuan,
  decision: { ...obj({ businessDate: date, ruleSetHash: str, fired: { type: 'array', items: str } }), nullable: true },
});

export async function customerExists(deps: ApiDeps, id: string): Promise<boolean> {
  return (await deps.db.selectFrom('customers').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export function eligibilityRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Body: { customerId: string } }>('/eligibility/check', {
    config: { role: 'write' },
    schema: {
      operationId: 'checkEligibility',
      summary: 'Eligibility and credit of a customer, as of the latest nightly decision',
      tags: ['eligibility'],
      security: SECURED,
      body: { type: 'object', required: ['customerId'], additionalProperties: false, properties: { customerId: ID } },
      response: responses({ 200: { description: 'the decision and the credit available now', schema: CHECK } }, [...SECURED_PROBLEMS, ...BODY_PROBLEMS, 404]),
    },
  }, async (req) => {
    const id = req.body.customerId;
    if (!(await customerExists(deps, id))) throw notFound(`no customer ${id}`);
    const latest = await latestDecision(deps.db, id);
    const d = latest ? await getDecision(deps.db, id, latest.businessDate) : null;
    if (!d) return { customerId: id, eligible: false, door: null, reasons: ['NO_DECISION'], limit: '0.00', outstanding: '0.00', available: '0.00', decision: null };
    const outstanding = (await loansOfCustomer(deps.db, id)).filter((l) => l.status !== 'failed').reduce((s, l) => s + l.principal, 0) as Fen;
    const available = d.eligible ? Math.max(0, d.limit - outstanding) : 0;
    return {
      customerId: id, eligible: d.eligible, door: d.door, reasons: d.reasons, limit: formatYuan(d.limit),
      outstanding: formatYuan(outstanding), available: formatYuan(available),
      decision: { businessDate: d.businessDate, ruleSetHash: d.ruleSetHash, fired: d.fired },
    };
  });
}
