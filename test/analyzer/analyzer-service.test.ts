/**
 * The analyzer service on real servers: records published to NATS come out as verdicts in
 * ClickHouse (one per record × local resolver, acked only then), and a restarted analyzer rebuilds
 * its ground truth from the records the collector stored, so it judges as the first one would
 * have: an answer the references gave three hours ago is `consistent{stale}` (history), not a
 * new `cdn_variance`. Then `vantage analyzer` as a process does the same job.
 */
import { spawn } from 'node:child_process';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { RESULTS_STREAM, resultSubject, type ResultRecord } from '@vantage/probe';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureStreams } from '../../probe/src/publish/streams.ts';
import { Collector } from '../../collector/src/consume/collector.ts';
import { CollectorMetrics } from '../../collector/src/run/metrics.ts';
import { openClickHouse, type ClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import { openClickHouseStore, type ClickHouseStore } from '../../collector/src/store/clickhouse-store.ts';
import { NatsTransport } from '../../collector/src/transport/nats-transport.ts';
import { classifyRecords } from '../../analyzer/src/classify/classifier.ts';
import { dnsRecord, ORIGIN } from '../../analyzer/src/classify/testing/fixtures.ts';
import { AnalyzerService } from '../../analyzer/src/service/analyzer-service.ts';
import { rows } from '../helpers/clickhouse-engines.ts';
import { startClickHouseServer, TEST_PASSWORD, TEST_USER, type ClickHouseServer } from '../helpers/clickhouse-server.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { makeHttpRecord } from '../helpers/kind-records.ts';

const HOUR = 3_600_000;
const OLD_IP = '81.2.3.4';
const NEW_IP = '81.2.3.99';
const verified = { ...ORIGIN, tls: 'verified' as const };

interface Ctx {
  nats: NatsServer;
  clickhouse: ClickHouseServer;
  nc: NatsConnection;
  store: ClickHouseStore;
  ch: ClickHouse;
  collector: Collector;
}

const natsSettings = (url: string) => ({ url, credentials: null, nkeySeedFile: null, user: null, password: null, token: null });

async function publish(nc: NatsConnection, records: ResultRecord[]): Promise<void> {
  const js = jetstream(nc);
  for (const r of records) await js.publish(resultSubject(r.kind, r.probe_id), JSON.stringify(r), { msgID: r.id });
}

interface StoredVerdict {
  id: string;
  probe_id: string;
  class: string;
  flags: string[];
  rule: string;
}

const storedVerdicts = (ch: ClickHouse) =>
  rows<StoredVerdict>(ch, 'SELECT id, probe_id, class, flags, rule FROM vantage.verdicts FINAL ORDER BY id');

/** An analyzer service on its own NATS connection; `stop()` also closes the connection. */
function analyzer(ctx: Ctx): { service: AnalyzerService; stop(): Promise<void> } {
  const transport = new NatsTransport(natsSettings(ctx.nats.url));
  const service = new AnalyzerService({
    transport,
    ch: ctx.ch,
    batchSize: 50,
    batchMs: 50,
    fetchExpiresMs: 1000,
    metrics: new CollectorMetrics({ prefix: 'vantage_analyzer', processMetrics: false }),
  });
  return {
    service,
    async stop() {
      await service.stop(5000);
      await transport.close();
    },
  };
}

const test = suite<Ctx>('analyzer service');
test.before(async (ctx) => {
  ctx.nats = await startNatsServer();
  ctx.clickhouse = await startClickHouseServer();
  ctx.nc = await connect({ servers: ctx.nats.url });
  await ensureStreams(ctx.nc);
  const server = { engine: 'server' as const, url: ctx.clickhouse.url, username: TEST_USER, password: TEST_PASSWORD };
  ctx.store = await openClickHouseStore(server);
  ctx.ch = await openClickHouse(server);
  ctx.collector = new Collector({
    nats: natsSettings(ctx.nats.url), store: ctx.store, batchSize: 50, batchMs: 50, fetchExpiresMs: 1000,
    metrics: new CollectorMetrics({ processMetrics: false }),
  });
  ctx.collector.start();
});
test.after(async (ctx) => {
  await ctx.collector?.stop(2000);
  await ctx.nc?.close();
  await ctx.store?.close();
  await ctx.ch?.close();
  await ctx.clickhouse?.cleanup();
  await ctx.nats?.cleanup();
});

test('verdicts in ClickHouse; a restarted analyzer rebuilds its ground truth and judges the same', async (ctx) => {
  const now = Date.now();
  // Round 1, three hours ago: the references and every local resolver agree on OLD_IP.
  const round1 = ['p1', 'p2', 'p3'].map((probeId) => dnsRecord({ probeId, atMs: now - 3 * HOUR, local: { ips: [OLD_IP] }, reference: { ips: [OLD_IP] } }));
  // Round 2, now: the site moved to NEW_IP; p1's resolver still answers OLD_IP (its TLS verifies).
  const round2 = [
    dnsRecord({
      probeId: 'p1', atMs: now - 60_000, local: { ips: [OLD_IP] }, reference: { ips: [NEW_IP] },
      evidence: [{ ip: OLD_IP, role: 'unexpected', http: ORIGIN, https: verified }, { ip: NEW_IP, role: 'reference', http: ORIGIN, https: verified }],
    }),
    dnsRecord({ probeId: 'p2', atMs: now - 60_000, local: { ips: [NEW_IP] }, reference: { ips: [NEW_IP] }, evidence: [] }),
  ];
  const expected = classifyRecords([...round1, ...round2]).map((v) => ({ id: v.id, probe_id: v.probe_id, class: v.class, flags: v.flags, rule: v.rule }));
  const p1now = expected.find((v) => v.id.startsWith(round2[0]!.id))!;
  assert.equal([p1now.class, p1now.flags], ['consistent', ['stale']], 'the scenario: history makes the old answer stale, not foreign');

  const first = analyzer(ctx);
  const rebuiltEmpty = await first.service.start();
  assert.is(rebuiltEmpty.records, 0);
  await publish(ctx.nc, [...round1, makeHttpRecord({ probeId: 'p1', taskId: 'web', atMs: now - 3 * HOUR })]);
  await waitFor('round 1 judged and stored by the collector', async () =>
    (await storedVerdicts(ctx.ch)).length === 3 &&
    Number((await rows<{ n: number }>(ctx.ch, "SELECT count() AS n FROM vantage.results FINAL WHERE kind = 'dns'"))[0]!.n) === 3,
  { timeoutMs: 20_000 });
  await first.stop();

  const second = analyzer(ctx);
  const rebuilt = await second.service.start();
  assert.is(rebuilt.records, 3, 'the ground truth was rebuilt from the three stored dns records');
  await publish(ctx.nc, round2);
  await waitFor('round 2 judged', async () => (await storedVerdicts(ctx.ch)).length === 5, { timeoutMs: 20_000 });
  assert.equal(await storedVerdicts(ctx.ch), expected, 'the same verdicts as one analyzer that saw everything');
  const lagReader = new NatsTransport(natsSettings(ctx.nats.url));
  lagReader.start();
  await waitFor('every record acked', async () => {
    const lag = await lagReader.consumerLag(RESULTS_STREAM, 'analyzer');
    return lag?.pending === 0 && lag.ackPending === 0;
  }, { timeoutMs: 10_000 });
  await lagReader.close();
  const [row] = await rows<{ evidence: string; round: string; resolver: string }>(ctx.ch,
    `SELECT evidence, toString(round) AS round, resolver FROM vantage.verdicts FINAL WHERE record_id = '${round2[0]!.id}'`);
  assert.ok(JSON.parse(row!.evidence).reason.length > 0, 'the evidence says why');
  assert.is(row!.resolver, '10.53.0.1:53');
  await second.stop();
});

test('`vantage analyzer` as a process: judges what arrives, /healthz answers, SIGTERM stops it', async (ctx) => {
  const child = spawn(process.execPath, ['bin/vantage.mjs', 'analyzer', '--nats-url', ctx.nats.url, '--metrics-listen', '127.0.0.1:0', '--batch-ms', '50'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, CLICKHOUSE_URL: ctx.clickhouse.url, CLICKHOUSE_USER: TEST_USER, CLICKHOUSE_PASSWORD: TEST_PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (c: Buffer) => (logs += c.toString()));
  child.stderr.on('data', (c: Buffer) => (logs += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    const started = await waitFor('the analyzer started', () => /"msg":"analyzer started".*"metrics":"(http:[^"]+)"/.exec(logs)?.[1] ?? null, { timeoutMs: 30_000, detail: () => logs });
    const health = await fetch(`${started}/healthz`);
    assert.is(health.status, 200, await health.text());
    const record = dnsRecord({ probeId: 'p9', taskId: 'cli-task', atMs: Date.now() - 1000, local: { ips: ['127.0.0.1'] }, reference: { ips: [NEW_IP] } });
    await publish(ctx.nc, [record]);
    await waitFor('its verdict stored', async () =>
      (await rows<{ class: string }>(ctx.ch, `SELECT class FROM vantage.verdicts FINAL WHERE record_id = '${record.id}'`))[0]?.class === 'blocked',
    { timeoutMs: 20_000, detail: () => logs });
    assert.match(await (await fetch(`${started}/metrics`)).text(), /vantage_analyzer_inserted_total\{consumer="analyzer"\} [1-9]/);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, logs);
});

test.run();
