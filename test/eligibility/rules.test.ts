import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRuleSet, type RuleSet } from '../../src/rules/load.ts';
import { compileEligibility, type EligibilityEvaluator } from '../../src/eligibility/evaluate.ts';
import { evaluateWithEngine } from '../../src/eligibility/engine.ts';
import type { EligibilityDecision, EligibilityInput } from '../../src/eligibility/types.ts';
import { RULES_DIR, d, input, sixMonths } from './fixtures/input.ts';

let rs: RuleSet;
let ev: EligibilityEvaluator;
const D = d('2026-11-24');
const six = sixMonths(Array(6).fill('100000.00'));

test.before(async () => {
  rs = await loadRuleSet(RULES_DIR);
  ev = compileEligibility(rs.eligibility);
});

/** Both implementations, checked identical; returns the decision. */
async function decide(i: EligibilityInput, date = D): Promise<EligibilityDecision> {
  const fast = ev.evaluate(i, date);
  const { decision } = await evaluateWithEngine(rs.eligibility, i, date);
  assert.equal(fast, decision);
  return fast;
}
const brief = (x: EligibilityDecision) => [x.eligible, x.door, x.limit, x.reasons];

test('the evaluator needs six months of input', () => {
  assert.is(ev.flowMonths, 6);
});

test('six months of flow: auto-tag, half the total to the fen', async () => {
  assert.equal(brief(await decide(input({ flow: six }))), [true, 'auto_tag', 30_000_000, []]);
  assert.equal(brief(await decide(input({ segment: 'open_platform', flow: six }))), [true, 'auto_tag', 30_000_000, []]);
});

test('five months, one empty month in the middle, a 0.00 month: insufficient history', async () => {
  const no = [false, null, 0, ['INSUFFICIENT_FLOW_HISTORY']];
  assert.equal(brief(await decide(input({ flow: sixMonths([null, ...Array(5).fill('100000.00')]) }))), no);
  assert.equal(brief(await decide(input({ flow: sixMonths(['1.00', '1.00', null, '1.00', '1.00', '1.00']) }))), no);
  assert.equal(brief(await decide(input({ flow: sixMonths(['1.00', '1.00', '0.00', '1.00', '1.00', '1.00']) }))), no);
  // 0.01 is flow
  assert.equal(brief(await decide(input({ flow: sixMonths(['100000.00', '100000.00', '0.01', '100000.00', '100000.00', '100000.00']) }))), [true, 'auto_tag', 25_000_000, []]);
});

test('flow of the current month and before the window does not count', async () => {
  const f = { ...sixMonths([null, ...Array(5).fill('100000.00')]), '2026-11': '100000.00', '2026-04': '100000.00' };
  assert.equal(brief(await decide(input({ flow: f }))), [false, null, 0, ['INSUFFICIENT_FLOW_HISTORY']]);
});

test('rounding down to a whole 100 CNY', async () => {
  const f = sixMonths([...Array(5).fill('100000.00'), '99999.99']); // 599,999.99
  assert.equal((await decide(input({ flow: f }))).limit, 29_990_000);
  const g = sixMonths([...Array(5).fill('100000.00'), '100199.99']); // 600,199.99 -> 300,099.995 -> 300,000.00
  assert.equal((await decide(input({ flow: g }))).limit, 30_000_000);
  const h = sixMonths([...Array(5).fill('100000.00'), '100200.00']); // 600,200.00 -> 300,100.00
  assert.equal((await decide(input({ flow: h }))).limit, 30_010_000);
  assert.equal(brief(await decide(input({ flow: sixMonths(Array(6).fill('1.00')) }))), [true, 'auto_tag', 0, []]);
});

test('the cap: 5,000,000.00 whatever the door', async () => {
  assert.equal(brief(await decide(input({ flow: sixMonths(Array(6).fill('9999999999.99')) }))), [true, 'auto_tag', 500_000_000, []]);
  assert.equal(brief(await decide(input({ segment: 'external', whitelist: { limit: '5000000.01', expiresOn: null } }))), [true, 'whitelist', 500_000_000, []]);
  assert.equal(brief(await decide(input({ segment: 'external', whitelist: { limit: '4999999.99', expiresOn: null } }))), [true, 'whitelist', 499_999_999, []]);
});

test('whitelist validity: expiresOn == D valid, D-1 expired, null for ever', async () => {
  const wl = (expiresOn: string | null) => input({ segment: 'external', whitelist: { limit: '800000.00', expiresOn } });
  assert.equal(brief(await decide(wl('2026-11-24'))), [true, 'whitelist', 80_000_000, []]);
  assert.equal(brief(await decide(wl('2026-11-23'))), [false, null, 0, ['NOT_IN_ECOSYSTEM', 'WHITELIST_EXPIRED']]);
  assert.equal(brief(await decide(wl(null))), [true, 'whitelist', 80_000_000, []]);
  const dec = await decide(wl('2026-11-23'));
  assert.is(dec.facts['whitelistStatus'], 'expired');
  assert.is(dec.facts['whitelistExpiresOn'], '2026-11-23');
});

test('real-name missing', async () => {
  assert.equal(brief(await decide(input({ segment: 'external', realNameVerified: false, whitelist: { limit: '800000.00', expiresOn: null } }))), [false, null, 0, ['REAL_NAME_MISSING']]);
  assert.equal(brief(await decide(input({ realNameVerified: false, flow: six }))), [false, null, 0, ['REAL_NAME_MISSING']]);
  assert.equal(brief(await decide(input({ segment: 'external', realNameVerified: false }))), [false, null, 0, ['REAL_NAME_MISSING', 'NOT_IN_ECOSYSTEM']]);
  assert.equal(
    brief(await decide(input({ realNameVerified: false, whitelist: { limit: '1.00', expiresOn: '2025-01-01' } }))),
    [false, null, 0, ['REAL_NAME_MISSING', 'INSUFFICIENT_FLOW_HISTORY', 'WHITELIST_EXPIRED']],
  );
});

test('both doors: the larger wins in both directions, a tie goes to the whitelist', async () => {
  const both = (limit: string) => input({ whitelist: { limit, expiresOn: null }, flow: six });
  assert.equal(brief(await decide(both('300000.01'))), [true, 'whitelist', 30_000_001, []]);
  assert.equal(brief(await decide(both('299999.99'))), [true, 'auto_tag', 30_000_000, []]);
  assert.equal(brief(await decide(both('300000.00'))), [true, 'whitelist', 30_000_000, []]);
  const dec = await decide(both('300000.00'));
  assert.equal(dec.fired, ['whitelist-door', 'auto-tag-door', 'credit-cap']);
});

test('external with and without a whitelist; ecosystem with an expired whitelist', async () => {
  assert.equal(brief(await decide(input({ segment: 'external' }))), [false, null, 0, ['NOT_IN_ECOSYSTEM']]);
  assert.equal(brief(await decide(input({ segment: 'external', flow: six }))), [false, null, 0, ['NOT_IN_ECOSYSTEM']]);
  assert.equal(brief(await decide(input({ segment: 'external', whitelist: { limit: '800000.00', expiresOn: '2027-01-01' } }))), [true, 'whitelist', 80_000_000, []]);
  // an eligible customer has no reasons even though the expired-whitelist rule fired
  const dec = await decide(input({ whitelist: { limit: '800000.00', expiresOn: '2026-11-01' }, flow: six }));
  assert.equal(brief(dec), [true, 'auto_tag', 30_000_000, []]);
  assert.ok(dec.fired.includes('reason-whitelist-expired'));
  assert.equal(brief(await decide(input({ whitelist: { limit: '800000.00', expiresOn: '2026-11-01' } }))), [false, null, 0, ['INSUFFICIENT_FLOW_HISTORY', 'WHITELIST_EXPIRED']]);
});

test('across a year boundary', async () => {
  const f = sixMonths(Array(6).fill('50000.00'), ['2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12']);
  const dec = await decide(input({ flow: f }), d('2026-01-15'));
  assert.equal(brief(dec), [true, 'auto_tag', 15_000_000, []]);
  assert.equal(Object.keys(dec.facts['monthlyFlow'] as object), ['2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12']);
});

test('facts are JSON-safe and record what the rules saw', async () => {
  const dec = await decide(input({ flow: sixMonths(['1.00', null, '2.00', '3.00', '4.00', '5.00']) }));
  assert.equal(JSON.parse(JSON.stringify(dec.facts)), dec.facts);
  assert.equal(dec.facts, {
    date: '2026-11-24',
    realNameVerified: true,
    segment: 'supply_chain',
    whitelistStatus: 'none',
    whitelistLimit: 0,
    whitelistExpiresOn: null,
    monthlyFlow: { '2026-05': 100, '2026-06': 0, '2026-07': 200, '2026-08': 300, '2026-09': 400, '2026-10': 500 },
    flowTotal: 1500,
    minMonthlyFlow: 0,
    monthsWithFlow: 5,
  });
});

test.run();
