// The migration list is static so that it works the same from source, under tsx and
// in any bundler: add each new numbered file here.
import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation.ts';
import * as m0009 from './0009_alert_rules.ts';
import * as m0003 from './0003_loans_orders_ledger.ts';
import * as m0006 from './0006_api.ts';
import * as m0004 from './0004_collection.ts';
import * as m0005 from './0005_rule_versions.ts';
import * as m0007 from './0007_escalation.ts';
import * as m0008 from './0008_audit.ts';
import * as m0010 from './0010_batched_money_path.ts';
import * as m0050 from './0050_dashboard_indexes.ts';
import * as m0070 from './0070_loan_products.ts';
import * as m0071 from './0071_vouchers.ts';
import * as m0072 from './0072_penalties_prepayment.ts';
import * as m0040 from './0040_demo_runs.ts';
import * as m0030 from './0030_named_actors.ts';
import * as m0060 from './0060_customer_facts.ts';
import * as m0061 from './0061_rule_version_tests.ts';

export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0009_alert_rules': m0009,
  '0003_loans_orders_ledger': m0003,
  '0006_api': m0006,
  '0004_collection': m0004,
  '0005_rule_versions': m0005,
  '0007_escalation': m0007,
  '0008_audit': m0008,
  '0010_batched_money_path': m0010,
  '0050_dashboard_indexes': m0050,
  '0070_loan_products': m0070,
  '0071_vouchers': m0071,
  '0072_penalties_prepayment': m0072,
  '0040_demo_runs': m0040,
  '0030_named_actors': m0030,
  '0060_customer_facts': m0060,
  '0061_rule_version_tests': m0061,
};
