import { formatYuanGrouped } from '../money.ts';
import type { NightlySummary } from '../../db/eligibility.repository.ts';

export function formatNightlySummary(summary: NightlySummary): string {
  const lines: string[] = [];
  const pct = (n: number) => (summary.decisions === 0 ? '0.0' : ((100 * n) / summary.decisions).toFixed(1));
  lines.push(`customers evaluated   ${summary.decisions}`);
  lines.push(`eligible              ${summary.eligible} (${pct(summary.eligible)}%)`);
  for (const [door, d] of Object.entries(summary.byDoor)) {
    lines.push(`  door ${door.padEnd(15)} ${String(d.customers).padStart(8)}   credit ${formatYuanGrouped(d.limitFen).padStart(20)} CNY`);
  }
  lines.push(`total credit          ${formatYuanGrouped(summary.totalLimitFen)} CNY`);
  lines.push(`ineligible            ${summary.decisions - summary.eligible} (${pct(summary.decisions - summary.eligible)}%)`);
  for (const [reason, n] of Object.entries(summary.ineligibleByReason)) {
    lines.push(`  ${reason.padEnd(26)} ${String(n).padStart(8)}`);
  }
  return lines.join('\n');
}
