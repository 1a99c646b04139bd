// The README is a test. Its code blocks are read, not copied here: every "$ command"
// in "The two commands", "One change, from edit to audit" and "Run it as a service"
// is run as a new user runs it, in a fresh project directory holding a copy of rules/
// and jobs/, and its output is compared with the README's, with dates taken relative
// to the demo's business day, rule set hashes by order of appearance, and times of
// day, durations and ports blanked. Without DATABASE_URL that is the new user's own
// embedded PostgreSQL, as the README shows it; with DATABASE_URL (CI's server) a fresh
// database on it, which is quicker, and the lines only an embedded server prints are
// not expected. The
// diffs in the walkthrough are applied to the copy of the rule files, as a person
// would apply them by hand. `npm install` and `npm test` are not run: the tree is
// installed, and `npm test` is what runs this test.
//
// LENDPAY_README_UPDATE=1 node test/run.js readme writes the output of this run back
// into README.md's transcripts (keeping each one's "..." cuts, on the embedded server
// whatever DATABASE_URL says), for when a change of rules or wording moves the
// numbers; review the diff before committing it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { applyDiff, inSection, isTranscript, mismatch, Normaliser, readmeBlocks, shiftDate, transcriptSteps, type Block, type Step } from '../helpers/readme.ts';

const ROOT = path.resolve('.');
const BIN = path.join(ROOT, 'src/cli/bin.js');
const README = path.join(ROOT, 'README.md');
const UPDATE = process.env['LENDPAY_README_UPDATE'] === '1';
const markdown = fs.readFileSync(README, 'utf8');
const blocks = readmeBlocks(markdown);
const startScript = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;

let project = '';
/** with DATABASE_URL: this test's own database on that server; null: the embedded PostgreSQL */
let database: TestDatabase | null = null;
/** the README's demo day and this run's */
let readmeDay = '';
let actualDay = '';
let readmeSide = new Normaliser('1970-01-01');
let actualSide = new Normaliser('1970-01-01');
const rewrites: { block: Block; text: string }[] = [];

/** The environment of a new user: nothing of lendpay's set, whatever the test run has. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LENDPAY_') && k !== 'DATABASE_URL') env[k] = v;
  return { ...env, ...(database ? { DATABASE_URL: database.url } : {}), ...extra };
}

/** bash with `npx lendpay` and `npm start` meaning this tree's CLI, run in the project directory. */
function shellScript(body: string): string {
  const node = JSON.stringify(process.execPath);
  const start = startScript.replace('node ', `${node} `).replace('src/cli/bin.js', JSON.stringify(BIN));
  return [
    'exec 2>&1',
    `npx() { if [ "$1" = lendpay ]; then shift; ${node} ${JSON.stringify(BIN)} "$@"; else command npx "$@"; fi; }`,
    `npm() { case "$1" in start) shift; [ "$1" = "--" ] && shift; ${start} "$@";; *) echo "npm $1: not run by the README test" >&2;; esac; }`,
    body,
  ].join('\n');
}

function run(command: string, env: NodeJS.ProcessEnv = userEnv()): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', shellScript(command)], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * What a person sees, as the README shows it: no progress lines (a terminal clears its
 * bars), the clone at ~/lendpay, and not the line a root user in a private directory
 * gets about where PostgreSQL's files went (the README shows an ordinary user's run).
 */
function shown(output: string): string[] {
  const lines = output.replaceAll(project, '~/lendpay').split('\n').filter((l) => !l.startsWith('… ') && !l.startsWith('as root, PostgreSQL runs as user'));
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}

/**
 * The README's lines as this run should print them: on a DATABASE_URL database, not
 * the lines about starting and stopping the embedded server, and the demo's database
 * named as whatever server this is.
 */
function expected(step: Step): string[] {
  return step.expected
    .filter((l) => database === null || !/^(initialising|starting) embedded PostgreSQL|^The embedded PostgreSQL keeps running/.test(l))
    .map((l) => (l.trim() === '...' ? '...' : readmeSide.line(databaseNamed(l))));
}

function databaseNamed(line: string): string {
  return line.replace(/, (the embedded PostgreSQL|database \S+)$/, ', <database>');
}

/** The README's command as it runs today: its dates moved by as many days as the demo's day moved, its hashes swapped for today's. */
function translate(command: string): string {
  return command
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, (d) => shiftDate(actualDay, Math.round((Date.parse(d) - Date.parse(readmeDay)) / 86_400_000)))
    .replace(/\b[0-9a-f]{12}\b/g, (h) => (/[a-f]/.test(h) ? actualSide.hashOf(readmeSide.hashToken(h)) ?? h : h));
}

/** Runs a transcript block's steps in order; returns the first departure from the README, or null. */
async function runTranscript(block: Block): Promise<string | null> {
  const written: string[] = [];
  let failure: string | null = null;
  for (const step of transcriptSteps(block)) {
    const command = translate(step.command);
    const res = await run(command);
    const actual = shown(res.output);
    written.push(rewrite(command, step, actual, res.code));
    if (failure) continue;
    const why = res.code !== step.exit
      ? `exit ${res.code}, the README says ${step.exit}`
      : mismatch(expected(step), actual.map((l) => actualSide.line(databaseNamed(l))));
    if (why) failure = `README.md line ${block.line + 1}: $ ${step.command}\n${why}\n--- output ---\n${actual.join('\n')}`;
  }
  rewrites.push({ block, text: written.join('\n\n') });
  return failure;
}

/** The step as README.md would show it from this run, keeping the README's "..." cuts. */
function rewrite(command: string, step: Step, actual: string[], code: number): string {
  const cuts = step.expected.map((l, i) => (l.trim() === '...' ? i : -1)).filter((i) => i >= 0);
  let body = actual;
  if (cuts.length > 0) {
    const head = cuts[0]!;
    const tail = step.expected.length - 1 - cuts[cuts.length - 1]!;
    body = [...actual.slice(0, head), '...', ...(tail > 0 ? actual.slice(-tail) : [])];
  }
  return [`$ ${command}`, ...body, ...(code === 0 ? [] : [`(exit ${code})`])].join('\n');
}

function applyDiffBlock(block: Block): void {
  for (const [file, text] of applyDiff(block.text, (f) => fs.readFileSync(path.join(project, f), 'utf8'))) {
    fs.writeFileSync(path.join(project, file), text);
  }
}

test.before(async () => {
  // an update writes what a new user sees: the embedded server's lines too
  if (process.env['DATABASE_URL'] && !UPDATE) database = await freshDatabase('readme');
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'lendpay-readme-'));
  // as a clone in a home directory is: the postgres user (when root) can enter it
  fs.chmodSync(project, 0o755);
  fs.cpSync(path.join(ROOT, 'rules'), path.join(project, 'rules'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'jobs'), path.join(project, 'jobs'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(project, 'package.json'));
});

test.after(async () => {
  await database?.drop();
  if (project) {
    await run('npx lendpay db stop').catch(() => null);
    const location = path.join(project, '.lendpay', 'pgdata-location');
    if (fs.existsSync(location)) fs.rmSync(path.dirname(fs.readFileSync(location, 'utf8').trim()), { recursive: true, force: true });
    fs.rmSync(project, { recursive: true, force: true });
  }
  if (UPDATE && rewrites.length > 0) {
    const lines = markdown.split('\n');
    for (const r of [...rewrites].sort((a, b) => b.block.line - a.block.line)) lines.splice(r.block.line, r.block.lines, ...r.text.split('\n'));
    fs.writeFileSync(README, lines.join('\n'));
  }
});

test('the two commands: npm start prints what the README shows, and says how to stop PostgreSQL', async () => {
  const section = inSection(blocks, 'The two commands');
  const commands = section.find((b) => b.lang === 'sh');
  assert.ok(commands && /npm install && npm start/.test(commands.text) && /npm test/.test(commands.text), 'the README gives the two commands');
  const demo = section.find((b) => isTranscript(b) && transcriptSteps(b)[0]?.command.startsWith('npm start'));
  assert.ok(demo, 'the README shows what npm start prints');
  readmeDay = /business day (\d{4}-\d{2}-\d{2})/.exec(demo.text)?.[1] ?? '';
  assert.ok(readmeDay, 'the README\'s demo output names its business day');

  // the first step runs on its own: its output gives today's business day
  const first = transcriptSteps(demo)[0]!;
  const res = await run(first.command);
  actualDay = /business day (\d{4}-\d{2}-\d{2})/.exec(res.output)?.[1] ?? '';
  assert.ok(actualDay, `the demo names its business day:\n${res.output}`);
  readmeSide = new Normaliser(readmeDay);
  actualSide = new Normaliser(actualDay);
  const actual = shown(res.output);
  const why = res.code !== first.exit ? `exit ${res.code}` : mismatch(expected(first), actual.map((l) => actualSide.line(databaseNamed(l))));
  rewrites.push({ block: demo, text: rewrite(first.command, first, actual, res.code) });
  if (!UPDATE) assert.is(why, null, `README.md line ${demo.line + 1}: $ ${first.command}\n${why}\n--- output ---\n${actual.join('\n')}`);
  if (database === null) assert.match(res.output, /stop it with: npx lendpay db stop/, 'the demo says how to stop the PostgreSQL it leaves running');
  else assert.not.match(res.output, /db stop/, 'nothing to stop on the user\'s own server');
});

test('for the risk team: one change, from edit to audit, every command as the README shows it', async () => {
  assert.ok(actualDay, 'the demo ran first');
  const section = inSection(blocks, 'One change, from edit to audit');
  assert.ok(section.length >= 5, 'the walkthrough has its blocks');
  assert.ok(section.some((b) => b.lang === 'diff'), 'the edits are given as diffs');
  const failures: string[] = [];
  for (const b of section) {
    if (b.lang === 'diff') applyDiffBlock(b);
    else if (isTranscript(b)) {
      const f = await runTranscript(b);
      if (f) failures.push(f);
    }
  }
  if (!UPDATE) assert.equal(failures, [], failures.join('\n\n'));
});

test('run it as a service: the README\'s commands start a worker that names its queues, answers, and stops on SIGTERM', async () => {
  assert.ok(actualDay, 'the demo ran first');
  const section = inSection(blocks, 'Run it as a service');
  const start = section.find((b) => b.lang === 'sh' && /npx lendpay worker/.test(b.text));
  assert.ok(start, 'the README shows how to start the worker');
  // "export DATABASE_URL=postgres://…  # or nothing": nothing, as a new user. The
  // exports run once and their values go to the worker and to any curl the section
  // shows (a token made with $(openssl rand …) must be the same for both).
  // and any other value the README leaves open (`https://…`, a production platform): not set
  const lines = start.text.split('\n').filter((l) => !/^\s*export \w+=\S*…/.test(l));
  const at = lines.findIndex((l) => /^\s*npx lendpay worker\b/.test(l));
  const exported = await run(`${lines.slice(0, at).join('\n')}\nenv -0`);
  assert.is(exported.code, 0, exported.output);
  const env = userEnv({ LENDPAY_API_PORT: '0' });
  for (const kv of exported.output.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0 && kv.startsWith('LENDPAY_')) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  // the worker line becomes the script's own process, so SIGTERM reaches it
  const worker = lines[at]!.trim().replace(/^npx lendpay/, `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`);
  const child = spawn('bash', ['-c', shellScript(`exec ${worker}`)], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString('utf8'); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    const logs = () => output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (let i = 0; i < 600 && !logs().some((l) => l['msg'] === 'listening'); i++) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = logs().find((l) => l['msg'] === 'worker started');
    const listening = logs().find((l) => l['msg'] === 'listening');
    assert.ok(started && listening, `the worker starts and listens:\n${output}`);

    // its start log names queues that exist, not pg-boss worker ids
    const url = database ? database.url : (await run('npx lendpay db url')).output.trim().split('\n').pop()!;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const known = new Set((await client.query<{ name: string }>('select name from pgboss.queue')).rows.map((r) => r.name));
    await client.end();
    const queues = started['queues'] as string[];
    assert.ok(queues.length > 5, 'the worker takes the batch queues');
    assert.equal(queues.filter((q) => !known.has(q)), [], 'every name in the start log is a pg-boss queue');

    const api = listening['api'] as string;
    assert.is((await fetch(`${api}/healthz`)).status, 200);
    // any curl the section shows runs against this worker
    for (const b of section.filter((x) => x !== start && x.lang === 'sh' && /\bcurl\b/.test(x.text))) {
      const res = await run(b.text.replaceAll('http://127.0.0.1:8080', api), env);
      assert.is(res.code, 0, `README.md line ${b.line + 1}:\n${res.output}`);
    }
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, `SIGTERM: the worker finishes its jobs and exits 0\n${output.slice(-2000)}`);
  assert.match(output, /"msg":"worker stopped"/);
});

test.run();
