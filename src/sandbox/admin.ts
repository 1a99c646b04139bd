// The sandbox's admin side as lendpay's tools use it: opening the lender's accounts
// and the imported customers' accounts and cards (the bank side of what was
// imported), settlements, faults. A real platform has no such API; merchants open
// accounts themselves. Every admin call carries the sandbox's admin token.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/connection.ts';
import { LendpayError } from '../errors.ts';

export const LENDER_CUSTOMER = 'LENDER';
/** What the sandbox's lender funding card holds when first opened: 10 billion CNY. */
export const LENDER_CARD_OPENING_FEN = 1_000_000_000_000;

/** Where a sandbox's admin routes are and the token they take (a SandboxServer is one). */
export interface SandboxAdmin {
  readonly url: string;
  readonly adminToken: string;
}

/** A random admin token (an in-process sandbox, a test harness): 32 bytes, hex. */
export function randomAdminToken(): string {
  return randomBytes(32).toString('hex');
}

function adminHeaders(sandbox: SandboxAdmin): Record<string, string> {
  return { authorization: `Bearer ${sandbox.adminToken}` };
}

export async function adminPost(sandbox: SandboxAdmin, route: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${sandbox.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...adminHeaders(sandbox) }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new LendpayError('CHANNEL_REJECTED', `sandbox ${route}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

export async function adminGet(sandbox: SandboxAdmin, route: string): Promise<any> {
  const res = await fetch(`${sandbox.url}${route}`, { headers: adminHeaders(sandbox) });
  const text = await res.text();
  if (!res.ok) throw new LendpayError('CHANNEL_REJECTED', `sandbox ${route}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

/** Opens the lender's balance account (at 0) and funding card, keeping them if they exist. */
export async function openLenderAccounts(sandbox: SandboxAdmin, lender: { accountId: string; cardId: string }): Promise<void> {
  await adminPost(sandbox, '/admin/accounts', {
    mode: 'open',
    accounts: [{ id: lender.accountId, customerId: LENDER_CUSTOMER, balance: 0 }],
    cards: [{ id: lender.cardId, customerId: LENDER_CUSTOMER, bank: 'CMB', last4: '0001', balance: LENDER_CARD_OPENING_FEN }],
  });
}

/**
 * Opens every imported account and card on the sandbox with its imported balance,
 * a page at a time. Accounts already open keep the platform's state.
 */
export async function openImportedOnSandbox(db: Db, sandbox: SandboxAdmin, page = 5000, onPage?: (opened: { accounts: number; cards: number }) => void): Promise<{ accounts: number; cards: number }> {
  let accounts = 0, cards = 0;
  for (let after = ''; ; ) {
    const rows = await db.selectFrom('customer_accounts').select(['id', 'customer_id', 'imported_balance_fen']).where('id', '>', after).orderBy('id').limit(page).execute();
    if (rows.length === 0) break;
    await adminPost(sandbox, '/admin/accounts', { mode: 'open', accounts: rows.map((r) => ({ id: r.id, customerId: r.customer_id, balance: r.imported_balance_fen })) });
    accounts += rows.length;
    after = rows[rows.length - 1]!.id;
    onPage?.({ accounts, cards });
  }
  for (let after = ''; ; ) {
    const rows = await db.selectFrom('customer_bank_cards').select(['id', 'customer_id', 'bank', 'last4', 'imported_balance_fen']).where('id', '>', after).orderBy('id').limit(page).execute();
    if (rows.length === 0) break;
    await adminPost(sandbox, '/admin/accounts', { mode: 'open', cards: rows.map((r) => ({ id: r.id, customerId: r.customer_id, bank: r.bank, last4: r.last4, balance: r.imported_balance_fen })) });
    cards += rows.length;
    after = rows[rows.length - 1]!.id;
    onPage?.({ accounts, cards });
  }
  return { accounts, cards };
}
