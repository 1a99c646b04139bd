// Whether a loan application may go ahead: a pure decision from facts the
// repository loaded under the customer's row lock. Refusals are values.
import type { Fen } from '../money.ts';
import { formatYuan } from '../money.ts';

export const REFUSALS = [
  'CUSTOMER_NOT_FOUND',
  'NO_DECISION',
  'INELIGIBLE',
  'LIMIT_EXCEEDED',
  'DESTINATION_NOT_FOUND',
  'LEGACY_MODE_DISABLED',
  'REQUEST_ID_REUSED',
] as const;
export type RefusalCode = (typeof REFUSALS)[number];

export interface Refusal {
  ok: false;
  code: RefusalCode;
  message: string;
}

export interface ApplicationFacts {
  customerId: string;
  amount: Fen;
  decision: { businessDate: string; eligible: boolean; limit: Fen; reasons: readonly string[]; ruleSetHash: string } | null;
  /** principal of the customer's loans not yet repaid, failed loans excluded */
  outstanding: Fen;
}

export function checkApplication(f: ApplicationFacts): { ok: true; available: Fen } | Refusal {
  if (!f.decision) {
    return { ok: false, code: 'NO_DECISION', message: `customer ${f.customerId} has no eligibility decision yet (the nightly batch decides)` };
  }
  if (!f.decision.eligible) {
    return { ok: false, code: 'INELIGIBLE', message: `customer ${f.customerId} is not eligible as of ${f.decision.businessDate}: ${f.decision.reasons.join(', ')}` };
  }
  const available = (f.decision.limit - f.outstanding) as Fen;
  if (f.amount > available) {
    return {
      ok: false,
      code: 'LIMIT_EXCEEDED',
      message: `amount ${formatYuan(f.amount)} exceeds available credit ${formatYuan(Math.max(0, available))} (limit ${formatYuan(f.decision.limit)} − outstanding ${formatYuan(f.outstanding)})`,
    };
  }
  return { ok: true, available };
}

/**
 * Same request id, same request: what a replay is compared on. `asked` (the product,
 * term or schedule the request named) joins only when there is one, so a request
 * naming none hashes as it did before products existed.
 */
export function applicationHash(a: { customerId: string; amount: Fen; rail: string; destinationId: string | null; mode: string; asked?: string | null }): string {
  const base = [a.customerId, a.amount, a.rail, a.destinationId, a.mode];
  return JSON.stringify(a.asked ? [...base, a.asked] : base);
}
