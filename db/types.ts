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

export interface LoansTable {
  id: string;
  kind: Generated<'loan' | 'recovery'>;
  customer_id: string;
  request_id: string;
  request_hash: string;
  principal_fen: number;
  rail: 'balance' | 'card';
  destination_id: string;
  mode: 'compliant' | 'legacy';
  status: 'disbursing' | 'disbursed' | 'failed' | 'closed';
  decision_date: DateCol;
  rule_set_hash: string;
  limit_fen: number;
  expected_arrival_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** the product sold (migration 0070); null before products, and for recovery receivables */
  product_id: string | null;
  product: ColumnType<unknown, string | null | undefined, string | null>;
  disbursed_on: ColumnType<string, string | undefined, string>;
  closed_at: Date | null;
}

export type OrderStatus = 'created' | 'submitted' | 'unknown' | 'succeeded' | 'failed' | 'voided';
export type OrderKind = 'collection' | 'payout' | 'debit' | 'topup';

export interface OrdersTable {
  id: Generated<number>;
  idempotency_key: string;
  kind: OrderKind;
  purpose: string;
  loan_id: string | null;
  customer_id: string | null;
  amount_fen: number;
  source_ref: string;
  destination_ref: string;
  status: OrderStatus;
  error_code: string | null;
  parent_order_id: number | null;
  arrives_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type AttemptStatus = 'submitted' | 'unknown' | 'succeeded' | 'failed';

export interface OrderAttemptsTable {
  order_id: number;
  attempt_no: number;
  request_id: string;
  status: AttemptStatus;
  error_code: string | null;
  platform_ref: string | null;
  submitted_at: Timestamp;
  resolved_at: Date | null;
  queries: Generated<number>;
  last_queried_at: Date | null;
}

export interface JournalEntriesTable {
  id: Generated<number>;
  order_id: number | null;
  kind: string;
  memo: string;
  posted_at: Timestamp;
}

export interface JournalLinesTable {
  entry_id: number;
  line_no: number;
  account: string;
  customer_id: string | null;
  loan_id: string | null;
  debit_fen: Generated<number>;
  credit_fen: Generated<number>;
  /** the order whose posting this line is part of (an entry may hold many orders' lines) */
  order_id: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface InstallmentsTable {
  loan_id: string;
  no: number;
  due_date: DateCol;
  principal_fen: number;
  interest_fen: number;
  paid_principal_fen: Generated<number>;
  paid_interest_fen: Generated<number>;
  /** overdue penalty accrued and paid (migration 0072) */
  penalty_fen: Generated<number>;
  paid_penalty_fen: Generated<number>;
  penalty_through: DateCol | null;
}

export interface CollectionItemsTable {
  business_date: DateCol;
  loan_id: string;
  customer_id: string;
  run_id: number | null;
  due_fen: number;
  planned_fen: number;
  held_fen: number;
  step: string;
  plan: ColumnType<unknown, string, string>;
  facts: ColumnType<unknown, string, string>;
  rule_set_hash: string;
  fired: string[];
  created_at: Timestamp;
}

export interface HoldsTable {
  id: Generated<number>;
  customer_id: string;
  as_of_date: DateCol;
  amount_fen: number;
  status: 'open' | 'cleared';
  opened_at: Timestamp;
  cleared_at: Date | null;
  cleared_by: string | null;
}

export interface OutflowBlocksTable {
  customer_id: string;
  blocked: boolean;
  updated_at: Timestamp;
}

export interface DemoRunsTable {
  id: Generated<number>;
  business_date: DateCol;
  seed: number;
  size: number;
  started_at: Timestamp;
}

export interface SettlementsTable {
  business_date: DateCol;
  lines: number;
  total_fen: number;
  received_at: Timestamp;
}

export interface NotificationsTable {
  id: Generated<number>;
  customer_id: string;
  kind: string;
  order_id: number | null;
  body: string;
  created_at: Timestamp;
  sent_at: Date | null;
}

export interface ApiIdempotencyTable {
  key: string;
  method: string;
  route: string;
  request_hash: string;
  status_code: number | null;
  response: ColumnType<unknown, string | null, string | null> | null;
  created_at: Timestamp;
  completed_at: Date | null;
}

export interface CronTicksTable {
  job: string;
  slot: string;
  claimed_at: Timestamp;
  claimed_by: string;
}

export interface PrepaymentsTable {
  order_id: number;
  loan_id: string;
  business_date: DateCol;
  kind: 'payoff' | 'partial';
  principal_fen: number;
  interest_fen: number;
  penalty_fen: number;
  fee_fen: number;
  prepaid_principal_fen: number;
  overpayment_fen: number;
  interest_waived_fen: number;
  description: string;
  plan: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
}

export interface VouchersTable {
  id: Generated<number>;
  business_date: DateCol;
  grouping: 'type' | 'entry';
  number: number;
  word: string;
  event_type: string;
  summary: string;
  customer_id: string | null;
  loan_id: string | null;
  created_at: Timestamp;
}

export interface VoucherLinesTable {
  voucher_id: number;
  line_no: number;
  account: string;
  subject_code: string;
  subject_name: string;
  customer_id: string | null;
  loan_id: string | null;
  debit_fen: number;
  credit_fen: number;
}

export interface VoucherPostingsTable {
  grouping: 'type' | 'entry';
  entry_id: number;
  line_no: number;
  voucher_id: number;
}

export interface Database {
  prepayments: PrepaymentsTable;
  vouchers: VouchersTable;
  voucher_lines: VoucherLinesTable;
  voucher_postings: VoucherPostingsTable;
  api_idempotency: ApiIdempotencyTable;
  cron_ticks: CronTicksTable;
  installments: InstallmentsTable;
  collection_items: CollectionItemsTable;
  holds: HoldsTable;
  outflow_blocks: OutflowBlocksTable;
  settlements: SettlementsTable;
  demo_runs: DemoRunsTable;
  notifications: NotificationsTable;
  loans: LoansTable;
  orders: OrdersTable;
  order_attempts: OrderAttemptsTable;
  journal_entries: JournalEntriesTable;
  journal_lines: JournalLinesTable;
  customers: CustomersTable;
  customer_accounts: CustomerAccountsTable;
  customer_bank_cards: CustomerBankCardsTable;
  customer_monthly_flows: CustomerMonthlyFlowsTable;
  rule_sets: RuleSetsTable;
  batch_runs: BatchRunsTable;
  batch_chunks: BatchChunksTable;
  eligibility_decisions: EligibilityDecisionsTable;
}
