// `lendpay rules simulate`: the working copy and a baseline version both evaluated on
// the facts a nightly batch stored, customer by customer, and the differences
// summed. Pure apart from reading the pages it is given: nothing is written.
import type { BusinessDate } from '../dates.ts';
import type { EligibilityDecision, EligibilityInput } from '../eligibility/types.ts';
import type { EligibilityEvaluator } from '../eligibility/evaluate.ts';
import { formatYuan, formatYuanGrouped } from '../money.ts';

export interface Side {
  customers: number;
  eligible: number;
  totalLimit: number;
  byDoor: Record<string, { customers: number; limit: number }>;
  ineligibleByReason: Record<string, number>;
}

export interface IndividualChange {
  customerId: string;
  segment: string;
  before: { eligible: boolean; door: string | null; limit: number; reasons: readonly string[] };
  after: { eligible: boolean; door: string | null; limit: number; reasons: readonly string[] };
  delta: number;
}

export interface SimulationReport {
  businessDate: string;
  customers: number;
  before: Side;
  after: Side;
  gained: number;
  lost: number;
  /** eligible before and after, with another limit */
  limitChanged: number;
  gainedBySegment: Record<string, number>;
  lostBySegment: Record<string, number>;
  /** for those who gain: the reasons they were refused before */
  gainedByPreviousReason: Record<string, number>;
  /** for those who lose: the reasons they are refused now */
  lostByNewReason: Record<string, number>;
  /** the largest changes of limit, by absolute size, largest first */
  largest: IndividualChange[];
  seconds: number;
}

function emptySide(): Side {
  return { customers: 0, eligible: 0, totalLimit: 0, byDoor: {}, ineligibleByReason: {} };
}

function add(side: Side, d: EligibilityDecision): void {
  side.customers++;
  if (d.eligible) {
    side.eligible++;
    side.totalLimit += d.limit;
    const k = d.door ?? '-';
    const slot = (side.byDoor[k] ??= { customers: 0, limit: 0 });
    slot.customers++;
    slot.limit += d.limit;
  } else {
    for (const r of d.reasons) side.ineligibleByReason[r] = (side.ineligibleByReason[r] ?? 0) + 1;
  }
}

const bump = (m: Record<string, number>, k: string) => { m[k] = (m[k] ?? 0) + 1; };

const view = (d: EligibilityDecision) => ({ eligible: d.eligible, door: d.door, limit: d.limit, reasons: d.reasons });

/**
 * Evaluates `before` and `after` on every stored customer. `toInput` rebuilds the
 * evaluator's input from a decision's stored facts.
 */
export async function simulate(opts: {
  date: BusinessDate;
  pages: AsyncIterable<readonly { customerId: string; facts: Record<string, unknown> }[]>;
  toInput: (customerId: string, facts: Record<string, unknown>) => EligibilityInput;
  before: EligibilityEvaluator;
  after: EligibilityEvaluator;
  top?: number;
}): Promise<SimulationReport> {
  const t0 = performance.now();
  const top = opts.top ?? 10;
  const report: SimulationReport = {
    businessDate: opts.date, customers: 0, before: emptySide(), after: emptySide(), gained: 0, lost: 0, limitChanged: 0,
    gainedBySegment: {}, lostBySegment: {}, gainedByPreviousReason: {}, lostByNewReason: {}, largest: [], seconds: 0,
  };
  // Kept sorted, largest |delta| first, ties by customer id: the same input always gives the same list.
  const largest: IndividualChange[] = [];
  const ahead = (a: IndividualChange, b: IndividualChange) =>
    Math.abs(a.delta) > Math.abs(b.delta) || (Math.abs(a.delta) === Math.abs(b.delta) && a.customerId < b.customerId);
  for await (const page of opts.pages) {
    for (const row of page) {
      const input = opts.toInput(row.customerId, row.facts);
      const b = opts.before.evaluate(input, opts.date);
      const a = opts.after.evaluate(input, opts.date);
      report.customers++;
      add(report.before, b);
      add(report.after, a);
      if (!b.eligible && a.eligible) {
        report.gained++;
        bump(report.gainedBySegment, input.segment);
        for (const r of b.reasons) bump(report.gainedByPreviousReason, r);
      } else if (b.eligible && !a.eligible) {
        report.lost++;
        bump(report.lostBySegment, input.segment);
        for (const r of a.reasons) bump(report.lostByNewReason, r);
      } else if (b.eligible && a.limit !== b.limit) report.limitChanged++;
      const delta = a.limit - b.limit;
      if (delta === 0 && a.eligible === b.eligible) continue;
      const last = largest[largest.length - 1];
      if (largest.length >= top && last && Math.abs(delta) < Math.abs(last.delta)) continue;
      const change: IndividualChange = { customerId: row.customerId, segment: input.segment, before: view(b), after: view(a), delta };
      if (largest.length >= top && last && !ahead(change, last)) continue;
      let i = largest.length;
      while (i > 0 && ahead(change, largest[i - 1]!)) i--;
      largest.splice(i, 0, change);
      if (largest.length > top) largest.pop();
    }
  }
  report.largest = largest;
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

const y = (fen: number) => formatYuanGrouped(fen);
const signed = (fen: number) => (fen > 0 ? `+${y(fen)}` : fen < 0 ? `-${y(-fen)}` : '0.00');
const n = (v: number) => v.toLocaleString('en-US');

/** The readable table. */
export function formatSimulation(r: SimulationReport, labels: { before: string; after: string; source: string }): string {
  const out: string[] = [];
  out.push(`simulation on ${n(r.customers)} customers: the facts of ${labels.source}`);
  out.push(`  before = ${labels.before}`);
  out.push(`  after  = ${labels.after}`);
  out.push('');
  const w = 22;
  out.push(`${''.padEnd(38)}${'before'.padStart(w)}${'after'.padStart(w)}${'change'.padStart(w)}`);
  const row = (label: string, b: number, a: number, money: boolean) =>
    out.push(`${label.padEnd(38)}${(money ? y(b) : n(b)).padStart(w)}${(money ? y(a) : n(a)).padStart(w)}${(money ? signed(a - b) : (a - b > 0 ? `+${n(a - b)}` : n(a - b))).padStart(w)}`);
  row('eligible customers', r.before.eligible, r.after.eligible, false);
  row('total credit (CNY)', r.before.totalLimit, r.after.totalLimit, true);
  const doors = [...new Set([...Object.keys(r.before.byDoor), ...Object.keys(r.after.byDoor)])].sort();
  for (const d of doors) {
    row(`  door ${d}: customers`, r.before.byDoor[d]?.customers ?? 0, r.after.byDoor[d]?.customers ?? 0, false);
    row(`  door ${d}: credit (CNY)`, r.before.byDoor[d]?.limit ?? 0, r.after.byDoor[d]?.limit ?? 0, true);
  }
  const reasons = [...new Set([...Object.keys(r.before.ineligibleByReason), ...Object.keys(r.after.ineligibleByReason)])].sort();
  for (const k of reasons) row(`  ineligible ${k}`, r.before.ineligibleByReason[k] ?? 0, r.after.ineligibleByReason[k] ?? 0, false);
  out.push('');
  out.push(`gain eligibility   ${n(r.gained)}${fmtCounts(r.gainedBySegment, 'by segment')}${fmtCounts(r.gainedByPreviousReason, 'refused before for')}`);
  out.push(`lose eligibility   ${n(r.lost)}${fmtCounts(r.lostBySegment, 'by segment')}${fmtCounts(r.lostByNewReason, 'refused now for')}`);
  out.push(`limit changed      ${n(r.limitChanged)} (eligible before and after)`);
  if (r.largest.length > 0) {
    out.push('', `largest changes of limit (top ${r.largest.length}):`);
    for (const c of r.largest) {
      const side = (s: IndividualChange['before']) => (s.eligible ? `${s.door} ${y(s.limit)}` : `ineligible (${s.reasons.join(',') || '-'})`);
      out.push(`  ${c.customerId.padEnd(12)} ${c.segment.padEnd(14)} ${side(c.before).padStart(30)} → ${side(c.after).padEnd(32)} ${signed(c.delta).padStart(18)}`);
    }
  }
  out.push('', `evaluated in ${r.seconds.toFixed(1)} s; nothing was written`);
  return out.join('\n');
}

function fmtCounts(m: Record<string, number>, label: string): string {
  const e = Object.entries(m).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return e.length === 0 ? '' : `\n    ${label}: ${e.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`;
}

/** JSON with amounts as yuan strings. */
export function simulationJson(r: SimulationReport, meta: Record<string, unknown>): unknown {
  const side = (s: Side) => ({
    customers: s.customers, eligible: s.eligible, totalLimit: formatYuanPlain(s.totalLimit),
    byDoor: Object.fromEntries(Object.entries(s.byDoor).map(([k, v]) => [k, { customers: v.customers, limit: formatYuanPlain(v.limit) }])),
    ineligibleByReason: s.ineligibleByReason,
  });
  const ch = (s: IndividualChange['before']) => ({ ...s, limit: formatYuanPlain(s.limit) });
  return {
    ...meta,
    businessDate: r.businessDate,
    customers: r.customers,
    before: side(r.before),
    after: side(r.after),
    gained: r.gained,
    lost: r.lost,
    limitChanged: r.limitChanged,
    gainedBySegment: r.gainedBySegment,
    lostBySegment: r.lostBySegment,
    gainedByPreviousReason: r.gainedByPreviousReason,
    lostByNewReason: r.lostByNewReason,
    largest: r.largest.map((c) => ({ customerId: c.customerId, segment: c.segment, before: ch(c.before), after: ch(c.after), delta: signedPlain(c.delta) })),
    seconds: Number(r.seconds.toFixed(3)),
  };
}

function formatYuanPlain(fen: number): string {
  return fen < 0 ? `-${formatYuan(-fen)}` : formatYuan(fen);
}
const signedPlain = formatYuanPlain;

type Page = readonly { customerId: string; facts: Record<string, unknown> }[];
type Seen = { value: unknown; asOf: string } | null;

/**
 * The stored facts of a batch hold only the declared facts its own rules used. For a
 * candidate that uses others (`names`), each page gets their latest values as of the
 * batch's date from `load` (one query a page); what the batch stored is kept as it was.
 */
export async function* withDeclaredFacts(
  pages: AsyncIterable<Page>,
  names: readonly string[],
  load: (customerIds: readonly string[], facts: readonly string[]) => Promise<Map<string, Map<string, { value: unknown; asOf: string }>>>,
): AsyncGenerator<Page> {
  for await (const page of pages) {
    if (names.length === 0) {
      yield page;
      continue;
    }
    const lacking = (row: Page[number]) => names.filter((n) => !Object.hasOwn((row.facts['declared'] ?? {}) as object, n));
    const need = [...new Set(page.flatMap(lacking))];
    if (need.length === 0) {
      yield page;
      continue;
    }
    const loaded = await load(page.map((r) => r.customerId), need);
    yield page.map((row) => {
      const stored = (row.facts['declared'] ?? {}) as Record<string, Seen>;
      const declared: Record<string, Seen> = { ...stored };
      for (const n of lacking(row)) declared[n] = loaded.get(row.customerId)?.get(n) ?? null;
      return { customerId: row.customerId, facts: { ...row.facts, declared } };
    });
  }
}
