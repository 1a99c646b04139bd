// `lendpay explain`: a stored decision re-run through json-rules-engine against the
// rule set that made it (by hash), with each condition's result.
import type { Db } from '../../db/connection.ts';
import { getDecision } from '../../db/eligibility.repository.ts';
import { storedEligibilityRules } from '../../jobs/evaluators.ts';
import { evaluateWithEngine } from '../eligibility/engine.ts';
import { formatExplanation } from '../eligibility/explain.ts';
import type { DeclaredValue, EligibilityInput } from '../eligibility/types.ts';
import type { CustomerId, Segment } from '../customers/types.ts';
import type { BusinessDate, Month } from '../dates.ts';
import { toFen, formatYuan, type Fen } from '../money.ts';
import { LendpayError } from '../errors.ts';
import { FACTS } from '../eligibility/facts.ts';

const isAmountFact = (name: unknown): boolean => typeof name === 'string' && Object.hasOwn(FACTS, name) && (FACTS as Record<string, { kind: string }>)[name]!.kind === 'amount';
const yuanOf = (v: unknown): unknown => (typeof v === 'number' && Number.isSafeInteger(v) ? formatYuan(v) : v);

/** The stored facts (amounts in fen) as scripts get amounts: yuan strings, by the fact catalog's kinds. */
export function factsJson(facts: Record<string, unknown>): Record<string, unknown> {
  const res: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(facts)) {
    if (k === 'monthlyFlow' && v && typeof v === 'object') res[k] = Object.fromEntries(Object.entries(v).map(([m, f]) => [m, yuanOf(f)]));
    else res[k] = isAmountFact(k) ? yuanOf(v) : v;
  }
  return res;
}

/** The explanation tree with each amount condition's value and the fact's value in yuan. */
function explanationJson(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(explanationJson);
  if (node === null || typeof node !== 'object') return node;
  const n = node as Record<string, unknown>;
  const res: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n)) res[k] = explanationJson(v);
  if (n['kind'] === 'fact' && isAmountFact(n['fact'])) {
    res['value'] = yuanOf(n['value']);
    res['factValue'] = yuanOf(n['factValue']);
  }
  return res;
}

/** The decision row keeps the facts the rules saw; the input is rebuilt from them. */
export function inputFromFacts(customerId: string, facts: Record<string, unknown>): EligibilityInput {
  const flows = new Map<Month, Fen>();
  for (const [m, v] of Object.entries((facts['monthlyFlow'] ?? {}) as Record<string, unknown>)) flows.set(m as Month, toFen(v, `facts.monthlyFlow.${m}`));
  // Declared facts: the value the batch saw and its asOf; null when it had none.
  const declared = new Map<string, DeclaredValue>();
  for (const [k, v] of Object.entries((facts['declared'] ?? {}) as Record<string, DeclaredValue | null>)) if (v !== null) declared.set(k, v);
  return {
    ...(facts['declared'] === undefined ? {} : { declared }),
    customerId: customerId as CustomerId,
    segment: facts['segment'] as Segment,
    realNameVerified: facts['realNameVerified'] === true,
    whitelist: facts['whitelistStatus'] === 'none'
      ? null
      : { limit: toFen(facts['whitelistLimit'], 'facts.whitelistLimit'), expiresOn: (facts['whitelistExpiresOn'] ?? null) as BusinessDate | null },
    monthlyFlow: flows,
  };
}

export async function explainStoredDecision(db: Db, customerId: string, date: BusinessDate): Promise<{ text: string; json: unknown }> {
  const stored = await getDecision(db, customerId, date);
  if (!stored) throw new LendpayError('NOT_FOUND', `no decision for customer ${customerId} on ${date}`);
  const rules = await storedEligibilityRules(db, stored.ruleSetHash);
  const { decision, explanation } = await evaluateWithEngine(rules, inputFromFacts(customerId, stored.facts), date);
  const agrees = decision.eligible === stored.eligible && decision.door === stored.door && decision.limit === stored.limit
    && decision.reasons.join() === stored.reasons.join();
  let text = formatExplanation(decision, explanation, stored.ruleSetHash, rules);
  if (!agrees) text += `\n\nWARNING: the stored decision (${stored.eligible ? 'eligible' : 'ineligible'}, ${formatYuan(stored.limit)}) differs from this re-evaluation`;
  return {
    text,
    json: {
      customerId,
      businessDate: date,
      decision: { eligible: stored.eligible, door: stored.door, limit: formatYuan(stored.limit), reasons: stored.reasons, fired: stored.fired },
      ruleSetHash: stored.ruleSetHash,
      runId: stored.runId,
      decidedAt: stored.decidedAt,
      facts: factsJson(stored.facts),
      explanation: explanationJson(explanation),
      reEvaluationAgrees: agrees,
    },
  };
}
