// What let an activation through, beside the rules themselves: the text of every rule
// file and of every test file (rules/tests/*.json) as activated, how many cases
// passed, and the test changes against the version before. `rules history` and
// `rules diff` show both; `rules checkout V` writes a version's files back byte for
// byte. Null on versions activated before this migration.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table rule_versions
      add column sources jsonb,
      add column tests jsonb,
      add column tests_passed integer check (tests_passed >= 0),
      add column tests_diff jsonb
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table rule_versions drop column sources, drop column tests, drop column tests_passed, drop column tests_diff`.execute(db);
}
