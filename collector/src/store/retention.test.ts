/**
 * Retention: the pure choice of partitions, then real drops on both engines — old days of raw
 * tables and the per-minute rollup go after `days`, old months of the hourly/daily rollups after
 * `rollupDays`, recent data stays, and a second run drops nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE_NAMES, enginesSuite, rows } from '../../../test/helpers/clickhouse-engines.ts';
import { makeHeartbeat, makeHttpRecord } from '../../../test/helpers/kind-records.ts';
import { ClickHouseStore } from './clickhouse-store.ts';
import { migrate } from './migrate.ts';
import { applyRetention, partitionsToDrop, validatePolicy } from './retention.ts';

const NOW = Date.UTC(2024, 4, 31, 12, 0, 0); // 2024-05-31 12:00 UTC
const DAY = 86_400_000;
const policy = { days: 30, rollupDays: 60 };

const pure = suite('retention: which partitions');

pure('day partitions older than `days` full days go; the cutoff day and later stay', () => {
  const parts = ['20240430', '20240501', '20240531', 'all'].map((partitionId) => ({ table: 'results', partitionId }));
  assert.equal(partitionsToDrop(parts, policy, NOW), [{ table: 'results', partitionId: '20240430' }]);
});

pure('month partitions go only when the whole month is past `rollupDays`', () => {
  // cutoff = 2024-04-01: March is wholly older, April is not.
  const parts = ['202402', '202403', '202404', '202405'].map((partitionId) => ({ table: 'results_1h', partitionId }));
  assert.equal(partitionsToDrop(parts, policy, NOW).map((p) => p.partitionId), ['202402', '202403']);
  const later = partitionsToDrop(parts, policy, NOW + DAY).map((p) => p.partitionId); // cutoff 2024-04-02
  assert.equal(later, ['202402', '202403']);
});

pure('unknown tables and odd ids are kept; a bad policy is refused', () => {
  assert.equal(partitionsToDrop([{ table: 'other', partitionId: '19700101' }, { table: 'results', partitionId: '2024' }], policy, NOW), []);
  for (const bad of [{ days: 0, rollupDays: 1 }, { days: 1.5, rollupDays: 1 }, { days: 1, rollupDays: -1 }]) {
    assert.throws(() => validatePolicy(bad), /whole number/);
  }
});

pure.run();

const real = enginesSuite('retention: real drops');

for (const engine of ENGINE_NAMES) {
  real(`${engine}: drops the old partitions of every retained table and keeps the rest`, async ({ engines }) => {
    const ch = engines.get(engine);
    await ch.client.command({ query: 'DROP DATABASE IF EXISTS vantage' });
    await migrate(ch.client);
    const store = new ClickHouseStore(ch, { now: () => NOW });
    const ages = [100, 40, 10, 0]; // days ago
    await store.insertResults(ages.map((age) => makeHttpRecord({ probeId: 'p1', taskId: 'ret', atMs: NOW - age * DAY })));
    await store.insertRejected(ages.map((age, i) => ({ receivedAtMs: NOW - age * DAY, subject: 's', streamSeq: i, reason: 'r', payload: 'x' })));
    await store.insertHeartbeats(ages.map((age) => makeHeartbeat('p1', NOW - age * DAY)));

    const dropped = await applyRetention(ch.client, policy, { nowMs: NOW });
    const names = dropped.map((p) => `${p.table}/${p.partitionId}`).sort();
    assert.equal(names, [
      'probe_heartbeats/20240221', 'probe_heartbeats/20240421',
      'rejected_records/20240221', 'rejected_records/20240421',
      'results/20240221', 'results/20240421',
      'results_1d/202402', 'results_1h/202402', 'results_1h_cells/202402',
      'results_1m/20240221', 'results_1m/20240421',
    ]);
    const count = async (table: string) => Number((await rows<{ n: number }>(ch, `SELECT count() AS n FROM vantage.${table}`))[0]!.n);
    assert.is(await count('results'), 2);
    assert.is(await count('rejected_records'), 2);
    assert.is(await count('probe_heartbeats'), 2);
    assert.is(await count('results_1h'), 3, 'the 40-day-old hour is inside rollupDays');
    assert.equal(await applyRetention(ch.client, policy, { nowMs: NOW }), []);
  });
}

real.run();
