// `lendpay rules …`: the risk team's workflow. The files in rules/ are the working
// copy; validate, test (with coverage) and simulate it; activate it as a new version
// (refused while a test case fails); see history and diffs; roll back.
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { Fen } from '../../money.ts';
import type { CollectionFacts } from '../../collection/facts.ts';
import type { BorrowerAccount } from '../../collection/plan.ts';
import { formatCollectionSimulation } from '../../rules/simulate-collection.ts';
import type { Context } from '../context.ts';
import { LendpayError } from '../../errors.ts';
import { parseBusinessDate } from '../../dates.ts';
import type { RuleVersion } from '../../../db/rule-versions.repository.ts';
import type { RuleChange } from '../../rules/versions.ts';

import { out, err, printJson } from '../output.ts';

function when(d: Date): string {
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** `--reason`, as every command that records why takes it (ops confirm/reject, holds release). */
function reasonOption(required: boolean): Option {
  return new Option('--reason <text>', required ? 'why (recorded with the version)' : 'why (recorded; default "rollback to version V")');
}

/** `--note`, the name these commands took before: still accepted, no longer shown. */
function noteAlias(): Option {
  return new Option('--note <text>').hideHelp();
}

/** A version as scripts get it: `reason` (stored as the version's note), as the flag is named. */
function versionJson(v: import('../../../db/rule-versions.repository.ts').RuleVersion) {
  const { note, ...rest } = v;
  return { ...rest, reason: note };
}

function requireReason(o: { reason?: string; note?: string }): string {
  const reason = (o.reason ?? o.note ?? '').trim();
  if (reason === '') throw new LendpayError('INVALID_INPUT', '--reason: say why, e.g. --reason "flow of at least 10,000.00 in each month" (it is recorded with the version)');
  return reason;
}

export function registerRulesCommands(program: Command, ctx: Context): void {
  const rules = program.command('rules').description('the risk team\'s rule files: validate, test, simulate, activate, history, diff, rollback');

  rules
    .command('validate [dir]')
    .description('check rule files: schema and meaning; prints file, JSON path and reason; warns about rules that can never fire or exceed the cap')
    .option('--json', 'as JSON: {valid, dir, hash, errors, warnings}')
    .action(async (dir: string | undefined, o: { json?: boolean }) => {
      const { validateRules, loadRuleSet } = await import('../../rules/load.ts');
      const { sanityWarnings } = await import('../../rules/versions.ts');
      const target = dir ? path.resolve(dir) : ctx.config.rulesDir;
      const res = await validateRules(target);
      const warnings = [...res.warnings];
      if (res.errors.length === 0) warnings.push(...sanityWarnings((await loadRuleSet(target)).eligibility));
      if (res.errors.length > 0) process.exitCode = 1;
      if (o.json) return printJson({ valid: res.errors.length === 0, dir: target, hash: res.errors.length === 0 ? res.hash : null, errors: res.errors, warnings });
      for (const w of warnings) err(`warning: ${w}`);
      if (res.errors.length > 0) {
        for (const e of res.errors) err(`error: ${e}`);
        return;
      }
      out(`rules in ${path.relative(process.cwd(), target) || '.'} are valid (hash ${res.hash?.slice(0, 12)})`);
    });

  rules
    .command('test [dir]')
    .description('run the rule test cases in rules/tests/')
    .option('--coverage', 'also report the rules no case fires and the conditions no case sees both true and false')
    .option('--json', 'print the result (and coverage) as JSON')
    .action(async (dir: string | undefined, o: { coverage?: boolean; json?: boolean }) => {
      const { loadRuleSet } = await import('../../rules/load.ts');
      const { runRuleTests } = await import('../../rules/tests.ts');
      const ruleSet = await loadRuleSet(dir ? path.resolve(dir) : ctx.config.rulesDir);
      const res = await runRuleTests(ruleSet);
      const { ruleCoverage, formatCoverage } = await import('../../rules/coverage.ts');
      const coverage = o.coverage ? await ruleCoverage(ruleSet) : null;
      if (res.failures.length > 0) process.exitCode = 1;
      if (o.json) return printJson({ passed: res.passed, failures: res.failures, ...(coverage ? { coverage } : {}) });
      for (const f of res.failures) err(`FAIL ${f.file}: ${f.name}\n  expected ${JSON.stringify(f.expected)}\n  actual   ${JSON.stringify(f.actual)}`);
      out(`${res.passed} passed, ${res.failures.length} failed`);
      if (coverage) for (const r of coverage) out(formatCoverage(r).join('\n'));
    });

  rules
    .command('activate')
    .description('validate and test the working copy, store it as a new version and make it active for the next batch')
    .requiredOption('--by <name>', 'who activates (recorded)')
    .addOption(reasonOption(true))
    .addOption(noteAlias())
    .option('--dir <dir>', 'the working copy (default: rules/)')
    .option('--json', 'as JSON')
    .action(async (o: { by: string; reason?: string; note?: string; dir?: string; json?: boolean }) => {
      const reason = requireReason(o);
      const { loadRuleSet } = await import('../../rules/load.ts');
      const { runRuleTests } = await import('../../rules/tests.ts');
      const { sanityWarnings, formatChanges, rolledBackFrom } = await import('../../rules/versions.ts');
      const { activateRuleSet, listVersions } = await import('../../../db/rule-versions.repository.ts');
      const { readSources } = await import('../../rules/sources.ts');
      if (o.by.trim() === '') throw new LendpayError('INVALID_INPUT', '--by: name who activates the rules');
      const ruleSet = await loadRuleSet(o.dir ? path.resolve(o.dir) : ctx.config.rulesDir);
      const tests = await runRuleTests(ruleSet);
      if (tests.failures.length > 0) {
        throw new LendpayError('RULE_TESTS_FAILED', `not activated: ${tests.failures.length} rule test case${tests.failures.length === 1 ? '' : 's'} failed (${tests.passed} passed); nothing was stored`, {
          details: tests.failures.map((f) => `FAIL ${f.file}: ${f.name}: expected ${JSON.stringify(f.expected)}, actual ${JSON.stringify(f.actual)}`),
        });
      }
      for (const w of sanityWarnings(ruleSet.eligibility)) err(`warning: ${w}`);
      const sources = await readSources(ruleSet);
      const { db } = await ctx.database();
      const back = rolledBackFrom(await listVersions(db), ruleSet.hash);
      if (back) err(`warning: this content was version ${back.version.version}, rolled back by version ${back.by.version} (by ${back.by.activatedBy}: ${back.by.note}); activating brings it back`);
      const res = await activateRuleSet(db, {
        hash: ruleSet.hash, files: ruleSet.files, by: o.by, note: reason, sources: sources.rules, tests: sources.tests, testsPassed: tests.passed,
      });
      const v = res.version;
      if (o.json) return printJson({ activated: res.created, version: versionJson(v), testsPassed: tests.passed, warnings: sanityWarnings(ruleSet.eligibility) });
      if (!res.created) return out(`the working copy is already the active version ${v.version} (${v.hash.slice(0, 12)}): nothing changed`);
      out(`activated version ${v.version} (${v.hash.slice(0, 12)}) by ${v.activatedBy} at ${when(v.activatedAt)}: ${tests.passed} test cases passed (${Object.entries(tests.byRuleFile).map(([f, n]) => `${f} ${n}`).join(', ')})`);
      out(v.previousVersion === null ? 'first version' : `changes against version ${v.previousVersion}:`);
      for (const line of formatChanges(v.diff)) out(`  ${line}`);
      for (const line of testLines(v, formatChanges)) out(line);
      out('the next batch that starts uses it; a batch already running finishes on the version it started with');
    });

  rules
    .command('history')
    .description('every activated version, newest first: who, when, why, what changed')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { listVersions } = await import('../../../db/rule-versions.repository.ts');
      const { formatChanges } = await import('../../rules/versions.ts');
      const { db } = await ctx.database();
      const versions = (await listVersions(db)).reverse();
      if (o.json) return printJson(versions.map((v, i) => ({ ...versionJson(v), active: i === 0 })));
      if (versions.length === 0) return out('no rule version has been activated yet (lendpay rules activate --by NAME --note "...")');
      for (const [i, v] of versions.entries()) {
        const tag = i === 0 ? '  [active]' : '';
        const rb = v.rollbackOf === null ? '' : ` (rollback to version ${v.rollbackOf})`;
        out(`version ${v.version}  ${v.hash.slice(0, 12)}  ${when(v.activatedAt)}  by ${v.activatedBy}${rb}${tag}`);
        out(`  reason: ${v.note}`);
        const lines = formatChanges(v.diff);
        if (v.previousVersion === null) out('  first version');
        else if (lines.length === 0) out(`  same content as version ${v.previousVersion}`);
        else for (const l of lines) out(`  ${l}`);
        for (const l of testLines(v, formatChanges)) out(l);
      }
    });

  rules
    .command('diff <a> <b>')
    .description('what changed from version A to version B (version numbers, hash prefixes, or "working" for the files in rules/)')
    .option('--json', 'as JSON')
    .action(async (a: string, b: string, o: { json?: boolean }) => {
      const { diffRuleSets, formatChanges } = await import('../../rules/versions.ts');
      const { parsedTests } = await import('../../../db/rule-versions.repository.ts');
      const content = await resolveContent(ctx, a);
      const content2 = await resolveContent(ctx, b);
      const changes = diffRuleSets(content.files, content2.files);
      // The test cases too: what let each side through. Unknown where a version did not record them.
      const testChanges = content.tests === null || content2.tests === null ? null : diffRuleSets(parsedTests(content.tests), parsedTests(content2.tests));
      if (o.json) return printJson({ from: content.label, to: content2.label, changes, testChanges });
      out(`${content.label} → ${content2.label}: ${changes.length} change${changes.length === 1 ? '' : 's'}`);
      for (const l of formatChanges(changes)) out(`  ${l}`);
      if (testChanges === null) out(`test cases: not recorded for ${content.tests === null ? content.label : content2.label}`);
      else {
        out(`test cases: ${testChanges.length} change${testChanges.length === 1 ? '' : 's'}`);
        for (const l of formatChanges(testChanges)) out(`  ${l}`);
      }
    });

  rules
    .command('rollback <version>')
    .description('re-activate an older version\'s content as a new version (history keeps both)')
    .requiredOption('--by <name>', 'who rolls back (recorded)')
    .addOption(reasonOption(false))
    .addOption(noteAlias())
    .option('--json', 'as JSON')
    .action(async (ref: string, o: { by: string; reason?: string; note?: string; json?: boolean }) => {
      const { findVersion, versionContent, versionSources, activateRuleSet } = await import('../../../db/rule-versions.repository.ts');
      const { storedEligibilityRules } = await import('../../../jobs/evaluators.ts');
      const { formatChanges } = await import('../../rules/versions.ts');
      const { loadRuleSet } = await import('../../rules/load.ts');
      const { db } = await ctx.database();
      const target = await findVersion(db, ref);
      // The stored content must still parse with today's code before it can run a batch.
      await storedEligibilityRules(db, target.hash);
      const files = await versionContent(db, target);
      // The version's own files and tests come back with it: what let it through then.
      const sources = await versionSources(db, target);
      const res = await activateRuleSet(db, {
        hash: target.hash, files, by: o.by, note: o.reason ?? o.note ?? `rollback to version ${target.version}`, rollbackOf: target.version,
        sources: sources.rules, tests: sources.tests, testsPassed: null,
      });
      const v = res.version;
      if (o.json) return printJson({ activated: res.created, version: versionJson(v), contentOf: target.version });
      out(`activated version ${v.version} (${v.hash.slice(0, 12)}) by ${v.activatedBy}: the content of version ${target.version}`);
      if (v.previousVersion !== null) out(`changes against version ${v.previousVersion}:`);
      const lines = formatChanges(v.diff);
      if (lines.length === 0) out('  (none: it was already the active content)');
      for (const line of lines) out(`  ${line}`);
      // The working copy still holds what was rolled back: say so before the next activate brings it back.
      const working = await loadRuleSet(ctx.config.rulesDir).then((rs) => rs.hash, () => null);
      if (working !== v.hash) {
        const where = path.relative(process.cwd(), ctx.config.rulesDir) || '.';
        err(`warning: the working copy in ${where} ${working === null ? 'does not validate and ' : ''}still differs from the active version ${v.version}: the next \`lendpay rules activate\` would bring ${working === null ? 'its changes' : 'the rolled-back change'} back`);
        err(`  to make the working copy the active content: lendpay rules checkout ${v.version}`);
      }
    });

  rules
    .command('checkout <version>')
    .description('write a version\'s rule files and test files into the working copy (e.g. after a rollback)')
    .option('--dir <dir>', 'the working copy (default: rules/)')
    .option('--force', 'overwrite a working copy that holds changes no version has')
    .action(async (ref: string, o: { dir?: string; force?: boolean }) => {
      const { findVersion, versionContent, versionSources, listVersions } = await import('../../../db/rule-versions.repository.ts');
      const { checkoutSources, unsavedChanges } = await import('../../rules/sources.ts');
      const dir = o.dir ? path.resolve(o.dir) : ctx.config.rulesDir;
      const { db } = await ctx.database();
      const target = await findVersion(db, ref);
      // Edits that no version holds would be lost: refused unless --force.
      if (!o.force) {
        const why = await unsavedChanges(dir, await listVersions(db), (v) => versionSources(db, v));
        if (why !== null) throw new LendpayError('CONFLICT', `the working copy in ${dir} ${why}: they would be lost; --force overwrites them`);
      }
      const sources = await versionSources(db, target);
      const res = await checkoutSources(dir, { hash: target.hash, content: await versionContent(db, target), rules: sources.rules, tests: sources.tests });
      out(`the working copy in ${path.relative(process.cwd(), dir) || '.'} is now version ${target.version} (${target.hash.slice(0, 12)})`);
      out(`  written: ${res.written.join(', ')}${res.removed.length > 0 ? `\n  removed: ${res.removed.join(', ')}` : ''}`);
      if (!sources.rules) out('  (version recorded no file text: the files are its content written as JSON)');
      if (!res.tests) out('  (version recorded no test files: the tests in the working copy were left as they were)');
    });

  rules
    .command('simulate')
    .description('evaluate the working copy on the facts the last nightly batch stored and compare with the active version (no writes)')
    .addOption(new Option('--date <YYYY-MM-DD>', 'use the facts of the nightly batch of this business date (default: the latest finished)').argParser((v) => parseBusinessDate(v, '--date')))
    .option('--against <version>', 'compare with this version (number or hash prefix) instead of the active one')
    .option('--dir <dir>', 'the working copy (default: rules/)')
    .option('--top <n>', 'how many of the largest individual changes to list', (v) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0 || n > 1000) throw new LendpayError('INVALID_INPUT', `--top: expected 0..1000, got "${v}"`);
      return n;
    }, 10)
    .option('--json', 'as JSON')
    .action(async (o: { date?: string; against?: string; dir?: string; top: number; json?: boolean }) => {
      const { loadRuleSet } = await import('../../rules/load.ts');
      const repo = await import('../../../db/rule-versions.repository.ts');
      const { storedEligibilityRules } = await import('../../../jobs/evaluators.ts');
      const { compileEligibility } = await import('../../eligibility/evaluate.ts');
      const { simulate, formatSimulation, simulationJson, withDeclaredFacts } = await import('../../rules/simulate.ts');
      const { inputFromFacts } = await import('../explain.ts');
      const { db } = await ctx.database();
      const working = await loadRuleSet(o.dir ? path.resolve(o.dir) : ctx.config.rulesDir);
      const baseline = o.against ? await repo.findVersion(db, o.against) : await repo.activeVersion(db);
      if (!baseline) throw new LendpayError('NOT_FOUND', 'no rule version is active yet: run a nightly batch or `lendpay rules activate` first, or pass --against');
      const run = await repo.nightlyRunFor(db, o.date ?? null);
      if (!run) throw new LendpayError('NOT_FOUND', o.date ? `no nightly batch for ${o.date} (run: lendpay batch nightly --date ${o.date})` : 'no finished nightly batch yet (run: lendpay batch nightly)');
      if (run.status !== 'finished') err(`warning: the nightly batch of ${run.businessDate} is ${run.status}: only the customers it has decided so far are simulated`);
      const date = parseBusinessDate(run.businessDate);
      const before = compileEligibility(await storedEligibilityRules(db, baseline.hash));
      const after = compileEligibility(working.eligibility);
      const warnings: string[] = [];
      // The stored facts carry the months that batch's rules needed; more months cannot be simulated.
      const storedMonths = run.ruleSetHash ? (await storedEligibilityRules(db, run.ruleSetHash)).flowMonths : after.flowMonths;
      if (after.flowMonths > storedMonths) {
        warnings.push(`the working copy looks at ${after.flowMonths} months of flow but the batch of ${run.businessDate} stored only ${storedMonths}: older months count as no flow here`);
      }
      // Declared facts the batch's own rules did not use are read as imported, as of the batch's date.
      const names = [...new Set([...(before.declaredFacts), ...(after.declaredFacts)])];
      const stored = new Set(run.ruleSetHash ? (await storedEligibilityRules(db, run.ruleSetHash)).declared.map((f) => f.name) : []);
      const unstored = names.filter((n) => !stored.has(n));
      if (unstored.length > 0) warnings.push(`the batch of ${run.businessDate} did not use ${unstored.join(', ')}: their latest values imported as of ${run.businessDate} are used`);
      const { latestFactsAsOf } = await import('../../../db/facts.repository.ts');
      const pages = withDeclaredFacts(repo.streamDecisionFacts(db, date), unstored, (ids, facts) => latestFactsAsOf(db, ids, facts, run.businessDate));
      const report = await simulate({ date, pages, toInput: inputFromFacts, before, after, top: o.top });
      if (report.customers === 0) warnings.push(`the nightly batch of ${run.businessDate} stored no decisions`);
      const labels = {
        before: `version ${baseline.version} (${baseline.hash.slice(0, 12)})${o.against ? '' : ', active'}`,
        after: `working copy ${path.relative(process.cwd(), working.dir) || '.'} (${working.hash.slice(0, 12)})`,
        source: `the nightly batch of ${run.businessDate} (run ${run.runId})`,
      };
      // The collection rules, on the plans of the last finished post-settlement batch.
      const collection = await simulateLastPostSettlement(ctx, baseline.hash, working);
      if (o.json) {
        return printJson({
          ...(simulationJson(report, {
            baseline: { version: baseline.version, hash: baseline.hash },
            candidate: { dir: working.dir, hash: working.hash },
            runId: run.runId,
            warnings,
          }) as Record<string, unknown>),
          collection: collection ? { source: collection.source, ...collection.report } : null,
        });
      }
      for (const w of warnings) err(`warning: ${w}`);
      out(formatSimulation(report, labels));
      if (collection) out(`\n${formatCollectionSimulation(collection.report, collection.source)}`);
    });
}

async function simulateLastPostSettlement(ctx: Context, baselineHash: string, working: { collection: import('../../collection/rules.ts').CollectionRules | null }) {
  const { db } = await ctx.database();
  const run = await db.selectFrom('batch_runs').select(['id', 'business_date']).where('kind', '=', 'post_settlement').where('status', '=', 'finished').orderBy('business_date', 'desc').limit(1).executeTakeFirst();
  if (!run || !working.collection) return null;
  const { storedCollectionRules } = await import('../../../jobs/evaluators.ts');
  const { compileCollectionRules } = await import('../../collection/evaluate.ts');
  const { simulateCollection } = await import('../../rules/simulate-collection.ts');
  const before = compileCollectionRules((await storedCollectionRules(db, baselineHash)).collection);
  const after = compileCollectionRules(working.collection);
  async function* pages() {
    for (let after = ''; ; ) {
      const rows = await db.selectFrom('collection_items').select(['loan_id', 'due_fen', 'facts', 'plan']).where('business_date', '=', run!.business_date).where('loan_id', '>', after).orderBy('loan_id').limit(5000).execute();
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.loan_id;
      yield rows.map((r) => ({
        due: r.due_fen as Fen,
        facts: r.facts as CollectionFacts,
        accounts: ((r.plan as { accounts?: BorrowerAccount[] }).accounts ?? null),
      }));
    }
  }
  return { source: `the post-settlement batch of ${run.business_date} (run ${run.id})`, report: await simulateCollection(pages(), before, after) };
}

async function resolveContent(ctx: Context, ref: string): Promise<{ label: string; files: Readonly<Record<string, unknown>>; tests: Record<string, string> | null }> {
  if (ref === 'working' || ref === 'rules') {
    const { loadRuleSet } = await import('../../rules/load.ts');
    const { readSources } = await import('../../rules/sources.ts');
    const rs = await loadRuleSet(ctx.config.rulesDir);
    return { label: `working copy (${rs.hash.slice(0, 12)})`, files: rs.files, tests: (await readSources(rs)).tests };
  }
  const { findVersion, versionContent, versionSources } = await import('../../../db/rule-versions.repository.ts');
  const { db } = await ctx.database();
  const v = await findVersion(db, ref);
  return { label: `version ${v.version} (${v.hash.slice(0, 12)})`, files: await versionContent(db, v), tests: (await versionSources(db, v)).tests };
}

/** What history and activate say about a version's test cases: how many passed, and what changed in them. */
function testLines(v: RuleVersion, format: (c: RuleChange[]) => string[]): string[] {
  const passed = v.testsPassed === null ? (v.rollbackOf === null ? 'not run' : `not run (the cases of version ${v.rollbackOf} came back with it)`) : `${v.testsPassed} passed`;
  if (v.testsDiff === null) return [`  test cases: ${passed}; their changes are unknown (not recorded for this version or the one before)`];
  const lines = format(v.testsDiff);
  return [`  test cases: ${passed}, ${lines.length === 0 ? 'unchanged' : `${lines.length} change${lines.length === 1 ? '' : 's'}:`}`, ...lines.map((l) => `    ${l}`)];
}
