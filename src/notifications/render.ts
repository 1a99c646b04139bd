// Fills a notification template. The time is shown in Asia/Shanghai whatever the
// server's zone; amounts with thousands separators and two decimals ("2,000.00").
import { DateTime } from 'luxon';
import { LendpayError } from '../errors.ts';
import { ZONE } from '../dates.ts';
import { formatYuanGrouped, type Fen } from '../money.ts';
import type { NotificationKind, NotificationTemplates, Placeholder } from './templates.ts';

export interface NotificationParams {
  /** the account (or card) number or id; {last4} is its last four characters */
  readonly account: string;
  /** when the money moved (an instant; shown in Asia/Shanghai) */
  readonly at: Date;
  readonly amount: Fen;
  readonly loanId: string;
  /** the bank of a card (its code as imported, e.g. "CMB"); shown by its name */
  readonly bank?: string | null;
}

/** Names of the banks a card may be issued by, as a customer reads them in an SMS. */
const BANK_NAMES: Readonly<Record<string, string>> = {
  ICBC: '工商银行', CCB: '建设银行', ABC: '农业银行', BOC: '中国银行', BOCOM: '交通银行', PSBC: '邮储银行', CMB: '招商银行',
  CITIC: '中信银行', CEB: '光大银行', CMBC: '民生银行', PAB: '平安银行', SPDB: '浦发银行', CIB: '兴业银行', HXB: '华夏银行', GDB: '广发银行',
};

export function bankName(code: string | null | undefined): string {
  if (!code) return '';
  return BANK_NAMES[code.toUpperCase()] ?? code;
}

/** The time fields of one instant; a batch renders thousands of messages for one `at`. */
let lastAt = Number.NaN;
let lastTime: { year: string; month: string; day: string; MM: string; DD: string; hh: string; mm: string } | null = null;
function timeFields(at: Date) {
  const ms = at.getTime();
  if (ms === lastAt && lastTime) return lastTime;
  const t = DateTime.fromJSDate(at, { zone: ZONE });
  if (!t.isValid) throw new LendpayError('INVALID_DATE', 'notification time is not a valid instant');
  lastTime = { year: String(t.year), month: String(t.month), day: String(t.day), MM: t.toFormat('MM'), DD: t.toFormat('dd'), hh: t.toFormat('HH'), mm: t.toFormat('mm') };
  lastAt = ms;
  return lastTime;
}

export function placeholderValues(params: NotificationParams): Record<Placeholder, string> {
  if (!Number.isSafeInteger(params.amount) || params.amount < 0) throw new LendpayError('INVALID_AMOUNT', `notification amount: ${params.amount} is not a whole number of fen`);
  return {
    last4: params.account.slice(-4),
    ...timeFields(params.at),
    amount: formatYuanGrouped(params.amount),
    loanId: params.loanId,
    bank: bankName(params.bank),
  };
}

export function renderNotification(templates: NotificationTemplates, kind: NotificationKind, params: NotificationParams): string {
  const parts = templates.templates[kind];
  if (parts === undefined) throw new LendpayError('NOT_FOUND', `${templates.file}: no "${kind}" template`);
  const values = placeholderValues(params);
  return parts.map((p) => ('text' in p ? p.text : values[p.placeholder])).join('');
}
