// lendpay's own LISTEN for the queues operators wait on: it hears pg-boss's NOTIFY for a
// job sent to a notify queue, and a dropped connection is handled (reconnected), never an
// uncaught error that kills the worker (what pg-boss's own listener could do).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { startBoss, BOSS_SCHEMA } from '../../jobs/boss.ts';
import { ESCALATION_QUEUES, ensureEscalationQueues, enqueueReprocess } from '../../jobs/escalation.ts';
import { bossNotifyChannel, listenForJobs } from '../../jobs/wakeup.ts';

let t: TestDatabase;
let boss: PgBoss;
test.before(async () => {
  t = await freshDatabase('wakeup');
  boss = await startBoss(t.url);
  await ensureEscalationQueues(boss);
});
test.after(async () => {
  await boss.stop({ graceful: false, timeout: 2000 }).catch(() => {});
  await t.drop();
});

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), what);
};

test('the channel is the one pg-boss notifies on', async () => {
  const r = await sql<{ c: string }>`select 'pgboss_' || left(encode(sha224(${BOSS_SCHEMA}::bytea), 'hex'), 24) as c`.execute(t.db);
  assert.is(bossNotifyChannel(BOSS_SCHEMA), r.rows[0]!.c);
});

test('wakeup-listener-survives-a-dropped-connection: a reprocess job wakes it, and again after its connection is terminated', async () => {
  const heard: string[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  const w = listenForJobs(t.url, BOSS_SCHEMA, (q) => heard.push(q));
  try {
    await new Promise((r) => setTimeout(r, 500));
    await enqueueReprocess(boss, [1]);
    await until('the first job was heard', () => heard.includes(ESCALATION_QUEUES.reprocess));
    const killed = await sql<{ n: number }>`
      select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and application_name = 'lendpay-wakeup'
    `.execute(t.db);
    assert.is(killed.rows[0]!.n, 1, 'its connection was terminated');
    heard.length = 0;
    // it reconnects with backoff and listens again
    for (let i = 0; i < 40 && heard.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      await enqueueReprocess(boss, [100 + i]);
    }
    assert.ok(heard.includes(ESCALATION_QUEUES.reprocess), 'heard again after the drop');
    assert.equal(uncaught, [], 'no uncaught error');
  } finally {
    process.off('uncaughtException', onUncaught);
    await w.close();
  }
});

test.run();
