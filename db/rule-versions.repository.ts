// Rule versions: each activation of a rule set's content (stored by hash in rule_sets)
// gets the next version number. The active version is the highest; a rollback adds a
// version with an older version's content. Activations serialise on an advisory lock
// so two people activating at once get versions n and n+1, never two n.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import { saveRuleSet, getRuleSetContent } from './rulesets.repository.ts';
import { diffRuleSets, type RuleChange } from '../src/rules/versions.ts';
import { LendpayError } from '../src/errors.ts';

export interface RuleVersion {
  version: number;
  hash: string;
  activatedBy: string;
  activatedAt: Date;
  note: string;
  previousVersion: number | null;
  rollbackOf: number | null;
  diff: RuleChange[];
  /** how many test cases passed at activation; null: not recorded (a rollback runs none, older versions) */
  testsPassed: number | null;
  /** changes to rules/tests/*.json against the version before; null: the tests of one of them were not recorded */
  testsDiff: RuleChange[] | null;
  /** whether the rule and test files' text was recorded (rules checkout writes it back) */
  recorded: { sources: boolean; tests: boolean };
}

type Row = {
  version: number; rule_set_hash: string; activated_by: string; activated_at: Date; note: string;
  previous_version: number | null; rollback_of: number | null; diff: unknown;
  tests_passed: number | null; tests_diff: unknown; has_sources: boolean; has_tests: boolean;
};

const toVersion = (r: Row): RuleVersion => ({
  version: r.version, hash: r.rule_set_hash, activatedBy: r.activated_by, activatedAt: r.activated_at, note: r.note,
  previousVersion: r.previous_version, rollbackOf: r.rollback_of, diff: r.diff as RuleChange[],
  testsPassed: r.tests_passed, testsDiff: (r.tests_diff ?? null) as RuleChange[] | null,
  recorded: { sources: r.has_sources, tests: r.has_tests },
});

// Every column but the (large) texts, which are read only by versionSources.
const COLUMNS = sql`version, rule_set_hash, activated_by, activated_at, note, previous_version, rollback_of, diff,
  tests_passed, tests_diff, sources is not null as has_sources, tests is not null as has_tests`;

// Any constant shared by every activating session; 'lprv' in ASCII.
const ACTIVATION_LOCK = 0x6c707276;

type Q = Db | Transaction<Database>;

export async function activeVersion(db: Q): Promise<RuleVersion | null> {
  const r = await sql<Row>`select ${COLUMNS} from rule_versions order by version desc limit 1`.execute(db);
  return r.rows[0] ? toVersion(r.rows[0]) : null;
}

export async function listVersions(db: Q): Promise<RuleVersion[]> {
  const r = await sql<Row>`select ${COLUMNS} from rule_versions order by version`.execute(db);
  return r.rows.map(toVersion);
}

/** A version by number ("3", "v3") or by a prefix of its content hash (at least 6 characters; the newest version with it). */
export async function findVersion(db: Q, ref: string): Promise<RuleVersion> {
  const m = /^v?(\d{1,9})$/i.exec(ref.trim());
  if (m) {
    const r = await sql<Row>`select ${COLUMNS} from rule_versions where version = ${Number(m[1])}`.execute(db);
    if (r.rows[0]) return toVersion(r.rows[0]);
    throw new LendpayError('NOT_FOUND', `no rule version ${m[1]} (see: lendpay rules history)`);
  }
  if (!/^[0-9a-f]{6,64}$/i.test(ref)) throw new LendpayError('INVALID_INPUT', `"${ref}" is neither a version number nor a hash prefix of 6+ hex digits`);
  const r = await sql<Row>`
    select ${COLUMNS} from rule_versions where rule_set_hash like ${`${ref.toLowerCase()}%`} order by version desc
  `.execute(db);
  const hashes = new Set(r.rows.map((x) => x.rule_set_hash));
  if (hashes.size === 0) throw new LendpayError('NOT_FOUND', `no rule version with a hash starting ${ref}`);
  if (hashes.size > 1) throw new LendpayError('INVALID_INPUT', `hash prefix ${ref} is ambiguous (${[...hashes].map((h) => h.slice(0, 12)).join(', ')})`);
  return toVersion(r.rows[0]!);
}

export async function versionContent(db: Q, v: RuleVersion): Promise<Record<string, unknown>> {
  const content = await getRuleSetContent(db as Db, v.hash);
  if (content === null) throw new LendpayError('NOT_FOUND', `rule set ${v.hash.slice(0, 12)} of version ${v.version} is not stored`);
  return content as Record<string, unknown>;
}

/** The text of a version's rule files and test files as activated; null where not recorded. */
export async function versionSources(db: Q, v: RuleVersion): Promise<{ rules: Record<string, string> | null; tests: Record<string, string> | null }> {
  const r = await sql<{ sources: Record<string, string> | null; tests: Record<string, string> | null }>`
    select sources, tests from rule_versions where version = ${v.version}
  `.execute(db);
  return { rules: r.rows[0]?.sources ?? null, tests: r.rows[0]?.tests ?? null };
}

/** The parsed content of test files by path (tests/x.json), for diffs; a text that is not JSON shows as itself. */
export function parsedTests(tests: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [f, text] of Object.entries(tests)) {
    try {
      out[`tests/${f}`] = JSON.parse(text) as unknown;
    } catch {
      out[`tests/${f}`] = text;
    }
  }
  return out;
}

export interface Activation {
  version: RuleVersion;
  /** false: the content was already the active version; nothing was stored */
  created: boolean;
}

/**
 * Makes `files` (hash `hash`) the active rule set as a new version. When the active
 * version already has this content nothing is stored (unless `rollbackOf`, which
 * always records the decision to roll back).
 */
export async function activateRuleSet(
  db: Db,
  input: {
    hash: string; files: Readonly<Record<string, unknown>>; by: string; note: string; rollbackOf?: number | null; onlyIfNone?: boolean;
    /** the rule files' text by file name, and the test files' text by name within tests/, as activated */
    sources?: Readonly<Record<string, string>> | null;
    tests?: Readonly<Record<string, string>> | null;
    testsPassed?: number | null;
  },
): Promise<Activation> {
  if (input.by.trim() === '') throw new LendpayError('INVALID_INPUT', '--by: who activates the rules must be named');
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${ACTIVATION_LOCK})`.execute(trx);
    const current = await activeVersion(trx);
    if (current && (input.onlyIfNone || (current.hash === input.hash && (input.rollbackOf ?? null) === null))) {
      return { version: current, created: false };
    }
    await saveRuleSet(trx as unknown as Db, input.hash, 'rules', input.files);
    const before = current ? await versionContent(trx, current) : null;
    const diff = diffRuleSets(before, input.files);
    // The test changes that let this activation through: against the tests the version before recorded.
    const tests = input.tests ?? null;
    const beforeTests = current ? (await versionSources(trx, current)).tests : {};
    const testsDiff = tests === null || beforeTests === null ? null : diffRuleSets(parsedTests(beforeTests), parsedTests(tests));
    const r = await sql<Row>`
      insert into rule_versions (version, rule_set_hash, activated_by, note, previous_version, rollback_of, diff, sources, tests, tests_passed, tests_diff)
      values (${(current?.version ?? 0) + 1}, ${input.hash}, ${input.by.trim()}, ${input.note}, ${current?.version ?? null},
        ${input.rollbackOf ?? null}, ${JSON.stringify(diff)}::jsonb, ${input.sources ? JSON.stringify(input.sources) : null}::jsonb,
        ${tests ? JSON.stringify(tests) : null}::jsonb, ${input.testsPassed ?? null}, ${testsDiff ? JSON.stringify(testsDiff) : null}::jsonb)
      returning ${COLUMNS}
    `.execute(trx);
    return { version: toVersion(r.rows[0]!), created: true };
  });
}

// ---------------------------------------------------------------------------
// Reads for simulation and the audit trail

export interface NightlyRunRef {
  runId: number;
  businessDate: string;
  ruleSetHash: string | null;
  status: string;
}

/** The nightly run of `date`, or the latest finished one. */
export async function nightlyRunFor(db: Q, date: string | null): Promise<NightlyRunRef | null> {
  const r = date === null
    ? await sql<{ id: number; business_date: string; rule_set_hash: string | null; status: string }>`
        select id, business_date, rule_set_hash, status from batch_runs
        where kind = 'nightly' and status = 'finished' order by business_date desc limit 1`.execute(db)
    : await sql<{ id: number; business_date: string; rule_set_hash: string | null; status: string }>`
        select id, business_date, rule_set_hash, status from batch_runs
        where kind = 'nightly' and business_date = ${date}::date`.execute(db);
  const row = r.rows[0];
  return row ? { runId: row.id, businessDate: row.business_date, ruleSetHash: row.rule_set_hash, status: row.status } : null;
}

export interface FactsRow {
  customerId: string;
  facts: Record<string, unknown>;
}

/**
 * The facts a date's decisions stored, in customer order, a keyset page at a time.
 * The next page is already on its way while the caller works on this one.
 */
export async function* streamDecisionFacts(db: Db, date: string, pageSize = 20_000): AsyncGenerator<FactsRow[]> {
  const page = (after: string) => sql<{ customer_id: string; facts: Record<string, unknown> }>`
    select customer_id, facts from eligibility_decisions
    where business_date = ${date}::date and customer_id > ${after}
    order by customer_id limit ${pageSize}
  `.execute(db);
  let next = page('');
  for (;;) {
    const rows = (await next).rows;
    if (rows.length === pageSize) next = page(rows[rows.length - 1]!.customer_id);
    yield rows.map((r) => ({ customerId: r.customer_id, facts: r.facts }));
    if (rows.length < pageSize) return;
  }
}

export interface CustomerDecision {
  businessDate: string;
  eligible: boolean;
  door: string | null;
  limit: number;
  reasons: string[];
  fired: string[];
  ruleSetHash: string;
  /** the rule version in force when the decision's batch started; null before versions existed */
  ruleVersion: number | null;
  runId: number | null;
  decidedAt: Date;
  /** the declared facts (rules/facts.json) the decision used: the value and its asOf, null when it had none */
  declared: Record<string, { value: unknown; asOf: string } | null> | null;
}

/** Every decision about one customer, oldest first, with the rule version that made it. */
export async function customerDecisions(db: Q, customerId: string): Promise<CustomerDecision[]> {
  const r = await sql<{
    business_date: string; eligible: boolean; door: string | null; limit_fen: number; reasons: string[]; fired: string[];
    rule_set_hash: string; rule_version: number | null; run_id: number | null; decided_at: Date; declared: CustomerDecision['declared'];
  }>`
    select d.business_date, d.eligible, d.door, d.limit_fen, d.reasons, d.fired, d.rule_set_hash, d.run_id, d.decided_at, d.facts->'declared' as declared,
      coalesce(
        (select v.version from rule_versions v
          where v.rule_set_hash = d.rule_set_hash and v.activated_at <= coalesce(b.started_at, d.decided_at)
          order by v.version desc limit 1),
        (select min(v.version) from rule_versions v where v.rule_set_hash = d.rule_set_hash)
      ) as rule_version
    from eligibility_decisions d left join batch_runs b on b.id = d.run_id
    where d.customer_id = ${customerId}
    order by d.business_date
  `.execute(db);
  return r.rows.map((x) => ({
    businessDate: x.business_date, eligible: x.eligible, door: x.door, limit: x.limit_fen, reasons: x.reasons, fired: x.fired,
    ruleSetHash: x.rule_set_hash, ruleVersion: x.rule_version, runId: x.run_id, decidedAt: x.decided_at, declared: x.declared ?? null,
  }));
}

export async function customerExists(db: Q, customerId: string): Promise<boolean> {
  const r = await sql<{ one: number }>`select 1 as one from customers where id = ${customerId}`.execute(db);
  return r.rows.length > 0;
}
