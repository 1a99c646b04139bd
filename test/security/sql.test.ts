// SQL only through parameterized queries. Kysely's builder and its `sql` tagged
// template bind every value; what can splice text into SQL is `sql.raw(`,
// `CompiledQuery.raw(`, `sql.lit(` and a pg `.query(` whose text is built with `${…}`
// or `+`. Each such use in src/ db/ jobs/ must be on the allow-list below, with why
// it cannot carry user input, or carry a `sql-raw-ok:` comment saying so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';

/** file -> substrings of the interpolations that are known to be safe, and why */
const ALLOWED: Record<string, { snippet: string; why: string }[]> = {
  'src/sandbox/server.ts': [
    { snippet: "${keep ? 'nothing' : 'update set", why: 'chooses between two constant clauses; values are $n parameters' },
  ],
  'jobs/wakeup.ts': [
    { snippet: '${channel}', why: 'LISTEN takes no parameters; the channel is "pgboss_" and 24 hex digits of a hash, computed, never input' },
  ],
  'jobs/schedule.ts': [
    { snippet: 'CompiledQuery.raw(text, values', why: 'pg-boss hands its own SQL text and a values array (parameterized) to the adapter' },
  ],
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(full));
    else if (e.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** The text of the template literal starting at `start` (a backtick), with its ${…} parts. */
function templateAt(src: string, start: number): { text: string; interpolations: string[]; end: number } {
  const interpolations: string[] = [];
  let i = start + 1;
  while (i < src.length && src[i] !== '`') {
    if (src[i] === '\\') { i += 2; continue; }
    if (src[i] === '$' && src[i + 1] === '{') {
      let depth = 1;
      const from = i;
      i += 2;
      while (i < src.length && depth > 0) {
        if (src[i] === '{') depth++;
        else if (src[i] === '}') depth--;
        else if (src[i] === '`') { i = templateAt(src, i).end; }
        i++;
      }
      interpolations.push(src.slice(from, i));
      continue;
    }
    i++;
  }
  return { text: src.slice(start, i + 1), interpolations, end: i };
}

interface Finding { file: string; line: number; what: string; snippet: string }

export function findUnsafeSql(root: string): Finding[] {
  const found: Finding[] = [];
  for (const dir of ['src', 'db', 'jobs']) {
    for (const file of files(path.join(root, dir))) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      const src = fs.readFileSync(file, 'utf8');
      const lineOf = (at: number) => src.slice(0, at).split('\n').length;
      const lineText = (at: number) => src.split('\n')[lineOf(at) - 1] ?? '';
      const prevLine = (at: number) => src.split('\n')[lineOf(at) - 2] ?? '';
      const okComment = (at: number) => /sql-raw-ok:/.test(lineText(at)) || /sql-raw-ok:/.test(prevLine(at));
      const allowed = (snippet: string) => (ALLOWED[rel] ?? []).some((a) => snippet.includes(a.snippet));
      for (const m of src.matchAll(/\b(sql\.raw|sql\.lit|CompiledQuery\.raw)\s*\(/g)) {
        const snippet = src.slice(m.index!, m.index! + 120);
        if (!okComment(m.index!) && !allowed(snippet)) found.push({ file: rel, line: lineOf(m.index!), what: m[1]!, snippet });
      }
      for (const m of src.matchAll(/\.query\(\s*(`|'|")/g)) {
        const start = m.index! + m[0].length - 1;
        if (m[1] === '`') {
          const t = templateAt(src, start);
          for (const part of t.interpolations) {
            if (!okComment(m.index!) && !allowed(part)) found.push({ file: rel, line: lineOf(m.index!), what: 'interpolated .query text', snippet: part.slice(0, 120) });
          }
          if (/^\s*\+/.test(src.slice(t.end + 1))) found.push({ file: rel, line: lineOf(m.index!), what: 'concatenated .query text', snippet: src.slice(t.end + 1, t.end + 60) });
        } else {
          const close = src.indexOf(m[1]!, start + 1);
          if (/^\s*\+/.test(src.slice(close + 1)) && !okComment(m.index!)) found.push({ file: rel, line: lineOf(m.index!), what: 'concatenated .query text', snippet: src.slice(start, close + 60) });
        }
      }
    }
  }
  return found;
}

test('no SQL text built from values in src/ db/ jobs/ (outside the allow-list)', () => {
  const found = findUnsafeSql(process.cwd());
  assert.equal(found, [], found.map((f) => `${f.file}:${f.line} ${f.what}: ${f.snippet}`).join('\n'));
});

test('the scanner catches what it is meant to catch', () => {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'lendpay-sqlscan-'));
  for (const d of ['src', 'db', 'jobs']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(path.join(dir, 'src', 'bad.ts'), [
    'await pool.query(`select * from t where id = \'${id}\'`);',
    'await pool.query("select * from t where id = " + id);',
    'await sql`select 1 ${sql.raw(name)}`.execute(db);',
    'await pool.query(`select * from t where id = $1`, [id]);',
    'await sql`select * from t where id = ${id}`.execute(db);',
    '// sql-raw-ok: identifiers from the catalog\nawait sql`${sql.raw(q)}`.execute(db);',
  ].join('\n'));
  const f = findUnsafeSql(dir);
  assert.equal(f.map((x) => [x.line, x.what]), [[3, 'sql.raw'], [1, 'interpolated .query text'], [2, 'concatenated .query text']]);
});

test.run();
