/**
 * Replicas share the work and never double it: two `vantage collector` processes start at the same
 * instant against a fresh nats-server and an empty clickhouse-server (racing to create the schema,
 * the streams and the durable consumers), then take 5,000 records published at ~800/s between
 * them. Both store records, their inserts add up to exactly the records published, and the tables
 * hold each record once, with rollups equal to the published counts per task × probe × minute.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertExactlyStored, cleanupAll, natsClient, publishPaced, recordSet, rows, startCollector, startPublisher, startServers, waitAllStored } from './helpers.ts';

const test = suite('two collector replicas');
test.after.each(cleanupAll);

test('two replicas started together: each record stored once by one of them, rollups exact', async () => {
  const servers = await startServers();
  const nc = await natsClient(servers.nats.url);
  const start = () => startCollector({ natsUrl: servers.nats.url, env: servers.env, batchSize: 200, batchMs: 100 });
  const [a, b] = await Promise.all([start(), start()]);
  const migrations = await rows<{ version: number }>(servers.db, 'SELECT DISTINCT version FROM vantage.schema_migrations ORDER BY version');
  assert.ok(migrations.length > 0, 'the schema was created');

  const records = recordSet(5000, { probes: ['probe-a', 'probe-b', 'probe-c', 'probe-d'], tasks: 10 });
  await publishPaced(startPublisher(servers.nats.url), records, 800);
  await waitAllStored(servers.db, nc, records, 30_000, () => `${a.logs()}\n${b.logs()}`);
  await assertExactlyStored(servers.db, records);

  const inserted = [await a.metric('vantage_collector_inserted_total'), await b.metric('vantage_collector_inserted_total')];
  assert.ok(inserted.every((n) => n > 0), `both replicas stored records: ${inserted}`);
  assert.is(inserted[0]! + inserted[1]!, records.length, 'no record was inserted by both');
  assert.equal(await Promise.all([a.stop(), b.stop()]), [0, 0]);
});

test.run();
