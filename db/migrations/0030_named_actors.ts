// Who did it must be a name: an operator action or audit row whose actor is blank
// (" ", a tab) says nothing (issue 15: `{"by": " "}` was accepted and recorded as " ").
// The API now records the token's name; this keeps any other writer honest too.
// NOT VALID: rows written before are left as they are, every new row is checked.
// Frozen in time.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table operator_actions add constraint operator_actions_operator_named check (operator ~ '[^[:space:]]') not valid;
    alter table audit_log add constraint audit_log_actor_named check (actor ~ '[^[:space:]]') not valid;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table operator_actions drop constraint operator_actions_operator_named;
    alter table audit_log drop constraint audit_log_actor_named;
  `.execute(db);
}
