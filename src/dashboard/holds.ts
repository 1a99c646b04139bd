// The holds-and-blocked-borrowers list: one row a borrower, as the operator reads it.
import type { HoldList, HoldTotals } from '../../db/dashboard.repository.ts';
import { daysBetween, shanghaiDay, stamp, yuan } from './format.ts';
import { stepOfKey } from './steps.ts';

export function holdsView(list: HoldList, totals: HoldTotals, now: Date, page: { q: string; sort: string; limit: number; offset: number }) {
  const today = shanghaiDay(now);
  return {
    q: page.q,
    sort: page.sort,
    total: list.total,
    limit: page.limit,
    offset: page.offset,
    totals: {
      openHolds: totals.openHolds,
      blockedBorrowers: totals.blockedBorrowers,
      amount: yuan(totals.amount),
      mismatched: totals.mismatched,
    },
    rows: list.rows.map((r) => ({
      customerId: r.customerId,
      holdId: r.holdId,
      amount: r.holdId === null ? null : yuan(r.amount),
      amountFen: r.amount,
      asOfDate: r.asOfDate,
      since: r.openedAt === null ? null : stamp(r.openedAt),
      // days on hold: since the day the hold opened, in Asia/Shanghai
      days: r.openedAt === null ? null : daysBetween(shanghaiDay(r.openedAt), today),
      blocked: r.blocked,
      blockedSince: stamp(r.blockedSince),
      // a hold without a block or a block without a hold: the two must agree
      mismatch: r.blocked !== (r.holdId !== null),
      accounts: r.accounts,
      lastAttempt: r.lastAttempt === null ? null : {
        orderId: r.lastAttempt.orderId,
        key: r.lastAttempt.idempotencyKey,
        step: stepOfKey(r.lastAttempt.purpose, r.lastAttempt.idempotencyKey),
        amount: yuan(r.lastAttempt.amount),
        status: r.lastAttempt.status,
        errorCode: r.lastAttempt.errorCode,
        at: stamp(r.lastAttempt.at),
      },
    })),
  };
}
