// Collection's SQL: dues per borrower (one query per chunk), the record of each
// plan with its orders and attempts (one transaction, set-based), the outcomes with
// their allocation over installments, journal postings and notifications (one
// transaction per batch of outcomes), and the holds derived from what stays unpaid.
import { sql, type Transaction } from 'kysely';
import type { Db } from './connection.ts';
import type { Database } from './types.ts';
import type { Fen } from '../src/money.ts';
import type { Segment } from '../src/customers/types.ts';
import type { BusinessDate } from '../src/dates.ts';
import type { Installment } from '../src/loans/schedule.ts';
import { assertBalanced, ACCOUNTS, type PostingLine } from '../src/ledger/postings.ts';
import { allocatePayment, type OutstandingInstallment } from '../src/collection/waterfall.ts';
import type { WaterfallOrder } from '../src/collection/rules.ts';

type Q = Db | Transaction<Database>;

/**
 * Chunk statements touch ~1,000 rows of tables that grow with the population. With the
 * default random_page_cost (4, a spinning disk's) the planner joins a 1,000-row unnest
 * to orders, attempts or installments by a hash over a sequential scan of the whole
 * table once the table is mid-sized (measured at 100k merchants: 29 ms instead of ~3 ms
 * for the orders update), so each chunk costs O(table) and the batch O(n²). On SSD or
 * cached data an index lookup is nearly as cheap as a sequential page: say so, for
 * this transaction only.
 */
export async function chunkPlanner(trx: Transaction<Database>): Promise<void> {
  // and no JIT: a chunk statement runs for milliseconds, compiling it costs ~100 ms
  // whenever a stale estimate pushes its cost over jit_above_cost (measured at 1M)
  await sql`set local random_page_cost = 1.1`.execute(trx);
  await sql`set local jit = off`.execute(trx);
}

/** Wall time per phase of collection, summed over calls (the bench reads and resets it). */
export const collectionPhases = new Map<string, { ms: number; calls: number }>();
export function lap(name: string, t0: number): number {
  const t = performance.now();
  const e = collectionPhases.get(name);
  if (e) {
    e.ms += t - t0;
    e.calls++;
  } else collectionPhases.set(name, { ms: t - t0, calls: 1 });
  return t;
}

const UNPAID = sql`(i.paid_principal_fen < i.principal_fen or i.paid_interest_fen < i.interest_fen)`;

export async function insertInstallments(trx: Q, loanId: string, schedule: readonly Installment[]): Promise<void> {
  if (schedule.length === 0) return;
  await sql`
    insert into installments (loan_id, no, due_date, principal_fen, interest_fen)
    select ${loanId}, n, d, p, i from unnest(${schedule.map((x) => x.no)}::int[], ${schedule.map((x) => x.dueDate)}::date[],
      ${schedule.map((x) => x.principal)}::int8[], ${schedule.map((x) => x.interest)}::int8[]) as u(n, d, p, i)
    on conflict do nothing
  `.execute(trx);
}

/** Chunk start keys over borrowers with something unpaid due on or before `date`. */
export async function dueBorrowerKeys(db: Q, date: string, size: number): Promise<string[]> {
  const r = await sql<{ customer_id: string }>`
    select customer_id from (
      select customer_id, row_number() over (order by customer_id) as rn from (
        select distinct l.customer_id from loans l join installments i on i.loan_id = l.id
        where l.status = 'disbursed' and i.due_date <= ${date}::date and ${UNPAID}
      ) d
    ) t where (rn - 1) % ${size} = 0 order by customer_id
  `.execute(db);
  return r.rows.map((x) => x.customer_id);
}

export interface DueLoan {
  loanId: string;
  kind: 'loan' | 'recovery';
  /** unpaid, due on or before the date, oldest first */
  installments: OutstandingInstallment[];
  /** collect orders of this loan already in flight (submitted or unknown) */
  inFlight: Fen;
  oldestDue: string;
}

export interface DueBorrower {
  customerId: string;
  segment: Segment;
  accounts: { id: string; primary: boolean }[];
  holdOpen: boolean;
  loans: DueLoan[];
}

/**
 * Everything collection needs for borrowers in [fromKey, toKey) (or the given ids):
 * the unpaid due installments as flat rows (one index range scan of loans, the
 * installments by key), then the borrowers, their accounts and what is in flight for
 * their loans, each one set-based statement; assembled here.
 */
export async function loadDueBorrowers(db: Q, date: string, range: { fromKey: string; toKey: string | null } | { ids: readonly string[] }): Promise<DueBorrower[]> {
  const where = 'ids' in range
    ? sql`l.customer_id = any(${range.ids as string[]}::text[])`
    : range.toKey === null
      ? sql`l.customer_id >= ${range.fromKey}`
      // a bounded range, its own statement text: always an index range scan of this chunk
      : sql`l.customer_id >= ${range.fromKey} and l.customer_id < ${range.toKey}`;
  const due = await sql<{ customer_id: string; loan_id: string; kind: 'loan' | 'recovery'; no: number; due_date: string; p: number; i: number }>`
    select l.customer_id, l.id as loan_id, l.kind, i.no, i.due_date::text as due_date,
      i.principal_fen - i.paid_principal_fen as p, i.interest_fen - i.paid_interest_fen as i
    from loans l cross join lateral (
      -- per loan by key (offset 0 keeps it a nested loop): a hash over every unpaid
      -- installment of the population would make each chunk cost O(population)
      select * from installments i where i.loan_id = l.id and i.due_date <= ${date}::date and ${UNPAID} offset 0
    ) i
    where ${where} and l.status = 'disbursed'
  `.execute(db);
  if (due.rows.length === 0) return [];
  const byLoan = new Map<string, { customerId: string; loan: DueLoan }>();
  for (const r of due.rows) {
    let e = byLoan.get(r.loan_id);
    if (!e) byLoan.set(r.loan_id, (e = { customerId: r.customer_id, loan: { loanId: r.loan_id, kind: r.kind, installments: [], inFlight: 0 as Fen, oldestDue: r.due_date } }));
    e.loan.installments.push({ no: r.no, dueDate: r.due_date as BusinessDate, principal: r.p as Fen, interest: r.i as Fen });
    if (r.due_date < e.loan.oldestDue) e.loan.oldestDue = r.due_date;
  }
  const loanIds = [...byLoan.keys()];
  const customerIds = [...new Set(due.rows.map((r) => r.customer_id))].sort();
  const [customers, accounts, inFlight] = await Promise.all([
    sql<{ id: string; segment: Segment; hold_open: boolean }>`
      select c.id, c.segment, exists (select 1 from holds h where h.customer_id = c.id and h.status = 'open') as hold_open
      from customers c where c.id = any(${customerIds}::text[])
    `.execute(db),
    sql<{ customer_id: string; id: string; is_primary: boolean }>`
      select customer_id, id, is_primary from customer_accounts where customer_id = any(${customerIds}::text[])
    `.execute(db),
    sql<{ loan_id: string; n: number }>`
      select o.loan_id, sum(o.amount_fen)::int8 as n from orders o
      where o.loan_id = any(${loanIds}::text[]) and o.kind in ('debit', 'collection')
        and (o.purpose like 'collect.%' or o.purpose like 'repay.%') and o.status in ('created', 'submitted', 'unknown')
      group by o.loan_id
    `.execute(db),
  ]);
  for (const r of inFlight.rows) byLoan.get(r.loan_id)!.loan.inFlight = r.n as Fen;
  const acc = new Map<string, { id: string; primary: boolean }[]>();
  for (const a of accounts.rows) {
    const list = acc.get(a.customer_id) ?? [];
    list.push({ id: a.id, primary: a.is_primary });
    acc.set(a.customer_id, list);
  }
  const loansOf = new Map<string, DueLoan[]>();
  for (const { customerId, loan } of byLoan.values()) {
    loan.installments.sort((x, y) => (x.dueDate < y.dueDate ? -1 : x.dueDate > y.dueDate ? 1 : x.no - y.no));
    const list = loansOf.get(customerId) ?? [];
    list.push(loan);
    loansOf.set(customerId, list);
  }
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const info = new Map(customers.rows.map((c) => [c.id, c]));
  const out: DueBorrower[] = [];
  for (const id of customerIds) {
    const c = info.get(id);
    if (!c) continue;
    out.push({
      customerId: id,
      segment: c.segment,
      accounts: (acc.get(id) ?? []).sort((x, y) => cmp(x.id, y.id)),
      holdOpen: c.hold_open,
      loans: loansOf.get(id)!.sort((x, y) => cmp(x.oldestDue, y.oldestDue) || cmp(x.loanId, y.loanId)),
    });
  }
  return out;
}

/** Locks the borrowers' rows in id order: planners of one borrower run one at a time. */
export async function lockCustomers(trx: Transaction<Database>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`select id from customers where id = any(${[...ids]}::text[]) order by id for update`.execute(trx);
}

export interface ItemRecord {
  loanId: string;
  customerId: string;
  due: Fen;
  planned: Fen;
  held: Fen;
  step: string;
  plan: unknown;
  facts: unknown;
  fired: readonly string[];
}

/** Records the plans; returns the loans whose item was new (a re-run finds them there). */
export async function insertCollectionItems(trx: Transaction<Database>, date: string, runId: number | null, ruleSetHash: string, items: readonly ItemRecord[]): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const r = await sql<{ loan_id: string }>`
    insert into collection_items (business_date, loan_id, customer_id, run_id, due_fen, planned_fen, held_fen, step, plan, facts, rule_set_hash, fired)
    select ${date}::date, l, c, ${runId}::bigint, d, p, h, s, pl::jsonb, f::jsonb, ${ruleSetHash},
      case when fi = '' then '{}'::text[] else string_to_array(fi, ',') end
    from unnest(${items.map((i) => i.loanId)}::text[], ${items.map((i) => i.customerId)}::text[], ${items.map((i) => i.due)}::int8[],
      ${items.map((i) => i.planned)}::int8[], ${items.map((i) => i.held)}::int8[], ${items.map((i) => i.step)}::text[],
      ${items.map((i) => JSON.stringify(i.plan))}::text[], ${items.map((i) => JSON.stringify(i.facts))}::text[], ${items.map((i) => i.fired.join(','))}::text[])
      as u(l, c, d, p, h, s, pl, f, fi)
    on conflict (business_date, loan_id) do nothing
    returning loan_id
  `.execute(trx);
  return new Set(r.rows.map((x) => x.loan_id));
}

export interface DebitIntent {
  key: string;
  purpose: string;
  loanId: string;
  customerId: string;
  accountId: string;
  amount: Fen;
}

export interface SubmittedDebit extends DebitIntent {
  orderId: number;
  requestId: string;
}

/**
 * Creates the debit orders and their first attempts as `submitted`, set-based.
 * An order that already exists (same idempotency key) is not sent again here.
 */
export async function createDebitAttempts(trx: Transaction<Database>, intents: readonly DebitIntent[], lenderAccountId: string, now: Date): Promise<SubmittedDebit[]> {
  if (intents.length === 0) return [];
  const created = await sql<{ id: number; idempotency_key: string }>`
    insert into orders (idempotency_key, kind, purpose, loan_id, customer_id, amount_fen, source_ref, destination_ref, status, created_at, updated_at)
    select k, 'debit', p, l, c, a, 'account:' || s, ${`account:${lenderAccountId}`}, 'submitted', ${now}, ${now}
    from unnest(${intents.map((i) => i.key)}::text[], ${intents.map((i) => i.purpose)}::text[], ${intents.map((i) => i.loanId)}::text[],
      ${intents.map((i) => i.customerId)}::text[], ${intents.map((i) => i.amount)}::int8[], ${intents.map((i) => i.accountId)}::text[]) as u(k, p, l, c, a, s)
    on conflict (idempotency_key) do nothing
    returning id, idempotency_key
  `.execute(trx);
  if (created.rows.length === 0) return [];
  const ids = created.rows.map((r) => r.id);
  const keys = created.rows.map((r) => r.idempotency_key);
  await sql`
    insert into order_attempts (order_id, attempt_no, request_id, status, submitted_at)
    select id, 1, k || '#1', 'submitted', ${now} from unnest(${ids}::int8[], ${keys}::text[]) as u(id, k)
  `.execute(trx);
  const byKey = new Map(intents.map((i) => [i.key, i]));
  return created.rows.map((r) => ({ ...byKey.get(r.idempotency_key)!, orderId: r.id, requestId: `${r.idempotency_key}#1` }));
}

export type DebitResult =
  | { orderId: number; attemptNo: number; status: 'succeeded'; platformRef: string }
  | { orderId: number; attemptNo: number; status: 'failed'; code: string; platformRef: string | null }
  | { orderId: number; attemptNo: number; status: 'unknown'; reason: string };

export interface AppliedOutcomes {
  succeeded: number;
  failed: number;
  unknown: number;
  collected: Fen;
  /** customers whose dues changed: their holds need syncing */
  customers: string[];
}

export interface OutcomeContext {
  now: Date;
  waterfall: WaterfallOrder;
  /** renders the notification for a successful debit or card repayment */
  notify(o: { customerId: string; orderId: number; loanId: string; account: string; amount: Fen; at: Date; kind: 'debit' | 'card_repayment' }): string;
}

/**
 * Records what the platform said about collection attempts, in one transaction:
 * attempts and orders, then for every success the allocation over the loan's unpaid
 * installments (waterfall), the journal entry and the customer notification.
 * Outcomes already recorded (by another process) are skipped.
 */
export async function applyCollectionOutcomes(db: Db, results: readonly DebitResult[], ctx: OutcomeContext): Promise<AppliedOutcomes> {
  const out: AppliedOutcomes = { succeeded: 0, failed: 0, unknown: 0, collected: 0 as Fen, customers: [] };
  if (results.length === 0) return out;
  let t = performance.now();
  await db.transaction().execute(async (trx) => {
    await chunkPlanner(trx);
    const ids = results.map((r) => r.orderId);
    const open = await sql<{ id: number; loan_id: string; customer_id: string; amount_fen: number; source_ref: string; purpose: string; idempotency_key: string }>`
      select id, loan_id, customer_id, amount_fen, source_ref, purpose, idempotency_key from orders
      where id = any(${ids}::int8[]) and status in ('submitted', 'unknown') order by id for update
    `.execute(trx);
    t = lap('outcomes:lock-orders', t);
    const byId = new Map(open.rows.map((o) => [o.id, o]));
    const todo = results.filter((r) => byId.has(r.orderId));
    if (todo.length === 0) return;
    await sql`
      update order_attempts a set status = u.s, error_code = nullif(u.c, ''), platform_ref = nullif(u.p, ''),
        resolved_at = case when u.s = 'unknown' then null else ${ctx.now}::timestamptz end
      from unnest(${todo.map((r) => r.orderId)}::int8[], ${todo.map((r) => r.attemptNo)}::int[], ${todo.map((r) => r.status)}::text[],
        ${todo.map((r) => (r.status === 'failed' ? r.code : ''))}::text[], ${todo.map((r) => (r.status === 'unknown' ? '' : (r.platformRef ?? '')))}::text[]) as u(o, n, s, c, p)
      where a.order_id = u.o and a.attempt_no = u.n and a.status in ('submitted', 'unknown')
    `.execute(trx);
    await sql`
      update orders o set status = u.s, error_code = nullif(u.c, ''), updated_at = ${ctx.now}
      from unnest(${todo.map((r) => r.orderId)}::int8[], ${todo.map((r) => r.status)}::text[], ${todo.map((r) => (r.status === 'failed' ? r.code : ''))}::text[]) as u(o, s, c)
      where o.id = u.o
    `.execute(trx);
    t = lap('outcomes:attempts+orders', t);
    const wins = todo.filter((r) => r.status === 'succeeded');
    out.failed = todo.filter((r) => r.status === 'failed').length;
    out.unknown = todo.filter((r) => r.status === 'unknown').length;
    out.succeeded = wins.length;
    out.customers = [...new Set(todo.filter((r) => r.status !== 'unknown').map((r) => byId.get(r.orderId)!.customer_id))];
    if (wins.length === 0) return;

    // Allocate: lock the loans, read their unpaid installments now, split each payment.
    const loanIds = [...new Set(wins.map((r) => byId.get(r.orderId)!.loan_id))].sort();
    await sql`select id from loans where id = any(${loanIds}::text[]) order by id for update`.execute(trx);
    const inst = await sql<{ loan_id: string; kind: 'loan' | 'recovery'; no: number; due_date: string; p: number; i: number }>`
      select i.loan_id, l.kind, i.no, i.due_date, i.principal_fen - i.paid_principal_fen as p, i.interest_fen - i.paid_interest_fen as i
      from loans l cross join lateral (select * from installments i where i.loan_id = l.id and ${UNPAID} offset 0) i
      where l.id = any(${loanIds}::text[])
      order by i.loan_id, i.due_date, i.no
    `.execute(trx);
    t = lap('outcomes:lock-loans+read-installments', t);
    const unpaid = new Map<string, { kind: 'loan' | 'recovery'; list: OutstandingInstallment[] }>();
    for (const r of inst.rows) {
      const e = unpaid.get(r.loan_id) ?? { kind: r.kind, list: [] };
      e.list.push({ no: r.no, dueDate: r.due_date as BusinessDate, principal: r.p as Fen, interest: r.i as Fen });
      unpaid.set(r.loan_id, e);
    }
    const instLoan: string[] = [], instNo: number[] = [], payP: number[] = [], payI: number[] = [];
    const entryOrders: number[] = [], entryMemos: string[] = [];
    const lines: { order: number; line: PostingLine }[] = [];
    const notes: { customer: string; order: number; body: string }[] = [];
    for (const r of wins) {
      const o = byId.get(r.orderId)!;
      const e = unpaid.get(o.loan_id) ?? { kind: 'loan' as const, list: [] };
      const alloc = allocatePayment(e.list, o.amount_fen as Fen, ctx.waterfall);
      let principal = 0, interest = 0;
      for (const a of alloc.allocations) {
        instLoan.push(o.loan_id);
        instNo.push(a.installmentNo);
        payP.push(a.principal);
        payI.push(a.interest);
        principal += a.principal;
        interest += a.interest;
        // later payments in this same transaction see what this one took
        const row = e.list.find((x) => x.no === a.installmentNo)!;
        e.list[e.list.indexOf(row)] = { ...row, principal: (row.principal - a.principal) as Fen, interest: (row.interest - a.interest) as Fen };
      }
      const refs = { customerId: o.customer_id, loanId: o.loan_id };
      const post: PostingLine[] = [{ account: ACCOUNTS.platformBalance, debit: o.amount_fen as Fen, credit: 0 as Fen, customerId: null, loanId: null }];
      if (principal > 0) post.push({ account: e.kind === 'recovery' ? ACCOUNTS.recoveryReceivable : ACCOUNTS.loansReceivable, debit: 0 as Fen, credit: principal as Fen, ...refs });
      if (interest > 0) post.push({ account: ACCOUNTS.interestIncome, debit: 0 as Fen, credit: interest as Fen, ...refs });
      if (alloc.remainder > 0) post.push({ account: ACCOUNTS.borrowerOverpayment, debit: 0 as Fen, credit: alloc.remainder, ...refs });
      assertBalanced(post);
      entryOrders.push(o.id);
      entryMemos.push(`${o.idempotency_key}: collected from ${o.source_ref}`);
      for (const l of post) lines.push({ order: o.id, line: l });
      out.collected = (out.collected + o.amount_fen) as Fen;
      const isCard = o.purpose === 'repay.card';
      notes.push({
        customer: o.customer_id,
        order: o.id,
        body: ctx.notify({ customerId: o.customer_id, orderId: o.id, loanId: o.loan_id, account: o.source_ref.replace(/^(account|card):/, ''), amount: o.amount_fen as Fen, at: ctx.now, kind: isCard ? 'card_repayment' : 'debit' }),
      });
    }
    t = lap('outcomes:allocate+render', t);
    if (instLoan.length > 0) {
      // the same installment can be paid by two debits in one batch: sum first
      await sql`
        update installments i set paid_principal_fen = i.paid_principal_fen + u.p, paid_interest_fen = i.paid_interest_fen + u.i
        from (select l, n, sum(p)::int8 as p, sum(i)::int8 as i from unnest(${instLoan}::text[], ${instNo}::int[], ${payP}::int8[], ${payI}::int8[]) as x(l, n, p, i) group by l, n) u
        where i.loan_id = u.l and i.no = u.n
      `.execute(trx);
    }
    t = lap('outcomes:installments-update', t);
    const entries = await sql<{ id: number; order_id: number }>`
      insert into journal_entries (order_id, kind, memo, posted_at)
      select o, 'succeeded', m, ${ctx.now} from unnest(${entryOrders}::int8[], ${entryMemos}::text[]) as u(o, m)
      on conflict (order_id, kind) where order_id is not null do nothing
      returning id, order_id
    `.execute(trx);
    const entryOf = new Map(entries.rows.map((e) => [e.order_id, e.id]));
    const mine = lines.filter((l) => entryOf.has(l.order));
    const lineNo = new Map<number, number>();
    await sql`
      insert into journal_lines (entry_id, line_no, account, customer_id, loan_id, debit_fen, credit_fen)
      select * from unnest(${mine.map((l) => entryOf.get(l.order)!)}::int8[],
        ${mine.map((l) => { const n = (lineNo.get(l.order) ?? 0) + 1; lineNo.set(l.order, n); return n; })}::int[],
        ${mine.map((l) => l.line.account)}::text[], ${mine.map((l) => l.line.customerId)}::text[], ${mine.map((l) => l.line.loanId)}::text[],
        ${mine.map((l) => l.line.debit)}::int8[], ${mine.map((l) => l.line.credit)}::int8[])
    `.execute(trx);
    t = lap('outcomes:journal', t);
    await sql`
      insert into notifications (customer_id, kind, order_id, body, created_at)
      select c, 'debit', o, b, ${ctx.now} from unnest(${notes.map((n) => n.customer)}::text[], ${notes.map((n) => n.order)}::int8[], ${notes.map((n) => n.body)}::text[]) as u(c, o, b)
      on conflict (order_id, kind) where order_id is not null do nothing
    `.execute(trx);
    t = lap('outcomes:notifications', t);
  });
  lap('outcomes:commit', t);
  return out;
}

export interface HoldChange {
  customerId: string;
  holdId: number;
  event: 'opened' | 'cleared' | 'changed' | 'unchanged';
  amount: Fen;
}

/**
 * Holds follow from what is unpaid: for each borrower, what fell due on or before
 * the hold's date (asOf, or the open hold's own date) and is still unpaid. More than
 * zero: the hold is open with that amount; zero: it is cleared.
 */
export async function syncHolds(db: Db, customerIds: readonly string[], asOf: string | null, now: Date, clearedBy = 'collection'): Promise<HoldChange[]> {
  if (customerIds.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    await chunkPlanner(trx);
    await lockCustomers(trx, customerIds);
    const r = await sql<{ customer_id: string; hold_id: number | null; hold_amount: number | null; as_of: string | null; unpaid: number }>`
      select c.id as customer_id, h.id as hold_id, h.amount_fen as hold_amount, coalesce(h.as_of_date, ${asOf}::date)::text as as_of,
        coalesce((select sum((i.principal_fen - i.paid_principal_fen) + (i.interest_fen - i.paid_interest_fen))
                  from loans l join installments i on i.loan_id = l.id
                  where l.customer_id = c.id and l.status = 'disbursed'
                    and i.due_date <= greatest(h.as_of_date, ${asOf}::date)), 0)::int8 as unpaid
      from customers c left join holds h on h.customer_id = c.id and h.status = 'open' and h.customer_id = any(${[...customerIds]}::text[])
      where c.id = any(${[...customerIds]}::text[])
    `.execute(trx);
    const changes: HoldChange[] = [];
    const opened: { customerId: string; amount: number }[] = [];
    const cleared: { customerId: string; holdId: number }[] = [];
    const changed: { holdId: number; amount: number; asOf: string }[] = [];
    for (const x of r.rows) {
      if (x.hold_id === null) {
        if (x.unpaid > 0 && asOf !== null) opened.push({ customerId: x.customer_id, amount: x.unpaid });
        continue;
      }
      if (x.unpaid === 0) {
        cleared.push({ customerId: x.customer_id, holdId: x.hold_id });
        changes.push({ customerId: x.customer_id, holdId: x.hold_id, event: 'cleared', amount: 0 as Fen });
      } else {
        const newAsOf = asOf !== null && x.as_of !== null && asOf > x.as_of ? asOf : x.as_of!;
        if (x.unpaid !== x.hold_amount || newAsOf !== x.as_of) changed.push({ holdId: x.hold_id, amount: x.unpaid, asOf: newAsOf });
        changes.push({ customerId: x.customer_id, holdId: x.hold_id, event: x.unpaid !== x.hold_amount ? 'changed' : 'unchanged', amount: x.unpaid as Fen });
      }
    }
    // set-based: one statement per kind of change
    if (opened.length > 0) {
      const ins = await sql<{ id: number; customer_id: string; amount_fen: number }>`
        insert into holds (customer_id, as_of_date, amount_fen, status, opened_at)
        select c, ${asOf}::date, a, 'open', ${now} from unnest(${opened.map((o) => o.customerId)}::text[], ${opened.map((o) => o.amount)}::int8[]) as u(c, a)
        order by c
        returning id, customer_id, amount_fen
      `.execute(trx);
      for (const h of ins.rows) changes.push({ customerId: h.customer_id, holdId: h.id, event: 'opened', amount: h.amount_fen as Fen });
    }
    if (cleared.length > 0) {
      await sql`
        update holds set status = 'cleared', amount_fen = 0, cleared_at = ${now}, cleared_by = ${clearedBy}
        where id = any(${cleared.map((c) => c.holdId)}::int8[])
      `.execute(trx);
    }
    if (changed.length > 0) {
      await sql`
        update holds h set amount_fen = u.a, as_of_date = u.d
        from unnest(${changed.map((c) => c.holdId)}::int8[], ${changed.map((c) => c.amount)}::int8[], ${changed.map((c) => c.asOf)}::date[]) as u(i, a, d)
        where h.id = u.i
      `.execute(trx);
    }
    return changes;
  });
}

/** Customers whose platform block differs from "has an open hold" (or all given ones). */
export async function blockMismatches(db: Q, customerIds?: readonly string[]): Promise<{ customerId: string; shouldBlock: boolean }[]> {
  if (customerIds) {
    // Driven by the given ids, one index lookup each into holds and outflow_blocks:
    // the cost stays that of the chunk whatever the size of the two tables (a join
    // planned on stale statistics scanned both whole, every chunk: measured 54 ms at 1M, now 14 ms).
    const r = await sql<{ id: string; should: boolean }>`
      select u.id, x.should from unnest(${[...customerIds]}::text[]) as u(id)
      -- a scalar subquery with limit 1, not exists(): exists() may become a hashed subplan over every open hold
      cross join lateral (select coalesce((select true from holds h where h.customer_id = u.id and h.status = 'open' limit 1), false) as should) x
      where x.should <> coalesce((select b.blocked from outflow_blocks b where b.customer_id = u.id), false)
      order by u.id
    `.execute(db);
    return r.rows.map((x) => ({ customerId: x.id, shouldBlock: x.should }));
  }
  // everyone: from the two small sides (open holds, blocked borrowers), not every customer
  const r = await sql<{ id: string; should: boolean }>`
    select h.customer_id as id, true as should from holds h left join outflow_blocks b on b.customer_id = h.customer_id
    where h.status = 'open' and not coalesce(b.blocked, false)
    union all
    select b.customer_id as id, false as should from outflow_blocks b
    where b.blocked and not exists (select 1 from holds h where h.customer_id = b.customer_id and h.status = 'open')
    order by id
  `.execute(db);
  return r.rows.map((x) => ({ customerId: x.id, shouldBlock: x.should }));
}

export async function recordBlock(db: Q, customerId: string, blocked: boolean, now: Date): Promise<void> {
  await recordBlocks(db, [{ customerId, blocked }], now);
}

/** What lendpay made true on the platform, one statement for many borrowers. */
export async function recordBlocks(db: Q, blocks: readonly { customerId: string; blocked: boolean }[], now: Date): Promise<void> {
  if (blocks.length === 0) return;
  await sql`
    insert into outflow_blocks (customer_id, blocked, updated_at)
    select c, b, ${now} from unnest(${blocks.map((x) => x.customerId)}::text[], ${blocks.map((x) => x.blocked)}::bool[]) as u(c, b)
    order by c
    on conflict (customer_id) do update set blocked = excluded.blocked, updated_at = excluded.updated_at
  `.execute(db);
}

/** Open holds' borrowers, for the hold monitor, a page at a time. */
export async function openHoldCustomers(db: Q, after: string, limit: number): Promise<string[]> {
  const r = await db.selectFrom('holds').select('customer_id').where('status', '=', 'open').where('customer_id', '>', after).orderBy('customer_id').limit(limit).execute();
  return r.map((x) => x.customer_id);
}
