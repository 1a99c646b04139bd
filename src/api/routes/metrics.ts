// /metrics in Prometheus text format. Gauges are read from the database at each
// scrape (one grouped query each), so every worker reports the same shared truth
// and nothing is lost when a worker restarts. The text passes `promtool check
// metrics` without a warning (test/api/metrics.test.ts runs it). Role read, or
// public with LENDPAY_METRICS_PUBLIC=1.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { statementsSent } from '../../../db/connection.ts';
import { groupOf } from '../../disbursement/disburse.ts';
import type { ApiDeps } from '../server.ts';
import { PUBLIC, SECURED, SECURED_PROBLEMS, responses } from '../schemas.ts';
import {
  attemptsByOutcome, batchRunCounts, countStuckOrders, openHoldTotals, ordersByKindAndState, recentBatchRuns,
} from '../../../db/api.repository.ts';
import { openAlertCounts } from '../../../db/alerts.repository.ts';
import { operatorQueue } from '../../../db/escalation.repository.ts';

export function metricsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  let disburseUsed = false;
  app.addHook('onRequest', async (req) => {
    if (req.method === 'POST' && req.url.startsWith('/loans')) disburseUsed = true;
  });
  const registry = new Registry();
  // prom-client names its process metrics process_* and nodejs_*: prefixed with lendpay_
  // (not lendpay_process_, which doubled "process"). Its nodejs_active_*_total are
  // gauges, and a gauge named _total reads as a counter to Prometheus (promtool warns);
  // they are the sums of the nodejs_active_* gauges kept beside them, so they go.
  collectDefaultMetrics({ register: registry, prefix: 'lendpay_' });
  for (const name of ['lendpay_nodejs_active_handles_total', 'lendpay_nodejs_active_requests_total', 'lendpay_nodejs_active_resources_total']) registry.removeSingleMetric(name);
  const g = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Gauge<L>({ name, help, labelNames, registers: [registry] });
  const orders = g('lendpay_orders', 'orders by kind and state', ['kind', 'state']);
  const orderAmount = g('lendpay_orders_amount_fen', 'order amounts (fen) by kind and state', ['kind', 'state']);
  const attempts = g('lendpay_order_attempts', 'attempts by outcome and error code', ['outcome', 'error_code']);
  const stuck = g('lendpay_orders_stuck', 'orders submitted/unknown for longer than LENDPAY_STUCK_AFTER_MINUTES');
  const runs = g('lendpay_batch_runs', 'batch runs by kind and status', ['kind', 'status']);
  const chunks = g('lendpay_batch_chunks', 'chunks of recent batch runs', ['kind', 'business_date', 'run_id', 'state']);
  const progress = g('lendpay_batch_progress_ratio', 'done chunks / all chunks of recent batch runs', ['kind', 'business_date', 'run_id']);
  const duration = g('lendpay_batch_duration_seconds', 'duration of recent batch runs (running ones: so far)', ['kind', 'business_date', 'run_id']);
  const holds = g('lendpay_holds_open', 'open holds (挂账)');
  const blocked = g('lendpay_borrowers_blocked', 'borrowers whose outflows are blocked by an open hold');
  const heldAmount = g('lendpay_holds_open_amount_fen', 'amount on open holds (fen)');
  const queue = g('lendpay_operator_queue_size', 'orders waiting for an operator (escalation)');
  const alertsOpen = g('lendpay_alerts_open', 'open alerts by rule (or kind) and severity', ['rule', 'severity']);

  // this process's own work: what the benchmark divides by the loans it made
  new Counter({ name: 'lendpay_db_statements_total', help: 'SQL statements this process has sent to lendpay\'s database', registers: [registry], collect() {
    this.reset();
    this.inc(statementsSent());
  } });
  // the group commit queue exists once this process has taken an application
  const group = async () => (disburseUsed ? groupOf(await deps.disburseDeps().catch(() => null as never)) : undefined);
  new Counter({ name: 'lendpay_disburse_groups_total', help: 'loan application groups this process has run (group commit)', registers: [registry], async collect() {
    this.reset();
    this.inc((await group())?.stats.groups ?? 0);
  } });
  new Counter({ name: 'lendpay_disburse_group_items_total', help: 'loan applications in those groups', registers: [registry], async collect() {
    this.reset();
    this.inc((await group())?.stats.items ?? 0);
  } });

  async function refresh(): Promise<void> {
    const now = deps.clock.now();
    const [o, a, s, rc, recent, h, q] = await Promise.all([
      ordersByKindAndState(deps.db),
      attemptsByOutcome(deps.db),
      countStuckOrders(deps.db, new Date(now.getTime() - deps.stuckAfterMinutes * 60_000)),
      batchRunCounts(deps.db),
      recentBatchRuns(deps.db, 20),
      openHoldTotals(deps.db),
      deps.extensions?.operatorQueueSize?.(deps.db) ?? operatorQueue(deps.db).then((x) => x.items.length),
    ]);
    for (const m of [orders, orderAmount, attempts, runs, chunks, progress, duration]) m.reset();
    for (const r of o) {
      orders.set({ kind: r.kind, state: r.status }, r.count);
      orderAmount.set({ kind: r.kind, state: r.status }, r.amount);
    }
    for (const r of a) attempts.set({ outcome: r.status, error_code: r.errorCode }, r.count);
    stuck.set(s);
    for (const r of rc) runs.set({ kind: r.kind, status: r.status }, r.count);
    for (const r of recent) {
      const l = { kind: r.kind, business_date: r.businessDate, run_id: String(r.id) };
      chunks.set({ ...l, state: 'done' }, r.doneChunks);
      chunks.set({ ...l, state: 'pending' }, r.totalChunks - r.doneChunks);
      progress.set(l, r.totalChunks === 0 ? (r.status === 'running' ? 0 : 1) : r.doneChunks / r.totalChunks);
      duration.set(l, ((r.finishedAt ?? now).getTime() - r.startedAt.getTime()) / 1000);
    }
    holds.set(h.holds);
    blocked.set(h.customers);
    heldAmount.set(h.amount);
    queue.set(q);
    alertsOpen.reset();
    for (const a of await openAlertCounts(deps.db)) alertsOpen.set({ rule: a.rule, severity: a.severity }, a.count);
  }

  app.get('/metrics', {
    config: deps.metricsPublic ? { public: true } : { role: 'read' },
    schema: {
      operationId: 'getMetrics', summary: 'Prometheus metrics: orders, attempts, batch runs, holds, the operator queue, alerts, the process', tags: ['service'],
      security: deps.metricsPublic ? PUBLIC : SECURED,
      response: {
        200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...responses({}, deps.metricsPublic ? [500] : SECURED_PROBLEMS),
      },
    },
  }, async (_req, reply) => {
    await refresh();
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
}
