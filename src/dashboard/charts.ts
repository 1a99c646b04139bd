// The charts' data, zero-filled over their windows: money moved per day by rail and
// by collection step, the post-settlement collection rate, holds open over time, and
// orders by hour and state. Each series carries integer fen for the chart and the
// same amounts written for people for the table beside it.
import type { CollectionDay, DayAmount, HoldDay } from '../../db/dashboard.repository.ts';
import { DateTime } from 'luxon';
import { ZONE } from '../dates.ts';
import { daysFromTo, percent, yuan } from './format.ts';
import { STEP_LABELS } from './steps.ts';

export const RAIL_LABELS: Readonly<Record<string, string>> = { balance: 'to balance accounts', card: 'to bank cards' };
/** Funnel order: every order enters at `created`. */
export const ORDER_STATES = ['created', 'submitted', 'unknown', 'succeeded', 'failed', 'voided'] as const;

export interface ChartInputs {
  from: string;
  to: string;
  disbursed: DayAmount[];
  collected: DayAmount[];
  collection: CollectionDay[];
  holds: HoldDay[];
  hours: number;
  ordersByHour: { hour: Date; status: string; count: number }[];
}

function daySeries(rows: DayAmount[], days: string[], known: readonly string[], labels: Readonly<Record<string, string>>) {
  const keys = [...known.filter((k) => rows.some((r) => r.series === k)), ...[...new Set(rows.map((r) => r.series))].filter((k) => !known.includes(k)).sort()];
  return keys.map((key) => {
    const fen: number[] = days.map((d) => rows.find((r) => r.day === d && r.series === key)?.amount ?? 0);
    const counts = days.map((d) => rows.find((r) => r.day === d && r.series === key)?.count ?? 0);
    const total = fen.reduce((s, x) => s + x, 0);
    return { key, label: labels[key] ?? key, fen, text: fen.map(yuan), counts, total: yuan(total), totalFen: total };
  });
}

export function chartsView(x: ChartInputs, now: Date) {
  const days = daysFromTo(x.from, x.to);
  const end = DateTime.fromJSDate(now, { zone: ZONE }).startOf('hour');
  const hours = Array.from({ length: x.hours }, (_, i) => end.minus({ hours: x.hours - 1 - i }));
  const hourKey = (d: Date) => d.toISOString();
  return {
    from: x.from,
    to: x.to,
    days,
    disbursed: daySeries(x.disbursed, days, ['balance', 'card'], RAIL_LABELS),
    collected: daySeries(x.collected, days, ['own_balance', 'cross_account', 'hold', 'card_repayment'], STEP_LABELS),
    collectionRate: x.collection.map((c) => ({
      businessDate: c.businessDate, loans: c.loans, due: yuan(c.due), collected: yuan(c.collected), held: yuan(c.held),
      dueFen: c.due, collectedFen: c.collected, rate: percent(c.collected, c.due),
    })),
    holds: x.holds,
    orders: {
      hours: hours.map((h) => ({ iso: h.toUTC().toISO()!, label: h.toFormat('MM-dd HH:00') })),
      series: ORDER_STATES.map((state) => ({
        state,
        counts: hours.map((h) => x.ordersByHour.find((r) => r.status === state && hourKey(r.hour) === h.toJSDate().toISOString())?.count ?? 0),
      })).filter((s) => s.counts.some((n) => n > 0)),
    },
  };
}
