// The migration list is static so that it works the same from source, under tsx and
// in any bundler: add each new numbered file here.
import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation.ts';
import * as m0003 from './0003_loans_orders_ledger.ts';

export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0003_loans_orders_ledger': m0003,
};
