// The Database type for Kysely. Rows are snake_case here and are mapped to domain
// objects in the repositories; src/ never sees these.
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** date columns come back as 'YYYY-MM-DD' strings (see connection.ts) */
type DateCol = ColumnType<string, string, string>;

export interface CustomersTable {
  id: string;
  name: string;
  segment: string;
  real_name_verified: boolean;
  whitelist_limit_fen: number | null;
  whitelist_reason: string | null;
  whitelist_expires_on: DateCol | null;
  imported_at: Timestamp;
}

export interface CustomerAccountsTable {
  id: string;
  customer_id: string;
  is_primary: boolean;
  imported_balance_fen: number;
}

export interface CustomerBankCardsTable {
  id: string;
  customer_id: string;
  bank: string;
  last4: string;
  imported_balance_fen: number;
}

export interface CustomerMonthlyFlowsTable {
  customer_id: string;
  month: DateCol;
  flow_fen: number;
}

export interface RuleSetsTable {
  hash: string;
  kind: string;
  content: ColumnType<unknown, string, string>;
  first_used_at: Timestamp;
}

export interface BatchRunsTable {
  id: Generated<number>;
  kind: string;
  business_date: DateCol;
  status: 'running' | 'finished' | 'failed';
  rule_set_hash: string | null;
  total_chunks: Generated<number>;
  started_at: Timestamp;
  finished_at: Date | null;
  summary: ColumnType<unknown, string | null, string | null> | null;
}

export interface BatchChunksTable {
  run_id: number;
  chunk_no: number;
  from_key: string;
  to_key: string | null;
  status: 'pending' | 'done';
  items: number | null;
  done_at: Date | null;
}

export interface EligibilityDecisionsTable {
  business_date: DateCol;
  customer_id: string;
  run_id: number | null;
  eligible: boolean;
  door: 'whitelist' | 'auto_tag' | null;
  limit_fen: number;
  reasons: string[];
  rule_set_hash: string;
  fired: string[];
  facts: ColumnType<unknown, string, string>;
  decided_at: Timestamp;
}

export interface Database {
  customers: CustomersTable;
  customer_accounts: CustomerAccountsTable;
  customer_bank_cards: CustomerBankCardsTable;
  customer_monthly_flows: CustomerMonthlyFlowsTable;
  rule_sets: RuleSetsTable;
  batch_runs: BatchRunsTable;
  batch_chunks: BatchChunksTable;
  eligibility_decisions: EligibilityDecisionsTable;
}
