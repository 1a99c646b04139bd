// The outflow block can be lifted only by clearing the debt or by an audited operator
// action (`lendpay holds release`). Everything else — re-running the batch, the hold
// monitor with no money, reconciliation, a repayment short of the hold, a platform
// operator unfreezing behind lendpay's back — leaves a borrower with an open hold
// blocked, or blocked again within one hold-monitor pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { world, LENDER, type World } from '../disbursement/setup.ts';
import { applyForLoan } from '../../src/disbursement/disburse.ts';
import { collectBorrowers, type CollectionDeps } from '../../src/collection/service.ts';
import { monitorHolds } from '../../src/collection/monitor.ts';
import { verifyBlocks } from '../../src/collection/blocks.ts';
import { releaseHold } from '../../src/collection/release.ts';
import { repayFromCard } from '../../src/collection/repay.ts';
import { reconcilePayouts, sandboxStatement } from '../../src/collection/reconcile.ts';
import { loadRuleSet } from '../../src/rules/load.ts';
import { auditOf } from '../../db/audit.repository.ts';
import { LendpayError } from '../../src/errors.ts';
import type { Clock, BusinessDate } from '../../src/dates.ts';
import type { Fen } from '../../src/money.ts';

const D = '2026-11-24' as BusinessDate;
const clock: Clock = { now: () => new Date('2026-11-24T09:30:00+08:00') };
let w: World;
let c: CollectionDeps;

async function onHold(customer: string, due: number): Promise<string> {
  const res = await applyForLoan(w.deps, {
    customerId: customer, amount: due as Fen, rail: 'balance', requestId: `sec-${customer}`,
    schedule: [{ no: 1, dueDate: D, principal: due as Fen, interest: 0 as Fen }],
  });
  assert.ok(res.ok && res.loan.status === 'disbursed', JSON.stringify(res));
  // the payout landed on A; take it away again so that the batch finds too little
  await w.admin('/admin/accounts', { accounts: [`${customer}-A`, `${customer}-B`, `${customer}-C`].map((id, i) => ({ id, customerId: customer, balance: i === 0 ? 100 : 0 })) });
  await collect([customer]);
  assert.ok(await hold(customer), `${customer} is on hold`);
  assert.ok(await blocked(customer), `${customer} is blocked on the platform`);
  return res.ok ? res.loan.id : '';
}

const collect = (ids: string[], prefix = 'collect') =>
  collectBorrowers(c, { ids }, { date: D, runId: null, keyPrefix: prefix, purpose: 'collect.batch', openHolds: true });

async function hold(customer: string) {
  return w.t.db.selectFrom('holds').selectAll().where('customer_id', '=', customer).where('status', '=', 'open').executeTakeFirst();
}

/** The platform's own state, not lendpay's record of it: every account must be frozen. */
async function blocked(customer: string): Promise<boolean> {
  const rs = await w.deps.channel.balances([`${customer}-A`, `${customer}-B`, `${customer}-C`]);
  return rs.every((r) => r.found && r.frozenOutflow);
}

async function platformUnfreeze(customer: string): Promise<void> {
  const res = await fetch(`${w.server.url}/v1/customers/${customer}/unfreeze-outflow`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.ok(res.ok, await res.text());
}

test.before(async () => {
  w = await world('sec_holds', { clock, customers: 6 });
  const rs = await loadRuleSet(path.resolve('rules'));
  c = { db: w.t.db, channel: w.deps.channel, clock, collectionRules: rs.collection!, notifications: rs.notifications!, ruleSetHash: rs.hash, lender: LENDER };
});
test.after(async () => {
  await w.close();
});

test('re-running the batch, the hold monitor with no money and reconciliation leave the borrower blocked', async () => {
  await onHold('G1', 5000);
  await collect(['G1']);
  await collect(['G1'], 'rerun');
  assert.ok(await blocked('G1'));
  const m = await monitorHolds(c, 'sec-tick-1');
  assert.is(m.collectedFen, 0);
  assert.ok(await hold('G1'));
  assert.ok(await blocked('G1'));
  await reconcilePayouts(c, sandboxStatement(w.server.url));
  assert.ok(await hold('G1'));
  assert.ok(await blocked('G1'));
});

test('a card repayment that does not cover the hold leaves the borrower blocked', async () => {
  const loan = await onHold('G2', 5000);
  await w.admin('/admin/accounts', { cards: [{ id: 'G2-K1', customerId: 'G2', bank: 'CMB', last4: '9651', balance: 100_000 }] });
  const res = await repayFromCard(c, { loanId: loan, cardId: 'G2-K1', amount: 1000 as Fen, requestId: 'sec-repay-g2' });
  assert.ok(res.ok && !res.holdCleared, JSON.stringify(res));
  assert.is((await hold('G2'))?.amount_fen, 3900);
  assert.ok(await blocked('G2'));
});

test('regression: the hold monitor did not re-freeze a block lifted on the platform behind lendpay\'s back (blockMismatches read only lendpay\'s record)', async () => {
  await onHold('G3', 5000);
  await platformUnfreeze('G3');
  assert.not.ok(await blocked('G3'), 'the sandbox admin lifted it');
  const m = await monitorHolds(c, 'sec-tick-2');
  assert.is(m.refrozen, 1);
  assert.ok(await blocked('G3'), 'blocked again after one pass');
  // lendpay's record said "blocked" all along; only the platform's state shows the leak
  const again = await verifyBlocks(c);
  assert.equal(again.refrozen, []);
});

test('hold-orphaned-when-debt-cleared-before-sync (chaos seed 660): a hold whose debt was paid by a step that died before syncing it is cleared by the next monitor pass, and the block lifted', async () => {
  const loan = await onHold('G5', 5000);
  // what a repayment or debit leaves when its process is killed between applying the
  // payment and settling the hold: the installment paid, the hold still open
  await w.t.db.updateTable('installments').set((eb) => ({ paid_principal_fen: eb.ref('principal_fen'), paid_interest_fen: eb.ref('interest_fen') })).where('loan_id', '=', loan).execute();
  assert.ok(await hold('G5'), 'orphaned: open with nothing owed');
  const m = await monitorHolds(c, 'sec-tick-orphan');
  assert.is(m.debits, 0, 'nothing is collected: nothing is owed');
  assert.is(m.cleared, 1);
  assert.not.ok(await hold('G5'), 'the hold is cleared');
  assert.not.ok(await blocked('G5'), 'and the block lifted on the platform');
  const h = await w.t.db.selectFrom('holds').select(['status', 'cleared_by']).where('customer_id', '=', 'G5').executeTakeFirstOrThrow();
  assert.equal([h.status, h.cleared_by], ['cleared', 'hold-monitor']);
});

test('holds release: needs a name and a reason; clears the hold as operator:NAME, records the audit row, unblocks', async () => {
  await onHold('G4', 5000);
  for (const bad of [{ by: '', reason: 'customer complaint #123' }, { by: 'alice smith', reason: 'ok ok' }, { by: 'alice', reason: '  ' }]) {
    const e = await releaseHold(c, { customerId: 'G4', ...bad }).catch((x) => x);
    assert.ok(e instanceof LendpayError && e.code === 'INVALID_INPUT', String(e));
  }
  assert.ok(await hold('G4'), 'refused releases change nothing');
  const none = await releaseHold(c, { customerId: 'G5', by: 'alice', reason: 'no hold here' }).catch((x) => x);
  assert.ok(none instanceof LendpayError && none.code === 'CONFLICT');
  const r = await releaseHold(c, { customerId: 'G4', by: 'alice', reason: 'court order 2026-118' });
  assert.ok(r.unblocked);
  assert.not.ok(await hold('G4'));
  assert.not.ok(await blocked('G4'));
  const cleared = await w.t.db.selectFrom('holds').select(['cleared_by', 'amount_fen']).where('id', '=', r.holdId).executeTakeFirstOrThrow();
  assert.is(cleared.cleared_by, 'operator:alice');
  const audit = await auditOf(w.t.db, 'customer:G4');
  assert.is(audit.length, 1);
  assert.equal([audit[0]!.actor, audit[0]!.action, audit[0]!.reason], ['alice', 'hold.release', 'court order 2026-118']);
  assert.equal(audit[0]!.details, { holdId: r.holdId, amountFen: 4900, asOfDate: D });
  // released is not forgiven: the monitor does not block again (no open hold) ...
  await monitorHolds(c, 'sec-tick-3');
  assert.not.ok(await blocked('G4'));
});

test('lendpay holds release on the command line: exit 0 and the audit row; without --by or --reason exit 2', async () => {
  await onHold('G6', 5000);
  const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [path.resolve('src/cli/bin.js'), ...args], { env: { ...process.env, DATABASE_URL: w.t.url, LENDPAY_CHANNEL_URL: w.server.url } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
  const missing = await run(['holds', 'release', 'G6', '--by', 'bob']);
  assert.is(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /--reason/);
  assert.ok(await hold('G6'));
  const ok = await run(['holds', 'release', 'G6', '--by', 'bob', '--reason', 'hardship review approved']);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /released by operator:bob/);
  assert.not.ok(await hold('G6'));
  assert.not.ok(await blocked('G6'));
  assert.is((await auditOf(w.t.db, 'customer:G6'))[0]?.actor, 'bob');
  const again = await run(['holds', 'release', 'G6', '--by', 'bob', '--reason', 'twice']);
  assert.is(again.code, 1);
  assert.match(again.stderr, /no open hold/);
  assert.not.match(again.stderr, /    at /);
});

test.run();
