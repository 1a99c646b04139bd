// Imports a JSON-lines customer file: streamed line by line, written a chunk at a
// time, all inside one transaction so a file with any bad line is refused whole.
import fs from 'node:fs';
import readline from 'node:readline';
import type { Db } from './connection.ts';
import { upsertCustomers } from './customers.repository.ts';
import { parseCustomerLine } from '../src/customers/parse.ts';
import type { CustomerRecord } from '../src/customers/types.ts';
import { LendpayError } from '../src/errors.ts';

export interface ImportOptions {
  /** called after each chunk (and at the end) with the number of lines read so far */
  onProgress?: (lines: number) => void;
  /** customers per write; 1,000 by default */
  chunkSize?: number;
}

export interface ImportResult {
  customers: number;
  accounts: number;
  cards: number;
  flows: number;
}

/** After this many bad lines there is enough to fix; the rest of the file is not read. */
export const MAX_REPORTED_ERRORS = 20;
/** A line this long is not a customer; refusing it keeps a broken file from eating memory. */
const MAX_LINE_CHARS = 1_000_000;

interface BadLine {
  line: number;
  message: string;
}

export async function importCustomersFile(db: Db, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const chunkSize = opts.chunkSize ?? 1000;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new LendpayError('INVALID_INPUT', `chunkSize must be a positive whole number, got ${chunkSize}`);
  await assertFile(file);

  return db.transaction().execute(async (trx) => {
    const totals: ImportResult = { customers: 0, accounts: 0, cards: 0, flows: 0 };
    const bad: BadLine[] = [];
    // id -> first line; a million short ids is tens of MB, unlike the file itself.
    const firstLine = new Map<string, number>();
    let chunk: CustomerRecord[] = [];
    let chunkLines: number[] = [];
    let lineNo = 0;

    // One write in flight while the next chunk is parsed: the connection is busy
    // with one statement at a time anyway, and parsing overlaps it for free.
    let pending: Promise<void> = Promise.resolve();
    const write = async (records: CustomerRecord[], lines: number[]): Promise<void> => {
      try {
        await upsertCustomers(trx, records, (i) => `line ${lines[i]}`);
      } catch (e) {
        if (!(e instanceof LendpayError && e.code === 'CONFLICT')) throw e;
        for (const message of e.details) bad.push({ line: Number(/^line (\d+)/.exec(message)?.[1] ?? 0), message });
      }
    };
    const flush = async (): Promise<void> => {
      await pending;
      const records = chunk;
      const lines = chunkLines;
      chunk = [];
      chunkLines = [];
      if (bad.length > 0 || records.length === 0) return;
      pending = write(records, lines);
      pending.catch(() => {}); // awaited by the next flush; this only silences the interim
      opts.onProgress?.(lineNo);
    };

    const stream = fs.createReadStream(file, { encoding: 'utf8' });
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const raw of lines) {
        lineNo++;
        const text = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
        if (text.trim() === '') continue;
        const record = parseLine(text, lineNo, bad);
        if (record) {
          const seen = firstLine.get(record.id);
          if (seen !== undefined) {
            bad.push({ line: lineNo, message: `line ${lineNo}: id: customer ${record.id} already appears on line ${seen}` });
          } else {
            firstLine.set(record.id, lineNo);
            totals.customers++;
            totals.accounts += record.accounts.length;
            totals.cards += record.bankCards.length;
            totals.flows += record.monthlyFlow.size;
            if (bad.length === 0) {
              chunk.push(record);
              chunkLines.push(lineNo);
            }
          }
        }
        if (bad.length >= MAX_REPORTED_ERRORS) break;
        if (chunk.length >= chunkSize) await flush();
      }
      await flush();
      await pending;
    } finally {
      lines.close();
      stream.destroy();
    }

    if (bad.length > 0) {
      // Conflicts come back a chunk late, so put the list in file order.
      const details = bad.sort((x, y) => x.line - y.line).slice(0, MAX_REPORTED_ERRORS).map((b) => b.message);
      const n = bad.length >= MAX_REPORTED_ERRORS ? `at least ${bad.length}` : String(bad.length);
      // Throwing rolls the transaction back: chunks already written disappear with it.
      throw new LendpayError('IMPORT_INVALID', `${file}: ${n} bad line(s); nothing was imported`, { details });
    }
    opts.onProgress?.(lineNo);
    return totals;
  });
}

function parseLine(text: string, lineNo: number, bad: BadLine[]): CustomerRecord | null {
  if (text.length > MAX_LINE_CHARS) {
    bad.push({ line: lineNo, message: `line ${lineNo}: longer than ${MAX_LINE_CHARS} characters` });
    return null;
  }
  try {
    return parseCustomerLine(text, lineNo);
  } catch (e) {
    if (!(e instanceof LendpayError)) throw e;
    bad.push({ line: lineNo, message: e.message });
    return null;
  }
}

async function assertFile(file: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LendpayError('NOT_FOUND', code === 'ENOENT' ? `import file ${file} does not exist` : `import file ${file} cannot be read (${code ?? String(e)})`, { cause: e });
  }
  if (!stat.isFile()) throw new LendpayError('INVALID_INPUT', `import file ${file} is not a regular file`);
}
