// The migration list is static so that it works the same from source, under tsx and
// in any bundler: add each new numbered file here.
import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation.ts';

export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
};
