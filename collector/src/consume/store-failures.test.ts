/**
 * The collector when the store fails: transient failures delay acks (messages stay held, kept
 * alive past ack_wait, then all arrive once the store recovers); a store that refuses records for
 * good gets them rejected with the reason while the rest of their batch is stored.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COLLECTOR_CONSUMER, RESULTS_STREAM, type ResultRecord } from '@vantage/probe';
import { makeRecord } from '../../../test/helpers/records.ts';
import { consumerInfo, publishRecords, setUp, sleep, startCollector, tearDown, waitFor, type TestContext } from './testing/harness.ts';
import { MemoryStore } from './testing/memory-store.ts';

const records = (n: number, probe = 'probe-a'): ResultRecord[] => Array.from({ length: n }, (_, i) => makeRecord(probe, `t${i % 5}`, i));

const test = suite<TestContext>('store failures');
test.before.each(setUp);
test.after.each(tearDown);

test('a failing store delays acks: messages stay held (not redelivered past ack_wait), then all arrive once', async (ctx) => {
  const store = new MemoryStore();
  const failFor = 3500;
  store.failUntil = Date.now() + failFor; // longer than ack_wait (1 s): only working() keeps them
  const sent = records(150);
  await publishRecords(ctx.nc, sent);
  const collector = startCollector(ctx, store, { ackWaitMs: 1000 });
  await waitFor('a few failed inserts', () => store.failures >= 3);
  await sleep(1500); // past ack_wait
  const during = await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER);
  assert.is(store.uniqueIds, 0, 'nothing stored yet');
  assert.is(during.num_ack_pending, 150, 'all 150 delivered and none acked');
  assert.is(during.num_redelivered, 0, 'none redelivered while held');
  assert.is(collector.health().healthy, false, '/healthz reports the failing store');

  await waitFor('all stored after recovery', () => store.uniqueIds === 150);
  await waitFor('all acked', async () => (await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER)).num_ack_pending === 0);
  assert.equal(store.duplicates(), []);
  assert.is(store.storedIdsCalls.length, 0, 'no message came back redelivered');
  assert.ok(store.failures >= 3);
  const text = await collector.metrics.registry.metrics();
  const retries = Number(/vantage_collector_insert_retries_total\{consumer="collector"\} (\d+)/.exec(text)?.[1]);
  assert.is(retries, store.failures, 'every failed insert counted as a retry');
  assert.is(collector.health().healthy, true);
});

test('records the store refuses for good are rejected with its reason; the rest of their batch is stored', async (ctx) => {
  const store = new MemoryStore();
  store.refuse = (r) => r.task_id === 'poison';
  const sent = records(100);
  const poison = [makeRecord('probe-a', 'poison', 1000), makeRecord('probe-a', 'poison', 1001), makeRecord('probe-b', 'poison', 1002)];
  await publishRecords(ctx.nc, [...sent.slice(0, 10), poison[0], ...sent.slice(10, 60), poison[1], ...sent.slice(60), poison[2]]);
  const collector = startCollector(ctx, store, { ackWaitMs: 1000, batchSize: 200, batchMs: 500 });
  await waitFor('97 + 3', () => store.uniqueIds === 100 && store.rejected.length === 3);
  assert.ok(sent.every((r) => store.records.has(r.id)), 'every good record stored');
  for (const row of store.rejected) {
    assert.match(row.reason, /^store_refused: cannot store record .* value out of range/);
    assert.ok(poison.some((p) => JSON.parse(row.payload).id === p.id), 'the payload kept is the refused record');
  }
  await sleep(1500); // past ack_wait: a terminated message would be back by now
  const info = await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER);
  assert.is(info.num_ack_pending, 0);
  assert.is(info.num_pending, 0);
  assert.is(store.rejected.length, 3, 'rejected once each');
  assert.match(await collector.metrics.registry.metrics(), /vantage_collector_rejected_total\{consumer="collector",reason="store_refused"\} 3\b/);
});

test.run();
