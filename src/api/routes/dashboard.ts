// The operators' dashboard: one page (GET /) that polls GET /dashboard/summary and
// opens any order's timeline through GET /orders/{id}.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import {
  loansByStatus, openHoldTotals, ordersByKindAndState, recentBatchRuns, recentLoans, stuckOrders,
} from '../../../db/api.repository.ts';
import { formatYuan } from '../../money.ts';
import { DASHBOARD_HTML } from '../dashboard-page.ts';
import { operatorQueue } from '../../../db/escalation.repository.ts';
import { openAlerts } from '../../../db/alerts.repository.ts';

/** The order states in funnel order: every order enters at `created`. */
const FUNNEL = ['created', 'submitted', 'unknown', 'succeeded', 'failed', 'voided'] as const;

export function dashboardRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      // The page has no third-party anything: scripts and styles are its own, inline.
      .header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
      .header('x-content-type-options', 'nosniff')
      .send(DASHBOARD_HTML));

  app.get('/dashboard/summary', { config: { role: 'read' }, schema: { hide: true } }, async () => {
    const now = deps.clock.now();
    const [runs, byState, stuck, loans, loanStates, holds, queue] = await Promise.all([
      recentBatchRuns(deps.db, 20),
      ordersByKindAndState(deps.db),
      stuckOrders(deps.db, new Date(now.getTime() - deps.stuckAfterMinutes * 60_000), 50),
      recentLoans(deps.db, 20),
      loansByStatus(deps.db),
      openHoldTotals(deps.db),
      operatorQueue(deps.db, 100),
    ]);
    const alerts = await openAlerts(deps.db, 50);
    const funnel = FUNNEL.map((state) => ({
      state,
      count: byState.filter((r) => r.status === state).reduce((s, r) => s + r.count, 0),
      byKind: Object.fromEntries(byState.filter((r) => r.status === state).map((r) => [r.kind, r.count])),
    }));
    return {
      now: now.toISOString(),
      stuckAfterMinutes: deps.stuckAfterMinutes,
      runs: runs.map((r) => ({ ...r, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null })),
      funnel,
      stuck: stuck.map((o) => ({ ...o, amount: formatYuan(o.amount), updatedAt: o.updatedAt.toISOString() })),
      loans: loans.map((l) => ({ ...l, principal: formatYuan(l.principal), createdAt: l.createdAt.toISOString() })),
      loansByStatus: loanStates,
      holds: { open: holds.holds, blockedBorrowers: holds.customers, amount: formatYuan(holds.amount) },
      operatorQueue: {
        size: queue.items.length,
        items: queue.items.map((i) => ({ orderId: i.orderId, key: i.idempotencyKey, amount: formatYuan(i.amount), status: i.orderStatus, errorCode: i.errorCode, step: i.proposedStep, reason: i.reason, since: i.waitingSince.toISOString() })),
        deadLetters: queue.deadLetters.length,
      },
      alerts: alerts.map((a) => ({ id: a.id, severity: a.severity ?? 'warning', rule: a.rule ?? a.kind, message: a.message, at: a.createdAt.toISOString() })),
    };
  });
}
