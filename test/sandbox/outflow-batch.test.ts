// The bulk outflow freeze: many customers frozen and unfrozen in one call, answered
// in request order, a customer without accounts answering 0 accounts, a repeated
// customer refused, and the result the same as one call per customer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarness, type Harness } from './setup.ts';

let h: Harness;

test.before(async () => {
  h = await startHarness('sandbox_outflow_batch');
  const r = await h.admin('POST', '/admin/accounts', {
    accounts: [
      { id: 'C1-A', customerId: 'c1', balance: 100 },
      { id: 'C1-B', customerId: 'c1', balance: 0 },
      { id: 'C2-A', customerId: 'c2', balance: 0, frozenOutflow: true },
      { id: 'C3-A', customerId: 'c3', balance: 0 },
    ],
  });
  assert.is(r.status, 200, r.text);
});
test.after(async () => {
  await h.close();
});

async function frozen(id: string): Promise<boolean> {
  const b = await h.channel.balance(id);
  if (!b.found) throw new Error(`no account ${id}`);
  return b.frozenOutflow;
}

test('freezes and unfreezes many customers in one call, in request order', async () => {
  const res = await h.channel.setOutflowBlocks!([
    { customerId: 'c2', frozenOutflow: false },
    { customerId: 'c1', frozenOutflow: true },
    { customerId: 'nobody', frozenOutflow: true },
  ]);
  assert.equal(res, [
    { customerId: 'c2', frozenOutflow: false, accounts: 1 },
    { customerId: 'c1', frozenOutflow: true, accounts: 2 },
    { customerId: 'nobody', frozenOutflow: true, accounts: 0 },
  ]);
  assert.is(await frozen('C1-A'), true);
  assert.is(await frozen('C1-B'), true);
  assert.is(await frozen('C2-A'), false);
  assert.is(await frozen('C3-A'), false);
  // repeating it changes nothing
  await h.channel.setOutflowBlocks!([{ customerId: 'c1', frozenOutflow: true }]);
  assert.is(await frozen('C1-A'), true);
});

test('a customer twice in one call is refused whole', async () => {
  const r = await h.admin('POST', '/v1/customers/outflow/batch', { changes: [{ customerId: 'c3', frozenOutflow: true }, { customerId: 'c3', frozenOutflow: false }] });
  assert.is(r.status, 400, r.text);
  assert.match(r.body.error.message, /appears twice/);
  assert.is(await frozen('C3-A'), false);
});

test.run();
