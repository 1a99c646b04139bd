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
import type { OutstandingInstallment } from '../src/collection/waterfall.ts';
import type { HoldState } from '../src/collection/holds.ts';

type Q = Db | Transaction<Database>;

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

const UNPAID = sql`(i.paid_principal_fen < i.principal_fen or i.paid_interest_fen < i.interest_fen or i.paid_penalty_fen < i.penalty_fen)`;

/** Chunk start keys over borrowers with something unpaid due on or before `date`. */
export async function dueBorrowerKeys(db: Q, date: string, size: number): Promise<string[]> {
  // from the disbursed loans, each probed by key for an unpaid installment due: the cost
  // follows the loans outstanding, not every installment ever written
  const r = await sql<{ customer_id: string }>`
    select customer_id from (
      select customer_id, row_number() over (order by customer_id) as rn from (
        select distinct l.customer_id from loans l
        where l.status = 'disbursed'
          and exists (select 1 from installments i where i.loan_id = l.id and i.due_date <= ${date}::date and ${UNPAID})
      ) d
    ) t where (rn - 1) % ${size} = 0 order by customer_id
  `.execute(db);
  return r.rows.map((x) => x.customer_id);
}

/**
 * Borrowers in the selection with something unpaid due on or before `date`, and their
 * balance accounts: what the platform is asked for balances before the plan, one statement.
 */
export async function dueBorrowerAccounts(db: Q, date: string, range: { fromKey: string; toKey: string | null } | { ids: readonly string[] }): Promise<Map<string, string[]>> {
  const where = 'ids' in range
    ? sql`l.customer_id = any(${range.ids as string[]}::text[])`
    : range.toKey === null
      ? sql`l.customer_id >= ${range.fromKey}`
      : sql`l.customer_id >= ${range.fromKey} and l.customer_id < ${range.toKey}`;
  const r = await sql<{ customer_id: string; id: string | null }>`
    select d.customer_id, a.id
    from (
      select distinct l.customer_id from loans l
      where ${where} and l.status = 'disbursed'
        and exists (select 1 from installments i where i.loan_id = l.id and i.due_date <= ${date}::date and ${UNPAID})
    ) d
    left join customer_accounts a on a.customer_id = d.customer_id
    order by d.customer_id, a.id
  `.execute(db);
  const out = new Map<string, string[]>();
  for (const x of r.rows) {
    const list = out.get(x.customer_id) ?? [];
    if (x.id !== null) list.push(x.id);
    out.set(x.customer_id, list);
  }
  return out;
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
  const due = await sql<{ customer_id: string; loan_id: string; kind: 'loan' | 'recovery'; no: number; due_date: string; p: number; i: number; pen: number }>`
    select l.customer_id, l.id as loan_id, l.kind, i.no, i.due_date::text as due_date,
      i.principal_fen - i.paid_principal_fen as p, i.interest_fen - i.paid_interest_fen as i, i.penalty_fen - i.paid_penalty_fen as pen
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
    e.loan.installments.push({ no: r.no, dueDate: r.due_date as BusinessDate, principal: r.p as Fen, interest: r.i as Fen, penalty: r.pen as Fen });
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

export interface InstallmentPayment {
  loanId: string;
  no: number;
  principal: number;
  interest: number;
  /** overdue penalty paid; none when absent */
  penalty?: number;
}

/** Every unpaid installment of the loans (any due date), oldest first, and each loan's kind. */
export async function unpaidInstallments(q: Q, loanIds: readonly string[]): Promise<Map<string, { kind: 'loan' | 'recovery'; unpaid: OutstandingInstallment[] }>> {
  const out = new Map<string, { kind: 'loan' | 'recovery'; unpaid: OutstandingInstallment[] }>();
  if (loanIds.length === 0) return out;
  const r = await sql<{ loan_id: string; kind: 'loan' | 'recovery'; no: number; due_date: string; p: number; i: number; pen: number }>`
    select l.id as loan_id, l.kind, i.no, i.due_date::text as due_date, i.principal_fen - i.paid_principal_fen as p, i.interest_fen - i.paid_interest_fen as i,
      i.penalty_fen - i.paid_penalty_fen as pen
    from loans l cross join lateral (select * from installments i where i.loan_id = l.id and ${UNPAID} offset 0) i
    where l.id = any(${[...loanIds]}::text[])
    order by l.id, i.due_date, i.no
  `.execute(q);
  for (const x of r.rows) {
    const e = out.get(x.loan_id) ?? { kind: x.kind, unpaid: [] };
    e.unpaid.push({ no: x.no, dueDate: x.due_date as BusinessDate, principal: x.p as Fen, interest: x.i as Fen, penalty: x.pen as Fen });
    out.set(x.loan_id, e);
  }
  return out;
}

/** Each loan's waterfall as its latest collection plan decided it (loans never planned are absent). */
export async function latestWaterfalls(q: Q, loanIds: readonly string[]): Promise<Map<string, string>> {
  if (loanIds.length === 0) return new Map();
  const r = await sql<{ loan_id: string; w: string | null }>`
    select u.id as loan_id, (select c.plan->>'waterfall' from collection_items c where c.loan_id = u.id order by c.business_date desc limit 1) as w
    from unnest(${[...loanIds]}::text[]) as u(id)
  `.execute(q);
  return new Map(r.rows.filter((x) => x.w !== null).map((x) => [x.loan_id, x.w!]));
}

/** What a loan still owes (all installments, due or not) less what collection orders in flight will take. */
export async function owedOnLoan(q: Q, loanId: string): Promise<number> {
  const r = await sql<{ owed: number }>`
    select (coalesce((select sum((principal_fen - paid_principal_fen) + (interest_fen - paid_interest_fen) + (penalty_fen - paid_penalty_fen)) from installments where loan_id = ${loanId}), 0)
      - coalesce((select sum(amount_fen) from orders where loan_id = ${loanId} and (purpose like 'collect.%' or purpose like 'repay.%')
                  and status in ('created', 'submitted', 'unknown')), 0))::int8 as owed
  `.execute(q);
  return r.rows[0]?.owed ?? 0;
}

/** Payments onto installments, one statement (one installment paid twice in a batch is summed first). */
export async function applyInstallmentPayments(trx: Transaction<Database>, payments: readonly InstallmentPayment[]): Promise<void> {
  if (payments.length === 0) return;
  await sql`
    update installments i set paid_principal_fen = i.paid_principal_fen + u.p, paid_interest_fen = i.paid_interest_fen + u.i, paid_penalty_fen = i.paid_penalty_fen + u.pen
    from (
      select l, n, sum(p)::int8 as p, sum(i)::int8 as i, sum(pen)::int8 as pen
      from unnest(${payments.map((p) => p.loanId)}::text[], ${payments.map((p) => p.no)}::int[], ${payments.map((p) => p.principal)}::int8[], ${payments.map((p) => p.interest)}::int8[],
        ${payments.map((p) => p.penalty ?? 0)}::int8[]) as x(l, n, p, i, pen)
      group by l, n
    ) u
    where i.loan_id = u.l and i.no = u.n
  `.execute(trx);
}

export interface NewNotification {
  customerId: string;
  orderId: number | null;
  kind: string;
  body: string;
  createdAt: Date;
}

/** The notification outbox, one statement; one message per (order, kind). */
export async function insertNotifications(trx: Q, notes: readonly NewNotification[]): Promise<void> {
  if (notes.length === 0) return;
  await sql`
    insert into notifications (customer_id, kind, order_id, body, created_at)
    select c, k, o, b, t from unnest(${notes.map((n) => n.customerId)}::text[], ${notes.map((n) => n.kind)}::text[], ${notes.map((n) => n.orderId)}::int8[],
      ${notes.map((n) => n.body)}::text[], ${notes.map((n) => n.createdAt)}::timestamptz[]) as u(c, k, o, b, t)
    on conflict (order_id, kind) where order_id is not null do nothing
  `.execute(trx);
}

/** The bank cards money was taken from: what an SMS names them by. */
export async function paymentInstrumentsOf(q: Q, cardIds: readonly string[]): Promise<Map<string, { last4: string; bank: string }>> {
  if (cardIds.length === 0) return new Map();
  const r = await sql<{ id: string; last4: string; bank: string }>`select id, last4, bank from customer_bank_cards where id = any(${[...new Set(cardIds)]}::text[])`.execute(q);
  return new Map(r.rows.map((x) => [x.id, { last4: x.last4, bank: x.bank }]));
}

/** Each borrower's open hold and what it should cover, one statement. */
export async function holdStates(trx: Q, customerIds: readonly string[], asOf: string | null): Promise<HoldState[]> {
  if (customerIds.length === 0) return [];
  const r = await sql<{ customer_id: string; hold_id: number | null; hold_amount: number | null; as_of: string | null; unpaid: number }>`
    select c.id as customer_id, h.id as hold_id, h.amount_fen as hold_amount, h.as_of_date::text as as_of,
      coalesce((select sum((i.principal_fen - i.paid_principal_fen) + (i.interest_fen - i.paid_interest_fen) + (i.penalty_fen - i.paid_penalty_fen))
                from loans l join installments i on i.loan_id = l.id
                where l.customer_id = c.id and l.status = 'disbursed'
                  and i.due_date <= greatest(h.as_of_date, ${asOf}::date)), 0)::int8 as unpaid
    from customers c left join holds h on h.customer_id = c.id and h.status = 'open' and h.customer_id = any(${[...customerIds]}::text[])
    where c.id = any(${[...customerIds]}::text[])
  `.execute(trx);
  return r.rows.map((x) => ({
    customerId: x.customer_id,
    hold: x.hold_id === null ? null : { id: Number(x.hold_id), amount: x.hold_amount! as Fen, asOf: x.as_of! },
    unpaid: x.unpaid as Fen,
  }));
}

/** Opens, clears and changes holds, one statement per kind of change; returns the opened ones. */
export async function writeHolds(
  trx: Q,
  w: { open: { customerId: string; amount: number }[]; clear: number[]; change: { holdId: number; amount: number; asOf: string }[] },
  asOf: string | null,
  now: Date,
  clearedBy: string,
): Promise<{ id: number; customerId: string; amount: Fen }[]> {
  let opened: { id: number; customerId: string; amount: Fen }[] = [];
  if (w.open.length > 0) {
    const ins = await sql<{ id: number; customer_id: string; amount_fen: number }>`
      insert into holds (customer_id, as_of_date, amount_fen, status, opened_at)
      select c, ${asOf}::date, a, 'open', ${now} from unnest(${w.open.map((o) => o.customerId)}::text[], ${w.open.map((o) => o.amount)}::int8[]) as u(c, a)
      order by c
      returning id, customer_id, amount_fen
    `.execute(trx);
    opened = ins.rows.map((h) => ({ id: Number(h.id), customerId: h.customer_id, amount: h.amount_fen as Fen }));
  }
  if (w.clear.length > 0) {
    await sql`update holds set status = 'cleared', amount_fen = 0, cleared_at = ${now}, cleared_by = ${clearedBy} where id = any(${w.clear}::int8[])`.execute(trx);
  }
  if (w.change.length > 0) {
    await sql`
      update holds h set amount_fen = u.a, as_of_date = u.d
      from unnest(${w.change.map((c) => c.holdId)}::int8[], ${w.change.map((c) => c.amount)}::int8[], ${w.change.map((c) => c.asOf)}::date[]) as u(i, a, d)
      where h.id = u.i
    `.execute(trx);
  }
  return opened;
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

/** Open holds' borrowers, for the hold monitor, a page at a time (or those of `among` that have one). */
export async function openHoldCustomers(db: Q, after: string, limit: number, among?: readonly string[]): Promise<string[]> {
  let q = db.selectFrom('holds').select('customer_id').where('status', '=', 'open').where('customer_id', '>', after);
  if (among) q = q.where('customer_id', '=', sql<string>`any(${[...among]}::text[])`);
  const r = await q.orderBy('customer_id').limit(limit).execute();
  return r.map((x) => x.customer_id);
}
