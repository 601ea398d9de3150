/**
 * A data set produced by the real pipeline for the API tests: the probe's own worker (ProbeWorker,
 * as `vantage probe --once` runs it) checks loopback DNS/HTTP/TCP servers from four probe identities
 * (2 regions × 2 ISPs each) in rounds at chosen wall-clock times, and the collector's ClickHouse
 * store stores the records (raw table + rollup views). Failures are real: a route that answers
 * 503 for chosen probe × round pairs, and a TCP port nobody listens on. Heartbeats come from the
 * worker too. Verdicts for the DNS records are written with the analyzer's `verdictRow`.
 */
import { ClickHouseStore, DATABASE, VERDICTS, type ClickHouse } from '@vantage/collector';
import { parseConfig, type Heartbeat, type ResultRecord } from '@vantage/probe';
import * as assert from 'uvu/assert';
import { alarmEvent, type AlarmEvent } from '../../analyzer/src/alarms/event.ts';
import { verdictRow, type Verdict, type VerdictClass } from '../../analyzer/src/classify/verdict.ts';
import { silentLogger } from '../../probe/src/run/log.ts';
import { ProbeWorker } from '../../probe/src/run/probe-worker.ts';
import { a, startDnsServer } from '../helpers/dns-server.ts';
import { freePort } from '../helpers/nats-server.ts';
import { startWebServer } from '../helpers/web-server.ts';

export const PROBES = [
  { id: 'sh-ct-1', region: 'cn-east', isp: 'China Telecom' },
  { id: 'sh-cu-1', region: 'cn-east', isp: 'China Unicom' },
  { id: 'bj-ct-1', region: 'cn-north', isp: 'China Telecom' },
  { id: 'bj-cm-1', region: 'cn-north', isp: 'China Mobile' },
] as const;
export type ProbeId = (typeof PROBES)[number]['id'];

/**
 * Round times: around midnight UTC (00:00Z) and midnight in Shanghai (16:00Z), so UTC days and
 * Shanghai days split them differently.
 */
export const ROUNDS = [
  '2024-05-01T15:10:00Z',
  '2024-05-01T15:50:00Z',
  '2024-05-01T16:20:00Z',
  '2024-05-01T23:40:00Z',
  '2024-05-02T00:05:00Z',
  '2024-05-02T00:35:00Z',
].map((iso) => Date.parse(iso));

/** Which probe × round pairs get a 503 from /flaky. */
export function flakyFails(probe: ProbeId, round: number): boolean {
  return (probe === 'sh-cu-1' && round % 2 === 0) || (probe === 'bj-cm-1' && round >= 4);
}

export interface Fixture {
  records: ResultRecord[];
  heartbeats: Heartbeat[];
  /** Raw task specs (as in a probe config) by id. */
  tasks: Record<string, Record<string, unknown>>;
  flakyTarget: string;
  close(): Promise<void>;
}

/** Runs the probes; the records and heartbeats are in memory (store them with `storeFixture`). */
export async function produceFixture(): Promise<Fixture> {
  const dns = await startDnsServer((q) => ({ answers: q.questions![0]!.type === 'A' ? [a('shop.test', '127.0.0.1')] : [] }));
  let down = false;
  const web = await startWebServer({
    routes: {
      '/': { body: '<title>Shop</title> welcome' },
      '/flaky': () => (down ? { status: 503, body: 'down' } : { body: 'ok' }),
    },
  });
  const closedPort = await freePort();
  const flakyTarget = `${web.url}/flaky`;
  const tasks: Record<string, Record<string, unknown>> = {
    'dns-shop': { id: 'dns-shop', kind: 'dns', target: 'shop.test' },
    'web-shop': { id: 'web-shop', kind: 'http', target: `${web.url}/`, http: { expect_status: [200] } },
    'web-flaky': { id: 'web-flaky', kind: 'http', target: flakyTarget, http: { expect_status: [200] } },
    'web-flaky-2': { id: 'web-flaky-2', kind: 'http', target: flakyTarget, schedule: '*/5 * * * *', http: { expect_status: [200] } },
    'tcp-closed': { id: 'tcp-closed', kind: 'tcp', target: `127.0.0.1:${closedPort}`, timeout: '2s' },
  };
  const records: ResultRecord[] = [];
  const heartbeats: Heartbeat[] = [];
  try {
    for (const [round, at] of ROUNDS.entries()) {
      for (const probe of PROBES) {
        const config = parseConfig(
          { probe: { id: probe.id, region: probe.region, isp: probe.isp, asn: 4134, resolvers: [dns.address] }, tasks: Object.values(tasks) },
          `fixture-${probe.id}.yaml`,
        );
        down = flakyFails(probe.id, round);
        const sink = {
          publish: async (r: ResultRecord) => void records.push(r),
          publishHeartbeat: async (h: Heartbeat) => void heartbeats.push(h),
          stats: () => ({ spoolDepth: 0, spoolDropped: 0, lastError: null }),
          close: async () => undefined,
        };
        const worker = new ProbeWorker({ config, sink, version: '0.1.0-test', log: silentLogger, serveMetrics: false, wallClock: () => at });
        await worker.runOnce();
        await worker.stop();
      }
    }
  } finally {
    down = false;
  }
  return {
    records,
    heartbeats,
    tasks,
    flakyTarget,
    async close() {
      await dns.close();
      await web.close();
    },
  };
}

/** The heartbeats a probe worker sends when it starts, at the given wall-clock time. */
export async function workerHeartbeat(probe: (typeof PROBES)[number], atMs: number): Promise<Heartbeat> {
  const config = parseConfig({ probe: { id: probe.id, region: probe.region, isp: probe.isp, asn: null, resolvers: ['127.0.0.1'] }, tasks: [] }, 'hb.yaml');
  const beats: Heartbeat[] = [];
  const sink = {
    publish: async () => undefined,
    publishHeartbeat: async (h: Heartbeat) => void beats.push(h),
    stats: () => ({ spoolDepth: 3, spoolDropped: 0, lastError: null }),
    close: async () => undefined,
  };
  const worker = new ProbeWorker({ config, sink, version: '0.1.0-test', log: silentLogger, serveMetrics: false, wallClock: () => atMs });
  await worker.start();
  for (let i = 0; i < 100 && beats.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await worker.stop();
  if (beats.length === 0) throw new Error(`probe ${probe.id} sent no heartbeat`);
  return beats[0]!;
}

/** Verdicts for the fixture's DNS records: `classOf` decides each record's class. */
export function fixtureVerdicts(records: readonly ResultRecord[], classOf: (r: ResultRecord) => VerdictClass): Verdict[] {
  return records
    .filter((r) => r.kind === 'dns')
    .map((r) => ({
      id: `${r.id}/${(r.keys as { queries: { server: string }[] }).queries[0]!.server}`,
      record_id: r.id,
      task_id: r.task_id,
      target: r.target,
      probe_id: r.probe_id,
      region: r.probe_region,
      isp: r.probe_isp,
      resolver: (r.keys as { queries: { server: string }[] }).queries[0]!.server,
      round: r.scheduled_at,
      started_at_ms: Date.parse(r.started_at),
      class: classOf(r),
      flags: [],
      rule: 'test-fixture',
      answer_ips: ['127.0.0.1'],
      expected_ips: ['127.0.0.1'],
      evidence: { note: 'fixture verdict', ips: { '127.0.0.1': { ground_truth: 'current' } } } as unknown as Verdict['evidence'],
    }));
}

/** Stores records, heartbeats and verdicts through the collector's store. */
export async function storeFixture(ch: ClickHouse, f: { records: readonly ResultRecord[]; heartbeats?: readonly Heartbeat[]; verdicts?: readonly Verdict[] }): Promise<void> {
  const store = new ClickHouseStore(ch);
  await store.insertResults(f.records);
  if (f.heartbeats?.length) await store.insertHeartbeats(f.heartbeats);
  if (f.verdicts?.length) {
    await ch.client.insert({ table: `${DATABASE}.${VERDICTS.name}`, values: f.verdicts.map((v) => verdictRow(v, Date.now())), format: 'JSONEachRow' });
  }
}

/** An alarm event in the alarm contract's shape (validated by the analyzer's own `alarmEvent`). */
export function makeAlarmEvent(o: Partial<AlarmEvent> & Pick<AlarmEvent, 'fingerprint' | 'kind' | 'seq' | 'at' | 'started_at'>): AlarmEvent {
  const problems: string[] = [];
  const e = alarmEvent(
    {
      schema: 1, event_id: `${o.fingerprint}-${o.seq}`, rule_id: 'web-availability', rule_kind: 'availability', severity: 'critical', task_id: 'acme-web', target: 'https://acme.test/',
      scope: 'region_isp', region: 'cn-east', isp: 'China Telecom', probe_id: '', labels: { team: 'web' }, summary: 'availability 80% < 99% over 5m',
      details: { ratio: 0.8, threshold: 0.99 }, links: ['/v1/verdicts/x'], duration_ms: null, resolve_reason: null, notify: true, maintenance: null, channels: ['ops-webhook'], ...o,
    },
    '',
    problems,
  );
  assert.equal(problems, [], 'a valid alarm event');
  return e;
}

/** 'YYYY-MM-DD hh:mm:ss' (UTC) of an ISO time, as DateTime columns take it. */
export const clickHouseTime = (iso: string) => new Date(Date.parse(iso)).toISOString().slice(0, 19).replace('T', ' ');

/** The vantage.alarm_events row of an event (the columns documented in collector/README.md). */
export function alarmRow(e: AlarmEvent, streamSeq: number) {
  return {
    event_id: e.event_id, kind: e.kind, seq: e.seq, fingerprint: e.fingerprint, rule_id: e.rule_id, rule_kind: e.rule_kind, severity: e.severity, task_id: e.task_id,
    target: e.target, scope: e.scope, region: e.region, isp: e.isp, probe_id: e.probe_id, label_keys: Object.keys(e.labels), label_values: Object.values(e.labels),
    summary: e.summary, details: JSON.stringify(e.details), links: e.links, started_at: clickHouseTime(e.started_at), started_at_ms: Date.parse(e.started_at), at: clickHouseTime(e.at),
    at_ms: Date.parse(e.at), duration_ms: e.duration_ms, resolve_reason: e.resolve_reason ?? '', notify: e.notify ? 1 : 0, maintenance: e.maintenance ?? '',
    channels: e.channels, stream_seq: streamSeq, inserted_at: clickHouseTime(e.at),
  };
}
