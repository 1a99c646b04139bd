// Imports a JSON-lines customer file at COPY speed, all or nothing:
//  1. stream: the file is read as bytes and split into lines; each line is checked
//     (valid UTF-8, then parseCustomerLine: the one place that knows the format and
//     words its errors) and its record written as one row of a temporary staging
//     table through COPY (pg-copy-streams), while the next bytes are read;
//  2. check, set-based: an id twice in the file, an account or card id that belongs to
//     another customer (elsewhere in the file or already in the database), each as one
//     statement over the whole staging table;
//  3. merge, in the same transaction: one statement per table (customers, accounts,
//     cards, monthly flows), upserting by id.
// A file with any bad line is refused whole with up to 20 problems in file order, each
// naming its line and field, and nothing is written: the transaction is rolled back.
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { poolOf, type Db } from './connection.ts';
import { parseCustomerLine } from '../src/customers/parse.ts';
import type { CustomerRecord } from '../src/customers/types.ts';
import { LendpayError } from '../src/errors.ts';

export interface ImportProgress {
  /** bytes of the file read so far, and its size */
  bytes: number;
  totalBytes: number;
  /** reading (lines are being read and staged), checking, merging, done */
  phase: 'reading' | 'checking' | 'merging' | 'done';
}

export interface ImportOptions {
  /** called as the file is read (about every megabyte), at each phase and at the end, with the lines read so far */
  onProgress?: (lines: number, progress: ImportProgress) => void;
  /** lines staged per write to the COPY stream; 1,000 by default */
  chunkSize?: number;
  /**
   * From this many customers on, the merge is a bulk load: the three foreign keys to
   * customers are dropped for it and added back (validated by one query each) in the
   * same transaction, instead of being checked row by row (two thirds of the time of
   * the monthly flows at 1M lines). Meanwhile the import holds those tables exclusively:
   * fine for an initial load, not wanted for a daily delta. BULK_LOAD_FROM by default.
   */
  bulkLoadFrom?: number;
}

export const BULK_LOAD_FROM = 100_000;

export interface ImportResult {
  customers: number;
  accounts: number;
  cards: number;
  flows: number;
}

/** What `lendpay import` reports: the counts, every line read, and the sums imported (fen, as bigint: a million lines of flow can pass 2^53). */
export interface ImportReport extends ImportResult {
  /** every line of the file, blank ones included */
  lines: number;
  totals: { accountBalancesFen: bigint; cardBalancesFen: bigint; monthlyFlowFen: bigint };
}

/** After this many bad lines there is enough to fix; the rest of the file is not read. */
export const MAX_REPORTED_ERRORS = 20;
/** A line this long is not a customer; refusing it keeps a broken file from eating memory. */
const MAX_LINE_CHARS = 1_000_000;
const PROGRESS_EVERY_BYTES = 1 << 20;

interface Problem {
  line: number;
  message: string;
}

export async function importCustomersFile(db: Db, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const r = await importCustomers(db, file, opts);
  return { customers: r.customers, accounts: r.accounts, cards: r.cards, flows: r.flows };
}

export async function importCustomers(db: Db, file: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const chunkSize = opts.chunkSize ?? 1000;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new LendpayError('INVALID_INPUT', `chunkSize must be a positive whole number, got ${chunkSize}`);
  const size = await assertFile(file);
  const progress = (lines: number, bytes: number, phase: ImportProgress['phase']) => opts.onProgress?.(lines, { bytes, totalBytes: size, phase });

  const client = await poolOf(db).connect();
  let open = false;
  try {
    // A million staged lines are a few hundred MB: room for them in this backend's
    // local buffers (settable only before its first temporary table: a reused
    // connection keeps what it has), and for the checks' sorts and hashes.
    await client.query(`set temp_buffers = '256MB'`).catch(() => {});
    await client.query('begin');
    open = true;
    await client.query(`set local work_mem = '64MB'`);
    await client.query(STAGING);
    const staged = await stageFile(client, file, chunkSize, (lines, bytes) => progress(lines, bytes, 'reading'));
    progress(staged.lines, size, 'checking');
    const problems = staged.problems.length >= MAX_REPORTED_ERRORS ? staged.problems : [...staged.problems, ...(await crossLineProblems(client))];
    if (problems.length > 0) {
      await client.query('rollback');
      open = false;
      // Set-based problems arrive by kind: put the list in file order.
      const details = problems.sort((x, y) => x.line - y.line).slice(0, MAX_REPORTED_ERRORS).map((p) => p.message);
      const n = problems.length >= MAX_REPORTED_ERRORS ? `at least ${MAX_REPORTED_ERRORS}` : String(problems.length);
      throw new LendpayError('IMPORT_INVALID', `${file}: ${n} bad line(s); nothing was imported`, { details });
    }
    progress(staged.lines, size, 'merging');
    await merge(client, staged.report.customers >= (opts.bulkLoadFrom ?? BULK_LOAD_FROM));
    await client.query('commit');
    open = false;
    progress(staged.lines, size, 'done');
    return staged.report;
  } finally {
    if (open) await client.query('rollback').catch(() => {});
    // not back to the pool: this backend holds the staging's local buffers until it ends
    client.release(true);
  }
}

// ---- 1. stream the file into the staging table -------------------------------------

/**
 * One row per good line: the customer's fields, and its accounts, cards and monthly
 * flows as parallel arrays. Temporary: private to this transaction, not WAL-logged,
 * gone at its end.
 */
const STAGING = `
  create temporary table import_lines (
    line int not null, id text not null, name text not null, segment text not null, verified boolean not null,
    wl_limit int8, wl_reason text, wl_expires date,
    acc_ids text[] not null, acc_primary boolean[] not null, acc_fen int8[] not null,
    card_ids text[] not null, card_banks text[] not null, card_last4 text[] not null, card_fen int8[] not null,
    months date[] not null, flow_fen int8[] not null
  ) on commit drop`;

const COPY_LINES = `copy import_lines (line, id, name, segment, verified, wl_limit, wl_reason, wl_expires,
  acc_ids, acc_primary, acc_fen, card_ids, card_banks, card_last4, card_fen, months, flow_fen) from stdin`;

async function stageFile(client: pg.PoolClient, file: string, chunkSize: number, onRead: (lines: number, bytes: number) => void): Promise<{ lines: number; problems: Problem[]; report: ImportReport }> {
  const copy = client.query(copyFrom(COPY_LINES));
  const copied = new Promise<void>((resolve, reject) => {
    copy.on('finish', resolve);
    copy.on('error', reject);
  });
  copied.catch(() => {}); // awaited below; a COPY error must not be unhandled meanwhile

  const problems: Problem[] = [];
  const report: ImportReport = { customers: 0, accounts: 0, cards: 0, flows: 0, lines: 0, totals: { accountBalancesFen: 0n, cardBalancesFen: 0n, monthlyFlowFen: 0n } };
  let lineNo = 0;
  let rows: string[] = [];
  const flush = async () => {
    if (rows.length === 0) return;
    const ok = copy.write(rows.join(''));
    rows = [];
    if (!ok) await Promise.race([once(copy, 'drain'), copied]);
  };

  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let lastReport = 0;
  let rest: Buffer | null = null;
  const take = async (raw: Buffer): Promise<boolean> => {
    lineNo++;
    const record = lineRecord(raw, lineNo, problems);
    if (record !== null) {
      // every good line is staged, also after a bad one: the checks across lines then
      // report all they find, up to the limit, in file order
      rows.push(copyRow(lineNo, record));
      count(report, record);
    }
    if (rows.length >= chunkSize) await flush();
    return problems.length < MAX_REPORTED_ERRORS;
  };
  try {
    reading: for await (const chunk of input as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      rest = null;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        if (!(await take(buf.subarray(start, nl)))) break reading;
        start = nl + 1;
      }
      rest = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
      if (rest && rest.length > MAX_LINE_CHARS * 4) {
        // a line that long cannot be a customer: refuse it without holding all of it
        lineNo++;
        problems.push({ line: lineNo, message: `line ${lineNo}: longer than ${MAX_LINE_CHARS} characters` });
        break;
      }
      if (bytes - lastReport >= PROGRESS_EVERY_BYTES) {
        lastReport = bytes;
        onRead(lineNo, bytes);
      }
    }
    if (rest && problems.length < MAX_REPORTED_ERRORS) await take(rest);
    await flush();
    copy.end();
    await copied;
  } catch (e) {
    copy.destroy();
    await copied.catch(() => {});
    throw e;
  } finally {
    input.destroy();
  }
  onRead(lineNo, bytes);
  report.lines = lineNo;
  return { lines: lineNo, problems, report };
}

function count(report: ImportReport, r: CustomerRecord): void {
  report.customers++;
  report.accounts += r.accounts.length;
  report.cards += r.bankCards.length;
  report.flows += r.monthlyFlow.size;
  const t = report.totals;
  for (const a of r.accounts) t.accountBalancesFen += BigInt(a.balance);
  for (const k of r.bankCards) t.cardBalancesFen += BigInt(k.balance);
  for (const f of r.monthlyFlow.values()) t.monthlyFlowFen += BigInt(f);
}

/** One line of the file → its checked record, or null (blank, or a problem recorded). */
function lineRecord(raw: Buffer, lineNo: number, problems: Problem[]): CustomerRecord | null {
  let bytes = raw.length > 0 && raw[raw.length - 1] === 13 ? raw.subarray(0, raw.length - 1) : raw;
  if (lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (!isUtf8(bytes)) {
    // Decoding would turn the bad bytes into U+FFFD and store them: refuse instead.
    problems.push({ line: lineNo, message: `line ${lineNo}: not valid UTF-8 (byte ${firstInvalidUtf8(bytes) + 1} of the line); save the file as UTF-8` });
    return null;
  }
  const text = bytes.toString('utf8');
  if (text.trim() === '') return null;
  if (text.length > MAX_LINE_CHARS) {
    problems.push({ line: lineNo, message: `line ${lineNo}: longer than ${MAX_LINE_CHARS} characters` });
    return null;
  }
  try {
    return parseCustomerLine(text, lineNo);
  } catch (e) {
    if (!(e instanceof LendpayError)) throw e;
    problems.push({ line: lineNo, message: e.message });
    return null;
  }
}

/** The byte offset of the first byte that breaks UTF-8 (only called on a line that does). */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
    }
    // overlong forms, surrogates and code points past U+10FFFF
    const d1 = b[i + 1] ?? 0;
    if ((c === 0xe0 && d1 < 0xa0) || (c === 0xed && d1 > 0x9f) || (c === 0xf0 && d1 < 0x90) || (c === 0xf4 && d1 > 0x8f)) return i;
    i += n + 1;
  }
  return b.length;
}

// COPY text format: tab between columns, \N for null, and backslash, newline, carriage
// return and tab escaped. Array values are literals {"a","b"} whose elements are quoted
// (an id may be the word NULL) with quotes and backslashes escaped inside.
const NEEDS_ESCAPE = /[\\\n\r\t]/;
function field(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t')) : s;
}
function textArray(items: readonly string[]): string {
  return field(`{${items.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
}
function plainArray(items: readonly (number | string | boolean)[]): string {
  return `{${items.map((x) => (typeof x === 'boolean' ? (x ? 't' : 'f') : String(x))).join(',')}}`;
}

function copyRow(line: number, r: CustomerRecord): string {
  const wl = r.whitelist;
  const months: string[] = [];
  const flows: number[] = [];
  for (const [month, fen] of r.monthlyFlow) {
    months.push(`${month}-01`);
    flows.push(fen);
  }
  return [
    String(line), r.id, field(r.name), r.segment, r.realNameVerified ? 't' : 'f',
    wl ? String(wl.limit) : '\\N', wl ? field(wl.reason) : '\\N', wl?.expiresOn ?? '\\N',
    textArray(r.accounts.map((a) => a.id)), plainArray(r.accounts.map((a) => a.primary)), plainArray(r.accounts.map((a) => a.balance)),
    textArray(r.bankCards.map((k) => k.id)), textArray(r.bankCards.map((k) => k.bank)), textArray(r.bankCards.map((k) => k.last4)), plainArray(r.bankCards.map((k) => k.balance)),
    plainArray(months), plainArray(flows),
  ].join('\t') + '\n';
}

// ---- 2. set-based checks across lines ---------------------------------------------

/**
 * The accounts and cards of the staged lines, one row each, with their place in the
 * line (`accounts[j]`), for the checks and the merge. Statistics only on the columns
 * the checks join by (the arrays' would cost seconds at a million lines).
 */
const EXPLODE = `
  create temporary table import_accounts on commit drop as
    select l.line, l.id as customer_id, a.j - 1 as j, a.id, a.is_primary, a.fen
    from import_lines l, unnest(l.acc_ids, l.acc_primary, l.acc_fen) with ordinality as a(id, is_primary, fen, j);
  create temporary table import_cards on commit drop as
    select l.line, l.id as customer_id, k.j - 1 as j, k.id, k.bank, k.last4, k.fen
    from import_lines l, unnest(l.card_ids, l.card_banks, l.card_last4, l.card_fen) with ordinality as k(id, bank, last4, fen, j);
  analyze import_lines (line, id);
  analyze import_accounts (id, customer_id);
  analyze import_cards (id, customer_id);`;

async function crossLineProblems(client: pg.PoolClient): Promise<Problem[]> {
  await client.query(EXPLODE);
  const problems: Problem[] = [];
  // An id on a second line: the first line stands, the later ones are named.
  // sql-raw-ok: the limit is a constant
  const dup = await client.query<{ line: number; id: string; first: number }>(`
    select line, id, first from (select line, id, min(line) over (partition by id) as first from import_lines) s
    where line > first order by line limit ${MAX_REPORTED_ERRORS}`);
  for (const r of dup.rows) problems.push({ line: r.line, message: `line ${r.line}: id: customer ${r.id} already appears on line ${r.first}` });
  for (const [table, staged, noun, path] of [['customer_accounts', 'import_accounts', 'account', 'accounts'], ['customer_bank_cards', 'import_cards', 'card', 'bankCards']] as const) {
    // Its owner is the database's, or else the first line that lists it. Ids listed by
    // one customer only and new to the database (nearly all) are ruled out first.
    // sql-raw-ok: table names from the constant list above; the limit is a constant
    const r = await client.query<{ line: number; j: number; id: string; owner: string }>(`
      with contested as (
        select id from ${staged} group by id having min(customer_id) <> max(customer_id)
        union
        select s.id from ${staged} s join ${table} t on t.id = s.id where t.customer_id <> s.customer_id
      ), claims as (
        select s.line, s.j, s.id, s.customer_id, t.customer_id as db_owner,
               first_value(s.customer_id) over (partition by s.id order by s.line, s.j) as first_owner
        from ${staged} s join contested c on c.id = s.id left join ${table} t on t.id = s.id
      )
      select line, j, id, coalesce(db_owner, first_owner) as owner from claims
      where customer_id <> coalesce(db_owner, first_owner)
      order by line, j limit ${MAX_REPORTED_ERRORS}`);
    for (const x of r.rows) problems.push({ line: x.line, message: `line ${x.line}: ${path}[${x.j}].id: ${noun} ${x.id} already belongs to customer ${x.owner}` });
  }
  return problems;
}

// ---- 3. merge ---------------------------------------------------------------------

/** The foreign keys from the customer tables this import fills to customers, as pg_dump would write them. */
const CHILD_KEYS = `
  select conrelid::regclass::text as tbl, quote_ident(conname) as name, pg_get_constraintdef(oid) as def
  from pg_constraint
  where contype = 'f' and confrelid = 'customers'::regclass
    and conrelid in ('customer_accounts'::regclass, 'customer_bank_cards'::regclass, 'customer_monthly_flows'::regclass)
  order by 1, 2`;

async function merge(client: pg.PoolClient, bulk: boolean): Promise<void> {
  // PostgreSQL's own advice for populating a database: check the foreign keys once,
  // set-based, after the load, rather than once a row during it.
  const keys = bulk ? (await client.query<{ tbl: string; name: string; def: string }>(CHILD_KEYS)).rows : [];
  // sql-raw-ok: identifiers from pg_catalog (regclass text, quote_ident), no input reaches them
  for (const k of keys) await client.query(`alter table ${k.tbl} drop constraint ${k.name}`);
  await client.query(`
    insert into customers (id, name, segment, real_name_verified, whitelist_limit_fen, whitelist_reason, whitelist_expires_on)
    select id, name, segment, verified, wl_limit, wl_reason, wl_expires from import_lines
    on conflict (id) do update set
      name = excluded.name, segment = excluded.segment, real_name_verified = excluded.real_name_verified,
      whitelist_limit_fen = excluded.whitelist_limit_fen, whitelist_reason = excluded.whitelist_reason,
      whitelist_expires_on = excluded.whitelist_expires_on, imported_at = now()`);
  // One primary per customer at every row (a unique partial index): first clear a
  // primary that is about to move, then write the new ones. Accounts a line no longer
  // lists are kept, not primary.
  await client.query(`
    update customer_accounts c set is_primary = false
    from import_lines l
    where c.customer_id = l.id and c.is_primary
      and not exists (select 1 from import_accounts a where a.id = c.id and a.is_primary)`);
  // Ids owned by another customer were refused above; the WHERE keeps it so regardless.
  await client.query(`
    insert into customer_accounts (id, customer_id, is_primary, imported_balance_fen)
    select id, customer_id, is_primary, fen from import_accounts
    on conflict (id) do update set is_primary = excluded.is_primary, imported_balance_fen = excluded.imported_balance_fen
    where customer_accounts.customer_id = excluded.customer_id`);
  await client.query(`
    insert into customer_bank_cards (id, customer_id, bank, last4, imported_balance_fen)
    select id, customer_id, bank, last4, fen from import_cards
    on conflict (id) do update set bank = excluded.bank, last4 = excluded.last4, imported_balance_fen = excluded.imported_balance_fen
    where customer_bank_cards.customer_id = excluded.customer_id`);
  // Months a line does not mention are kept: flow history arrives month by month.
  await client.query(`
    insert into customer_monthly_flows (customer_id, month, flow_fen)
    select l.id, f.month, f.fen from import_lines l, unnest(l.months, l.flow_fen) as f(month, fen)
    on conflict (customer_id, month) do update set flow_fen = excluded.flow_fen`);
  // back exactly as they were; adding one validates every row in one query, and a
  // failure there rolls the whole import back
  // sql-raw-ok: identifiers and the definition from pg_catalog (pg_get_constraintdef), no input reaches them
  for (const k of keys) await client.query(`alter table ${k.tbl} add constraint ${k.name} ${k.def}`);
}

async function assertFile(file: string): Promise<number> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LendpayError('NOT_FOUND', code === 'ENOENT' ? `import file ${file} does not exist` : `import file ${file} cannot be read (${code ?? String(e)})`, { cause: e });
  }
  if (!stat.isFile()) throw new LendpayError('INVALID_INPUT', `import file ${file} is not a regular file`);
  return stat.size;
}
