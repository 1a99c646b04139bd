import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRuleSet } from '../../src/rules/load.ts';
import { evaluateWithEngine } from '../../src/eligibility/engine.ts';
import { formatExplanation } from '../../src/eligibility/explain.ts';
import { RULES_DIR, d, input, sixMonths } from './fixtures/input.ts';

test('the explanation lists each condition with its fact value and result', async () => {
  const rs = await loadRuleSet(RULES_DIR);
  const { decision, explanation } = await evaluateWithEngine(
    rs.eligibility,
    input({ id: 'M1001', whitelist: { limit: '800000.00', expiresOn: '2026-11-23' }, flow: sixMonths(['1.00', null, '1.00', '1.00', '1.00', '1.00']) }),
    d('2026-11-24'),
  );
  assert.equal(explanation.map((r) => r.name), rs.eligibility.rules.map((r) => r.name));
  const auto = explanation.find((r) => r.name === 'auto-tag-door')!;
  assert.is(auto.result, false);
  assert.is(auto.conditions.result, false);
  assert.ok(auto.conditions.kind === 'all');
  const flow = auto.conditions.children[2]!;
  assert.equal(flow, { kind: 'fact', fact: 'minMonthlyFlow', params: { months: 6 }, operator: 'greaterThan', value: 0, factValue: 0, result: false });
  const text = formatExplanation(decision, explanation, rs.hash, rs.eligibility);
  assert.match(text, 'Customer M1001 on 2026-11-24');
  assert.match(text, 'NOT ELIGIBLE: INSUFFICIENT_FLOW_HISTORY, WHITELIST_EXPIRED');
  assert.match(text, rs.hash);
  assert.match(text, '✗ minMonthlyFlow(months=6) greaterThan 0.00   [actual: 0.00]');
  assert.match(text, '✓ reason-whitelist-expired');
  assert.match(text, 'whitelistLimit       800,000.00');
});

test.run();
