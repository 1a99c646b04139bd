// What every command shares: config, the database (migrated), the rules, the payment
// channel and pg-boss, each made on first use and closed at the end.
import type { PgBoss } from 'pg-boss';
import { loadConfig, type Config } from '../config.ts';
import { openDatabase, type OpenDatabase } from '../../db/open.ts';
import { startBoss } from '../../jobs/boss.ts';
import { loadRuleSet, type RuleSet } from '../rules/load.ts';
import type { PaymentChannel } from '../channel/types.ts';
import { createHttpChannel } from '../channel/http-channel.ts';
import { systemClock } from '../dates.ts';
import { LendpayError } from '../errors.ts';
import type { DisburseDeps } from '../disbursement/disburse.ts';
import { openLenderAccounts, type SandboxAdmin } from '../sandbox/admin.ts';

export interface Platform {
  /** base URL of the platform (the sandbox, in-process or not) */
  url: string;
  channel: PaymentChannel;
  /**
   * The sandbox's admin side (URL and admin token): the in-process sandbox, or the one
   * at LENDPAY_CHANNEL_URL when LENDPAY_SANDBOX_ADMIN_TOKEN is set. null: a platform
   * lendpay has no admin access to (a real one): nothing is opened or settled on it.
   */
  sandbox: SandboxAdmin | null;
}

export interface Context {
  config: Config;
  database(): Promise<OpenDatabase>;
  boss(): Promise<PgBoss>;
  rules(): Promise<RuleSet>;
  platform(): Promise<Platform>;
  /**
   * Lets this command start the sandbox platform in-process when no LENDPAY_CHANNEL_URL
   * is set, as LENDPAY_SANDBOX_IN_PROCESS=1 does (the demo asks; nothing else should).
   */
  allowInProcessSandbox(who: string): void;
  /** Throws, naming the settings, when platform() could only fail: no URL and no in-process sandbox allowed. */
  assertPlatformConfigured(): void;
  /** Whether platform() would reach a sandbox it can administer (in-process, or URL + admin token). */
  hasSandboxAdmin(): boolean;
  disburseDeps(): Promise<DisburseDeps>;
  /** closes what was opened; the context may be used again (each part is made anew) */
  close(): Promise<void>;
}

/**
 * The config is read on first use, not here: `lendpay --help` works whatever the
 * settings, and a bad setting is a LendpayError inside the command, which main.ts
 * prints as one line.
 */
export function createContext(env: NodeJS.ProcessEnv = process.env): Context {
  let loaded: Config | null = null;
  let database: Promise<OpenDatabase> | null = null;
  let boss: Promise<PgBoss> | null = null;
  let rules: Promise<RuleSet> | null = null;
  let platform: Promise<Platform & { close(): Promise<void> }> | null = null;
  let disburse: Promise<DisburseDeps> | null = null;
  /** who asked for an in-process sandbox (null: nobody yet); LENDPAY_SANDBOX_IN_PROCESS=1 is read with the config */
  let inProcess: string | null = null;
  const asked = () => inProcess ?? (ctx.config.sandboxInProcess ? 'LENDPAY_SANDBOX_IN_PROCESS=1' : null);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const ctx: Context = {
    get config() {
      loaded ??= loadConfig(env);
      return loaded;
    },
    database() {
      database ??= openDatabase(ctx.config, { log });
      return database;
    },
    boss() {
      boss ??= ctx.database().then((d) => startBoss(d.url, { onError: (e) => log(`pg-boss: ${e.message}`) }));
      return boss;
    },
    rules() {
      rules ??= loadRuleSet(ctx.config.rulesDir).catch((e: unknown) => activeRulesInstead(ctx, e, log));
      return rules;
    },
    platform() {
      platform ??= (async () => {
        const config = ctx.config;
        let url = config.channelUrl;
        let sandbox: SandboxAdmin | null = url !== null && config.sandboxAdminToken !== null ? { url, adminToken: config.sandboxAdminToken } : null;
        let close = async () => {};
        if (url === null) {
          ctx.assertPlatformConfigured();
          // Asked for: the sandbox runs in this process, its state in its own schema of
          // lendpay's database, so it outlives the command. Its admin token is
          // LENDPAY_SANDBOX_ADMIN_TOKEN or a random one that only this process knows.
          const { startSandbox } = await import('../sandbox/server.ts');
          const cal = (await ctx.rules()).calendar;
          if (!cal) throw new LendpayError('RULES_INVALID', `${config.rulesDir}/calendar.json is required to run the sandbox platform`);
          const server = await startSandbox({
            databaseUrl: (await ctx.database()).url, port: 0, host: '127.0.0.1', calendar: cal,
            ...(config.sandboxAdminToken ? { adminToken: config.sandboxAdminToken } : {}),
          });
          log(`WARNING: the SANDBOX payment platform is running inside this process at ${server.url} (asked by ${asked()}): `
            + 'no real money moves, and its admin routes take a token only this process holds. For production set LENDPAY_CHANNEL_URL to the real platform.');
          url = server.url;
          sandbox = server;
          close = () => server.close();
        }
        if (sandbox) await openLenderAccounts(sandbox, { accountId: config.lenderAccountId, cardId: config.lenderCardId });
        return { url, sandbox, channel: createHttpChannel({ baseUrl: url, timeoutMs: config.channelTimeoutMs }), close };
      })().catch((err: unknown) => {
        // the platform away (restarting) when first asked: the next use asks again
        platform = null;
        throw err;
      });
      return platform;
    },
    allowInProcessSandbox(who) {
      inProcess ??= who;
    },
    assertPlatformConfigured() {
      if (ctx.config.channelUrl !== null || asked() !== null) return;
      throw new LendpayError('INVALID_CONFIG',
        'no payment platform: set LENDPAY_CHANNEL_URL to the platform\'s URL (e.g. a `lendpay sandbox serve`); for development only, '
        + 'LENDPAY_SANDBOX_IN_PROCESS=1 starts the sandbox platform inside this command');
    },
    hasSandboxAdmin() {
      return ctx.config.channelUrl === null ? asked() !== null : ctx.config.sandboxAdminToken !== null;
    },
    disburseDeps() {
      // one deps object per process: applications through it share one group commit queue
      disburse ??= makeDisburseDeps();
      disburse.catch(() => (disburse = null));
      return disburse;
    },
    async close() {
      // a worker whose start lost the database closes the context and starts again
      const open = { boss, platform, database };
      boss = platform = database = rules = null;
      disburse = null;
      await open.boss?.then((b) => b.stop({ graceful: true, timeout: 10_000 })).catch(() => {});
      await open.platform?.then((p) => p.close()).catch(() => {});
      const db = await open.database?.catch(() => null);
      if (db) await db.close();
    },
  };
  async function makeDisburseDeps(): Promise<DisburseDeps> {
    const config = ctx.config;
    const [{ db }, { channel }, ruleSet] = await Promise.all([ctx.database(), ctx.platform(), ctx.rules()]);
    if (!ruleSet.calendar) throw new LendpayError('RULES_INVALID', `${config.rulesDir}/calendar.json is required to schedule payouts`);
    if (!ruleSet.pricing) throw new LendpayError('RULES_INVALID', `${config.rulesDir}/pricing.json is required to price loans`);
    const base: DisburseDeps = {
      db,
      channel,
      clock: systemClock,
      calendar: ruleSet.calendar,
      pricing: ruleSet.pricing,
      lender: { accountId: config.lenderAccountId, cardId: config.lenderCardId },
      allowLegacyMode: config.allowLegacyMode,
      grouping: config.group,
      ...(config.crashPoint ? { crashPoint: (point: string) => { if (point === config.crashPoint) process.kill(process.pid, 'SIGKILL'); } } : {}),
    };
    // A failed funding or payout leg asks the escalation rules before the loan fails.
    if (!ruleSet.escalation) return base;
    const { withHook } = await import('../escalation/service.ts');
    return withHook({ disburse: base, collection: null, rules: ruleSet.escalation, ruleSetHash: ruleSet.hash });
  }
  return ctx;
}

/**
 * The working copy in rules/ is the risk team's to edit: a half-saved or broken file
 * there must not stop a worker (re)starting or a command running. When it does not
 * load and a version is active, the active version's content is used instead (said
 * on stderr); with no active version the error stands.
 */
async function activeRulesInstead(ctx: Context, err: unknown, log: (line: string) => void): Promise<RuleSet> {
  if (!(err instanceof LendpayError) || err.code !== 'RULES_INVALID') throw err;
  // the database may blip while a worker starts (a dropped connection): a few tries
  let fromDb: { v: { version: number; hash: string }; content: Record<string, unknown> } | null = null;
  let dbError: unknown = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const { db } = await ctx.database();
      const { activeVersion } = await import('../../db/rule-versions.repository.ts');
      const { getRuleSetContent } = await import('../../db/rulesets.repository.ts');
      const v = await activeVersion(db);
      const content = v ? ((await getRuleSetContent(db, v.hash)) as Record<string, unknown> | null) : null;
      fromDb = v && content ? { v, content } : null;
      dbError = null;
      break;
    } catch (e) {
      dbError = e;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
  if (dbError) throw new LendpayError(err.code, `${err.message}\n(and the active version could not be read instead: ${dbError instanceof Error ? dbError.message : String(dbError)})`, { details: err.details, cause: dbError });
  if (!fromDb) throw err;
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lendpay-rules-v${fromDb.v.version}-`));
  try {
    for (const [file, json] of Object.entries(fromDb.content)) fs.writeFileSync(path.join(dir, path.basename(file)), JSON.stringify(json));
    const active = await loadRuleSet(dir);
    log(`warning: the rules in ${ctx.config.rulesDir} do not load (${err.message}); using the active version ${fromDb.v.version} (${fromDb.v.hash.slice(0, 12)})`);
    return active;
  } catch {
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The admin side of the platform for commands that only make sense on a sandbox (settle, inject a duplicate). */
export function sandboxOf(p: Platform): SandboxAdmin {
  if (p.sandbox) return p.sandbox;
  throw new LendpayError('INVALID_CONFIG', `this command drives the sandbox platform's admin routes: set LENDPAY_SANDBOX_ADMIN_TOKEN to the admin token of the sandbox at ${p.url}`);
}
