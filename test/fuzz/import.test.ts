// Hostile import lines: mutations of a valid line (every field the wrong type, huge,
// negative, three decimals, exponents, unicode ids, NUL, very long names, deep JSON).
// parseCustomerLine answers a record or LendpayError('IMPORT_INVALID') naming the line
// and the field, never echoing the name; a file with any such line writes nothing
// (real Postgres), and a good import before it stays exactly as it was.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCustomerLine } from '../../src/customers/parse.ts';
import { importCustomersFile } from '../../db/import.ts';
import { LendpayError } from '../../src/errors.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { caseRng, deepObject, fuzzRuns, fuzzSeed, mutateTree, nodePaths, weirdValue, type Rng } from '../helpers/fuzz.ts';

const SECRET_NAME = 'Zhang-San-PII-7731';
const seed = fuzzSeed();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-fuzz-import-'));
let t: TestDatabase;

function valid(id: string): Record<string, unknown> {
  return {
    id, name: SECRET_NAME, segment: 'open_platform', realNameVerified: true,
    whitelist: { limit: '5000.00', reason: 'pilot', expiresOn: '2027-01-31' },
    accounts: [{ id: `${id}-A`, primary: true, balance: '1234.56' }, { id: `${id}-B`, primary: false, balance: '0.00' }],
    bankCards: [{ id: `${id}-K1`, bank: 'CMB', last4: '9651', balance: '5000.00' }],
    monthlyFlow: { '2026-05': '120000.00', '2026-06': '98000.00' },
  };
}

const HOSTILE_FIELD_VALUES = [
  '-1.00', '1.234', '1e5', '1E+3', '99999999999999999999.00', '0x10', ' 1.00', '1.00 ', '１.００', 'NaN', 'Infinity', '',
  1.5, 100, -1, 1e308, null, true, [], {}, '\u0000', 'a\u0000b', 'ɪᴅ', '😀', 'x'.repeat(100_000), '2026-02-30', '0000-01-01', '9999-12-31',
];

function setAt(o: any, p: (string | number)[], v: unknown): void {
  let cur = o;
  for (const k of p.slice(0, -1)) cur = cur[k];
  cur[p[p.length - 1]!] = v;
}

function hostileLine(r: Rng, id: string): string {
  const o = valid(id);
  switch (r.int(4)) {
    case 0: { // one field, a hostile value
      const paths = nodePaths(o).filter((p) => p.length > 0);
      setAt(o, r.pick(paths), r.chance(0.7) ? r.pick(HOSTILE_FIELD_VALUES) : weirdValue(r));
      return JSON.stringify(o);
    }
    case 1: return JSON.stringify(mutateTree(mutateTree(o, r), r));
    case 2: { // deep JSON in a field
      const paths = nodePaths(o).filter((p) => p.length > 0);
      return JSON.stringify({ ...o, [String(r.pick(paths)[0])]: '§' }).replace('"§"', deepObject(r.pick([100, 5000, 20_000])));
    }
    default: { // raw text damage
      const s = JSON.stringify(o);
      const i = r.int(s.length);
      return r.pick([s.slice(0, i), s + '}', `\u0000${s}`, s.replace(/"/, "'"), `[${s}]`, s.replace(SECRET_NAME, `${SECRET_NAME}\\u0000`), s.replace(/"1234.56"/, '1234.56')]);
    }
  }
}

test.before(async () => {
  t = await freshDatabase('fuzz_import');
});
test.after(async () => {
  await t.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('parseCustomerLine: a record or IMPORT_INVALID "line N: field: reason", never the name, bounded', () => {
  const runs = fuzzRuns(2000);
  let refused = 0;
  for (let i = 0; i < runs; i++) {
    const line = hostileLine(caseRng(seed, i), `M${i}`);
    const ctx = `seed ${seed} case ${i}: ${line.slice(0, 300)}`;
    try {
      const rec = parseCustomerLine(line, 7);
      assert.ok(/^[A-Za-z0-9_-]{1,64}$/.test(rec.id), ctx);
      for (const a of rec.accounts) assert.ok(Number.isSafeInteger(a.balance) && a.balance >= 0, ctx);
      for (const f of rec.monthlyFlow.values()) assert.ok(Number.isSafeInteger(f) && f >= 0, ctx);
      assert.not.ok(rec.name.includes('\u0000'), ctx);
    } catch (e) {
      refused++;
      assert.ok(e instanceof LendpayError && e.code === 'IMPORT_INVALID', `${ctx}\n${(e as Error)?.stack ?? String(e)}`);
      assert.match(e.message, /^line 7: /, ctx);
      assert.not.ok(e.message.includes(SECRET_NAME), `${ctx}: the name leaks into "${e.message.slice(0, 200)}"`);
      assert.ok(e.message.length <= 500, `${ctx}: message of ${e.message.length} chars`);
    }
  }
  assert.ok(refused > runs / 2, `${refused}/${runs} refused`);
});

test('every field of a valid line, each hostile value: refused naming that field', () => {
  const base = valid('F1');
  const leafPaths = nodePaths(base).filter((p) => p.length > 0);
  for (const p of leafPaths) {
    for (const v of HOSTILE_FIELD_VALUES) {
      const o = structuredClone(base) as any;
      setAt(o, p, v);
      let err: unknown = null;
      try { parseCustomerLine(JSON.stringify(o), 3); } catch (e) { err = e; }
      if (err === null) continue; // e.g. a reason of "1e5" is a fine reason
      const field = p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
      assert.ok(err instanceof LendpayError && err.code === 'IMPORT_INVALID', String(err));
      // the message names the field at fault (or its parent, for a wrong-shaped parent)
      const named = /^line 3: ([^:]*):/.exec(err.message)?.[1] ?? '';
      assert.ok(field.startsWith(named) && named !== '' || field.startsWith(named.split('.')[0]!), `${field} = ${JSON.stringify(v).slice(0, 40)}: "${err.message.slice(0, 200)}"`);
    }
  }
});

async function counts(): Promise<number[]> {
  const out: number[] = [];
  for (const table of ['customers', 'customer_accounts', 'customer_bank_cards', 'customer_monthly_flows'] as const) {
    const r = await t.db.selectFrom(table as 'customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    out.push(Number(r.n));
  }
  return out;
}

test('real Postgres: a file with one hostile line anywhere is refused whole, nothing written, earlier data unchanged', async () => {
  const good = path.join(tmp, 'good.jsonl');
  fs.writeFileSync(good, ['E1', 'E2', 'E3'].map((id) => JSON.stringify(valid(id))).join('\n'));
  await importCustomersFile(t.db, good);
  const before = await counts();
  const snapshot = JSON.stringify(await t.db.selectFrom('customer_accounts').selectAll().orderBy('id').execute());
  const runs = fuzzRuns(25);
  let refusedFiles = 0;
  for (let i = 0; i < runs; i++) {
    const r = caseRng(seed + 7, i);
    // existing customers updated (E1..E3) and new ones, with 1,200 lines so that a chunk is written before the bad line
    const n = r.chance(0.3) ? 1200 : 5 + r.int(20);
    const lines = Array.from({ length: n }, (_, k) => JSON.stringify({ ...valid(k < 3 ? `E${k + 1}` : `N${i}x${k}`), accounts: [{ id: k < 3 ? `E${k + 1}-A` : `N${i}x${k}-A`, primary: true, balance: '1.00' }] }));
    let bad = '';
    for (let tries = 0; tries < 20; tries++) {
      bad = hostileLine(r, `N${i}bad`);
      try { parseCustomerLine(bad, 1); } catch { break; }
    }
    const at = r.int(n + 1);
    lines.splice(at, 0, bad);
    const file = path.join(tmp, `bad-${i}.jsonl`);
    fs.writeFileSync(file, lines.join('\n'));
    const e = await importCustomersFile(t.db, file).then(() => null, (x) => x);
    if (e === null) continue; // the mutation happened to be valid: nothing to check
    refusedFiles++;
    assert.ok(e instanceof LendpayError && e.code === 'IMPORT_INVALID', `seed ${seed + 7} case ${i}: ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(e.details.some((d) => d.startsWith(`line ${at + 1}: `)), `seed ${seed + 7} case ${i}: names line ${at + 1}: ${e.details.join(' | ').slice(0, 300)}`);
    assert.not.ok(e.details.join('\n').includes(SECRET_NAME));
    assert.equal(await counts(), before, `seed ${seed + 7} case ${i}: nothing written`);
  }
  assert.ok(refusedFiles > runs / 2, `${refusedFiles}/${runs}`);
  assert.is(JSON.stringify(await t.db.selectFrom('customer_accounts').selectAll().orderBy('id').execute()), snapshot, 'the earlier import is untouched');
});

test.run();
