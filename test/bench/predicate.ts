// The in-memory limit: the eligibility arithmetic of rules/eligibility.json written by
// hand over columnar arrays, no objects per customer. Only the arithmetic is timed; the
// inputs are loaded first (paged, the same facts the nightly batch loads). With
// `declared`, the rules of test/bench/declared.ts: no consumption score → ineligible,
// refund rate (default 0) below 0.2 for the auto-tag door, its limit scaled by score band.
import { sql } from 'kysely';
import type { Db } from '../../db/connection.ts';

const SEG = { supply_chain: 0, open_platform: 1, external: 2 } as const;
const CAP = 500_000_000; // 5,000,000 CNY
const ROUND = 10_000; // 100 CNY
const MONTHS = 6;

export interface PredicateResult {
  items: number;
  seconds: number;
  eligible: number;
  totalLimit: number;
}

const latest = (fact: string, date: string) => sql`(select cf.value from customer_facts cf where cf.customer_id = c.id and cf.fact = ${fact} and cf.as_of <= ${date}::date order by cf.as_of desc limit 1)`;

export async function predicateLimit(db: Db, date: string, months: readonly string[], declared = false): Promise<PredicateResult> {
  const n = Number((await sql<{ n: number }>`select count(*)::int8 as n from customers`.execute(db)).rows[0]!.n);
  const seg = new Uint8Array(n), real = new Uint8Array(n), wl = new Int8Array(n); // wl: -1 none, 0 expired, 1 valid
  const wlLimit = new Float64Array(n), flows = new Float64Array(n * MONTHS);
  const score = new Int32Array(n), refund = new Int32Array(n); // score 0: none; refund in 10^-4
  const first = `${months[0]}-01`, last = `${months[months.length - 1]}-01`;
  let i = 0, after = '';
  for (;;) {
    const page = await sql<{ id: string; segment: keyof typeof SEG; real_name_verified: boolean; whitelist_limit_fen: number | null; whitelist_expires_on: string | null; flows: (number | null)[]; score: number | null; refund: string | null }>`
      select c.id, c.segment, c.real_name_verified, c.whitelist_limit_fen, c.whitelist_expires_on,
        array(select f.flow_fen from generate_series(${first}::date, ${last}::date, interval '1 month') m
              left join customer_monthly_flows f on f.customer_id = c.id and f.month = m order by m) as flows
        ${declared ? sql`, ${latest('consumptionScore', date)}::int4 as score, ${latest('refundRate', date)} #>> '{}' as refund` : sql``}
      from customers c where c.id > ${after} order by c.id limit 50000
    `.execute(db);
    for (const r of page.rows) {
      seg[i] = SEG[r.segment];
      real[i] = r.real_name_verified ? 1 : 0;
      wl[i] = r.whitelist_limit_fen === null ? -1 : r.whitelist_expires_on === null || r.whitelist_expires_on >= date ? 1 : 0;
      wlLimit[i] = r.whitelist_limit_fen ?? 0;
      for (let m = 0; m < MONTHS; m++) flows[i * MONTHS + m] = r.flows[m] ?? 0;
      score[i] = r.score ?? 0;
      refund[i] = r.refund ? Math.round(Number(r.refund) * 10_000) : 0;
      i++;
    }
    if (page.rows.length < 50000) break;
    after = page.rows[page.rows.length - 1]!.id;
  }

  const t0 = performance.now();
  let eligible = 0, totalLimit = 0;
  const reasons = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    if (declared && score[k] === 0) continue; // no score: ineligible, no rule evaluated
    let door = 0, limit = 0;
    const eco = seg[k] !== SEG.external;
    let total = 0, min = Infinity;
    for (let m = k * MONTHS; m < k * MONTHS + MONTHS; m++) {
      const f = flows[m]!;
      total += f;
      if (f < min) min = f;
    }
    if (real[k] && wl[k] === 1) { door = 1; limit = wlLimit[k]!; }
    if (real[k] && eco && min > 0 && (!declared || refund[k]! < 2000)) {
      // half the flow, times the score band: 1/2 below 600, 1/1 below 750, else 6/5
      const [bn, bd] = !declared ? [1, 1] : score[k]! < 600 ? [1, 2] : score[k]! < 750 ? [1, 1] : [6, 5];
      const l = Math.floor(Math.floor((total * bn) / (2 * bd)) / ROUND) * ROUND;
      if (door === 0 || l > limit) { door = 2; limit = l; }
    }
    if (door) {
      eligible++;
      totalLimit += Math.min(limit, CAP);
    } else {
      reasons[k] = (real[k] ? 0 : 1) | (!eco && wl[k] !== 1 ? 2 : 0) | (eco && min <= 0 && wl[k] !== 1 ? 4 : 0) | (wl[k] === 0 ? 8 : 0);
    }
  }
  return { items: n, seconds: (performance.now() - t0) / 1000, eligible, totalLimit };
}
