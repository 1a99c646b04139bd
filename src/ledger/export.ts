// Exporting a day's vouchers: the use case `lendpay ledger vouchers` and
// `GET /vouchers` share. Refused, with nothing written, while a ledger account has no
// subject. Postings of the date with no voucher yet are numbered after the day's last
// voucher and stored (under a lock per date and grouping, so numbers never repeat);
// the day is then read back in one snapshot and checked, account by account and
// side by side, against the journal's movements for the date.
import type { Db } from '../../db/connection.ts';
import { insertVouchers, lastVoucherNumber, lockVoucherDay, readVoucherDay, unvoucheredPostings } from '../../db/vouchers.repository.ts';
import { LendpayError } from '../errors.ts';
import { CHART, subjectsFor, type AccountMap } from './accounts.ts';
import { buildVouchers, differences, type Grouping, type Voucher } from './vouchers.ts';

export interface ExportedDay {
  date: string;
  grouping: Grouping;
  vouchers: Voucher[];
  /** how many of them this export numbered */
  numberedNow: number;
}

/** Entries keep arriving on a busy day: after this many rounds the export says so instead of chasing them. */
const ROUNDS = 5;

export async function exportVouchers(db: Db, accounts: AccountMap | null, date: string, grouping: Grouping): Promise<ExportedDay> {
  if (!accounts) throw new LendpayError('RULES_INVALID', 'vouchers need rules/accounts.json: the subject of each ledger account');
  // every account lendpay posts to, not only today's: a day without penalties must not
  // hide that penalty.income has no subject until the day that has one
  subjectsFor(accounts, CHART);
  let numberedNow = 0;
  for (let round = 0; round < ROUNDS; round++) {
    numberedNow += await db.transaction().execute(async (trx) => {
      await lockVoucherDay(trx, date, grouping);
      const postings = await unvoucheredPostings(trx, date, grouping);
      if (postings.length === 0) return 0;
      const subjects = subjectsFor(accounts, [...CHART, ...postings.flatMap((e) => e.lines.map((l) => l.account))]);
      const next = (await lastVoucherNumber(trx, date, grouping)) + 1;
      const built = buildVouchers({ date, grouping, word: accounts.voucherWord, subjects, next, postings });
      await insertVouchers(trx, built);
      return built.length;
    });
    const day = await readVoucherDay(db, date, grouping);
    if (day.unvouchered > 0 && round < ROUNDS - 1) continue;
    if (day.unvouchered > 0) {
      throw new LendpayError('CONFLICT', `${day.unvouchered} journal lines reached ${date} while it was being exported, ${ROUNDS} times over; export again`, { retryable: true });
    }
    const diff = differences(day.vouchers, day.journal);
    if (diff.length > 0) {
      throw new LendpayError('INVALID_AMOUNT', `the vouchers of ${date} do not add up to the journal's movements for the date`, { details: diff });
    }
    return { date, grouping, vouchers: day.vouchers, numberedNow };
  }
  throw new LendpayError('CONFLICT', `could not export ${date}`);
}
