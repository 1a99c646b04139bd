// One customer's page: the decision and its limit with the rule version that made
// it, each loan with its schedule and what of it is due today, holds, whether outflow
// is blocked, the notifications sent and the latest orders.
import type { CustomerPageRows } from '../../db/dashboard.repository.ts';
import { daysBetween, shanghaiDay, stamp, yuan } from './format.ts';
import { stepOfKey } from './steps.ts';

type Installment = CustomerPageRows['loans'][number]['installments'][number];

function unpaid(i: Installment): number {
  return i.principal - i.paidPrincipal + (i.interest - i.paidInterest);
}

/** paid, part paid, due (on or before today, not paid) or upcoming. */
export function installmentState(i: Installment, today: string): 'paid' | 'due' | 'part paid' | 'upcoming' {
  const left = unpaid(i);
  if (left === 0) return 'paid';
  if (i.dueDate <= today) return 'due';
  return left < i.principal + i.interest ? 'part paid' : 'upcoming';
}

export function customerView(rows: CustomerPageRows, now: Date) {
  const today = shanghaiDay(now);
  let dueNow = 0;
  let outstanding = 0;
  let oldestDue: string | null = null;
  const loans = rows.loans.map((l) => {
    let loanDue = 0;
    let loanLeft = 0;
    const schedule = l.installments.map((i) => {
      const left = unpaid(i);
      const state = installmentState(i, today);
      loanLeft += left;
      if (state === 'due') {
        loanDue += left;
        if (oldestDue === null || i.dueDate < oldestDue) oldestDue = i.dueDate;
      }
      return {
        no: i.no, dueDate: i.dueDate, principal: yuan(i.principal), interest: yuan(i.interest),
        paid: yuan(i.paidPrincipal + i.paidInterest), left: yuan(left), state,
      };
    });
    dueNow += loanDue;
    outstanding += loanLeft;
    return {
      id: l.id, kind: l.kind, principal: yuan(l.principal), rail: l.rail, destinationId: l.destinationId, status: l.status,
      createdAt: stamp(l.createdAt), due: yuan(loanDue), outstanding: yuan(loanLeft), schedule,
    };
  });
  const d = rows.decision;
  const openHold = rows.holds.find((h) => h.status === 'open') ?? null;
  return {
    id: rows.customer.id,
    segment: rows.customer.segment,
    realNameVerified: rows.customer.realNameVerified,
    whitelist: rows.customer.whitelistLimit === null ? null : { limit: yuan(rows.customer.whitelistLimit), expiresOn: rows.customer.whitelistExpiresOn },
    accounts: rows.accounts,
    cards: rows.cards.map((k) => ({ id: k.id, bank: k.bank, last4: k.last4 })),
    decision: d === null ? null : {
      businessDate: d.businessDate, eligible: d.eligible, door: d.door, limit: yuan(d.limit), reasons: d.reasons,
      ruleVersion: d.ruleVersion, ruleSetHash: d.ruleSetHash, ruleSet: d.ruleSetHash.slice(0, 12), decidedAt: stamp(d.decidedAt),
    },
    due: {
      today,
      now: yuan(dueNow),
      nowFen: dueNow,
      outstanding: yuan(outstanding),
      oldestDueDate: oldestDue,
      daysOverdue: oldestDue === null ? 0 : daysBetween(oldestDue, today),
    },
    loans,
    holds: rows.holds.map((h) => ({
      id: h.id, amount: yuan(h.amount), asOfDate: h.asOfDate, status: h.status, openedAt: stamp(h.openedAt), clearedAt: stamp(h.clearedAt), clearedBy: h.clearedBy,
      days: daysBetween(shanghaiDay(h.openedAt), h.clearedAt ? shanghaiDay(h.clearedAt) : today),
    })),
    outflow: {
      blocked: rows.outflow?.blocked ?? false,
      since: rows.outflow ? stamp(rows.outflow.since) : null,
      openHold: openHold ? yuan(openHold.amount) : null,
    },
    notifications: rows.notifications.map((n) => ({
      id: n.id, kind: n.kind, orderId: n.orderId, body: n.body, createdAt: stamp(n.createdAt), sentAt: stamp(n.sentAt),
    })),
    orders: rows.orders.map((o) => ({
      id: o.id, key: o.idempotencyKey, kind: o.kind, purpose: o.purpose,
      step: o.purpose.startsWith('collect.') || o.purpose.startsWith('repay.') ? stepOfKey(o.purpose, o.idempotencyKey) : null,
      amount: yuan(o.amount), status: o.status, errorCode: o.errorCode, updatedAt: stamp(o.updatedAt),
    })),
  };
}
