// An order's timeline for the dashboard: everything lendpay knows about it, oldest
// first, amounts in yuan. Events at the same instant keep the order in which they
// happen (a decision before its loan, an attempt before its outcome, the outcome
// before its journal entry), so a timeline never reads backwards.
import type { OrderRows } from '../../db/dashboard.repository.ts';
import { stamp, yuan, type Stamp } from './format.ts';

export const EVENT_ORDER = [
  'decision', 'loan', 'order', 'attempt', 'query', 'outcome', 'journal', 'notification', 'escalation', 'alert', 'operator', 'decided', 'reissue',
] as const;
export type EventKind = (typeof EVENT_ORDER)[number];

export interface TimelineEvent {
  at: Stamp;
  kind: EventKind;
  text: string;
}

export function sortEvents<T extends { at: Date; kind: EventKind }>(events: readonly T[]): T[] {
  const rank = (k: EventKind) => EVENT_ORDER.indexOf(k);
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at.getTime() - b.e.at.getTime() || rank(a.e.kind) - rank(b.e.kind) || a.i - b.i)
    .map((x) => x.e);
}

export function orderView(x: OrderRows) {
  const o = x.order;
  const ev: { at: Date; kind: EventKind; text: string }[] = [];
  if (x.decision) {
    ev.push({ at: x.decision.decidedAt, kind: 'decision', text: `decision of ${x.decision.businessDate}: ${x.decision.eligible ? 'eligible' : 'ineligible'} via ${x.decision.door ?? '-'}, limit ${yuan(x.decision.limit)}` });
  }
  if (x.loan) ev.push({ at: x.loan.createdAt, kind: 'loan', text: `loan ${x.loan.id} created under rule set ${x.loan.ruleSetHash.slice(0, 12)} (limit ${yuan(x.loan.limit)}); now ${x.loan.status}` });
  const sameFlow = x.parent !== null && x.parent.purpose === o.purpose;
  ev.push({ at: o.createdAt, kind: 'order', text: `${o.kind} order ${o.id} created for ${yuan(o.amount)}: ${o.sourceRef} → ${o.destinationRef}${x.parent ? ` (${sameFlow ? 'replaces' : 'after'} order ${x.parent.id})` : ''}` });
  for (const a of x.attempts) {
    ev.push({ at: a.submittedAt, kind: 'attempt', text: `attempt ${a.attemptNo} sent as request ${a.requestId}` });
    if (a.resolvedAt) {
      ev.push({ at: a.resolvedAt, kind: 'outcome', text: `attempt ${a.attemptNo} ${a.status}${a.errorCode ? ` (${a.errorCode})` : ''}${a.platformRef ? `, platform ref ${a.platformRef}` : ''}` });
    }
  }
  for (const q of x.queries) ev.push({ at: q.at, kind: 'query', text: `status query for ${q.requestId}: ${q.answer}${q.code ? ` (${q.code})` : ''}` });
  for (const j of x.journal) {
    const lines = j.lines.map((l) => (l.debit > 0 ? `Dr ${l.account} ${yuan(l.debit)}` : `Cr ${l.account} ${yuan(l.credit)}`)).join(', ');
    ev.push({ at: j.at, kind: 'journal', text: `journal ${j.kind}: ${lines}` });
  }
  for (const n of x.notifications) ev.push({ at: n.at, kind: 'notification', text: `notification ${n.kind} ${n.sentAt ? 'sent' : 'queued'}` });
  for (const e of x.escalations) {
    ev.push({ at: e.createdAt, kind: 'escalation', text: `escalation on ${e.errorCode}: ${e.step}${e.automatic ? '' : ' (waits for an operator)'}: ${e.reason}${e.rule ? ` [rule ${e.rule}]` : ''}` });
    if (e.decidedAt) ev.push({ at: e.decidedAt, kind: 'decided', text: `escalation ${e.status}${e.outcome ? `: ${e.outcome}` : ''}${e.decidedBy ? ` (by ${e.decidedBy})` : ''}` });
  }
  for (const a of x.alerts) ev.push({ at: a.at, kind: 'alert', text: `alert ${a.kind}: ${a.message}${a.resolvedAt ? ` (resolved${a.resolvedBy ? ` by ${a.resolvedBy}` : ''})` : ''}` });
  for (const a of x.operatorActions) ev.push({ at: a.at, kind: 'operator', text: `${a.operator}: ${a.action}${a.step ? ` ${a.step}` : ''}${a.reason ? `: ${a.reason}` : ''}` });
  for (const r of x.reissues) ev.push({ at: r.at, kind: 'reissue', text: `reissued as order ${r.id} ${r.idempotencyKey} (${r.status})` });
  return {
    order: {
      id: o.id, key: o.idempotencyKey, kind: o.kind, purpose: o.purpose, loanId: o.loanId, customerId: o.customerId, amount: yuan(o.amount),
      source: o.sourceRef, destination: o.destinationRef, status: o.status, errorCode: o.errorCode,
      parent: x.parent === null ? null : { id: x.parent.id, key: x.parent.idempotencyKey, sameFlow },
      arrivesAt: stamp(o.arrivesAt), createdAt: stamp(o.createdAt), updatedAt: stamp(o.updatedAt),
    },
    timeline: sortEvents(ev).map((e): TimelineEvent => ({ at: stamp(e.at), kind: e.kind, text: e.text })),
  };
}
