// Overdue penalty (罚息): from the day after an installment's due date plus the
// product's grace days, each day accrues the product's penalty rate on the
// installment's overdue (unpaid) principal, half-even to the fen, as its own
// component of the installment. Pure: the batch loads the facts per chunk, this says
// what accrues, the repository writes it.
import type { BusinessDate } from '../dates.ts';
import { LendpayError } from '../errors.ts';
import type { Fen } from '../money.ts';
import { mulRatioHalfEven } from './rounding.ts';

// Calendar-day arithmetic on 'YYYY-MM-DD' as whole days since 1970-01-01: a business
// date is a calendar day (Asia/Shanghai has no daylight saving), and this runs for every
// overdue installment of a batch, where a zone-aware date library costs a millisecond a row.
const DAY_MS = 86_400_000;
const epochDay = (d: string): number => Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10))) / DAY_MS;
const fromEpochDay = (n: number): BusinessDate => new Date(n * DAY_MS).toISOString().slice(0, 10) as BusinessDate;

/** One day's penalty on `overduePrincipal` at `ppm` parts per million, half-even. */
export function dailyPenalty(overduePrincipal: Fen, ppm: number): Fen {
  return mulRatioHalfEven(overduePrincipal, ppm, 1_000_000);
}

/** The first day a penalty accrues: the day after due date + grace days. */
export function penaltyStart(dueDate: BusinessDate, graceDays: number): BusinessDate {
  return fromEpochDay(epochDay(dueDate) + graceDays + 1);
}

export interface PenaltyFacts {
  readonly loanId: string;
  readonly customerId: string;
  readonly no: number;
  readonly dueDate: BusinessDate;
  /** principal of the installment still unpaid */
  readonly overduePrincipal: Fen;
  /** the last day a penalty was accrued for; null: never */
  readonly penaltyThrough: BusinessDate | null;
  /** the loan's product, as sold */
  readonly penaltyDailyRatePpm: number;
  readonly graceDays: number;
}

export interface PenaltyAccrual {
  readonly loanId: string;
  readonly customerId: string;
  readonly no: number;
  /** the days accrued now: more than one when a day's batch did not run */
  readonly days: number;
  readonly amount: Fen;
  /** accrued through this day (the date asked for) */
  readonly through: BusinessDate;
}

/**
 * What accrues for `date`: for each installment past its grace, every day from the day
 * after the last one accrued (or the first penalty day) through `date`, at today's
 * overdue principal (a day whose batch did not run is caught up, never lost; a payment
 * made since only lowers it). Nothing for an installment already accrued through
 * `date` (so a date runs once), nothing with no overdue principal.
 */
export function accruePenalties(facts: readonly PenaltyFacts[], date: BusinessDate): PenaltyAccrual[] {
  const out: PenaltyAccrual[] = [];
  for (const f of facts) {
    if (!Number.isSafeInteger(f.overduePrincipal) || f.overduePrincipal < 0) throw new LendpayError('INVALID_AMOUNT', `loan ${f.loanId} installment ${f.no}: overdue principal ${f.overduePrincipal}`);
    if (f.overduePrincipal === 0 || f.penaltyDailyRatePpm === 0) continue;
    const first = epochDay(f.dueDate) + f.graceDays + 1;
    const through = f.penaltyThrough === null ? null : epochDay(f.penaltyThrough);
    const from = through !== null && through >= first ? through + 1 : first;
    const days = epochDay(date) - from + 1;
    if (days <= 0) continue;
    const amount = (dailyPenalty(f.overduePrincipal, f.penaltyDailyRatePpm) * days) as Fen;
    if (!Number.isSafeInteger(amount)) throw new LendpayError('INVALID_AMOUNT', `loan ${f.loanId}: penalty overflow`);
    out.push({ loanId: f.loanId, customerId: f.customerId, no: f.no, days, amount, through: date });
  }
  return out;
}
