// The chaos harness, short: two seeded small days (real worker processes, the sandbox
// as its own process, kills, dropped connections, faults, broken rule files, jobs
// delivered twice, concurrent requests, the sandbox killed, the second day's own
// PostgreSQL server restarted), each ending with every invariant checked
// against the platform's own records. The long version: npm run chaos -- --seed S --runs N.
// LENDPAY_CHAOS_SEED=s replays a seed here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runChaosDay } from './day.ts';

// 20261128 draws a day on a PostgreSQL server of its own, which the chaos restarts
const first = Number(process.env['LENDPAY_CHAOS_SEED'] || 20261127);

// The two days run side by side: a day mostly waits (on leases, retries, restarts), so
// together they take little longer than the slower one.
test(`chaos days, seeds ${first} and ${first + 1} (small): no invariant violated`, async () => {
  const results = await Promise.all([first, first + 1].map((seed) => runChaosDay(seed, { size: 'small' })));
  for (const r of results) {
    assert.equal(r.violations, [], `seed ${r.seed} (replay: npm run chaos -- --seed ${r.seed} --runs 1 --size small)\n${r.violations.join('\n')}\n${r.events.join('\n')}`);
    assert.ok(r.stats.loans! > 0, `seed ${r.seed}: loans were made`);
    assert.ok(r.settledSeconds !== null, `seed ${r.seed}: every batch and job finished after the faults stopped`);
  }
});

test.run();
