// The reference: the same escalation rules run through json-rules-engine (the
// kernel's adapter). Used by the differential test and the rule tests.
import { runPlain } from '../rules/engine.ts';
import { ESCALATION_FACTS, type EscalationFacts } from './facts.ts';
import { combineEscalation, type EscalationDecision, type EscalationRules } from './rules.ts';

export function evaluateEscalationWithEngine(rules: EscalationRules, facts: EscalationFacts): Promise<EscalationDecision> {
  return runPlain(ESCALATION_FACTS, 'escalation', rules.rules, facts, combineEscalation);
}
