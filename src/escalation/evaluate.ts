// The fast path: escalation rule conditions compiled once into closures by the rules
// kernel, evaluated synchronously. src/escalation/engine.ts (json-rules-engine) is its reference.
import { compilePlain } from '../rules/kernel.ts';
import { ESCALATION_FACTS, type EscalationFacts } from './facts.ts';
import { combineEscalation, type EscalationDecision, type EscalationRules } from './rules.ts';

export type EscalationEvaluator = (facts: EscalationFacts) => EscalationDecision;

/** Facts are built by the escalation service; a wrong one is a bug there and stops the evaluation. */
export function compileEscalationRules(rules: EscalationRules): EscalationEvaluator {
  return compilePlain(ESCALATION_FACTS, 'escalation', rules.rules, combineEscalation);
}
