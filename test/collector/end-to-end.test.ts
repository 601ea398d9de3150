/**
 * The collector end to end, as deployed: a real `vantage probe` process runs dns, http, tcp and
 * ping checks every second against loopback servers and publishes them to nats-server; a real
 * `vantage collector` process stores them — in clickhouse-server 18.16, and in a second pass in
 * embedded chDB (read by this process once the collector exited). Every record in the JetStream
 * stream reads back from ClickHouse field for field, exactly once, with exact rollups, and the
 * probe's heartbeats reach probe_heartbeats field for field.
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HEARTBEATS_STREAM, RESULTS_STREAM, heartbeat as validateHeartbeat, parseRecord, type Heartbeat, type ResultRecord } from '@vantage/probe';
import { openClickHouse, type ClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import { heartbeatFromRow, recordFromRow } from '../../collector/src/store/rows.ts';
import { a, startDnsServer } from '../helpers/dns-server.ts';
import { startWebServer } from '../helpers/web-server.ts';
import {
  asStoredBy, assertExactlyStored, cleanupAll, consumerInfo, natsClient, onCleanup, rows, startCollector, startProbe, startServers, streamPayloads, tempDir, waitFor, within,
  writeProbeConfig, type CollectorProcess,
} from './helpers.ts';
import { startNatsServer } from '../helpers/nats-server.ts';
import type { NatsConnection } from '@nats-io/transport-node';

const KINDS = ['dns', 'http', 'ping', 'tcp'];

/** Loopback DNS and web servers the probe's four tasks check. */
async function checkTargets() {
  const dns = await startDnsServer((q) => ({ answers: q.questions![0]!.type === 'A' ? [a('shop.test', '127.0.0.1')] : [] }));
  onCleanup(() => dns.close());
  const web = await startWebServer({ routes: { '/': { body: '<title>Shop</title> welcome' } } });
  onCleanup(() => web.close());
  return { dnsAddress: dns.address, webPort: web.port, tcpPort: web.port };
}

/**
 * Runs the probe until the stream holds at least `rounds` rounds of its four tasks, stops it
 * (SIGTERM: it drains and exits 0) and returns what it published: the stream's records and heartbeats.
 */
async function runProbe(nc: NatsConnection, natsUrl: string, probeId: string, rounds: number): Promise<{ records: ResultRecord[]; heartbeats: Heartbeat[] }> {
  const dir = tempDir('e2e-probe');
  const probe = startProbe(writeProbeConfig(dir, { probeId, natsUrl, ...(await checkTargets()) }));
  await waitFor(`${rounds * 4} records from the probe in the stream`, async () => {
    const records = (await streamPayloads(nc, RESULTS_STREAM)).length;
    return records >= rounds * 4;
  }, { timeoutMs: 30_000, intervalMs: 300, detail: () => probe.logs() });
  assert.is(await probe.stop(20_000), 0, probe.logs());
  const records = (await streamPayloads(nc, RESULTS_STREAM)).map((m) => parseRecord(m.data));
  const heartbeats = (await streamPayloads(nc, HEARTBEATS_STREAM)).map((m) => {
    const problems: string[] = [];
    const beat = validateHeartbeat(JSON.parse(m.data), '', problems);
    assert.equal(problems, [], 'a valid heartbeat');
    return beat;
  });
  assert.equal([...new Set(records.map((r) => r.kind))].sort(), KINDS, 'records of all four kinds');
  assert.ok(records.every((r) => r.probe_id === probeId && r.failure === null), 'every check succeeded');
  assert.is(new Set(records.map((r) => r.id)).size, records.length, 'each record once in the stream');
  assert.ok(heartbeats.length >= 1, 'the probe sent a heartbeat');
  return { records, heartbeats };
}

/** What the store holds, read back as records / heartbeats, compared with what was published. */
async function assertReadsBack(db: ClickHouse, published: { records: ResultRecord[]; heartbeats: Heartbeat[] }): Promise<void> {
  const stored = (await rows(db, 'SELECT * FROM vantage.results FINAL ORDER BY started_at_ms, id')).map(recordFromRow);
  const byId = new Map(stored.map((r) => [r.id, r]));
  assert.is(stored.length, published.records.length, 'as many rows as records published');
  const expected = await asStoredBy(db, published.records);
  for (const record of expected.records) assert.equal(byId.get(record.id), record, `${record.kind} record ${record.id} field for field`);
  if (expected.changedByServer > 0) console.log(`  note: clickhouse-server 18.16's float parser changed ${expected.changedByServer} published float values (as its toFloat64 of the same text does)`);
  await assertExactlyStored(db, published.records);

  const beats = (await rows(db, 'SELECT * FROM vantage.probe_heartbeats FINAL ORDER BY sent_at_ms')).map(heartbeatFromRow);
  assert.equal(beats, [...published.heartbeats].sort((x, y) => Date.parse(x.sent_at) - Date.parse(y.sent_at)), 'heartbeats field for field');
}

/** Waits until the collector has acked everything in both streams. */
async function waitAllAcked(nc: NatsConnection, collector: CollectorProcess, records: number): Promise<void> {
  await waitFor(`the collector stored and acked all ${records} records and the heartbeats`, async () => {
    const [results, beats] = await Promise.all([consumerInfo(nc), consumerInfo(nc, HEARTBEATS_STREAM, 'collector-heartbeats')]);
    return results.num_pending + results.num_ack_pending + beats.num_pending + beats.num_ack_pending === 0
      && results.delivered.stream_seq >= records && (await collector.metric('vantage_collector_inserted_total')) === records;
  }, { timeoutMs: 20_000, detail: () => collector.logs() });
}

const test = suite('collector end to end (probe → NATS → collector → ClickHouse)');
test.after.each(cleanupAll);

test('clickhouse-server 18.16: every published record and heartbeat reads back field for field', async () => {
  const servers = await startServers();
  const nc = await natsClient(servers.nats.url);
  const collector = await startCollector({ natsUrl: servers.nats.url, env: servers.env, batchMs: 200 });

  const published = await runProbe(nc, servers.nats.url, 'e2e-probe-01', 3);
  await waitAllAcked(nc, collector, published.records.length);
  await assertReadsBack(servers.db, published);

  const health = await collector.health();
  assert.is(health.status, 200, JSON.stringify(health.body));
  assert.is(health.body.status, 'ok');
  assert.is(await collector.stop(), 0, collector.logs());
});

test('embedded chDB: the same pass, read from the collector\'s data dir after it exited', async () => {
  const nats = await startNatsServer();
  onCleanup(() => nats.cleanup());
  const nc = await natsClient(nats.url);
  const dataDir = tempDir('e2e-chdb');
  const collector = await startCollector({ natsUrl: nats.url, dataDir, batchMs: 200 });
  assert.match(collector.logs(), new RegExp(`"store":"chdb in ${dataDir}"`));

  const published = await runProbe(nc, nats.url, 'e2e-probe-02', 3);
  await waitAllAcked(nc, collector, published.records.length);
  assert.is(await collector.stop(), 0, collector.logs());

  // chDB binds one data dir per process: only now, with the collector gone, may this one open it.
  const db = await within('open chDB', openClickHouse({ engine: 'chdb', path: join(dataDir, 'chdb') }));
  onCleanup(() => db.close());
  await assertReadsBack(db, published);
});

test.run();
