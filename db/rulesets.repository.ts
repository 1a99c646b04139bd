// Rule sets by content hash: stored the first time a batch or decision uses one,
// so any decision can be explained later against exactly the rules that made it.
import type { Db } from './connection.ts';

export async function saveRuleSet(db: Db, hash: string, kind: string, content: unknown): Promise<void> {
  await db
    .insertInto('rule_sets')
    .values({ hash, kind, content: JSON.stringify(content) })
    .onConflict((oc) => oc.column('hash').doNothing())
    .execute();
}

export async function getRuleSetContent(db: Db, hash: string): Promise<unknown | null> {
  const row = await db.selectFrom('rule_sets').select('content').where('hash', '=', hash).executeTakeFirst();
  return row ? row.content : null;
}
