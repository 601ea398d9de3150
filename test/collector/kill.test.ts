/**
 * kill -9 at any instant loses nothing and shows nothing twice: while 4,000 records of all four
 * kinds (3 probes × 8 tasks over 6 minutes, a third of the http and tcp ones failed) are published
 * at ~500/s through the probe's publisher, `vantage collector` is SIGKILLed three times mid-stream
 * and restarted each time. Messages the dead processes held are redelivered after the consumer's
 * ack wait (30 s); in the end every record is stored exactly once — count() and uniqExact(id),
 * with and without FINAL — and results_1m equals the published records' counts per task × probe ×
 * minute.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  assertExactlyStored, cleanupAll, consumerInfo, natsClient, publishPaced, recordSet, startCollector, startPublisher, startServers, waitAllStored, waitFor, type CollectorProcess,
} from './helpers.ts';

const test = suite('collector killed with SIGKILL');
test.after.each(cleanupAll);

test('three SIGKILLs mid-stream: every record stored exactly once, rollups exact', async () => {
  const servers = await startServers();
  const nc = await natsClient(servers.nats.url);
  // Messages a killed process held count against max_ack_pending until the ack wait ends: leave
  // room for three dead processes' worth, so each replacement gets messages at once.
  const start = () => startCollector({ natsUrl: servers.nats.url, env: servers.env, batchSize: 200, batchMs: 100, maxAckPending: 10_000 });
  let collector: CollectorProcess = await start();
  const storedBeforeKill: number[] = [];
  const killAndRestart = async () => {
    // Kill a process that is at work: once it has stored something (bounded: the machine may be slow).
    storedBeforeKill.push(await waitFor('the collector storing records', async () => {
      const n = await collector.metric('vantage_collector_inserted_total');
      return n > 0 ? n : null;
    }, { timeoutMs: 20_000, detail: () => collector.logs() }));
    await collector.kill();
    collector = await start();
  };

  const records = recordSet(4000);
  const publisher = startPublisher(servers.nats.url);
  await publishPaced(publisher, records, 500, [1500, 3500, 5500].map((atMs) => ({ atMs, run: killAndRestart })));
  assert.is(storedBeforeKill.length, 3);
  assert.ok(storedBeforeKill.reduce((a, b) => a + b) < records.length, 'the kills came mid-stream');

  await waitAllStored(servers.db, nc, records, 60_000, () => collector.logs());
  const info = await consumerInfo(nc);
  assert.ok(info.delivered.consumer_seq > info.delivered.stream_seq, 'messages the killed processes held were delivered again');
  await assertExactlyStored(servers.db, records);
  assert.is(await collector.stop(), 0, collector.logs());
});

test.run();
