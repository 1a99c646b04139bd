// GET /orders/{id}: an order and its timeline (creation, each attempt with its request
// id and status queries, journal entries), by numeric id or by idempotency key.
// The decision and loan behind it, status queries on the ladder, escalation steps,
// operator actions and alerts come from the escalation's timeline.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { attemptsOf, getOrder, getOrderByKey, type Order } from '../../../db/orders.repository.ts';
import { attemptQueries, journalOfOrder } from '../../../db/api.repository.ts';
import { orderTimeline as escalationTimeline } from '../../../db/escalation.repository.ts';
import { formatYuan } from '../../money.ts';
import { notFound } from '../problem.ts';
import { ATTEMPT_SCHEMA, ORDER_SCHEMA, SCHEMA_PARTS, attemptView, orderView } from '../views.ts';
import { ID, SECURED, SECURED_PROBLEMS, responses } from '../schemas.ts';

const { obj, str, yuan, time } = SCHEMA_PARTS;
const TIMELINE_KINDS = ['created', 'attempt.submitted', 'attempt.resolved', 'journal', 'state', 'decision', 'loan', 'query', 'escalation', 'operator', 'alert', 'reissue'] as const;
const ORDER_TIMELINE = obj({
  order: ORDER_SCHEMA,
  attempts: { type: 'array', items: ATTEMPT_SCHEMA },
  journal: { type: 'array', items: obj({ id: { type: 'integer' }, kind: str, memo: { type: 'string', nullable: true }, postedAt: time, lines: { type: 'array', items: obj({ account: str, debit: yuan, credit: yuan }) } }) },
  timeline: { type: 'array', items: obj({ at: time, kind: { type: 'string', enum: [...TIMELINE_KINDS] }, text: str }) },
});

export interface TimelineEvent {
  at: string;
  kind: 'created' | 'attempt.submitted' | 'attempt.resolved' | 'journal' | 'state' | 'decision' | 'loan' | 'query' | 'escalation' | 'operator' | 'alert' | 'reissue';
  text: string;
}

export async function orderTimeline(deps: ApiDeps, order: Order) {
  const [attempts, queries, journal] = await Promise.all([attemptsOf(deps.db, order.id), attemptQueries(deps.db, order.id), journalOfOrder(deps.db, order.id)]);
  const events: TimelineEvent[] = [{ at: order.createdAt.toISOString(), kind: 'created', text: `${order.kind} order ${order.idempotencyKey} created for ${formatYuan(order.amount)}: ${order.sourceRef} → ${order.destinationRef}` }];
  for (const a of attempts) {
    events.push({ at: a.submittedAt.toISOString(), kind: 'attempt.submitted', text: `attempt ${a.attemptNo} submitted as request ${a.requestId}` });
    const q = queries.get(a.attemptNo);
    if (a.resolvedAt) {
      events.push({
        at: a.resolvedAt.toISOString(), kind: 'attempt.resolved',
        text: `attempt ${a.attemptNo} ${a.status}${a.errorCode ? ` (${a.errorCode})` : ''}${a.platformRef ? `, platform ref ${a.platformRef}` : ''}${q && q.queries > 0 ? `, after ${q.queries} status queries` : ''}`,
      });
    }
  }
  for (const e of journal) {
    events.push({
      at: e.postedAt.toISOString(), kind: 'journal',
      text: `journal ${e.kind}: ${e.lines.map((l) => `${l.debit > 0 ? `Dr ${l.account} ${formatYuan(l.debit)}` : `Cr ${l.account} ${formatYuan(l.credit)}`}`).join(', ')}`,
    });
  }
  const more = await escalationTimeline(deps.db, order.id);
  for (const e of more?.events ?? []) {
    if (e.kind === 'decision' || e.kind === 'loan' || e.kind === 'query' || e.kind === 'escalation' || e.kind === 'operator' || e.kind === 'alert' || e.kind === 'reissue') {
      events.push({ at: e.at.toISOString(), kind: e.kind, text: e.text });
    }
  }
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  events.push({ at: order.updatedAt.toISOString(), kind: 'state', text: `now ${order.status}${order.errorCode ? ` (${order.errorCode})` : ''}` });
  return {
    order: orderView(order),
    attempts: attempts.map((a) => attemptView(a, queries.get(a.attemptNo))),
    journal: journal.map((e) => ({ id: e.id, kind: e.kind, memo: e.memo, postedAt: e.postedAt.toISOString(), lines: e.lines.map((l) => ({ account: l.account, debit: formatYuan(l.debit), credit: formatYuan(l.credit) })) })),
    timeline: events,
  };
}

export function orderRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Params: { id: string } }>('/orders/:id', {
    config: { role: ['read', 'write'] },
    schema: {
      operationId: 'getOrder',
      summary: 'An order with its timeline: attempts, status queries, journal entries',
      tags: ['orders'],
      security: SECURED,
      response: responses({ 200: { description: 'the order and its timeline, in time order', schema: ORDER_TIMELINE } }, [...SECURED_PROBLEMS, 400, 404]),
      params: { type: 'object', required: ['id'], properties: { id: { ...ID, description: 'the order id, or its idempotency key (e.g. disburse:L1001:payout)' } } },
    },
  }, async (req) => {
    const ref = req.params.id;
    const order = /^[0-9]{1,15}$/.test(ref) ? await getOrder(deps.db, Number(ref)) : await getOrderByKey(deps.db, ref);
    if (!order) throw notFound(`no order ${ref}`);
    return orderTimeline(deps, order);
  });
}
