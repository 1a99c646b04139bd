// Vouchers (记账凭证) for the finance system, built from lendpay's journal. Pure:
// journal entries in, numbered vouchers out, and their renderings (JSON, CSV). The
// repository stores what is built, so that a date re-exported reads the same vouchers
// and numbers back, and entries reaching the date later get new vouchers after them.
//
// What a voucher books is a posting: the lines one order posted (a journal entry of
// a batch carries the lines of many orders, each order's balanced), or a journal
// entry of its own with no order (a recovery receivable, a penalty accrual).
// Grouping `type`: one voucher per business event type among the postings, lines
// summed per ledger account and side. Grouping `entry`: one voucher per posting,
// each line with its customer and loan as auxiliary items (辅助核算).
import { LendpayError } from '../errors.ts';
import { formatYuan, type Fen } from '../money.ts';
import type { Subject } from './accounts.ts';

export const GROUPINGS = ['type', 'entry'] as const;
export type Grouping = (typeof GROUPINGS)[number];

/**
 * The business events a journal entry can record, in the order their vouchers are
 * numbered within one export, each with the words of its summary (摘要).
 */
export const EVENT_TYPES = {
  disbursement_funding: '放款资金划拨（资金卡→平台账户）',
  disbursement: '贷款发放',
  collection_own_balance: '贷款回收-本人账户扣款',
  collection_cross_account: '贷款回收-跨账户扣款',
  collection_hold: '贷款回收-挂账步骤划扣',
  hold_sweep: '挂账监控到账扣款',
  repayment: '借款人银行卡还款',
  prepayment: '提前还款',
  penalty_accrual: '逾期罚息计提',
  recovery: '重复放款确认应收',
  recovery_collection: '重复放款追回',
  other: '其他',
} as const;
export type EventType = keyof typeof EVENT_TYPES;
const EVENT_ORDER = Object.keys(EVENT_TYPES) as EventType[];

export interface JournalLine {
  /** its place in its journal entry */
  readonly lineNo: number;
  readonly account: string;
  readonly debit: Fen;
  readonly credit: Fen;
  readonly customerId: string | null;
  readonly loanId: string | null;
}

/** One order's lines in a journal entry, or an entry with no order: balanced either way. */
export interface JournalPosting {
  readonly entryId: number;
  readonly orderId: number | null;
  /** its journal entry's kind ('succeeded', 'batch' for an order's outcome; 'recovery', 'penalty', ... for an entry of its own) */
  readonly kind: string;
  /** the order it records, when it records one */
  readonly orderPurpose: string | null;
  readonly orderKey: string | null;
  readonly lines: readonly JournalLine[];
}

/** A journal line booked by a voucher. */
export interface LineRef {
  readonly entryId: number;
  readonly lineNo: number;
}

/** Which business event a posting records: by the purpose of its order, or by its entry's kind when it has none. */
export function eventOf(e: Pick<JournalPosting, 'kind' | 'orderPurpose' | 'orderKey'>): EventType {
  switch (e.orderPurpose) {
    case 'disburse.fund':
    case 'disburse.topup':
      return 'disbursement_funding';
    case 'disburse.payout':
      return 'disbursement';
    case 'collect.batch': {
      // collect:<loan>:<date>:<step>:<account>
      const segments = (e.orderKey ?? '').split(':');
      if (segments.includes('own_balance')) return 'collection_own_balance';
      if (segments.includes('cross_account')) return 'collection_cross_account';
      if (segments.includes('hold')) return 'collection_hold';
      return 'collection_own_balance';
    }
    case 'collect.hold':
      return 'hold_sweep';
    case 'collect.recovery':
      return 'recovery_collection';
    case 'repay.card':
      return 'repayment';
    case 'repay.prepay':
      return 'prepayment';
    case null:
      if (e.kind === 'recovery') return 'recovery';
      if (e.kind === 'penalty') return 'penalty_accrual';
      return 'other';
    default:
      return 'other';
  }
}

export interface VoucherLine {
  readonly account: string;
  readonly subjectCode: string;
  readonly subjectName: string;
  readonly debit: Fen;
  readonly credit: Fen;
  /** auxiliary items (entry grouping only) */
  readonly customerId: string | null;
  readonly loanId: string | null;
}

export interface Voucher {
  readonly date: string;
  readonly grouping: Grouping;
  /** sequential per date and grouping, from 1 */
  readonly number: number;
  /** 凭证字 */
  readonly word: string;
  readonly eventType: EventType;
  /** 摘要 */
  readonly summary: string;
  readonly customerId: string | null;
  readonly loanId: string | null;
  readonly lines: readonly VoucherLine[];
}

export interface NewVoucher extends Voucher {
  /** the journal lines it books */
  readonly booked: readonly LineRef[];
}

/** 记-0001 */
export function voucherNumber(word: string, n: number): string {
  return `${word}-${String(n).padStart(4, '0')}`;
}

function subjectOf(subjects: ReadonlyMap<string, Subject>, account: string): Subject {
  const s = subjects.get(account);
  if (!s) throw new LendpayError('RULES_INVALID', `ledger account "${account}" has no subject`);
  return s;
}

function assertBalanced(v: Voucher): void {
  let d = 0, c = 0;
  for (const l of v.lines) {
    d += l.debit;
    c += l.credit;
  }
  if (d !== c) throw new LendpayError('INVALID_AMOUNT', `voucher ${voucherNumber(v.word, v.number)} of ${v.date} does not balance: debits ${formatYuan(d)} ≠ credits ${formatYuan(c)}`);
}

function byAccountAndSide(lines: readonly JournalLine[], subjects: ReadonlyMap<string, Subject>): VoucherLine[] {
  const sums = new Map<string, { account: string; debit: number; credit: number }>();
  for (const l of lines) {
    for (const side of ['debit', 'credit'] as const) {
      if (l[side] === 0) continue;
      const k = `${side}\u0000${l.account}`;
      const e = sums.get(k) ?? { account: l.account, debit: 0, credit: 0 };
      e[side] += l[side];
      sums.set(k, e);
    }
  }
  // debits first, then credits; within a side by subject code, then account
  return [...sums.values()]
    .map((e) => ({ ...e, s: subjectOf(subjects, e.account) }))
    .sort((a, b) => Number(b.debit > 0) - Number(a.debit > 0) || (a.s.code < b.s.code ? -1 : a.s.code > b.s.code ? 1 : 0) || (a.account < b.account ? -1 : 1))
    .map((e) => ({ account: e.account, subjectCode: e.s.code, subjectName: e.s.name, debit: e.debit as Fen, credit: e.credit as Fen, customerId: null, loanId: null }));
}

const refs = (p: JournalPosting): LineRef[] => p.lines.map((l) => ({ entryId: p.entryId, lineNo: l.lineNo }));
const byRef = (a: LineRef, b: LineRef): number => a.entryId - b.entryId || a.lineNo - b.lineNo;

/**
 * Numbered vouchers for postings of `date` that have none yet, from `next` on. Type
 * grouping: one per event type present, in EVENT_TYPES order; entry grouping: one
 * per posting, in journal order. Every voucher balances (checked).
 */
export function buildVouchers(o: {
  date: string;
  grouping: Grouping;
  word: string;
  subjects: ReadonlyMap<string, Subject>;
  next: number;
  postings: readonly JournalPosting[];
}): NewVoucher[] {
  const out: NewVoucher[] = [];
  let n = o.next;
  if (o.grouping === 'type') {
    const byType = new Map<EventType, JournalPosting[]>();
    for (const e of o.postings) {
      const t = eventOf(e);
      const list = byType.get(t) ?? [];
      list.push(e);
      byType.set(t, list);
    }
    for (const t of EVENT_ORDER) {
      const list = byType.get(t);
      if (!list) continue;
      const other = t === 'other' ? `（${[...new Set(list.map((e) => e.orderPurpose ?? e.kind))].sort().join('、')}）` : '';
      out.push({
        date: o.date, grouping: 'type', number: n++, word: o.word, eventType: t,
        summary: `${o.date} ${EVENT_TYPES[t]}${other} ${list.length}笔`,
        customerId: null, loanId: null,
        lines: byAccountAndSide(list.flatMap((e) => e.lines), o.subjects),
        booked: list.flatMap(refs).sort(byRef),
      });
    }
  } else {
    const first = (p: JournalPosting): LineRef => refs(p).sort(byRef)[0] ?? { entryId: p.entryId, lineNo: 0 };
    for (const e of [...o.postings].sort((a, b) => byRef(first(a), first(b)))) {
      const t = eventOf(e);
      const customerId = e.lines.find((l) => l.customerId !== null)?.customerId ?? null;
      const loanId = e.lines.find((l) => l.loanId !== null)?.loanId ?? null;
      const other = t === 'other' ? `（${e.orderPurpose ?? e.kind}）` : '';
      out.push({
        date: o.date, grouping: 'entry', number: n++, word: o.word, eventType: t,
        summary: [`${EVENT_TYPES[t]}${other}`, loanId ? `贷款${loanId}` : null, customerId ? `客户${customerId}` : null].filter((x) => x !== null).join(' '),
        customerId, loanId,
        lines: e.lines.map((l) => {
          const s = subjectOf(o.subjects, l.account);
          return { account: l.account, subjectCode: s.code, subjectName: s.name, debit: l.debit, credit: l.credit, customerId: l.customerId, loanId: l.loanId };
        }),
        booked: refs(e).sort(byRef),
      });
    }
  }
  for (const v of out) assertBalanced(v);
  return out;
}

export interface Movement {
  readonly account: string;
  readonly debit: number;
  readonly credit: number;
}

/**
 * The day's vouchers against the journal's movements for the day, per ledger account
 * and side: what differs (nothing, when every entry of the day is in a voucher).
 */
export function differences(vouchers: readonly Voucher[], journal: readonly Movement[]): string[] {
  const sums = new Map<string, { debit: number; credit: number }>();
  const add = (account: string, debit: number, credit: number, sign: 1 | -1) => {
    const e = sums.get(account) ?? { debit: 0, credit: 0 };
    e.debit += sign * debit;
    e.credit += sign * credit;
    sums.set(account, e);
  };
  for (const v of vouchers) for (const l of v.lines) add(l.account, l.debit, l.credit, 1);
  for (const m of journal) add(m.account, m.debit, m.credit, -1);
  const out: string[] = [];
  for (const [account, e] of [...sums].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (e.debit !== 0 || e.credit !== 0) out.push(`${account}: vouchers − journal = debit ${formatYuan(e.debit)}, credit ${formatYuan(e.credit)}`);
  }
  return out;
}

/** Per subject, what the vouchers book: debit and credit. */
export function subjectTotals(vouchers: readonly Voucher[]): { subjectCode: string; subjectName: string; debit: Fen; credit: Fen }[] {
  const m = new Map<string, { subjectCode: string; subjectName: string; debit: number; credit: number }>();
  for (const v of vouchers) {
    for (const l of v.lines) {
      const e = m.get(l.subjectCode) ?? { subjectCode: l.subjectCode, subjectName: l.subjectName, debit: 0, credit: 0 };
      e.debit += l.debit;
      e.credit += l.credit;
      m.set(l.subjectCode, e);
    }
  }
  return [...m.values()].sort((a, b) => (a.subjectCode < b.subjectCode ? -1 : 1)).map((e) => ({ ...e, debit: e.debit as Fen, credit: e.credit as Fen }));
}

export function vouchersToJson(date: string, grouping: Grouping, vouchers: readonly Voucher[], fresh: number) {
  const totals = subjectTotals(vouchers);
  return {
    date,
    grouping,
    vouchers: vouchers.map((v) => ({
      number: voucherNumber(v.word, v.number), word: v.word, no: v.number, date: v.date, eventType: v.eventType, summary: v.summary,
      ...(grouping === 'entry' ? { customerId: v.customerId, loanId: v.loanId } : {}),
      lines: v.lines.map((l) => ({
        subjectCode: l.subjectCode, subjectName: l.subjectName, account: l.account, debit: formatYuan(l.debit), credit: formatYuan(l.credit),
        ...(grouping === 'entry' ? { customerId: l.customerId, loanId: l.loanId } : {}),
      })),
      debit: formatYuan(v.lines.reduce((s, l) => s + l.debit, 0)),
      credit: formatYuan(v.lines.reduce((s, l) => s + l.credit, 0)),
    })),
    totals: {
      bySubject: totals.map((t) => ({ subjectCode: t.subjectCode, subjectName: t.subjectName, debit: formatYuan(t.debit), credit: formatYuan(t.credit) })),
      debit: formatYuan(totals.reduce((s, t) => s + t.debit, 0)),
      credit: formatYuan(totals.reduce((s, t) => s + t.credit, 0)),
    },
    /** vouchers numbered by this export (the rest were numbered before) */
    numberedNow: fresh,
  };
}

export const CSV_COLUMNS = ['凭证日期', '凭证字', '凭证号', '摘要', '科目编码', '科目名称', '借方金额', '贷方金额'] as const;
/** the auxiliary items of entry grouping, after the finance package's columns */
export const CSV_AUX_COLUMNS = ['客户', '贷款'] as const;
const BOM = '\uFEFF';

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One row a voucher line, UTF-8 with a BOM (what Excel and the finance packages expect), CRLF line ends. */
export function vouchersToCsv(grouping: Grouping, vouchers: readonly Voucher[]): string {
  const header = grouping === 'entry' ? [...CSV_COLUMNS, ...CSV_AUX_COLUMNS] : [...CSV_COLUMNS];
  const rows = [header.join(',')];
  for (const v of vouchers) {
    for (const l of v.lines) {
      const cells = [v.date, v.word, String(v.number), v.summary, l.subjectCode, l.subjectName, formatYuan(l.debit), formatYuan(l.credit)];
      if (grouping === 'entry') cells.push(l.customerId ?? '', l.loanId ?? '');
      rows.push(cells.map(csvField).join(','));
    }
  }
  return `${BOM}${rows.join('\r\n')}\r\n`;
}
