/**
 * The collector against a real nats-server (fresh per test, free loopback port) with an in-memory
 * store: every record stored exactly once, batches bounded by size and by time, replicas sharing
 * the durable consumer, a stop that acks what it wrote, heartbeats, metrics and health.
 */
import { connect } from '@nats-io/transport-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COLLECTOR_CONSUMER, HEARTBEATS_STREAM, RESULTS_STREAM, heartbeatSubject, type ResultRecord } from '@vantage/probe';
import { makeRecord } from '../../../test/helpers/records.ts';
import { serveMetrics } from '../run/metrics.ts';
import { HEARTBEATS_CONSUMER } from './collector.ts';
import {
  consumerInfo, makeHeartbeat, publishHeartbeats, publishRaw, publishRecords, setUp, sleep, startCollector, tearDown, waitFor, within, type TestContext,
} from './testing/harness.ts';
import { MemoryStore } from './testing/memory-store.ts';

const records = (n: number, probe = 'probe-a', from = 0): ResultRecord[] =>
  Array.from({ length: n }, (_, i) => makeRecord(probe, `t${(from + i) % 7}`, from + i));

const test = suite<TestContext>('collector');
test.before.each(setUp);
test.after.each(tearDown);

test('every published record reaches the store exactly once, and is acked', async (ctx) => {
  const store = new MemoryStore();
  const sent = [...records(700, 'probe-a'), ...records(500, 'probe-b')];
  await publishRecords(ctx.nc, sent.slice(0, 600)); // some before the collector starts, some after
  const collector = startCollector(ctx, store);
  await publishRecords(ctx.nc, sent.slice(600));
  await waitFor('1200 stored', () => store.uniqueIds === 1200);
  await waitFor('all acked', async () => {
    const info = await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
  assert.equal(store.duplicates(), [], 'no record inserted twice');
  assert.ok(sent.every((r) => store.records.get(r.id)?.probe_labels.seq === r.probe_labels.seq), 'each record stored as sent');
  assert.ok(store.insertCalls.every((ids) => ids.length <= 100), 'no batch above --batch-size');
  assert.is(store.rejected.length, 0);
  const text = await collector.metrics.registry.metrics();
  assert.match(text, /vantage_collector_consumed_total\{consumer="collector"\} 1200\b/);
  assert.match(text, /vantage_collector_inserted_total\{consumer="collector"\} 1200\b/);
});

test('batches close at the batch size, and by time when fewer messages come', async (ctx) => {
  // Size: 450 waiting when it starts, batch size 100, a batch time long enough not to matter.
  const bySize = new MemoryStore();
  await publishRecords(ctx.nc, records(450));
  const first = startCollector(ctx, bySize, { batchMs: 1500 });
  await waitFor('450 stored', () => bySize.uniqueIds === 450);
  assert.equal(bySize.insertCalls.map((ids) => ids.length), [100, 100, 100, 100, 50]);
  await first.stop(5000);

  // Time: batch size 1000 is never reached; each burst is written alone once batchMs passed.
  const byTime = new MemoryStore();
  startCollector(ctx, byTime, { batchSize: 1000, batchMs: 300 });
  await publishRecords(ctx.nc, records(5, 'probe-t'));
  await waitFor('first burst stored', () => byTime.uniqueIds === 5);
  await publishRecords(ctx.nc, records(7, 'probe-t', 5));
  await waitFor('second burst stored', () => byTime.uniqueIds === 12);
  assert.equal(byTime.insertCalls.map((ids) => ids.length), [5, 7]);
});

test('two collectors on the same durable consumer split the work: no duplicate, no loss', async (ctx) => {
  const storeA = new MemoryStore();
  const storeB = new MemoryStore();
  startCollector(ctx, storeA, { batchSize: 50, batchMs: 100 });
  startCollector(ctx, storeB, { batchSize: 50, batchMs: 100 });
  const sent = records(2000);
  for (let i = 0; i < sent.length; i += 100) {
    await publishRecords(ctx.nc, sent.slice(i, i + 100));
    await sleep(25);
  }
  await waitFor('2000 stored between them', () => storeA.uniqueIds + storeB.uniqueIds >= 2000);
  await sleep(300); // a late duplicate would show now
  const inA = new Set(storeA.insertedTimes.keys());
  const both = [...storeB.insertedTimes.keys()].filter((id) => inA.has(id));
  assert.equal(both, [], 'no record stored by both');
  assert.is(storeA.uniqueIds + storeB.uniqueIds, 2000);
  assert.equal([...storeA.duplicates(), ...storeB.duplicates()], []);
  assert.ok(storeA.uniqueIds > 0 && storeB.uniqueIds > 0, `both worked (${storeA.uniqueIds} / ${storeB.uniqueIds})`);
});

test('a stop writes and acks what it holds: nothing is redelivered, a restart continues', async (ctx) => {
  const store = new MemoryStore();
  store.delayMs = 400; // a slow store: batches are in flight when the stop comes
  await publishRecords(ctx.nc, records(500));
  const collector = startCollector(ctx, store, { batchSize: 50 });
  await waitFor('an insert in flight', () => store.insertCalls.length >= 1);
  await within('stop', collector.stop(10_000));
  const stored = store.uniqueIds;
  const info = await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER);
  assert.is(info.num_ack_pending, 0, 'every delivered message was acked (or handed back)');
  assert.is(info.delivered.consumer_seq, stored, 'everything delivered was stored before the stop ended');
  assert.is(info.num_pending, 500 - stored);
  assert.ok(stored < 500, 'it stopped before the end');

  store.delayMs = 0;
  startCollector(ctx, store);
  await waitFor('the rest stored', () => store.uniqueIds === 500);
  assert.equal(store.duplicates(), []);
  assert.is(store.storedIdsCalls.length, 0, 'no message came back redelivered');
});

test('a nats-server restart: the collector reconnects and goes on, nothing lost or doubled', async (ctx) => {
  const store = new MemoryStore();
  startCollector(ctx, store);
  const sent = records(400);
  await publishRecords(ctx.nc, sent.slice(0, 200));
  await waitFor('first 200 stored', () => store.uniqueIds === 200);
  await ctx.server.restart();
  const nc = await connect({ servers: ctx.server.url });
  ctx.cleanups.push(() => nc.close());
  await within('publish after restart', publishRecords(nc, sent.slice(200)));
  await waitFor('all 400 stored', () => store.uniqueIds === 400);
  assert.equal(store.duplicates(), []);
});

test('heartbeats go to their own consumer; invalid ones are rejected with the reason', async (ctx) => {
  const store = new MemoryStore();
  startCollector(ctx, store);
  await publishHeartbeats(ctx.nc, ['p1', 'p2', 'p3'].map(makeHeartbeat));
  const wrongSubject = await publishRaw(ctx.nc, heartbeatSubject('p4'), JSON.stringify(makeHeartbeat('p5')));
  const missing = await publishRaw(ctx.nc, heartbeatSubject('p6'), JSON.stringify({ ...makeHeartbeat('p6'), task_count: 'many' }));
  await waitFor('3 heartbeats and 2 rejects', () => store.heartbeats.length === 3 && store.rejected.length === 2);
  assert.equal(store.heartbeats.map((h) => h.probe_id).sort(), ['p1', 'p2', 'p3']);
  const bySeq = new Map(store.rejected.map((r) => [r.streamSeq, r]));
  assert.match(bySeq.get(wrongSubject)!.reason, /^subject_mismatch: /);
  assert.match(bySeq.get(missing)!.reason, /^invalid: task_count: expected a number/);
  await waitFor('heartbeats acked', async () => (await consumerInfo(ctx.nc, HEARTBEATS_STREAM, HEARTBEATS_CONSUMER)).num_ack_pending === 0);
});

test('/metrics and /healthz: counts, lag, and a failing store shows as degraded', async (ctx) => {
  const store = new MemoryStore();
  await publishRecords(ctx.nc, records(30));
  const collector = startCollector(ctx, store);
  const { server, port } = await serveMetrics(collector.metrics.registry, { host: '127.0.0.1', port: 0 }, () => collector.health());
  ctx.cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) });
  await waitFor('30 stored', () => store.uniqueIds === 30);
  await waitFor('lag read', async () => /vantage_collector_consumer_pending\{consumer="collector"\} 0\b/.test(await (await get('/metrics')).text()));
  const metrics = await (await get('/metrics')).text();
  assert.match(metrics, /vantage_collector_inserted_total\{consumer="collector"\} 30\b/);
  assert.match(metrics, /vantage_collector_batch_size_count\{consumer="collector"\} 1\b/);
  assert.match(metrics, /vantage_collector_insert_duration_seconds_count\{consumer="collector"\} 1\b/);
  const healthy = await get('/healthz');
  assert.is(healthy.status, 200);
  const body = await healthy.json() as { nats: string; consumers: Record<string, { store: string }> };
  assert.is(body.nats, 'connected');
  assert.is(body.consumers.collector.store, 'ok');

  store.failUntil = Date.now() + 60_000;
  await publishRecords(ctx.nc, records(5, 'probe-x'));
  await waitFor('/healthz 503', async () => (await get('/healthz')).status === 503);
  assert.match(await (await get('/metrics')).text(), /vantage_collector_insert_retries_total\{consumer="collector"\} [1-9]/);
  store.failUntil = 0;
  await waitFor('recovered', async () => store.uniqueIds === 35 && (await get('/healthz')).status === 200);
});

test.run();
