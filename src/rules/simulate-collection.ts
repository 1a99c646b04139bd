// What a change to the collection rules would have done to the last post-settlement
// batch: each recorded plan's facts and accounts (as the planner saw them) run through
// the baseline and the candidate rules and the planner again. No writes.
import type { CollectionEvaluator } from '../collection/evaluate.ts';
import type { CollectionFacts } from '../collection/facts.ts';
import { planCollection, type BorrowerAccount } from '../collection/plan.ts';
import { formatYuanGrouped, type Fen } from '../money.ts';

export interface StepMix {
  [step: string]: { loans: number; collectedFen: number; heldFen: number };
}

export interface CollectionSimulation {
  items: number;
  skipped: number;
  before: StepMix;
  after: StepMix;
  changedStep: number;
  moves: Record<string, number>;
}

export interface RecordedPlan {
  due: Fen;
  facts: CollectionFacts;
  accounts: BorrowerAccount[] | null;
}

export async function simulateCollection(items: AsyncIterable<RecordedPlan[]>, before: CollectionEvaluator, after: CollectionEvaluator): Promise<CollectionSimulation> {
  const r: CollectionSimulation = { items: 0, skipped: 0, before: {}, after: {}, changedStep: 0, moves: {} };
  const add = (mix: StepMix, step: string, collected: number, held: number) => {
    const e = (mix[step] ??= { loans: 0, collectedFen: 0, heldFen: 0 });
    e.loans++;
    e.collectedFen += collected;
    e.heldFen += held;
  };
  for await (const page of items) {
    for (const it of page) {
      if (!it.accounts) {
        r.skipped++;
        continue;
      }
      r.items++;
      const a = planCollection({ due: it.due, accounts: it.accounts, steps: before(it.facts).steps });
      const b = planCollection({ due: it.due, accounts: it.accounts, steps: after(it.facts).steps });
      add(r.before, a.step, a.collected, a.held);
      add(r.after, b.step, b.collected, b.held);
      if (a.step !== b.step) {
        r.changedStep++;
        r.moves[`${a.step} → ${b.step}`] = (r.moves[`${a.step} → ${b.step}`] ?? 0) + 1;
      }
    }
  }
  return r;
}

export function formatCollectionSimulation(r: CollectionSimulation, source: string): string {
  const lines = [`collection rules, on the plans of ${source} (${r.items} loans${r.skipped ? `, ${r.skipped} recorded without accounts skipped` : ''}):`];
  const steps = [...new Set([...Object.keys(r.before), ...Object.keys(r.after)])].sort();
  lines.push(`  ${'step'.padEnd(14)} ${'loans before'.padStart(12)} ${'after'.padStart(8)}   ${'collected before'.padStart(20)} ${'after'.padStart(20)}   ${'held before'.padStart(18)} ${'after'.padStart(18)}`);
  for (const s of steps) {
    const a = r.before[s] ?? { loans: 0, collectedFen: 0, heldFen: 0 };
    const b = r.after[s] ?? { loans: 0, collectedFen: 0, heldFen: 0 };
    lines.push(`  ${s.padEnd(14)} ${String(a.loans).padStart(12)} ${String(b.loans).padStart(8)}   ${formatYuanGrouped(a.collectedFen).padStart(20)} ${formatYuanGrouped(b.collectedFen).padStart(20)}   ${formatYuanGrouped(a.heldFen).padStart(18)} ${formatYuanGrouped(b.heldFen).padStart(18)}`);
  }
  lines.push(`  ${r.changedStep} loans would settle by another step${r.changedStep ? `: ${Object.entries(r.moves).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`);
  return lines.join('\n');
}
