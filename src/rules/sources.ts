// The working copy as text: what an activation records beside the parsed content (the
// rule files and the test files, so that history shows the test changes and a version
// can be checked out byte for byte), and `rules checkout V`, which writes a version's
// files back into the working copy.
import { readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { LendpayError } from '../errors.ts';
import { canonicalJson, loadRuleSet, RULE_FILE_NAMES, type RuleSet } from './load.ts';

export interface Sources {
  /** rule file name → text, for the files of the rule set */
  readonly rules: Record<string, string>;
  /** test file name within tests/ → text */
  readonly tests: Record<string, string>;
}

async function testTexts(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let names: string[] = [];
  try {
    names = (await readdir(path.join(dir, 'tests'))).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return out;
  }
  for (const n of names) out[n] = await readFile(path.join(dir, 'tests', n), 'utf8');
  return out;
}

/**
 * The text of `ruleSet`'s files and of its tests. Refused when a file changed since
 * the rule set was loaded: what is recorded must be what was validated and tested.
 */
export async function readSources(ruleSet: RuleSet): Promise<Sources> {
  const rules: Record<string, string> = {};
  for (const f of Object.keys(ruleSet.files).sort()) {
    const text = await readFile(path.join(ruleSet.dir, f), 'utf8');
    let same = false;
    try {
      same = canonicalJson(JSON.parse(text.replace(/^\uFEFF/, ''))) === canonicalJson(ruleSet.files[f]);
    } catch {
      same = false;
    }
    if (!same) throw new LendpayError('CONFLICT', `${f} changed while it was being activated: run the command again`);
    rules[f] = text;
  }
  return { rules, tests: await testTexts(ruleSet.dir) };
}

export interface Checkout {
  written: string[];
  removed: string[];
  /** false: the version did not record its tests; the working copy's tests were left as they were */
  tests: boolean;
}

/**
 * Writes a version's rule files (their recorded text, or its content as JSON when the
 * text was not recorded) and its test files into `dir`, removing rule and test files
 * the version did not have. Checked afterwards: the working copy then hashes as `hash`.
 */
export async function checkoutSources(
  dir: string,
  version: { hash: string; content: Readonly<Record<string, unknown>>; rules: Record<string, string> | null; tests: Record<string, string> | null },
): Promise<Checkout> {
  const written: string[] = [];
  const removed: string[] = [];
  for (const f of RULE_FILE_NAMES) {
    const full = path.join(dir, f);
    if (!(f in version.content)) {
      if (await rm(full).then(() => true, () => false)) removed.push(f);
      continue;
    }
    await writeFile(full, version.rules?.[f] ?? `${JSON.stringify(version.content[f], null, 2)}\n`);
    written.push(f);
  }
  if (version.tests !== null) {
    await mkdir(path.join(dir, 'tests'), { recursive: true });
    for (const n of Object.keys(await testTexts(dir))) {
      if (!(n in version.tests)) {
        await rm(path.join(dir, 'tests', n));
        removed.push(`tests/${n}`);
      }
    }
    for (const [n, text] of Object.entries(version.tests)) {
      await writeFile(path.join(dir, 'tests', n), text);
      written.push(`tests/${n}`);
    }
  }
  const now = await loadRuleSet(dir);
  if (now.hash !== version.hash) throw new LendpayError('CONFLICT', `after checkout the working copy hashes ${now.hash.slice(0, 12)}, not ${version.hash.slice(0, 12)}`);
  return { written, removed, tests: version.tests !== null };
}

/**
 * Why the working copy in `dir` holds edits no version has (rule files no version
 * has, or test files other than those recorded with the newest version of its
 * content), or null: what a checkout would lose.
 */
export async function unsavedChanges<V extends { version: number; hash: string }>(
  dir: string, versions: readonly V[], recordedTests: (v: V) => Promise<{ tests: Record<string, string> | null }>,
): Promise<string | null> {
  let rs: RuleSet;
  try {
    rs = await loadRuleSet(dir);
  } catch {
    return 'does not validate';
  }
  const same = versions.filter((v) => v.hash === rs.hash).at(-1);
  if (same === undefined) return `holds changes no version has (hash ${rs.hash.slice(0, 12)})`;
  const { tests } = await recordedTests(same);
  if (tests === null) return null;
  const mine = await testTexts(dir);
  const canon = (m: Record<string, string>) => canonicalJson(Object.fromEntries(Object.entries(m).map(([k, v]) => {
    try {
      return [k, JSON.parse(v) as unknown];
    } catch {
      return [k, v];
    }
  })));
  return canon(mine) === canon(tests) ? null : `holds changes no version has (its test cases differ from those of version ${same.version})`;
}
