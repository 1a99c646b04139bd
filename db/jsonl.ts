// The lines of a JSON-lines file, numbered from 1, without a leading BOM and without
// blank lines; the file is closed when the caller stops early. (db/import.ts reads
// its customers the same way and could use this.)
import fs from 'node:fs';
import readline from 'node:readline';

export async function* numberedLines(file: string): AsyncGenerator<{ lineNo: number; text: string }> {
  const stream = fs.createReadStream(file, { encoding: 'utf8' });
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const raw of rl) {
      lineNo++;
      const text = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() !== '') yield { lineNo, text };
    }
  } finally {
    rl.close();
    stream.destroy();
  }
}
