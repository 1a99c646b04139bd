// The cron schedule of `lendpay worker`. A tick only enqueues: it claims the row
// cron_ticks(job, slot) and sends the job (with the same singleton key) in one
// transaction, so three workers firing the same tick start the batch once, and a
// crash between claim and send cannot lose the tick. The slot — the business date,
// hour or minute of the *scheduled* time — travels in the job, so a late or retried
// run processes the right day.
import fs from 'node:fs';
import { hostname } from 'node:os';
import { Ajv } from 'ajv';
import cron, { type ScheduledTask } from 'node-cron';
import { CompiledQuery } from 'kysely';
import { DateTime } from 'luxon';
import type { PgBoss } from 'pg-boss';
import type { Db } from '../db/connection.ts';
import { claimCronTick } from '../db/api.repository.ts';
import { LendpayError } from '../src/errors.ts';
import type { Transaction } from 'kysely';
import type { Database } from '../db/types.ts';

export const SLOTS = ['day', 'hour', 'minute', 'second'] as const;
export type Slot = (typeof SLOTS)[number];

export interface ScheduledJob {
  name: string;
  cron: string;
  queue: string;
  slot: Slot;
  catchUp: boolean;
  enabled: boolean;
}

export interface Schedule {
  timezone: string;
  jobs: ScheduledJob[];
}

/** What a scheduled job receives: which tick it is for. */
export interface TickPayload {
  job: string;
  slot: string;
  /** the business date (in the schedule's zone) of the scheduled time */
  businessDate: string;
  scheduledAt: string;
}

const schema = {
  type: 'object',
  required: ['timezone', 'jobs'],
  additionalProperties: false,
  properties: {
    $comment: { type: 'string' },
    timezone: { type: 'string', minLength: 1 },
    jobs: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['cron', 'queue', 'slot'],
        additionalProperties: false,
        properties: {
          cron: { type: 'string', minLength: 1 },
          queue: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
          slot: { enum: [...SLOTS] },
          catchUp: { type: 'boolean' },
          enabled: { type: 'boolean' },
          note: { type: 'string' },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(schema);

/** Parses and checks a schedule document; errors name the file and JSON path. */
export function parseSchedule(doc: unknown, label: string): Schedule {
  if (!validate(doc)) {
    const details = (validate.errors ?? []).map((e) => `${label}${e.instancePath ? ` at ${e.instancePath}` : ''}: ${e.message ?? 'invalid'}`);
    throw new LendpayError('INVALID_CONFIG', `invalid schedule: ${details[0] ?? label}`, { details });
  }
  const d = doc as { timezone: string; jobs: Record<string, { cron: string; queue: string; slot: Slot; catchUp?: boolean; enabled?: boolean }> };
  if (!DateTime.now().setZone(d.timezone).isValid) throw new LendpayError('INVALID_CONFIG', `${label} at /timezone: unknown zone "${d.timezone}"`);
  const jobs = Object.entries(d.jobs).map(([name, j]) => {
    if (!cron.validate(j.cron)) throw new LendpayError('INVALID_CONFIG', `${label} at /jobs/${name}/cron: not a cron expression: "${j.cron}"`);
    return { name, cron: j.cron, queue: j.queue, slot: j.slot, catchUp: j.catchUp ?? false, enabled: j.enabled ?? true };
  });
  return { timezone: d.timezone, jobs };
}

export function loadSchedule(file: string): Schedule {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LendpayError('INVALID_CONFIG', `${file}: cannot read the schedule (${(err as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LendpayError('INVALID_CONFIG', `${file}: not JSON (${(err as Error).message})`);
  }
  return parseSchedule(doc, file);
}

/** The slot of a scheduled instant: pure, so every worker derives the same key. */
export function slotOf(slot: Slot, at: Date, zone: string): { slot: string; businessDate: string } {
  const t = DateTime.fromJSDate(at, { zone });
  const businessDate = t.toFormat('yyyy-MM-dd');
  const key = slot === 'day' ? businessDate
    : slot === 'hour' ? t.toFormat("yyyy-MM-dd'T'HH")
    : slot === 'minute' ? t.toFormat("yyyy-MM-dd'T'HH:mm")
    : t.toFormat("yyyy-MM-dd'T'HH:mm:ss");
  return { slot: key, businessDate };
}

export function singletonKeyOf(job: string, slot: string): string {
  return `${job}:${slot}`;
}

/** pg-boss runs its insert on our transaction, so the claim and the job commit together. */
function bossDb(trx: Transaction<Database>) {
  return {
    executeSql: async (text: string, values?: unknown[]) => {
      const r = await trx.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: r.rows as any[] };
    },
  };
}

export interface TickDeps {
  db: Db;
  boss: PgBoss;
  /** who claims: shown in cron_ticks */
  workerId: string;
}

/** One tick of one job: enqueues its job once per slot across all workers; true when this call did. */
export async function tick(deps: TickDeps, schedule: Schedule, job: ScheduledJob, scheduledAt: Date): Promise<boolean> {
  const { slot, businessDate } = slotOf(job.slot, scheduledAt, schedule.timezone);
  return deps.db.transaction().execute(async (trx) => {
    if (!(await claimCronTick(trx, job.name, slot, deps.workerId))) return false;
    const data: TickPayload = { job: job.name, slot, businessDate, scheduledAt: scheduledAt.toISOString() };
    await deps.boss.send(job.queue, data as unknown as object, { singletonKey: singletonKeyOf(job.name, slot), db: bossDb(trx) });
    return true;
  });
}

/** The latest scheduled time of `job` at or before `now`, within `lookbackHours`. Minute resolution. */
export function lastScheduledAt(job: ScheduledJob, zone: string, now: Date, lookbackHours = 48): Date | null {
  const task = cron.createTask(job.cron, () => {}, { timezone: zone });
  try {
    const start = Math.floor(now.getTime() / 60_000) * 60_000;
    for (let t = start; t > start - lookbackHours * 3_600_000; t -= 60_000) {
      if (task.match(new Date(t))) return new Date(t);
    }
    return null;
  } finally {
    void task.destroy();
  }
}

export interface RunningSchedule {
  /** jobs that were enabled and whose queue exists */
  active: ScheduledJob[];
  stop(): Promise<void>;
}

/**
 * Starts one node-cron task per enabled job whose queue exists, after catching up:
 * a job marked catchUp whose last scheduled tick nobody claimed (no worker was
 * running then) is enqueued now, for the slot it missed.
 */
export async function startSchedule(
  deps: TickDeps & { clock: { now(): Date }; log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void } },
  schedule: Schedule,
): Promise<RunningSchedule> {
  const active: ScheduledJob[] = [];
  for (const job of schedule.jobs) {
    if (!job.enabled) {
      deps.log.info({ job: job.name, queue: job.queue }, 'schedule: disabled');
      continue;
    }
    if (!(await deps.boss.getQueue(job.queue))) {
      deps.log.warn({ job: job.name, queue: job.queue }, 'schedule: no such queue, job skipped');
      continue;
    }
    active.push(job);
  }
  for (const job of active.filter((j) => j.catchUp)) {
    const last = lastScheduledAt(job, schedule.timezone, deps.clock.now());
    if (last && (await tick(deps, schedule, job, last))) {
      deps.log.info({ job: job.name, scheduledAt: last.toISOString() }, 'schedule: caught up a missed tick');
    }
  }
  const tasks: ScheduledTask[] = active.map((job) =>
    cron.schedule(
      job.cron,
      async (ctx) => {
        try {
          // ctx.date is the scheduled time, not when the timer happened to fire.
          const enqueued = await tick(deps, schedule, job, ctx.date);
          if (enqueued) deps.log.info({ job: job.name, scheduledAt: ctx.date.toISOString() }, 'schedule: enqueued');
        } catch (err) {
          deps.log.error({ job: job.name, err }, 'schedule: tick failed');
        }
      },
      { timezone: schedule.timezone, name: `lendpay:${job.name}:${deps.workerId}`, noOverlap: true },
    ),
  );
  return {
    active,
    async stop() {
      for (const t of tasks) await t.destroy();
    },
  };
}

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}`;
}
