// Hostile rule files: mutated copies of the shipped rules (nodes deleted, inserted,
// swapped for wrong types, huge numbers, NaN-like strings, unknown operators), text
// damage (BOM, trailing garbage, duplicate keys, truncation), 10,000 levels of
// nesting and 5 MB strings. validateRules never throws; loadRuleSet throws only
// LendpayError('RULES_INVALID') with `file: JSON path: reason` lines; neither hangs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRuleSet, validateRules } from '../../src/rules/load.ts';
import { parseCalendar, loadCalendar } from '../../src/calendar/calendar.ts';
import { LendpayError } from '../../src/errors.ts';
import { caseRng, deepNesting, deepObject, fuzzRuns, fuzzSeed, mutateText, mutateTree } from '../helpers/fuzz.ts';

const SHIPPED = path.resolve('rules');
const FILES = ['eligibility.json', 'calendar.json', 'pricing.json', 'collection.json', 'notifications.json', 'facts.json', 'escalation.json'] as const;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-fuzz-rules-'));
const originals = Object.fromEntries(FILES.map((f) => [f, fs.readFileSync(path.join(SHIPPED, f), 'utf8')]));
const seed = fuzzSeed();

function freshDir(name: string): string {
  const dir = path.join(tmp, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(SHIPPED, dir, { recursive: true });
  return dir;
}

/** Each problem line is `file: where: reason`, naming the file that was damaged. */
function assertProblemLines(errors: readonly string[], file: string, ctx: string): void {
  for (const e of errors) {
    assert.ok(typeof e === 'string' && e.length < 20_000, `${ctx}: a bounded message, got ${String(e).length} chars`);
    assert.match(e, /^[^:\n]+\.json: \S.*: \S/, `${ctx}: "${e.slice(0, 200)}" is file: where: reason`);
  }
  if (errors.length > 0) assert.ok(errors.some((e) => e.includes(file)), `${ctx}: some problem names ${file}: ${errors.slice(0, 3).join(' | ')}`);
}

async function checkDir(dir: string, file: string, ctx: string): Promise<'valid' | 'invalid'> {
  const t0 = performance.now();
  let v: Awaited<ReturnType<typeof validateRules>>;
  try {
    v = await validateRules(dir);
  } catch (e) {
    throw new Error(`${ctx}: validateRules threw ${(e as Error)?.stack ?? String(e)}`);
  }
  assertProblemLines(v.errors, file, ctx);
  try {
    await loadRuleSet(dir);
    assert.is(v.errors.length, 0, `${ctx}: loadRuleSet accepted what validateRules refused`);
  } catch (e) {
    assert.ok(e instanceof LendpayError && e.code === 'RULES_INVALID', `${ctx}: loadRuleSet threw ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(v.errors.length > 0, `${ctx}: validateRules found nothing but loadRuleSet refused`);
    assert.equal([...e.details], v.errors);
  }
  assert.ok(performance.now() - t0 < 10_000, `${ctx}: took ${Math.round(performance.now() - t0)} ms`);
  return v.errors.length === 0 ? 'valid' : 'invalid';
}

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('structural mutations of every shipped rule file: named problems, never a crash', async () => {
  const runs = fuzzRuns(150);
  const dir = freshDir('tree');
  let invalid = 0;
  for (let i = 0; i < runs; i++) {
    const r = caseRng(seed, i);
    const file = r.pick(FILES);
    let json: unknown = JSON.parse(originals[file]!);
    for (let k = 1 + r.int(3); k > 0; k--) json = mutateTree(json, r);
    for (const f of FILES) fs.writeFileSync(path.join(dir, f), f === file ? JSON.stringify(json, null, 1) : originals[f]!);
    if ((await checkDir(dir, file, `seed ${seed} case ${i} (${file})`)) === 'invalid') invalid++;
  }
  assert.ok(invalid > runs / 3, `most mutations are refused (${invalid}/${runs})`);
});

test('text-level damage (BOM, trailing garbage, duplicate keys, truncation, huge numbers)', async () => {
  const runs = fuzzRuns(100);
  const dir = freshDir('text');
  for (let i = 0; i < runs; i++) {
    const r = caseRng(seed + 1, i);
    const file = r.pick(FILES);
    const text = mutateText(originals[file]!, r);
    for (const f of FILES) fs.writeFileSync(path.join(dir, f), f === file ? text : originals[f]!);
    await checkDir(dir, file, `seed ${seed + 1} case ${i} (${file})`);
  }
});

test('10,000 levels of nesting, a 5 MB string, a 5 MB array: refused with a path, fast, no stack overflow', async () => {
  const dir = freshDir('huge');
  const depthCases: [string, (orig: any) => string][] = [
    ['deep array as a value', (o) => JSON.stringify({ ...o, rules: '§' }).replace('"§"', deepNesting(10_000))],
    ['deep object as a value', (o) => JSON.stringify({ ...o, rules: '§' }).replace('"§"', deepObject(10_000))],
    ['deep all/any conditions', (o) => {
      const rules = structuredClone(o.rules ?? o.steps ?? []);
      let nested = '{"fact":"segment","operator":"equal","value":"external"}';
      for (let i = 0; i < 10_000; i++) nested = i % 2 ? `{"all":[${nested}]}` : `{"any":[${nested}]}`;
      return JSON.stringify({ ...o, rules: rules.map((x: any, i: number) => (i === 0 ? { ...x, conditions: '§' } : x)) }).replace('"§"', nested);
    }],
    ['5 MB string', (o) => JSON.stringify({ ...o, description: 'x'.repeat(5 * 1024 * 1024) , rules: [{ name: 'y'.repeat(5 * 1024 * 1024) }] })],
    ['1 MB array', (o) => JSON.stringify({ ...o, rules: Array.from({ length: 100_000 }, () => 1) })],
    ['top-level array', () => deepNesting(10_000)],
  ];
  for (const file of FILES) {
    const orig = JSON.parse(originals[file]!);
    for (const [name, make] of depthCases) {
      // the big ones cost a second each: three files are enough for them
      if (name.startsWith('5 MB') && (file === 'pricing.json' || file === 'notifications.json')) continue;
      for (const f of FILES) fs.writeFileSync(path.join(dir, f), f === file ? make(orig) : originals[f]!);
      const res = await checkDir(dir, file, `${name} in ${file}`);
      if (name !== '5 MB string' || file !== 'calendar.json') assert.is(res, 'invalid', `${name} in ${file}`);
    }
  }
});

test('calendar files: parseCalendar/loadCalendar throw only CALENDAR_INVALID naming file and path', async () => {
  const runs = fuzzRuns(200);
  const file = path.join(tmp, 'calendar.json');
  for (let i = 0; i < runs; i++) {
    const r = caseRng(seed + 2, i);
    const text = r.chance(0.7) ? JSON.stringify(mutateTree(mutateTree(JSON.parse(originals['calendar.json']!), r), r)) : mutateText(originals['calendar.json']!, r);
    fs.writeFileSync(file, text);
    try {
      loadCalendar(file);
    } catch (e) {
      assert.ok(e instanceof LendpayError && e.code === 'CALENDAR_INVALID', `seed ${seed + 2} case ${i}: ${(e as Error)?.stack ?? String(e)}`);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
    }
  }
  for (const bad of [deepNesting(10_000), deepObject(10_000), `{"years":${deepObject(10_000)}}`]) {
    const e = (() => { try { parseCalendar(JSON.parse(bad), 'cal.json'); return null; } catch (x) { return x; } })();
    assert.ok(e instanceof LendpayError && e.code === 'CALENDAR_INVALID', String(e));
  }
});

test.run();
