// A seeded population written straight into the database, set-based: the same mix as
// src/demo/population.ts (segments, real-name, whitelists valid/for ever/expired, young
// shops, shops with gaps, 1% very large) but drawn by Postgres's random() after
// setseed(), so a million merchants take seconds instead of a JSONL round trip.
// Same seed, size and date: the same rows (one backend, parallel query off).
import { sql } from 'kysely';
import type { Db } from '../../db/connection.ts';

export interface GenerateOptions {
  size: number;
  /** any integer; mapped into setseed's [-1, 1] */
  seed: number;
  /** business date the population is "as of": flows cover the 8 months before its month */
  asOf: string;
}

export interface Generated {
  customers: number;
  flows: number;
  accounts: number;
}

const HISTORY_MONTHS = 8;

export async function generatePopulationSql(db: Db, opts: GenerateOptions): Promise<Generated> {
  const width = Math.max(7, String(opts.size).length);
  // setseed wants [-1, 1]; any integer seed lands somewhere distinct in it.
  const seedValue = ((opts.seed % 2_000_003) / 2_000_003);
  return db.connection().execute(async (c) => {
    await sql`set max_parallel_workers_per_gather = 0`.execute(c);
    await sql`select setseed(${seedValue})`.execute(c);
    await sql`drop table if exists bench_gen`.execute(c);
    // One row of dice per merchant, drawn once so customers and flows agree.
    await sql`
      create temp table bench_gen as
      select n, 'M' || lpad(n::text, ${width}, '0') as id,
        random() as r_seg, random() as r_real, random() as r_wl, random() as r_wl_kind, random() as r_wl_days,
        random() as r_limit, random() as r_huge, random() as r_b1, random() as r_b2, random() as r_shape, random() as r_young
      from generate_series(1, ${opts.size}::int) n order by n
    `.execute(c);
    const customers = await sql`
      insert into customers (id, name, segment, real_name_verified, whitelist_limit_fen, whitelist_reason, whitelist_expires_on)
      select id, 'bench merchant ' || n,
        case when r_seg < 0.45 then 'open_platform' when r_seg < 0.8 then 'supply_chain' else 'external' end,
        r_real < 0.92,
        case when r_wl < 0.08 then (round((50000 + r_limit ^ 2 * 2950000) / 1000) * 1000 * 100)::bigint end,
        case when r_wl < 0.08 then (array['strategic partner','bank referral','group customer','pilot programme','offline distributor'])[1 + floor(r_limit * 5)::int] end,
        case when r_wl >= 0.08 or r_wl_kind < 1.0 / 3 then null
             when r_wl_kind < 0.5 then ${opts.asOf}::date - (1 + floor(r_wl_days * 700))::int
             else ${opts.asOf}::date + floor(r_wl_days * 1000)::int end
      from bench_gen order by n
    `.execute(c);
    // base: ~60,000 CNY a month log-normal, 1% very large; ~5% young shops (3-5 months
    // of history); ~15% with empty months, half of them a zero row, half no row at all.
    const flows = await sql`
      insert into customer_monthly_flows (customer_id, month, flow_fen)
      select id, month, case when gap_month then 0 else round(least(case when huge then 1e12 else 2000000 end, greatest(1000,
               base * exp(0.25 * sqrt(-2 * ln(1 - r1)) * cos(2 * pi() * r2)))) * 100)::bigint end
      from (
        select g.id, g.n, m,
          (date_trunc('month', ${opts.asOf}::date) - make_interval(months => ${HISTORY_MONTHS} - m))::date as month,
          g.r_huge < 0.01 as huge,
          case when g.r_huge < 0.01 then 3000000 + g.r_b1 * 27000000
               else exp(ln(60000) + 1.4 * sqrt(-2 * ln(1 - g.r_b1)) * cos(2 * pi() * g.r_b2)) end as base,
          g.r_shape >= 0.05 and g.r_shape < 0.2 and random() < 0.25 as gap_month,
          random() < 0.5 as gap_zero,
          random() as r1, random() as r2,
          case when g.r_shape < 0.05 then ${HISTORY_MONTHS} - (3 + floor(g.r_young * 3)::int) else 0 end as history_from
        from bench_gen g cross join generate_series(0, ${HISTORY_MONTHS - 1}) m
      ) x
      where m >= history_from and (not gap_month or gap_zero)
      order by n, m
    `.execute(c);
    const accounts = await sql`
      insert into customer_accounts (id, customer_id, is_primary, imported_balance_fen)
      select id || '-A1', id, true, case when r_b2 < 0.1 then 0 else floor(r_b1 * 500000000)::bigint end from bench_gen order by n
    `.execute(c);
    await sql`drop table bench_gen`.execute(c);
    await sql`reset max_parallel_workers_per_gather`.execute(c);
    await sql`vacuum analyze customers, customer_monthly_flows, customer_accounts`.execute(c).catch(async () => {
      await sql`analyze customers, customer_monthly_flows, customer_accounts`.execute(c);
    });
    return {
      customers: Number(customers.numAffectedRows ?? 0),
      flows: Number(flows.numAffectedRows ?? 0),
      accounts: Number(accounts.numAffectedRows ?? 0),
    };
  });
}
