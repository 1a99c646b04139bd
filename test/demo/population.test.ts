import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generatePopulation, writePopulationJsonl, type PopulationLine } from '../../src/demo/population.ts';
import { parseCustomerLine } from '../../src/customers/parse.ts';
import { monthsBefore, type BusinessDate } from '../../src/dates.ts';
import type { CustomerRecord } from '../../src/customers/types.ts';

const asOf = '2026-07-15' as BusinessDate;
const months = monthsBefore(asOf, 8);
const N = 5000;
const lines = [...generatePopulation({ seed: 42, size: N, asOf })];
const records: CustomerRecord[] = lines.map((l, i) => parseCustomerLine(JSON.stringify(l), i + 1));

function share(pred: (r: CustomerRecord, l: PopulationLine) => boolean): number {
  return records.filter((r, i) => pred(r, lines[i] as PopulationLine)).length / N;
}
function within(value: number, lo: number, hi: number, what: string) {
  assert.ok(value >= lo && value <= hi, `${what}: ${value.toFixed(3)} not in [${lo}, ${hi}]`);
}

test('same seed gives identical output; another seed differs', () => {
  const again = [...generatePopulation({ seed: 42, size: N, asOf })];
  assert.is(JSON.stringify(again), JSON.stringify(lines));
  const other = [...generatePopulation({ seed: 43, size: N, asOf })];
  assert.is.not(JSON.stringify(other), JSON.stringify(lines));
  assert.is([...generatePopulation({ seed: 1, size: 0, asOf })].length, 0);
});

test('every generated line passes parseCustomerLine and keys are in the file format', () => {
  assert.is(records.length, N);
  assert.equal(Object.keys(lines[0] as object), ['id', 'name', 'segment', 'realNameVerified', 'whitelist', 'accounts', 'bankCards', 'monthlyFlow']);
  assert.is(lines[0]?.id, 'M0000001');
  assert.is(lines[N - 1]?.id, 'M0005000');
  const ids = lines.map((l) => l.id);
  assert.equal([...ids].sort(), ids, 'ids sort in file order');
  assert.is(new Set(ids).size, N);
});

test('segment mix, real-name share and whitelists are within bounds', () => {
  within(share((r) => r.segment === 'open_platform'), 0.42, 0.48, 'open_platform');
  within(share((r) => r.segment === 'supply_chain'), 0.32, 0.38, 'supply_chain');
  within(share((r) => r.segment === 'external'), 0.17, 0.23, 'external');
  within(share((r) => r.realNameVerified), 0.9, 0.94, 'real-name verified');
  within(share((r) => r.whitelist !== null), 0.065, 0.095, 'whitelisted');
  const wl = records.flatMap((r) => (r.whitelist ? [r.whitelist] : []));
  assert.ok(wl.some((w) => w.expiresOn === null), 'some whitelists never expire');
  assert.ok(wl.some((w) => w.expiresOn !== null && w.expiresOn < asOf), 'some have expired');
  assert.ok(wl.some((w) => w.expiresOn !== null && w.expiresOn >= asOf), 'some are running');
  for (const w of wl) within(w.limit, 5_000_000, 300_000_000, 'whitelist limit (fen)');
});

test('flows: 8 months before asOf, gaps, short histories and a few huge merchants', () => {
  const full = (r: CustomerRecord) => months.every((m) => (r.monthlyFlow.get(m) ?? 0) > 0);
  for (const r of records) for (const m of r.monthlyFlow.keys()) assert.ok(months.includes(m), `month ${m} outside the window`);
  within(share(full), 0.75, 0.85, 'flow every month');
  within(share((r) => r.monthlyFlow.size >= 3 && r.monthlyFlow.size <= 5 && [...r.monthlyFlow.values()].every((v) => v > 0)), 0.035, 0.075, 'young shops');
  within(share((r) => !full(r) && !(r.monthlyFlow.size <= 5 && [...r.monthlyFlow.values()].every((v) => v > 0))), 0.12, 0.18, 'gappy shops');
  const flows = records.flatMap((r) => [...r.monthlyFlow.values()].filter((v) => v > 0));
  const small = flows.filter((v) => v < 100_000_000);
  within(Math.min(...flows), 100_000, 100_000, 'smallest positive flow');
  assert.ok(small.every((v) => v <= 200_000_000), 'ordinary flows stay within 2,000,000 CNY');
  // a few merchants whose six-month flow dwarfs the 5,000,000 CNY cap
  within(share((r) => [...r.monthlyFlow.values()].some((v) => v > 200_000_000)), 0.005, 0.02, 'huge merchants');
  const sorted = [...flows].sort((a, b) => a - b);
  within((sorted[Math.floor(sorted.length / 2)] as number) / 100, 30_000, 120_000, 'median monthly flow (CNY)');
});

test('accounts and cards', () => {
  for (const r of records) {
    within(r.accounts.length, 1, 3, 'accounts');
    assert.is(r.accounts.filter((a) => a.primary).length, 1);
    for (const a of r.accounts) within(a.balance, 0, 5_000_000, 'account balance (fen)');
    within(r.bankCards.length, 0, 2, 'cards');
    for (const c of r.bankCards) assert.ok(['CMB', 'ICBC', 'CCB', 'ABC', 'BOC', 'BOCOM', 'PSBC'].includes(c.bank));
  }
  within(share((r) => r.accounts.length > 1), 0.5, 0.8, 'several accounts');
  within(share((r) => r.bankCards.length === 0), 0.25, 0.42, 'no card');
});

test('writePopulationJsonl streams the same lines to a file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-pop-'));
  try {
    const f = path.join(dir, 'p.jsonl');
    assert.is(await writePopulationJsonl(f, { seed: 42, size: N, asOf }), N);
    const text = fs.readFileSync(f, 'utf8');
    assert.is(text, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await writePopulationJsonl(path.join(dir, 'missing', 'x.jsonl'), { seed: 1, size: 10, asOf }).then(
      () => assert.unreachable('writing into a missing directory should fail'),
      (e: NodeJS.ErrnoException) => assert.is(e.code, 'ENOENT'),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
