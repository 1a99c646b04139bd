// The rule version a batch starts on. Batches (nightly, post-settlement, the worker's
// ticks) pin the active version's hash in their run row at claim time.
import type { Db } from '../db/connection.ts';
import { activateRuleSet, activeVersion, type RuleVersion } from '../db/rule-versions.repository.ts';
import { loadRuleSet } from '../src/rules/load.ts';
import { readSources } from '../src/rules/sources.ts';

/**
 * The rule version a batch starting now runs on: the active one. Before anything was
 * ever activated, the working copy in `rulesDir` is validated and activated as version 1
 * by 'system' ("first run"), so a new installation and the demo work without a step.
 */
export async function activeRuleSetForBatch(db: Db, rulesDir: string, log: (line: string) => void = () => {}): Promise<{ version: RuleVersion; autoActivated: boolean }> {
  const active = await activeVersion(db);
  if (active) return { version: active, autoActivated: false };
  const ruleSet = await loadRuleSet(rulesDir);
  const sources = await readSources(ruleSet);
  const res = await activateRuleSet(db, {
    hash: ruleSet.hash, files: ruleSet.files, by: 'system', note: 'first run', onlyIfNone: true, sources: sources.rules, tests: sources.tests,
  });
  if (res.created) log(`no rule version was active: activated the rules in ${rulesDir} as version ${res.version.version} (${res.version.hash.slice(0, 12)}) by system, "first run"`);
  return { version: res.version, autoActivated: res.created };
}
