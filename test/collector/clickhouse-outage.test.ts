/**
 * ClickHouse going away under load costs nothing: while 4,000 records are published at ~500/s,
 * clickhouse-server is stopped (SIGTERM; 18.16 keeps serving open connections for several seconds
 * before it exits) or killed (SIGKILL, which can cut an insert between `results` and its rollup
 * views), 400 more records are published once it is gone, and it is started again no sooner than
 * 7 s after it went down. Meanwhile the collector keeps running, reports itself
 * degraded on /healthz and holds its messages unacked (the consumer's ack floor does not move);
 * once ClickHouse is back it stores everything — each record exactly once, with rollups equal to
 * the published records' counts per task × probe × minute — and is healthy again.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  assertExactlyStored, cleanupAll, consumerInfo, natsClient, publishPaced, recordSet, sleep, startCollector, startPublisher, startServers, waitAllStored, waitFor,
} from './helpers.ts';

const OUTAGE_MS = 7000;

const test = suite('ClickHouse stopped under load');
test.after.each(cleanupAll);

for (const how of ['stopped', 'killed'] as const) test(`clickhouse-server ${how} for 7 s or more: messages stay unacked, everything stored exactly once after`, async () => {
  const servers = await startServers();
  const nc = await natsClient(servers.nats.url);
  const collector = await startCollector({ natsUrl: servers.nats.url, env: servers.env, batchSize: 200, batchMs: 100 });
  const records = recordSet(4400);
  const whileDown = records.slice(4000);
  const publisher = startPublisher(servers.nats.url);
  const seen: { health?: Record<string, unknown>; ackFloors?: number[]; ackPending?: number } = {};

  const outage = async () => {
    const down = Date.now();
    await (how === 'stopped' ? servers.clickhouse.stop(30_000) : servers.clickhouse.kill());
    const exited = Date.now();
    await Promise.all(whileDown.map((r) => publisher.publish(r)));
    const health = await waitFor('/healthz to report the failing store', async () => {
      const h = await collector.health();
      return h.status === 503 ? h.body : null;
    }, { timeoutMs: 10_000, detail: () => collector.logs() });
    seen.health = health;
    const first = await consumerInfo(nc);
    await sleep(1500);
    const second = await consumerInfo(nc);
    seen.ackFloors = [first.ack_floor.stream_seq, second.ack_floor.stream_seq];
    seen.ackPending = second.num_ack_pending;
    await sleep(Math.max(0, down + OUTAGE_MS - Date.now(), exited + 3000 - Date.now()));
    assert.ok(collector.running, 'the collector outlived the outage');
    await servers.clickhouse.restart();
  };

  await publishPaced(publisher, records.slice(0, 4000), 500, [{ atMs: 2000, run: outage }]);

  const consumers = seen.health!.consumers as Record<string, { store: string; last_error: string | null }>;
  assert.is(seen.health!.status, 'degraded');
  assert.is(consumers.collector!.store, 'failing', JSON.stringify(seen.health));
  assert.ok(consumers.collector!.last_error, 'the store error is shown');
  assert.is(seen.ackFloors![0], seen.ackFloors![1], 'nothing was acked while ClickHouse was down');
  assert.ok(seen.ackPending! > 0, 'messages were held unacked during the outage');

  await waitAllStored(servers.db, nc, records, 45_000, () => collector.logs());
  await assertExactlyStored(servers.db, records);
  assert.ok((await collector.metric('vantage_collector_insert_retries_total')) > 0, 'inserts were retried');
  await waitFor('/healthz ok again', async () => (await collector.health()).status === 200, { timeoutMs: 10_000 });
  assert.is(await collector.stop(), 0, collector.logs());
});

test.run();
