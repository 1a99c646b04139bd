// Starting a worker when its database (or the payment platform) comes and goes: a
// failover, a restarted connection pooler or server drops every connection of every
// worker at once, often while some of them are starting. A start that loses a
// connection is torn down and tried again, with backoff, until a bound; then it gives
// up with one line that says why. Anything else (bad config, broken rules with no
// active version) is not a lost connection and fails at once, as before.
import { LendpayError } from '../src/errors.ts';

/**
 * The parts of start-up that use the database, in order; each is named on stderr when it
 * loses it. (The HTTP server starts last and needs no database to listen.)
 */
export const START_STEPS = ['database', 'pg-boss', 'rules', 'queues', 'schedule'] as const;
export type StartStep = (typeof START_STEPS)[number];

const STEP_WORDS: Record<StartStep, string> = {
  database: 'opening the database',
  'pg-boss': 'starting pg-boss',
  rules: 'reading the rules',
  queues: 'registering the queues',
  schedule: 'starting the schedule',
};

// SQLSTATE classes and codes that say the connection, not the statement, failed:
// 08 connection exception, 57P01–57P03 admin/crash shutdown and "cannot connect now"
// (a server starting or stopping), 53300 too many connections.
const PG_CODES = /^(08...|57P0[1-3]|53300)$/;
const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
// (kysely's "connection has been discarded": a query on a connection that failed before, chaos seed 100002)
const MESSAGES = /Connection terminated|connection error and is not queryable|connection has been discarded|terminating connection|the database system is (starting up|shutting down|in recovery mode)|server closed the connection|Client was closed|Cannot use a pool after calling end|fetch failed|timeout exceeded when trying to connect/i;

/** True when `err` (or an error in its cause chain) is a lost or refused connection. */
export function isConnectionLoss(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { code?: unknown; message?: unknown; errors?: unknown };
    if (typeof x.code === 'string' && (PG_CODES.test(x.code) || NODE_CODES.has(x.code))) return true;
    if (typeof x.message === 'string' && MESSAGES.test(x.message)) return true;
    // AggregateError: every address refused (localhost resolving to ::1 and 127.0.0.1)
    if (Array.isArray(x.errors) && x.errors.some(isConnectionLoss)) return true;
  }
  return false;
}

export function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const m = err.message || (err as { code?: string }).code || err.name;
  // node's fetch says "fetch failed" and keeps the reason in its cause
  const cause = err.cause instanceof Error && err.message === 'fetch failed' ? `: ${messageOf(err.cause)}` : '';
  return `${m}${cause}`;
}

export interface StartRetry<T> {
  /** one try at the whole start; `at` names the step it is in */
  attempt(at: (step: StartStep) => void): Promise<T>;
  /** undoes a failed try (closes the pools, stops pg-boss) so the next starts clean */
  reset(): Promise<void>;
  /** give up this long after the first failure; 0: never retry */
  giveUpAfterMs: number;
  say(line: string): void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds. A lost connection is tried again after 0.25 s,
 * doubling to 5 s, said on stderr each time; past `giveUpAfterMs` from the first
 * failure it gives up with a DATABASE_UNAVAILABLE error that names the step and the
 * last error. Any other error is thrown at once.
 */
export async function startWithRetry<T>(r: StartRetry<T>): Promise<T> {
  const sleep = r.sleep ?? ((ms: number) => new Promise<void>((res) => setTimeout(res, ms)));
  let firstFailure: number | null = null;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    let step: StartStep = 'database';
    try {
      return await r.attempt((s) => { step = s; });
    } catch (err) {
      await r.reset().catch(() => {});
      if (!isConnectionLoss(err)) throw err;
      firstFailure ??= Date.now();
      const waited = Date.now() - firstFailure;
      if (waited + delay > r.giveUpAfterMs) {
        throw new LendpayError('DATABASE_UNAVAILABLE',
          `worker not started: the database connection failed while ${STEP_WORDS[step]} and did not come back in ${Math.round(r.giveUpAfterMs / 1000)} s (${attempt} tries; last error: ${messageOf(err)})`,
          { cause: err });
      }
      r.say(`worker start: the database connection failed while ${STEP_WORDS[step]} (${messageOf(err)}); trying again in ${(delay / 1000).toFixed(2)} s (try ${attempt + 1}; giving up ${Math.round(r.giveUpAfterMs / 1000)} s after the first failure)`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}
