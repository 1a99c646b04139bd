// Batch chunks evaluate with the rule set their run pinned (by content hash), read
// from rule_sets, never from today's files on disk: a change never lands mid-batch.
import type { Db } from '../db/connection.ts';
import { getRuleSetContent } from '../db/rulesets.repository.ts';
import { parseEligibilityRules, type EligibilityRules } from '../src/eligibility/rules.ts';
import { parseFactsCatalog, type FactsCatalog } from '../src/eligibility/declared.ts';
import { RESERVED_FACT_NAMES } from '../src/eligibility/facts.ts';
import { compileEligibility, type EligibilityEvaluator } from '../src/eligibility/evaluate.ts';
import { LendpayError } from '../src/errors.ts';
import { parseCollectionRules, type CollectionRules } from '../src/collection/rules.ts';
import { parseNotificationTemplates, type NotificationTemplates } from '../src/notifications/templates.ts';

export const ELIGIBILITY_FILE = 'eligibility.json';

export const FACTS_FILE = 'facts.json';

/** The facts a stored rule set declares (none when it has no facts.json). */
export function storedFactsCatalog(content: Record<string, unknown>, hash: string): FactsCatalog | undefined {
  if (!(FACTS_FILE in content)) return undefined;
  const parsed = parseFactsCatalog(content[FACTS_FILE], `rule set ${hash.slice(0, 12)}/${FACTS_FILE}`, RESERVED_FACT_NAMES);
  if (!parsed.value) throw new LendpayError('RULES_INVALID', `stored rule set ${hash.slice(0, 12)} no longer parses`, { details: parsed.errors });
  return parsed.value;
}

export async function storedEligibilityRules(db: Db, hash: string): Promise<EligibilityRules> {
  const content = (await getRuleSetContent(db, hash)) as Record<string, unknown> | null;
  if (!content || !(ELIGIBILITY_FILE in content)) throw new LendpayError('NOT_FOUND', `rule set ${hash.slice(0, 12)} is not stored`);
  const parsed = parseEligibilityRules(content[ELIGIBILITY_FILE], `rule set ${hash.slice(0, 12)}/${ELIGIBILITY_FILE}`, storedFactsCatalog(content, hash));
  if (!parsed.value) throw new LendpayError('RULES_INVALID', `stored rule set ${hash.slice(0, 12)} no longer parses`, { details: parsed.errors });
  return parsed.value;
}

/** Compiles each pinned rule set once per process. */
export function makeEvaluatorCache(db: Db): (hash: string) => Promise<EligibilityEvaluator> {
  const cache = new Map<string, Promise<EligibilityEvaluator>>();
  return (hash) => {
    let hit = cache.get(hash);
    if (!hit) {
      hit = storedEligibilityRules(db, hash).then(compileEligibility);
      hit.catch(() => cache.delete(hash));
      cache.set(hash, hit);
    }
    return hit;
  };
}

/** The collection rules and notification templates of a pinned rule set. */
export async function storedCollectionRules(db: Db, hash: string): Promise<{ collection: CollectionRules; notifications: NotificationTemplates }> {
  const content = (await getRuleSetContent(db, hash)) as Record<string, unknown> | null;
  if (!content) throw new LendpayError('NOT_FOUND', `rule set ${hash.slice(0, 12)} is not stored`);
  const c = parseCollectionRules(content['collection.json'], `rule set ${hash.slice(0, 12)}/collection.json`);
  const n = parseNotificationTemplates(content['notifications.json'], `rule set ${hash.slice(0, 12)}/notifications.json`);
  if (!c.value || !n.value) throw new LendpayError('RULES_INVALID', `rule set ${hash.slice(0, 12)} has no valid collection rules or notification templates`, { details: [...c.errors, ...n.errors] });
  return { collection: c.value, notifications: n.value };
}
