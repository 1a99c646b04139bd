// The payout's expected arrival follows the card cut-off and the business calendar,
// with the clock injected: 16:59 vs 17:00, Friday evening, a holiday eve, a make-up Saturday.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { world, type World } from './setup.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import type { Clock } from '../../src/dates.ts';
import type { Fen } from '../../src/money.ts';

// decisions are made as of the earliest date the tests use
let now = new Date('2026-09-30T08:00:00+08:00');
const clock: Clock = { now: () => now };
let w: World;
let n = 0;

test.before(async () => {
  w = await world('cutoff', { clock });
});
test.after(async () => {
  await w.close();
});

async function cardPayoutAt(local: string, rail: 'card' | 'balance' = 'card'): Promise<string> {
  now = new Date(local);
  n++;
  const res = await applyForLoan(w.deps, { customerId: `G${n}`, amount: 10_000 as Fen, rail, requestId: `cutoff-${n}` });
  assert.ok(res.ok && res.loan.status === 'disbursed', JSON.stringify(res));
  return res.ok ? res.loan.expectedArrivalAt!.toISOString() : '';
}

const at = (local: string) => new Date(local).toISOString();

test('16:59 on a working day arrives the same day; 17:00 the next working day at the cut-off', async () => {
  assert.is(await cardPayoutAt('2026-11-24T16:59:59+08:00'), at('2026-11-24T16:59:59+08:00'));
  assert.is(await cardPayoutAt('2026-11-24T17:00:00+08:00'), at('2026-11-25T17:00:00+08:00'));
});

test('Friday evening arrives on Monday', async () => {
  assert.is(await cardPayoutAt('2026-11-27T19:30:00+08:00'), at('2026-11-30T17:00:00+08:00'));
});

test('the eve of the National Day holiday arrives after it', async () => {
  assert.is(await cardPayoutAt('2026-09-30T18:00:00+08:00'), at('2026-10-08T17:00:00+08:00'));
});

test('a make-up Saturday is a working day; a balance payout arrives at once', async () => {
  assert.is(await cardPayoutAt('2026-10-10T10:00:00+08:00'), at('2026-10-10T10:00:00+08:00'));
  assert.is(await cardPayoutAt('2026-10-03T10:00:00+08:00', 'balance'), at('2026-10-03T10:00:00+08:00'));
});

test.run();
