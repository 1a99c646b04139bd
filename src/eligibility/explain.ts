// Readable text for `lendpay explain <customer> --date D`.
import { formatYuanGrouped } from '../money.ts';
import { showValue } from '../rules/kernel.ts';
import type { EligibilityDecision } from './types.ts';
import type { EligibilityEvent, EligibilityRules, LimitScale } from './rules.ts';
import type { ExplanationNode, RuleExplanation } from './engine.ts';
import { feedValue, type DeclaredFact } from './declared.ts';

const mark = (r: boolean | null): string => (r === null ? '·' : r ? '✓' : '✗');

function scaleText(rules: EligibilityRules, s: LimitScale): string {
  const spec = rules.table[s.fact];
  const of = s.months === null ? s.fact : `${s.fact}(months=${s.months})`;
  const bands = s.bands.map((b) => `${b.below === null ? 'else' : `below ${showValue(spec, b.below)}`}: ${b.numerator}/${b.denominator}`).join(', ');
  return ` × by ${of} (${bands})`;
}

function describeEvent(rules: EligibilityRules, e: EligibilityEvent): string {
  switch (e.type) {
    case 'door': {
      const f = e.limit;
      const of = f.months === null ? f.fact : `${f.fact}(months=${f.months})`;
      const ratio = f.numerator === f.denominator ? '' : ` × ${f.numerator}/${f.denominator}`;
      const scale = f.scale === null ? '' : scaleText(rules, f.scale);
      const round = f.roundTo === 1 ? '' : `, rounded down to ${formatYuanGrouped(f.roundTo)}`;
      return `door ${e.door}, limit = ${of}${ratio}${scale}${round}`;
    }
    case 'reason':
      return `reason ${e.code}`;
    case 'cap':
      return `cap at ${formatYuanGrouped(e.max)}`;
  }
}

function node(rules: EligibilityRules, n: ExplanationNode, indent: string, out: string[]): void {
  if (n.kind === 'fact') {
    const spec = rules.table[n.fact];
    const params = n.params && Object.keys(n.params).length > 0
      ? `(${Object.entries(n.params).map(([k, v]) => `${k}=${String(v)}`).join(', ')})`
      : '';
    out.push(`${indent}${mark(n.result)} ${n.fact}${params} ${n.operator} ${showValue(spec, n.value)}   [actual: ${showValue(spec, n.factValue)}]`);
    return;
  }
  out.push(`${indent}${mark(n.result)} ${n.kind}${n.kind === 'all' && n.children.length === 0 ? ' (always)' : ''}`);
  for (const c of n.children) node(rules, c, `${indent}    `, out);
}

function missingText(f: DeclaredFact): string {
  return 'ineligible' in f.missing ? `missing: ineligible, ${f.missing.ineligible}` : `missing: the default ${JSON.stringify(f.missing.raw)} was used`;
}

/** The decision, the facts it saw (declared ones with the date their value was as of) and each rule's conditions. */
export function formatExplanation(decision: EligibilityDecision, explanation: readonly RuleExplanation[], ruleSetHash: string, rules: EligibilityRules): string {
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
    } else if (k === 'declared' && typeof v === 'object' && v !== null) {
      out.push('  declared (rules/facts.json), the latest value as of the date:');
      for (const [name, seen] of Object.entries(v as Record<string, { value: unknown; asOf: string } | null>)) {
        const d = rules.declared.find((x) => x.name === name);
        const broken = seen !== null && d !== undefined ? feedValue(d, seen.value) : null;
        out.push(seen === null
          ? `    ${name.padEnd(20)} no value   (${d ? missingText(d) : 'not declared'})`
          : `    ${name.padEnd(20)} ${JSON.stringify(seen.value)}   (as of ${seen.asOf}${broken !== null && 'error' in broken && d ? `; breaks the declaration, so ${missingText(d)}` : ''})`);
      }
    } else out.push(`  ${k.padEnd(20)} ${showValue(rules.table[k], v)}`);
  }
  if (explanation.length === 0 && !decision.eligible && decision.fired.length === 0) {
    out.push('', `Rules: not evaluated: a declared fact the rules use has no value and its declaration makes the customer ineligible (${decision.reasons.join(', ')})`);
    return out.join('\n');
  }
  out.push('', 'Rules (in evaluation order: priority, then file order):');
  for (const r of explanation) {
    out.push(`  ${mark(r.result)} ${r.name}  -> ${describeEvent(rules, r.event)}${r.result ? '   FIRED' : ''}`);
    node(rules, r.conditions, '      ', out);
  }
  out.push('', `Fired: ${decision.fired.length > 0 ? decision.fired.join(', ') : '(none)'}`);
  return out.join('\n');
}
