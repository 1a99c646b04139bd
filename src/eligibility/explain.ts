// Readable text for `lendpay explain <customer> --date D`.
import { formatYuanGrouped } from '../money.ts';
import type { EligibilityDecision } from './types.ts';
import { FACTS, isFactName } from './facts.ts';
import type { EligibilityEvent } from './rules.ts';
import type { ExplanationNode, RuleExplanation } from './engine.ts';

const mark = (r: boolean | null): string => (r === null ? '·' : r ? '✓' : '✗');

function isAmount(fact: string): boolean {
  return isFactName(fact) && FACTS[fact].kind === 'amount';
}

function showValue(fact: string, v: unknown): string {
  if (v === undefined) return '(not evaluated)';
  if (isAmount(fact)) {
    if (typeof v === 'number') return formatYuanGrouped(v);
    if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'number' ? formatYuanGrouped(x) : JSON.stringify(x))).join(', ')}]`;
  }
  return JSON.stringify(v);
}

function describeEvent(e: EligibilityEvent): string {
  switch (e.type) {
    case 'door': {
      const f = e.limit;
      const of = f.months === null ? f.fact : `${f.fact}(months=${f.months})`;
      const ratio = f.numerator === f.denominator ? '' : ` × ${f.numerator}/${f.denominator}`;
      const round = f.roundTo === 1 ? '' : `, rounded down to ${formatYuanGrouped(f.roundTo)}`;
      return `door ${e.door}, limit = ${of}${ratio}${round}`;
    }
    case 'reason':
      return `reason ${e.code}`;
    case 'cap':
      return `cap at ${formatYuanGrouped(e.max)}`;
  }
}

function node(n: ExplanationNode, indent: string, out: string[]): void {
  if (n.kind === 'fact') {
    const params = n.params && Object.keys(n.params).length > 0
      ? `(${Object.entries(n.params).map(([k, v]) => `${k}=${String(v)}`).join(', ')})`
      : '';
    out.push(`${indent}${mark(n.result)} ${n.fact}${params} ${n.operator} ${showValue(n.fact, n.value)}   [actual: ${showValue(n.fact, n.factValue)}]`);
    return;
  }
  out.push(`${indent}${mark(n.result)} ${n.kind}${n.kind === 'all' && n.children.length === 0 ? ' (always)' : ''}`);
  for (const c of n.children) node(c, `${indent}    `, out);
}

export function formatExplanation(decision: EligibilityDecision, explanation: readonly RuleExplanation[], ruleSetHash: string): string {
  const out: string[] = [];
  const f = decision.facts;
  const date = typeof f['date'] === 'string' ? ` on ${f['date']}` : '';
  out.push(`Customer ${decision.customerId}${date}`);
  out.push(
    decision.eligible
      ? `  ELIGIBLE via ${decision.door}, limit ${formatYuanGrouped(decision.limit)} CNY`
      : `  NOT ELIGIBLE: ${decision.reasons.length > 0 ? decision.reasons.join(', ') : '(no reason rule fired)'}`,
  );
  out.push(`  rule set ${ruleSetHash}`);
  out.push('', 'Facts:');
  for (const [k, v] of Object.entries(f)) {
    if (k === 'monthlyFlow' && typeof v === 'object' && v !== null) {
      out.push(`  ${k}:`);
      for (const [m, x] of Object.entries(v as Record<string, number>)) out.push(`    ${m}  ${formatYuanGrouped(x).padStart(18)}`);
    } else out.push(`  ${k.padEnd(20)} ${showValue(k, v)}`);
  }
  out.push('', 'Rules (in evaluation order):');
  for (const r of explanation) {
    out.push(`  ${mark(r.result)} ${r.name}  -> ${describeEvent(r.event)}${r.result ? '   FIRED' : ''}`);
    node(r.conditions, '      ', out);
  }
  out.push('', `Fired: ${decision.fired.length > 0 ? decision.fired.join(', ') : '(none)'}`);
  return out.join('\n');
}
