// Facts the risk team declares (rules/facts.json): declarations checked, rules using
// them validated, feeds imported (set-based, refused whole, kept by asOf), and the
// nightly batch reading each customer's latest value as of its date in the one query
// a chunk makes, recording the value and its asOf in the decision.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { importCustomersFile } from '../../db/import.ts';
import { importFactsFile } from '../../db/facts-import.ts';
import { latestFactsAsOf } from '../../db/facts.repository.ts';
import { getDecision } from '../../db/eligibility.repository.ts';
import { saveRuleSet } from '../../db/rulesets.repository.ts';
import { claimBatchRun } from '../../db/batch.repository.ts';
import { customerChunkKeys } from '../../db/eligibility.repository.ts';
import { runNightlyChunk } from '../../jobs/nightly.ts';
import { makeEvaluatorCache } from '../../jobs/evaluators.ts';
import { loadFactsCatalog, loadRuleSet, validateRules } from '../../src/rules/load.ts';
import { parseFactsCatalog, type FactsCatalog } from '../../src/eligibility/declared.ts';
import { parseFeedLine } from '../../src/eligibility/feed.ts';
import { RESERVED_FACT_NAMES } from '../../src/eligibility/facts.ts';
import { LendpayError } from '../../src/errors.ts';
import type { Database } from '../../db/types.ts';
import { SHIPPED, rulesCopy } from '../rules/fixtures/declared.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-declared-'));
const shippedFacts = JSON.parse(fs.readFileSync(path.join(SHIPPED, 'facts.json'), 'utf8'));
let catalog: FactsCatalog;
let t: TestDatabase;

const errorsOf = (j: unknown) => parseFactsCatalog(j, 'rules/facts.json', RESERVED_FACT_NAMES).errors;
const withFact = (name: string, decl: unknown) => ({ facts: { ...shippedFacts.facts, [name]: decl } });

test.before(async () => {
  catalog = (await loadFactsCatalog(SHIPPED))!;
  t = await freshDatabase('declared_facts');
  const six = ['2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10'];
  const customer = (id: string, segment = 'supply_chain') => ({
    id, name: 'n', segment, realNameVerified: true, whitelist: null, accounts: [{ id: `${id}-A`, primary: true, balance: '1.00' }], bankCards: [],
    monthlyFlow: Object.fromEntries(six.map((m) => [m, '100000.00'])),
  });
  const file = path.join(tmp, 'customers.jsonl');
  fs.writeFileSync(file, ['M1', 'M2', 'M3', 'M4', 'M5'].map((id) => JSON.stringify(customer(id))).join('\n'));
  await importCustomersFile(t.db, file);
});
test.after(async () => {
  await t.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the shipped facts.json declares three facts, each with its type, range, source and what missing means', () => {
  assert.equal([...catalog.facts.keys()], ['consumptionScore', 'refundRate', 'supplierTenureMonths']);
  const score = catalog.facts.get('consumptionScore')!;
  assert.equal([score.type, score.spec.min, score.spec.max, score.missing], ['integer', 300, 900, { ineligible: 'NO_CONSUMPTION_SCORE' }]);
  const rate = catalog.facts.get('refundRate')!;
  assert.equal([rate.spec.kind, rate.spec.scale, rate.spec.min, rate.spec.max, rate.missing], ['decimal', 4, 0, 10_000, { default: 0, raw: '0' }]);
  assert.equal(catalog.reasonCodes, ['NO_CONSUMPTION_SCORE', 'HIGH_REFUND_RATE']);
});

test('facts.json: every bad declaration is named with file and JSON path', () => {
  const errs = errorsOf({ facts: {
    segment: { type: 'integer', min: 0, max: 1, description: 'd', source: 's', missing: { default: 0 } },
    Score: { type: 'integer', min: 0, max: 1, description: 'd', source: 's', missing: { default: 0 } },
    noRange: { type: 'integer', description: 'd', source: 's', missing: { default: 0 } },
    rate: { type: 'decimal', scale: 2, min: '0', max: '1', description: 'd', source: 's', missing: { default: '0.005' } },
    tier: { type: 'enum', values: ['A', 'A'], description: 'd', source: 's', missing: { default: 'A' } },
    when: { type: 'datetime', description: 'd', source: 's', missing: { default: 0 } },
    gone: { type: 'boolean', description: '', source: 's', missing: { ineligible: 'no-score' } },
    limitless: { type: 'amount', min: '10.00', max: '1.00', description: 'd', source: 's', missing: { default: '5.00' } },
  } });
  const want = [
    /^rules\/facts\.json: \$\.facts\.segment: "segment" is a built-in fact: choose another name$/,
    /\$\.facts\.Score: a fact name starts with a lower-case letter/,
    /\$\.facts\.noRange: an integer fact needs its range: "min" and "max"/,
    /\$\.facts\.rate\.missing\.default: fact "rate" is a decimal string with at most 2 decimals like "0\.50", got "0\.005"/,
    /\$\.facts\.tier\.values: expected a list of 1 to 100 different non-empty strings/,
    /\$\.facts\.when\.type: unknown type "datetime" \(known: boolean, integer, decimal, amount, enum, date\)/,
    /\$\.facts\.gone\.description: expected text/,
    /\$\.facts\.gone\.missing\.ineligible: expected a reason code of upper-case letters/,
    /\$\.facts\.limitless\.max: "1\.00" is below "min" "10\.00"/,
  ];
  for (const w of want) assert.ok(errs.some((e) => w.test(e)), `${w}\n${errs.join('\n')}`);
  assert.is(errs.length, want.length, errs.join('\n'));
  assert.match(errorsOf(withFact('score2', { type: 'integer', min: 300, max: 900, description: 'd', source: 's', missing: { default: 200 } }))[0]!,
    /\$\.facts\.score2\.missing\.default: fact "score2" is a whole number 300\.\.900, got 200/);
});

async function refusedEligibility(edit: (j: any) => void): Promise<string[]> {
  const dir = rulesCopy();
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'eligibility.json'), 'utf8'));
  edit(j);
  fs.writeFileSync(path.join(dir, 'eligibility.json'), JSON.stringify(j, null, 2));
  const v = await validateRules(dir);
  assert.ok(v.errors.length > 0, 'refused');
  return v.errors;
}
const auto = (j: any) => j.rules[1].conditions.all as unknown[];

test('eligibility.json using declared facts: an undeclared fact, a wrong operator, an out-of-range or mistyped value are refused with file and path', async () => {
  let e = await refusedEligibility((j) => auto(j).push({ fact: 'socialScore', operator: 'greaterThan', value: 500 }));
  assert.match(e[0]!, /eligibility\.json: \$\.rules\[1\]\.conditions\.all\[3\]\.fact: unknown fact "socialScore" \(known: realNameVerified, .*consumptionScore, refundRate, supplierTenureMonths\); a new fact is declared in facts\.json first/);
  e = await refusedEligibility((j) => auto(j).push({ fact: 'refundRate', operator: 'in', value: ['0.1'] }));
  assert.match(e[0]!, /\$\.rules\[1\]\.conditions\.all\[3\]\.operator: operator "in" cannot be used with fact "refundRate" \(use equal, notEqual, lessThan/);
  e = await refusedEligibility((j) => auto(j).push({ fact: 'consumptionScore', operator: 'greaterThan', value: 1200 }));
  assert.match(e[0]!, /\$\.rules\[1\]\.conditions\.all\[3\]\.value: fact "consumptionScore" is a whole number 300\.\.900, got 1200/);
  e = await refusedEligibility((j) => auto(j).push({ fact: 'refundRate', operator: 'lessThan', value: 0.2 }));
  assert.match(e[0]!, /\$\.rules\[1\]\.conditions\.all\[3\]\.value: fact "refundRate" is a decimal string with at most 4 decimals like "0\.0312", got 0\.2/);
  e = await refusedEligibility((j) => auto(j).push({ fact: 'refundRate', operator: 'lessThan', value: '1.5' }));
  assert.match(e[0]!, /\$\.rules\[1\]\.conditions\.all\[3\]\.value: "1\.5" is out of range "0\.0000"\.\."1\.0000"/);
  e = await refusedEligibility((j) => (j.rules[1].event.params.limit.scale = { fact: 'consumptionScore', bands: [{ below: 700, ratio: { numerator: 1, denominator: 1 } }, { below: 600, ratio: { numerator: 1, denominator: 2 } }, { ratio: { numerator: 1, denominator: 1 } }] }));
  assert.match(e[0]!, /\$\.rules\[1\]\.event\.params\.limit\.scale\.bands\[1\]\.below: 600 must be above the band before's "below"/);
  e = await refusedEligibility((j) => (j.rules[1].event.params.limit.scale = { fact: 'segment', bands: [{ below: 1, ratio: { numerator: 1, denominator: 1 } }, { ratio: { numerator: 1, denominator: 1 } }] }));
  assert.match(e[0]!, /\$\.rules\[1\]\.event\.params\.limit\.scale\.fact: a limit is scaled by a number .* "segment" is a enum/);
  e = await refusedEligibility((j) => (j.rules[3].event.params.code = 'LOW_SCORE'));
  assert.match(e[0]!, /\$\.rules\[3\]\.event\.params\.code: unknown reason code "LOW_SCORE" \(known: .*NO_CONSUMPTION_SCORE, HIGH_REFUND_RATE; declare new ones in facts\.json "reasonCodes"\)/);
  // without facts.json the same rule names an unknown fact
  const dir = rulesCopy({ declared: true });
  assert.equal((await validateRules(dir)).errors, []);
  fs.rmSync(path.join(dir, 'facts.json'));
  assert.match((await validateRules(dir)).errors.join('\n'), /unknown fact "refundRate"/);
});

test('a feed line is checked against its declaration, naming line and field', () => {
  const ok = parseFeedLine('{"customerId": "M1001", "asOf": "2026-11-30", "facts": {"consumptionScore": 712, "refundRate": "0.0312", "supplierTenureMonths": 26}}', 1, catalog);
  assert.equal(ok, { customerId: 'M1001', asOf: '2026-11-30', values: [['consumptionScore', 712], ['refundRate', '0.0312'], ['supplierTenureMonths', 26]] });
  const bad = (text: string) => {
    try {
      parseFeedLine(text, 7, catalog);
    } catch (e) {
      assert.instance(e, LendpayError);
      return (e as LendpayError).message;
    }
    throw new Error('accepted');
  };
  assert.is(bad('{"customerId": "M1", "asOf": "2026-11-30", "facts": {"consumptionScore": 1200}}'), 'line 7: facts.consumptionScore: fact "consumptionScore" is a whole number 300..900, got 1200 (declared in rules/facts.json)');
  assert.match(bad('{"customerId": "M1", "asOf": "2026-11-30", "facts": {"refundRate": 0.0312}}'), /^line 7: facts\.refundRate: fact "refundRate" is a decimal string/);
  assert.match(bad('{"customerId": "M1", "asOf": "2026-11-30", "facts": {"refundRate": "0.03125"}}'), /at most 4 decimals/);
  assert.match(bad('{"customerId": "M1", "asOf": "2026-11-30", "facts": {"socialScore": 1}}'), /^line 7: facts\.socialScore: unknown fact \(declared in rules\/facts\.json: consumptionScore, refundRate, supplierTenureMonths\)/);
  assert.match(bad('{"customerId": "M1", "asOf": "2026-02-30", "facts": {"consumptionScore": 700}}'), /^line 7: asOf: 2026-02-30 is not a calendar date/);
  assert.match(bad('{"customerId": "M1", "asOf": "2026-11-30", "facts": {}}'), /^line 7: facts: expected .* at least one fact/);
  assert.match(bad('{"customerId": "M1", "asOf": "2026-11-30", "facts": {"consumptionScore": null}}'), /^line 7: facts\.consumptionScore: fact "consumptionScore" has no value/);
  assert.match(bad('{"customer": "M1"}'), /^line 7: customer: unknown field/);
  assert.match(bad('{"customerId": "M1", "asOf": '), /^line 7: malformed JSON/);
});

const feed = (lines: unknown[]) => {
  const f = path.join(tmp, `feed-${Math.random().toString(36).slice(2)}.jsonl`);
  fs.writeFileSync(f, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return f;
};
const count = async () => Number((await t.db.selectFrom('customer_facts' as never).select(t.db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

test('facts import: values kept by asOf, a re-import replaces the same (customer, fact, asOf); a bad file is refused whole, naming line and field', async () => {
  const good = feed([
    { customerId: 'M1', asOf: '2026-10-31', facts: { consumptionScore: 580, refundRate: '0.0312' } },
    { customerId: 'M1', asOf: '2026-11-20', facts: { consumptionScore: 712 } },
    { customerId: 'M1', asOf: '2026-11-28', facts: { consumptionScore: 820 } }, // after the business date below: not used
    { customerId: 'M2', asOf: '2026-11-01', facts: { consumptionScore: 760, refundRate: '0.25' } },
    { customerId: 'M3', asOf: '2026-11-01', facts: { refundRate: '0' } }, // no score at all
    '',
    { customerId: 'M5', asOf: '2026-11-01', facts: { consumptionScore: 650 } },
  ]);
  const res = await importFactsFile(t.db, good, catalog);
  assert.equal(res, { lines: 7, values: 8, byFact: { consumptionScore: 5, refundRate: 3 } });
  assert.is(await count(), 8);
  assert.equal((await importFactsFile(t.db, good, catalog)).values, 8, 'a re-import replaces, it does not add');
  assert.is(await count(), 8);
  const latest = await latestFactsAsOf(t.db, ['M1', 'M2', 'M3'], ['consumptionScore', 'refundRate'], '2026-11-24');
  assert.equal(latest.get('M1')?.get('consumptionScore'), { value: 712, asOf: '2026-11-20' });
  assert.equal(latest.get('M1')?.get('refundRate'), { value: '0.0312', asOf: '2026-10-31' });
  assert.is(latest.get('M3')?.get('consumptionScore'), undefined);

  const refused = async (lines: unknown[]) => {
    try {
      await importFactsFile(t.db, feed(lines), catalog);
    } catch (e) {
      assert.instance(e, LendpayError);
      assert.is((e as LendpayError).code, 'IMPORT_INVALID');
      assert.match((e as LendpayError).message, /nothing was imported$/);
      return [...(e as LendpayError).details];
    }
    throw new Error('accepted');
  };
  const first = { customerId: 'M4', asOf: '2026-11-02', facts: { consumptionScore: 700 } };
  assert.equal(await refused([first, { customerId: 'M4', asOf: '2026-11-03', facts: { consumptionScore: 901 } }]),
    ['line 2: facts.consumptionScore: fact "consumptionScore" is a whole number 300..900, got 901 (declared in rules/facts.json)']);
  assert.equal(await refused([first, { customerId: 'NOBODY', asOf: '2026-11-03', facts: { consumptionScore: 700 } }]), ['line 2: customerId: unknown customer NOBODY']);
  assert.equal(await refused([first, { customerId: 'M5', asOf: '2026-11-02', facts: { refundRate: '0.1' } }, { ...first, facts: { consumptionScore: 701 } }]),
    ['line 3: facts.consumptionScore: customer M4 already has a value as of 2026-11-02 on line 1']);
  assert.is(await count(), 8, 'nothing of a refused file was written');
});

test('the nightly chunk reads each customer\'s latest value as of its date in its one query and records it with its asOf', async () => {
  const rs = await loadRuleSet(rulesCopy({ declared: true }));
  await saveRuleSet(t.db, rs.hash, 'rules', rs.files);
  const D = '2026-11-24';
  const { run } = await claimBatchRun(t.db, 'nightly', D, rs.hash, (trx) => customerChunkKeys(trx, 100));
  // Count the statements the chunk sends that read customer_facts.
  const statements: string[] = [];
  const counted = new Kysely<Database>({ dialect: new PostgresDialect({ pool: t.pool }), log: (e) => { if (e.level === 'query') statements.push(e.query.sql); } });
  assert.is(await runNightlyChunk({ db: counted, evaluatorFor: makeEvaluatorCache(t.db) }, { runId: run.id, chunkNo: 0 }), 'done');
  const reads = statements.filter((s) => s.includes('customer_facts'));
  assert.is(reads.length, 1, 'one query per chunk loads the declared facts');
  assert.ok(reads[0]!.includes('customer_monthly_flows'), 'and it is the same query that loads the flows');

  const m1 = (await getDecision(t.db, 'M1', D))!;
  // 712 is in the 600..749 band (×1): half of 600,000.00
  assert.equal([m1.eligible, m1.limit, m1.reasons], [true, 30_000_000, []]);
  assert.equal(m1.facts['declared'], { consumptionScore: { value: 712, asOf: '2026-11-20' }, refundRate: { value: '0.0312', asOf: '2026-10-31' } });
  const m2 = (await getDecision(t.db, 'M2', D))!;
  assert.equal([m2.eligible, m2.reasons], [false, ['HIGH_REFUND_RATE']]);
  const m3 = (await getDecision(t.db, 'M3', D))!;
  assert.equal([m3.eligible, m3.reasons, m3.fired], [false, ['NO_CONSUMPTION_SCORE'], []]);
  assert.equal(m3.facts['declared'], { consumptionScore: null, refundRate: { value: '0', asOf: '2026-11-01' } });
  const m4 = (await getDecision(t.db, 'M4', D))!;
  assert.equal([m4.eligible, m4.reasons], [false, ['NO_CONSUMPTION_SCORE']], 'M4 has no value: its import was refused');
  const m5 = (await getDecision(t.db, 'M5', D))!;
  // no refund rate: the declared default "0"
  assert.equal([m5.eligible, m5.limit], [true, 30_000_000]);
  assert.equal(m5.facts['declared'], { consumptionScore: { value: 650, asOf: '2026-11-01' }, refundRate: null });
});

test.run();
