// `lendpay worker`: pg-boss workers, the cron schedule and the HTTP server (API,
// dashboard, /metrics) in one process, until SIGTERM or SIGINT: then it stops taking
// work, finishes the jobs in hand and exits 0.
import type { Command } from 'commander';
import type { Context } from '../context.ts';
import { systemClock } from '../../dates.ts';
import { LendpayError } from '../../errors.ts';
import { cliLogger } from '../log.ts';
import { requireDataDir } from '../../config.ts';
import { fileSender } from '../../notifications/sender.ts';
import path from 'node:path';
import { startWithRetry, type StartStep } from '../../../jobs/start.ts';
import type { RunningWorker } from '../../../jobs/worker.ts';

export interface WorkerCommandOptions {
  schedule: boolean;
  http: boolean;
  port?: string;
  host?: string;
  startTimeout?: string;
}

export function registerWorkerCommands(program: Command, ctx: Context): void {
  program
    .command('worker')
    .description('run the batch workers, the cron schedule and the HTTP API/dashboard; several may share one database')
    .option('--no-schedule', 'no cron in this process (it only takes jobs)')
    .option('--no-http', 'no HTTP server in this process')
    .option('--port <n>', 'HTTP port (default LENDPAY_API_PORT or 8080; 0: any free port)')
    .option('--host <host>', 'HTTP address (default LENDPAY_API_HOST or 127.0.0.1)')
    .option('--start-timeout <seconds>', 'while starting, try again this long when the database connection is lost (default LENDPAY_WORKER_START_TIMEOUT_SECONDS or 120)')
    .action(async (o: WorkerCommandOptions) => {
      const worker = await startWorkerCommand(ctx, o);
      const log = await cliLogger(ctx.config.logLevel, ctx.config.logFormat);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      log.info({ signal }, 'signal received');
      await worker.stop();
    });
}

/**
 * Starts everything `lendpay worker` runs. A start that loses its database connection
 * (at any step: opening the database, pg-boss, the rules, the queues, the schedule) is
 * undone and tried again with backoff, said on stderr, for --start-timeout seconds;
 * `onStartStep` lets the tests cut the connection at each step.
 */
export async function startWorkerCommand(ctx: Context, o: WorkerCommandOptions, hooks: { onStartStep?: (step: StartStep) => void | Promise<void> } = {}): Promise<RunningWorker> {
  const { startWorker } = await import('../../../jobs/worker.ts');
  const { loadSchedule, defaultWorkerId } = await import('../../../jobs/schedule.ts');
  const port = o.port === undefined ? ctx.config.apiPort : Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new LendpayError('INVALID_INPUT', `--port: expected 0–65535, got "${o.port}"`);
  // A worker pays through LENDPAY_CHANNEL_URL; it never starts a sandbox platform of its own unless asked.
  ctx.assertPlatformConfigured();
  const startTimeout = o.startTimeout === undefined ? ctx.config.workerStartTimeoutSeconds : Number(o.startTimeout);
  if (!Number.isInteger(startTimeout) || startTimeout < 0) throw new LendpayError('INVALID_INPUT', `--start-timeout: expected whole seconds (0 or more), got "${o.startTimeout}"`);
  const schedule = o.schedule ? loadSchedule(ctx.config.scheduleFile) : null;
  const log = await cliLogger(ctx.config.logLevel, ctx.config.logFormat);
  if (o.http && ctx.config.apiTokens.length === 0) log.warn('no API tokens (LENDPAY_TOKENS_FILE, LENDPAY_READ_TOKEN, LENDPAY_OPERATOR_TOKEN, LENDPAY_WRITE_TOKEN): every route but /healthz, /openapi.json and the dashboard shell answers 401');
  const { listenError } = await import('../listen.ts');
  const host = o.host ?? ctx.config.apiHost;
  const workerId = defaultWorkerId();
  const worker = await startWithRetry({
    giveUpAfterMs: startTimeout * 1000,
    say: (line) => process.stderr.write(`${line}\n`),
    reset: () => ctx.close(),
    attempt: async (at) => {
      const step = async (s: StartStep) => {
        at(s);
        await hooks.onStartStep?.(s);
      };
      await step('database');
      const { db, url: databaseUrl } = await ctx.database();
      await step('pg-boss');
      const boss = await ctx.boss();
      await step('rules');
      const rules = await ctx.rules();
      return startWorker({
        db, databaseUrl, boss, log, clock: systemClock, workerId, rulesDir: ctx.config.rulesDir,
        chunkSize: ctx.config.chunkSize, concurrency: ctx.config.workerConcurrency,
        disburseDeps: () => ctx.disburseDeps(), rules: () => ctx.rules(), schedule,
        platformUrl: async () => (await ctx.platform()).url,
        escalationDeps: async () => (await import('./ops.ts')).escalationDeps(ctx),
        notificationSender: fileSender(path.join(requireDataDir(ctx.config, 'the notifications log'), 'notifications.log')),
        ...(rules.alerts ? { alerts: { rules: rules.alerts, webhook: ctx.config.alertWebhook } } : {}),
        http: o.http ? { host, port, apiToken: ctx.config.apiToken, tokens: ctx.config.apiTokens, metricsPublic: ctx.config.metricsPublic, stuckAfterMinutes: ctx.config.stuckAfterMinutes, limits: { writesPerMinute: ctx.config.apiWritesPerMinute, bodyLimitBytes: ctx.config.apiBodyLimitBytes } } : null,
        ...(ctx.config.crashPoint ? { crashPoint: crashAt(ctx.config.crashPoint) } : {}),
        onStartStep: step,
      }).catch((e: unknown) => { throw listenError(e, host, port, o.port === undefined ? 'LENDPAY_API_PORT (or --port)' : '--port'); });
    },
  });
  // the names and roles of the API tokens it took, never the tokens
  if (worker.api) log.info({ api: worker.api.url, dashboard: `${worker.api.url}/`, openapi: `${worker.api.url}/openapi.json`, tokens: ctx.config.apiTokens.map((t) => `${t.name}:${t.role}`), metricsPublic: ctx.config.metricsPublic }, 'listening');
  return worker;
}

/**
 * LENDPAY_CRASH_POINT=name or name@n: SIGKILL this process the n-th time it reaches the
 * point (crash tests only). A name ending in * matches every point it starts with
 * (job:* is any job). hold:name: instead of dying, never return from the point (the job
 * stays in hand, its heartbeat going) until the test kills the process itself.
 */
function crashAt(spec: string): (point: string) => void | Promise<void> {
  const hold = spec.startsWith('hold:');
  const [name, nth] = (hold ? spec.slice('hold:'.length) : spec).split('@') as [string, string | undefined];
  const matches = (point: string) => (name.endsWith('*') ? point.startsWith(name.slice(0, -1)) : point === name);
  let hits = 0;
  return (point) => {
    if (!matches(point) || ++hits < Number(nth ?? 1)) return;
    if (hold) return new Promise<void>(() => {});
    process.kill(process.pid, 'SIGKILL');
  };
}
