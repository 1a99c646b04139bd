// `lendpay worker`: pg-boss workers, the cron schedule and the HTTP server (API,
// dashboard, /metrics) in one process, until SIGTERM or SIGINT: then it stops taking
// work, finishes the jobs in hand and exits 0.
import type { Command } from 'commander';
import type { Context } from '../context.ts';
import { systemClock } from '../../dates.ts';
import { LendpayError } from '../../errors.ts';
import { makeLogger } from '../../api/log.ts';
import { fileSender } from '../../notifications/sender.ts';
import path from 'node:path';

export function registerWorkerCommands(program: Command, ctx: Context): void {
  program
    .command('worker')
    .description('run the batch workers, the cron schedule and the HTTP API/dashboard; several may share one database')
    .option('--no-schedule', 'no cron in this process (it only takes jobs)')
    .option('--no-http', 'no HTTP server in this process')
    .option('--port <n>', 'HTTP port (default LENDPAY_API_PORT or 8080; 0: any free port)')
    .option('--host <host>', 'HTTP address (default LENDPAY_API_HOST or 127.0.0.1)')
    .action(async (o: { schedule: boolean; http: boolean; port?: string; host?: string }) => {
      // A worker pays through LENDPAY_CHANNEL_URL; it never starts a sandbox platform of its own unless asked.
      ctx.assertPlatformConfigured();
      const { startWorker } = await import('../../../jobs/worker.ts');
      const { loadSchedule, defaultWorkerId } = await import('../../../jobs/schedule.ts');
      const port = o.port === undefined ? ctx.config.apiPort : Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new LendpayError('INVALID_INPUT', `--port: expected 0–65535, got "${o.port}"`);
      const schedule = o.schedule ? loadSchedule(ctx.config.scheduleFile) : null;
      const log = makeLogger(ctx.config.logLevel);
      if (o.http && ctx.config.apiTokens.length === 0) log.warn('no API tokens (LENDPAY_TOKENS_FILE, LENDPAY_READ_TOKEN, LENDPAY_OPERATOR_TOKEN, LENDPAY_WRITE_TOKEN): every route but /healthz, /openapi.json and the dashboard shell answers 401');
      const { db } = await ctx.database();
      const boss = await ctx.boss();
      const worker = await startWorker({
        db, boss, log, clock: systemClock, workerId: defaultWorkerId(), rulesDir: ctx.config.rulesDir,
        chunkSize: ctx.config.chunkSize, concurrency: ctx.config.workerConcurrency,
        disburseDeps: () => ctx.disburseDeps(), schedule,
        platformUrl: async () => (await ctx.platform()).url,
        escalationDeps: async () => (await import('./ops.ts')).escalationDeps(ctx),
        notificationSender: fileSender(path.join(ctx.config.dataDir, 'notifications.log')),
        ...(await ctx.rules().then((r) => (r.alerts ? { alerts: { rules: r.alerts, webhook: ctx.config.alertWebhook } } : {}))),
        http: o.http ? { host: o.host ?? ctx.config.apiHost, port, apiToken: ctx.config.apiToken, tokens: ctx.config.apiTokens, metricsPublic: ctx.config.metricsPublic, stuckAfterMinutes: ctx.config.stuckAfterMinutes, limits: { writesPerMinute: ctx.config.apiWritesPerMinute, bodyLimitBytes: ctx.config.apiBodyLimitBytes } } : null,
        ...(ctx.config.crashPoint ? { crashPoint: crashAt(ctx.config.crashPoint) } : {}),
      });
      // the names and roles of the API tokens it took, never the tokens
      if (worker.api) log.info({ api: worker.api.url, dashboard: `${worker.api.url}/`, openapi: `${worker.api.url}/openapi.json`, tokens: ctx.config.apiTokens.map((t) => `${t.name}:${t.role}`), metricsPublic: ctx.config.metricsPublic }, 'listening');
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      log.info({ signal }, 'signal received');
      await worker.stop();
    });
}

/** LENDPAY_CRASH_POINT=name or name@n: SIGKILL this process the n-th time it reaches the point (crash tests only). */
function crashAt(spec: string): (point: string) => void {
  const [name, nth] = spec.split('@') as [string, string | undefined];
  let hits = 0;
  return (point) => {
    if (point === name && ++hits >= Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
  };
}
