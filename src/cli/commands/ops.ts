// Operator commands: the queue of what waits for a human (escalations with their
// alerts, dead-lettered jobs), confirm / reject (audited), ad-hoc reprocessing through
// pg-boss, one order's timeline, and one run of the escalation ladder.
import { Command, Option } from 'commander';
import type { Context } from '../context.ts';
import { LendpayError } from '../../errors.ts';
import { formatYuan } from '../../money.ts';
import { systemClock } from '../../dates.ts';
import { collectionDeps } from './collection.ts';
import { STEPS, type StepName } from '../../escalation/rules.ts';
import type { EscalationDeps } from '../../escalation/service.ts';

import { out, printJson } from '../output.ts';
import { resolveBatchRun, resolveOrder } from '../args.ts';

export async function escalationDeps(ctx: Context): Promise<EscalationDeps> {
  const disburse = await ctx.disburseDeps();
  const rules = await ctx.rules();
  if (!rules.escalation) throw new LendpayError('RULES_INVALID', `${ctx.config.rulesDir}/escalation.json is required to escalate`);
  const collection = await collectionDeps(ctx).catch(() => null);
  return { disburse: { ...disburse, clock: systemClock }, collection, rules: rules.escalation, ruleSetHash: rules.hash };
}

export function registerOpsCommands(program: Command, ctx: Context): void {
  const ops = program.command('ops').description('operators: what waits for a human, confirm or reject escalations');
  ops.command('queue')
    .description('escalations waiting for an operator (proposed step and why, alerts) and dead-lettered jobs')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { operatorQueue } = await import('../../../db/escalation.repository.ts');
      const { db } = await ctx.database();
      const q = await operatorQueue(db);
      if (o.json) return printJson({ items: q.items.map((i) => ({ ...i, amount: formatYuan(i.amount) })), deadLetters: q.deadLetters });
      if (q.items.length === 0 && q.deadLetters.length === 0) return out('nothing waits for an operator');
      for (const i of q.items) {
        out(`order ${i.orderId} ${i.idempotencyKey} ${formatYuan(i.amount)} ${i.orderStatus} ${i.errorCode}: propose ${i.proposedStep} — ${i.reason}${i.rule ? ` [rule ${i.rule}]` : ''} (since ${i.waitingSince.toISOString()})`);
        for (const a of i.alerts) out(`    alert ${a.kind}: ${a.message}`);
      }
      for (const d of q.deadLetters) out(`dead letter ${d.queue} job ${d.jobId}: ${JSON.stringify(d.payload)} — ${d.error}`);
    });
  ops.command('confirm <order>')
    .description('carry out the proposed step (or --step); audited. <order>: its id or idempotency key')
    .addOption(new Option('--step <step>', 'another step than the one proposed').choices(STEPS.filter((s) => s !== 'manual_review')))
    .requiredOption('--by <name>', 'the operator')
    .option('--reason <text>', 'why (recorded)')
    .option('--json', 'as JSON')
    .action(async (ref: string, o: { step?: StepName; by: string; reason?: string; json?: boolean }) => {
      const { confirmEscalation } = await import('../../escalation/service.ts');
      const { db } = await ctx.database();
      const order = await resolveOrder(db, ref);
      const r = await confirmEscalation(await escalationDeps(ctx), { orderId: order.id, by: o.by, ...(o.step ? { step: o.step } : {}), ...(o.reason ? { reason: o.reason } : {}) });
      if (!r.done) process.exitCode = 3;
      if (o.json) return printJson({ orderId: order.id, idempotencyKey: order.idempotencyKey, ...r });
      out(`order ${order.id}: ${r.message}`);
    });
  ops.command('reject <order>')
    .description('do not carry out the step: the order stays failed (a loan fails, a collection goes back to its hold); audited. <order>: its id or idempotency key')
    .requiredOption('--by <name>', 'the operator')
    .requiredOption('--reason <text>', 'why (recorded)')
    .option('--json', 'as JSON')
    .action(async (ref: string, o: { by: string; reason: string; json?: boolean }) => {
      const { rejectEscalation } = await import('../../escalation/service.ts');
      const { db } = await ctx.database();
      const order = await resolveOrder(db, ref);
      await rejectEscalation(await escalationDeps(ctx), { orderId: order.id, by: o.by, reason: o.reason });
      if (o.json) return printJson({ orderId: order.id, idempotencyKey: order.idempotencyKey, rejected: true, by: o.by });
      out(`order ${order.id}: rejected by ${o.by}`);
    });
  ops.command('tick')
    .description('one run of the escalation ladder: query due unknowns, decide failures, carry out due steps')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { runEscalationTick } = await import('../../escalation/service.ts');
      const r = await runEscalationTick(await escalationDeps(ctx));
      if (o.json) return printJson(r);
      out(`queried ${r.ladder.queried} (${r.ladder.resolved} resolved, ${r.ladder.resent} resent under the same id, ${r.ladder.alerts} alerts); decided ${JSON.stringify(r.decided)}; carried out ${r.executed}; sent ${r.sent}; ${r.loansDriven} loans moved on`);
    });

  const reprocess = program.command('reprocess').description('ad-hoc reprocessing through pg-boss');
  reprocess.command('order <order>')
    .description('reprocess one order, by its id or idempotency key (a settled order: nothing, and says so)')
    .option('--no-work', 'only enqueue; running workers do it')
    .option('--json', 'as JSON')
    .action(async (ref: string, o: { work: boolean; json?: boolean }) => {
      const { db } = await ctx.database();
      const order = await resolveOrder(db, ref);
      if (order.status === 'succeeded' || order.status === 'voided') {
        if (o.json) return printJson({ enqueued: 0, alreadyWaiting: 0, orders: [{ orderId: order.id, status: order.status }], message: 'settled: nothing to reprocess' });
        return out(`order ${order.id} is settled (${order.status}): nothing to reprocess`);
      }
      await runReprocess(ctx, [order.id], o.work, o.json === true);
    });
  reprocess.command('batch <run>')
    .description('reprocess the orders of a batch run (its id, as batch post-settlement prints it)')
    .option('--failed', 'only the orders that did not succeed')
    .option('--no-work', 'only enqueue; running workers do it')
    .option('--json', 'as JSON')
    .action(async (ref: string, o: { failed?: boolean; work: boolean; json?: boolean }) => {
      const { ordersOfBatchRun } = await import('../../../jobs/escalation.ts');
      const { db } = await ctx.database();
      const run = await resolveBatchRun(db, ref);
      const ids = await ordersOfBatchRun(db, run.id, o.failed === true);
      if (ids.length === 0) {
        if (o.json) return printJson({ runId: run.id, enqueued: 0, alreadyWaiting: 0, orders: [] });
        return out(`batch run ${run.id} (${run.kind} ${run.businessDate}): no ${o.failed ? 'failed ' : ''}orders to reprocess`);
      }
      await runReprocess(ctx, ids, o.work, o.json === true);
    });

  const order = program.command('order').description('payment orders');
  order.command('show <id>')
    .description('one timeline: decision and rule hash, attempts and request ids, status queries, escalation steps, operator actions, journal')
    .option('--json', 'as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const { orderTimeline } = await import('../../../db/escalation.repository.ts');
      const { db } = await ctx.database();
      const tl = await orderTimeline(db, (await resolveOrder(db, id)).id);
      if (!tl) throw new LendpayError('NOT_FOUND', `no order ${id}`);
      if (o.json) return printJson({ order: { ...tl.order, amount: formatYuan(tl.order.amount) }, parent: tl.parent?.id ?? null, children: tl.children.map((c) => c.id), timeline: tl.events.map(eventJson) });
      out(`order ${tl.order.id} ${tl.order.idempotencyKey}: ${tl.order.kind} ${formatYuan(tl.order.amount)} ${tl.order.status}${tl.order.errorCode ? ` ${tl.order.errorCode}` : ''}`);
      for (const e of tl.events) out(`  ${e.at.toISOString()}  ${e.kind.padEnd(10)} ${e.text}`);
    });
}

/** A timeline event for scripts: a journal entry's lines with their debit and credit in yuan. */
function eventJson(e: { kind: string; data?: unknown }): unknown {
  const data = e.data as { lines?: { debit?: unknown; credit?: unknown }[] } | undefined;
  if (e.kind !== 'journal' || !Array.isArray(data?.lines)) return e;
  const yuan = (v: unknown) => (typeof v === 'number' ? formatYuan(v) : v);
  return { ...e, data: { ...data, lines: data.lines.map((l) => ({ ...l, debit: yuan(l.debit), credit: yuan(l.credit) })) } };
}

async function runReprocess(ctx: Context, ids: readonly number[], work: boolean, json: boolean): Promise<void> {
  const { enqueueReprocess, workEscalation, ESCALATION_QUEUES } = await import('../../../jobs/escalation.ts');
  const { getOrder } = await import('../../../db/orders.repository.ts');
  const { db } = await ctx.database();
  const boss = await ctx.boss();
  const n = await enqueueReprocess(boss, ids);
  const statuses = async () => Promise.all(ids.map(async (id) => ({ orderId: id, status: (await getOrder(db, id))?.status ?? null })));
  if (!json) out(`enqueued ${n} reprocessing job${n === 1 ? '' : 's'} (${ids.length - n} already waiting)`);
  if (!work) {
    if (json) printJson({ enqueued: n, alreadyWaiting: ids.length - n, worked: false, orders: await statuses() });
    return;
  }
  await workEscalation(boss, await escalationDeps(ctx));
  for (let i = 0; i < 600; i++) {
    const stats = await boss.getQueueStats(ESCALATION_QUEUES.reprocess);
    if (stats.reduce((s, x) => s + x.queuedCount + x.activeCount, 0) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const after = await statuses();
  if (json) return printJson({ enqueued: n, alreadyWaiting: ids.length - n, worked: true, orders: after });
  for (const x of after) out(`order ${x.orderId}: ${x.status}`);
}
