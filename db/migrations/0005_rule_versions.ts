// Versioned activation of the risk team's rule sets. Content lives in rule_sets (by
// hash); a version is one activation of a content hash: who, when, why, what changed.
// The active version is the one with the highest number: a rollback is a new version
// whose content is an old one's, so history is never rewritten.
// Frozen in time: never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table rule_versions (
      version integer primary key check (version > 0),
      rule_set_hash text not null references rule_sets (hash),
      activated_by text not null check (activated_by <> ''),
      activated_at timestamptz not null default now(),
      note text not null,
      -- the version that was active before this one (null for the first)
      previous_version integer references rule_versions (version),
      -- set when this version re-activates an older version's content
      rollback_of integer references rule_versions (version),
      -- JSON-path-level changes against previous_version: [{file, path, op, before, after}]
      diff jsonb not null
    );
    create index rule_versions_hash on rule_versions (rule_set_hash, version);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table rule_versions`.execute(db);
}
