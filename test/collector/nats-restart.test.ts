/**
 * nats-server restarting under load costs nothing: while 4,000 records are published at ~500/s
 * through the probe's publisher (which spools on disk while NATS is away), nats-server is stopped
 * for 2 s and started again on the same port and store. The collector reconnects by itself; acks
 * lost with the connection mean redelivery after the ack wait (30 s), never a second copy: every
 * record is stored exactly once, with rollups equal to the published records' counts per task ×
 * probe × minute.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  assertExactlyStored, cleanupAll, natsClient, publishPaced, recordSet, sleep, startCollector, startPublisher, startServers, waitAllStored, waitFor,
} from './helpers.ts';

const test = suite('nats-server restarted under load');
test.after.each(cleanupAll);

test('nats-server down for 2 s mid-stream: every record stored exactly once, rollups exact', async () => {
  const servers = await startServers();
  const nc = await natsClient(servers.nats.url);
  const collector = await startCollector({ natsUrl: servers.nats.url, env: servers.env, batchSize: 200, batchMs: 100 });
  let sawDisconnect = false;

  const restart = async () => {
    await servers.nats.stop();
    await waitFor('/healthz to report NATS gone', async () => {
      const h = await collector.health();
      return h.status === 503 && h.body.nats !== 'connected';
    }, { timeoutMs: 5000 });
    sawDisconnect = true;
    await sleep(1500);
    await servers.nats.restart();
  };

  const records = recordSet(4000);
  const publisher = startPublisher(servers.nats.url);
  await publishPaced(publisher, records, 500, [{ atMs: 3000, run: restart }]);
  assert.ok(sawDisconnect);

  await waitAllStored(servers.db, nc, records, 60_000, () => collector.logs());
  await assertExactlyStored(servers.db, records);
  const health = await collector.health();
  assert.is(health.status, 200, JSON.stringify(health.body));
  assert.is(health.body.nats, 'connected');
  assert.ok(collector.running);
  assert.is(await collector.stop(), 0, collector.logs());
});

test.run();
