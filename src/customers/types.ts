import type { Fen } from '../money.ts';
import type { BusinessDate, Month } from '../dates.ts';

export const SEGMENTS = ['supply_chain', 'open_platform', 'external'] as const;
export type Segment = (typeof SEGMENTS)[number];
export type CustomerId = string & { readonly __brand: 'CustomerId' };

export interface Whitelist {
  readonly limit: Fen;
  readonly reason: string;
  /** valid through this day (inclusive); null: for ever */
  readonly expiresOn: BusinessDate | null;
}

export interface CustomerAccount {
  readonly id: string;
  readonly primary: boolean;
  readonly balance: Fen;
}

export interface CustomerBankCard {
  readonly id: string;
  readonly bank: string;
  readonly last4: string;
  readonly balance: Fen;
}

/** One customer as the import file describes it, checked. */
export interface CustomerRecord {
  readonly id: CustomerId;
  readonly name: string;
  readonly segment: Segment;
  readonly realNameVerified: boolean;
  readonly whitelist: Whitelist | null;
  readonly accounts: readonly CustomerAccount[];
  readonly bankCards: readonly CustomerBankCard[];
  readonly monthlyFlow: ReadonlyMap<Month, Fen>;
}
