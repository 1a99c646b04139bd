// The collection part of `rules simulate`: recorded plans re-planned under the
// baseline and the candidate rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { loadRuleSet } from '../../src/rules/load.ts';
import { compileCollectionRules } from '../../src/collection/evaluate.ts';
import { parseCollectionRules } from '../../src/collection/rules.ts';
import { simulateCollection, type RecordedPlan } from '../../src/rules/simulate-collection.ts';
import type { Fen } from '../../src/money.ts';

const accounts = [{ id: 'A', primary: true, balance: 10_000 as Fen }, { id: 'B', primary: false, balance: 5_000 as Fen }, { id: 'C', primary: false, balance: 3_000 as Fen }];
const facts = (due: number) => ({ segment: 'open_platform' as const, kind: 'installment' as const, amountDue: due as Fen, daysOverdue: 0, accountCount: 3, holdOpen: false, primaryBalance: 10_000 as Fen, totalBalance: 18_000 as Fen });
const plans: RecordedPlan[] = [8_000, 12_000, 20_000].map((due) => ({ due: due as Fen, facts: facts(due), accounts }));
async function* one() {
  yield plans;
  yield [{ due: 1 as Fen, facts: facts(1), accounts: null }];
}

test('removing the cross-account step moves those loans to hold, and nothing else', async () => {
  const rs = await loadRuleSet(path.resolve('rules'));
  const before = compileCollectionRules(rs.collection!);
  const json = structuredClone(rs.files['collection.json']) as any;
  json.rules[0].event.params.steps = json.rules[0].event.params.steps.filter((s: { step: string }) => s.step !== 'cross_account');
  const parsed = parseCollectionRules(json, 'candidate');
  assert.ok(parsed.value, parsed.errors.join('\n'));
  const r = await simulateCollection(one(), before, compileCollectionRules(parsed.value!));
  assert.is(r.items, 3);
  assert.is(r.skipped, 1, 'a plan recorded without accounts cannot be replayed');
  assert.equal(r.before, {
    own_balance: { loans: 1, collectedFen: 8_000, heldFen: 0 },
    cross_account: { loans: 1, collectedFen: 12_000, heldFen: 0 },
    hold: { loans: 1, collectedFen: 18_000, heldFen: 2_000 },
  });
  assert.equal(r.after.hold, { loans: 2, collectedFen: 30_000, heldFen: 2_000 });
  assert.equal(r.moves, { 'cross_account → hold': 1 });
});

test.run();
