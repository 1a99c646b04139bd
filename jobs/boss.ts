// pg-boss setup shared by the CLI, the worker and the tests: one schema, the queues
// lendpay uses, and their retry policy. The queue delivers at least once; exactly
// once comes from our own unique keys (batch_chunks, decisions, orders).
import { PgBoss } from 'pg-boss';

export const QUEUES = {
  nightlyChunk: 'nightly-eligibility-chunk',
  postSettlementChunk: 'post-settlement-chunk',
} as const;

export interface BossOptions {
  schema?: string;
  onError?: (err: Error) => void;
}

export async function startBoss(url: string, opts: BossOptions = {}): Promise<PgBoss> {
  // useListenNotify: queues created with notify (the operators' ad-hoc reprocessing)
  // wake their workers the moment a job is sent instead of at the next poll; polling
  // stays as the floor (and is all there is where LISTEN is unavailable).
  const boss = new PgBoss({ connectionString: url, schema: opts.schema ?? 'pgboss', max: 4, application_name: 'lendpay-boss', useListenNotify: true });
  boss.on('error', opts.onError ?? (() => {}));
  await boss.start();
  for (const name of Object.values(QUEUES)) {
    if (!(await boss.getQueue(name))) {
      await boss.createQueue(name, { retryLimit: 3, retryDelay: 2, retryBackoff: true, expireInSeconds: 600 });
    }
  }
  return boss;
}
