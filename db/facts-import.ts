// `lendpay facts import <file.jsonl>`: a feed of declared-fact values, streamed line by
// line, each checked against its declaration (rules/facts.json), staged a chunk at a
// time and written with one statement, all in one transaction: a file with any bad
// line, unknown customer or value given twice is refused whole, naming line and field.
import fs from 'node:fs';
import type { Db } from './connection.ts';
import { numberedLines } from './jsonl.ts';
import { createFactsStage, duplicateStagedFacts, emptyStage, stageFacts, unknownStagedCustomers, writeStagedFacts } from './facts.repository.ts';
import { parseFeedLine } from '../src/eligibility/feed.ts';
import type { FactsCatalog } from '../src/eligibility/declared.ts';
import { LendpayError } from '../src/errors.ts';

export interface FactsImportResult {
  lines: number;
  /** values written: (customer, fact, asOf) rows inserted or replaced */
  values: number;
  /** values per fact */
  byFact: Record<string, number>;
}

/** After this many problems there is enough to fix; the rest of the file is not read. */
export const MAX_REPORTED_PROBLEMS = 20;
const MAX_LINE_CHARS = 100_000;
/** values staged per statement */
const STAGE_ROWS = 20_000;

export async function importFactsFile(db: Db, file: string, catalog: FactsCatalog, opts: { onProgress?: (lines: number) => void } = {}): Promise<FactsImportResult> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (e) {
    throw new LendpayError('NOT_FOUND', `facts file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  if (!stat.isFile()) throw new LendpayError('INVALID_INPUT', `facts file ${file} is not a regular file`);
  if (catalog.facts.size === 0) throw new LendpayError('INVALID_INPUT', `${catalog.file} declares no facts: declare them there first (see rules/README.md)`);

  return db.transaction().execute(async (trx) => {
    await createFactsStage(trx);
    const problems: string[] = [];
    const byFact: Record<string, number> = {};
    let stage = emptyStage();
    let pending: Promise<void> = Promise.resolve();
    // One staging statement in flight while the next chunk is parsed.
    const flush = async (lineNo: number): Promise<void> => {
      await pending;
      const rows = stage;
      stage = emptyStage();
      if (problems.length > 0) return;
      pending = stageFacts(trx, rows);
      pending.catch(() => {}); // awaited by the next flush
      opts.onProgress?.(lineNo);
    };
    let lastLine = 0;
    for await (const { lineNo, text } of numberedLines(file)) {
      lastLine = lineNo;
      if (text.length > MAX_LINE_CHARS) {
        problems.push(`line ${lineNo}: longer than ${MAX_LINE_CHARS} characters`);
      } else {
        try {
          const l = parseFeedLine(text, lineNo, catalog);
          if (problems.length === 0) {
            for (const [fact, value] of l.values) {
              stage.lines.push(lineNo);
              stage.customers.push(l.customerId);
              stage.facts.push(fact);
              stage.asOfs.push(l.asOf);
              stage.values.push(JSON.stringify(value));
              byFact[fact] = (byFact[fact] ?? 0) + 1;
            }
          }
        } catch (e) {
          if (!(e instanceof LendpayError)) throw e;
          problems.push(e.message);
        }
      }
      if (problems.length >= MAX_REPORTED_PROBLEMS) break;
      if (stage.lines.length >= STAGE_ROWS) await flush(lineNo);
    }
    await flush(lastLine);
    await pending;
    if (problems.length === 0) {
      for (const u of await unknownStagedCustomers(trx, MAX_REPORTED_PROBLEMS)) problems.push(`line ${u.line}: customerId: unknown customer ${u.customerId}`);
    }
    if (problems.length === 0) {
      for (const d of await duplicateStagedFacts(trx, MAX_REPORTED_PROBLEMS)) {
        problems.push(`line ${d.lines[1]}: facts.${d.fact}: customer ${d.customerId} already has a value as of ${d.asOf} on line ${d.lines[0]}`);
      }
    }
    if (problems.length > 0) {
      const n = problems.length >= MAX_REPORTED_PROBLEMS ? `at least ${problems.length}` : String(problems.length);
      // Throwing rolls the transaction back: nothing staged or written stays.
      throw new LendpayError('IMPORT_INVALID', `${file}: ${n} problem(s); nothing was imported`, { details: problems.slice(0, MAX_REPORTED_PROBLEMS) });
    }
    const values = await writeStagedFacts(trx);
    opts.onProgress?.(lastLine);
    return { lines: lastLine, values, byFact };
  });
}
