// Alerts raised by the alert rules (rules/alerts.json): which rule, about what subject,
// how severe, and when the webhook was told. Frozen in time.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table alerts add column rule text, add column subject text, add column severity text, add column notified_at timestamptz;
    create unique index alerts_rule_open on alerts (rule, subject) where resolved_at is null and rule is not null;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index alerts_rule_open;
    alter table alerts drop column rule, drop column subject, drop column severity, drop column notified_at;
  `.execute(db);
}
