/**
 * Shared pieces of the collector's end-to-end and fault tests: real servers on loopback (NATS,
 * clickhouse-server 18.16), `vantage collector` and `vantage probe` as child processes, paced
 * publishing through the probe's own JetStreamPublisher, known record sets, and the exact-count
 * checks every fault test ends with. Every process started here is tracked by PID and killed by
 * `cleanupAll()` (and, as a last resort, when the test process exits). Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type ConsumerInfo } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import * as assert from 'uvu/assert';
import { COLLECTOR_CONSUMER, RESULTS_STREAM, type ResultRecord } from '@vantage/probe';
import { openClickHouse, type ClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import { sqlString } from '../../collector/src/store/sql.ts';
import { validateRecord } from '../../probe/src/contract/validate.ts';
import { JetStreamPublisher } from '../../probe/src/publish/publisher.ts';
import { newRecordId } from '../../probe/src/run/record-id.ts';
import { startClickHouseServer, TEST_PASSWORD, TEST_USER, type ClickHouseServer } from '../helpers/clickhouse-server.ts';
import { rows } from '../helpers/clickhouse-engines.ts';
import { makeDnsRecord, makeHttpRecord, makePingRecord, type RecordOptions } from '../helpers/kind-records.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { makeRecord } from '../helpers/records.ts';
import { sleep, waitFor as sharedWaitFor, within as sharedWithin, type WaitOptions } from '../helpers/wait.ts';

export { rows, sleep };

const VANTAGE = new URL('../../bin/vantage.mjs', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;

// --- bounded waits -----------------------------------------------------------------------------

/** Collector tests poll ClickHouse: a longer default and a slower poll than the shared helper's. */
export function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, opts: WaitOptions = {}): Promise<T> {
  return sharedWaitFor(what, check, { timeoutMs: 20_000, intervalMs: 200, ...opts });
}

export function within<T>(what: string, promise: Promise<T>, timeoutMs = 20_000): Promise<T> {
  return sharedWithin(what, promise, timeoutMs);
}

// --- cleanup -----------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void> | void> = [];
const children = new Set<ChildProcess>();

/** Kill anything still running if the test process itself goes away (a crash, a time limit). */
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Runs `fn` in cleanupAll(), newest first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** For `after`/`after.each` hooks: stops every process and removes every dir, each step bounded. */
export async function cleanupAll(): Promise<void> {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    await within('cleanup', Promise.resolve().then(fn), 20_000).catch((err: Error) => process.stderr.write(`cleanup failed: ${err.message}\n`));
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vantage-${prefix}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// --- servers -----------------------------------------------------------------------------------

export interface Servers {
  nats: NatsServer;
  clickhouse: ClickHouseServer;
  /** A client of the test's own on the server (the collector's user, with its quoted password). */
  db: ClickHouse;
  /** Environment for a collector that stores into this server. */
  env: NodeJS.ProcessEnv;
}

/** A nats-server and a clickhouse-server, both on free loopback ports, cleaned up by cleanupAll(). */
export async function startServers(opts: { natsConfig?: string } = {}): Promise<Servers> {
  const nats = await startNatsServer({ config: opts.natsConfig });
  onCleanup(() => nats.cleanup());
  const clickhouse = await startClickHouseServer();
  onCleanup(() => clickhouse.cleanup());
  const db = await openClickHouse({ engine: 'server', url: clickhouse.url, username: TEST_USER, password: TEST_PASSWORD, requestTimeoutMs: 10_000 });
  onCleanup(() => db.close());
  return { nats, clickhouse, db, env: { CLICKHOUSE_URL: clickhouse.url, CLICKHOUSE_USER: TEST_USER, CLICKHOUSE_PASSWORD: TEST_PASSWORD } };
}

// --- processes ---------------------------------------------------------------------------------

export interface VantageProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly running: boolean;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** stderr (JSON log lines), the last 256 KiB. */
  logs(): string;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for the exit (SIGKILL after `limitMs`); the exit code. */
  stop(limitMs?: number): Promise<number | null>;
}

function spawnVantage(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): VantageProcess {
  const child = spawn(process.execPath, [VANTAGE, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-262_144);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  onCleanup(async () => {
    if (running()) child.kill('SIGKILL');
    await within('process exit after SIGKILL', exited, 10_000).catch(() => undefined);
  });
  return {
    child,
    pid: child.pid!,
    get running() {
      return running();
    },
    exited,
    logs: () => log,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await within(`exit of pid ${child.pid} after SIGKILL`, exited, 10_000);
    },
    async stop(limitMs = 30_000) {
      if (running()) child.kill('SIGTERM');
      try {
        return await within(`exit of pid ${child.pid} after SIGTERM`, exited, limitMs);
      } catch (err) {
        child.kill('SIGKILL');
        await exited;
        throw err;
      }
    },
  };
}

/** The environment of a child: ours without any NATS/ClickHouse settings, plus `extra`. */
function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (/^(NATS_|CLICKHOUSE_)/.test(key)) delete env[key];
  return { ...env, ...extra };
}

export interface CollectorProcess extends VantageProcess {
  /** http://127.0.0.1:PORT of /metrics and /healthz. */
  readonly metricsUrl: string;
  health(): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The value of a counter/gauge with these labels (default: the results consumer); 0 when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export interface CollectorOptions {
  natsUrl: string;
  /** Servers.env for clickhouse-server; without it, embedded chDB in `dataDir`. */
  env?: NodeJS.ProcessEnv;
  dataDir?: string;
  batchSize?: number;
  batchMs?: number;
  /** --max-ack-pending (the default is 4 × the batch size). */
  maxAckPending?: number;
}

/** `vantage collector` as a process; resolves once it logged "collector started". */
export async function startCollector(o: CollectorOptions): Promise<CollectorProcess> {
  const args = ['collector', '--nats-url', o.natsUrl, '--metrics-listen', '127.0.0.1:0', '--batch-size', String(o.batchSize ?? 500), '--batch-ms', String(o.batchMs ?? 100)];
  if (o.dataDir) args.push('--data', o.dataDir);
  if (o.maxAckPending) args.push('--max-ack-pending', String(o.maxAckPending));
  const proc = spawnVantage(args, childEnv(o.env ?? {}));
  const started = await waitFor('"collector started" in the log', () => {
    if (!proc.running) throw new Error(`collector exited early:\n${proc.logs()}`);
    const line = proc.logs().split('\n').find((l) => l.includes('"msg":"collector started"'));
    return line ? (JSON.parse(line) as { metrics: string }) : null;
  }, { timeoutMs: 30_000, intervalMs: 50, detail: () => proc.logs() }).catch(async (err) => {
    await proc.kill();
    throw err;
  });
  const metricsUrl = started.metrics.replace('0.0.0.0', '127.0.0.1');
  const get = (path: string) => fetch(`${metricsUrl}${path}`, { signal: AbortSignal.timeout(3000) });
  return {
    child: proc.child,
    pid: proc.pid,
    get running() {
      return proc.running;
    },
    exited: proc.exited,
    logs: proc.logs,
    kill: proc.kill,
    stop: proc.stop,
    metricsUrl,
    async health() {
      const res = await get('/healthz');
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async metric(name: string, labels: Record<string, string> = { consumer: COLLECTOR_CONSUMER }) {
      const text = await (await get('/metrics')).text();
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      for (const line of text.split('\n')) {
        const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
        if (m && m[1] === name && wanted.every((w) => m[2]!.split(',').includes(w))) return Number(m[3]);
      }
      return 0;
    },
  };
}

/** `vantage probe --config FILE` as a process (the caller stops it). */
export function startProbe(configFile: string): VantageProcess {
  return spawnVantage(['probe', '--config', configFile], childEnv({}));
}

/** A probe config with one task of every kind against loopback servers, run every second. */
export function writeProbeConfig(dir: string, o: { probeId: string; natsUrl: string; dnsAddress: string; webPort: number; tcpPort: number }): string {
  const schedule = '* * * * * *';
  const file = join(dir, `${o.probeId}.yaml`);
  writeFileSync(file, `
probe:
  id: ${o.probeId}
  region: test-region
  isp: loopback
  asn: 64500
  labels: { tier: test, "rack name": "r'1" }
  resolvers: ["${o.dnsAddress}"]
nats:
  url: ${o.natsUrl}
spool: ./spool-${o.probeId}
metrics:
  listen: 127.0.0.1:0
tasks:
  - { id: shop-dns, kind: dns, target: shop.test, schedule: "${schedule}", timeout: 500ms, dns: { types: [A] } }
  - { id: shop-http, kind: http, target: "http://shop.test:${o.webPort}/", schedule: "${schedule}", timeout: 500ms, http: { expect_status: [200], body_regexp: "welcome" } }
  - { id: shop-tcp, kind: tcp, target: "127.0.0.1:${o.tcpPort}", schedule: "${schedule}", timeout: 500ms }
  - { id: loop-ping, kind: ping, target: 127.0.0.1, schedule: "${schedule}", timeout: 900ms, ping: { count: 1, interval: 200ms } }
`);
  return file;
}

// --- NATS --------------------------------------------------------------------------------------

/** A test connection that reconnects by itself (for servers restarted under it). */
export async function natsClient(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5000 });
  onCleanup(() => nc.close().catch(() => undefined));
  return nc;
}

export async function consumerInfo(nc: NatsConnection, stream = RESULTS_STREAM, name = COLLECTOR_CONSUMER): Promise<ConsumerInfo> {
  return (await jetstreamManager(nc, { timeout: 3000 })).consumers.info(stream, name);
}

/** Every message of a stream, in order, as text. */
export async function streamPayloads(nc: NatsConnection, stream: string): Promise<Array<{ seq: number; subject: string; data: string }>> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const info = await jsm.streams.info(stream);
  const out: Array<{ seq: number; subject: string; data: string }> = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (!m) throw new Error(`${stream}: message ${seq} is missing`);
    out.push({ seq: m.seq, subject: m.subject, data: new TextDecoder().decode(m.data) });
  }
  return out;
}

/** The probe's own publisher (Nats-Msg-Id = record id, spool on disk while NATS is away). */
export function startPublisher(natsUrl: string): JetStreamPublisher {
  const publisher = new JetStreamPublisher(
    {
      nats: { url: natsUrl, credentials: null, nkeySeedFile: null, user: null, password: null, token: null },
      spool: { dir: join(tempDir('spool'), 'spool'), maxBytes: 256 * 1024 * 1024 },
      probe: { id: 'test-publisher' },
    },
    { link: { retryDelayMs: 250 }, retryDelayMs: 250 },
  );
  onCleanup(() => within('publisher close', publisher.close(), 10_000));
  return publisher;
}

/**
 * Publishes `records` at about `perSecond`, in bursts every 50 ms, each resolving once JetStream
 * acked it or it is in the spool; `at(ms)` callbacks run (awaited, in order) once that much time
 * passed since the start. Returns when everything is in JetStream (the spool is empty).
 */
export async function publishPaced(
  publisher: JetStreamPublisher,
  records: readonly ResultRecord[],
  perSecond: number,
  events: Array<{ atMs: number; run: () => Promise<void> }> = [],
): Promise<void> {
  const started = Date.now();
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  const pending = [...events].sort((a, b) => a.atMs - b.atMs);
  let eventChain = Promise.resolve();
  const fire = () => {
    while (pending.length > 0 && Date.now() - started >= pending[0]!.atMs) {
      const event = pending.shift()!;
      eventChain = eventChain.then(event.run);
    }
  };
  // Each publish settles to its error or null, so none is left unobserved if an event fails.
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0, tick = 0; i < records.length; tick++) {
    fire();
    for (const record of records.slice(i, i + perTick)) inFlight.push(publisher.publish(record).then(() => null, (err: unknown) => err));
    i += perTick;
    const wait = started + (tick + 1) * tickMs - Date.now();
    if (wait > 0) await sleep(wait);
  }
  while (pending.length > 0) {
    await sleep(Math.max(0, started + pending[0]!.atMs - Date.now()));
    fire();
  }
  await eventChain;
  const failed = (await within('every publish acked or spooled', Promise.all(inFlight), 60_000)).filter((e) => e !== null);
  assert.equal(failed.map(String), [], 'every publish resolved');
  await waitFor('the publisher spool drained into JetStream', () => publisher.stats().spoolDepth === 0, {
    timeoutMs: 60_000,
    detail: () => JSON.stringify(publisher.stats()),
  });
}

// --- records -----------------------------------------------------------------------------------

/** A valid tcp record at a given time, ok or refused. */
export function makeTcpRecord(o: RecordOptions): ResultRecord {
  const at = o.atMs ?? Date.now();
  const ok = o.ok ?? true;
  return validateRecord({
    ...makeRecord(o.probeId, o.taskId, 0),
    id: newRecordId(at),
    scheduled_at: new Date(Math.floor(at / 1000) * 1000).toISOString(),
    started_at: new Date(at).toISOString(),
    duration_ms: o.durationMs ?? 0.4,
    ok,
    failure: ok ? null : 'connection_refused',
    failure_detail: ok ? null : 'ECONNREFUSED',
  });
}

/**
 * `count` valid records of all four kinds over `probes` × `tasks` (a task keeps one kind), started
 * over the last `minutes` minutes, about a third of the http and tcp ones failed.
 */
export function recordSet(count: number, o: { probes?: string[]; tasks?: number; minutes?: number; nowMs?: number } = {}): ResultRecord[] {
  const probes = o.probes ?? ['probe-a', 'probe-b', 'probe-c'];
  const tasks = o.tasks ?? 8;
  const spanMs = (o.minutes ?? 6) * 60_000;
  const end = o.nowMs ?? Date.now() - 1000;
  const makers = [makeHttpRecord, makeDnsRecord, makePingRecord, makeTcpRecord];
  const out: ResultRecord[] = [];
  for (let i = 0; i < count; i++) {
    const task = Math.floor(i / probes.length) % tasks;
    const make = makers[task % makers.length]!;
    const failed = (make === makeHttpRecord || make === makeTcpRecord) && (i * 7919) % 3 === 0;
    out.push(make({
      probeId: probes[i % probes.length]!,
      taskId: `task-${task}`,
      atMs: end - spanMs + Math.floor((i * spanMs) / count),
      ok: !failed,
      durationMs: 1 + ((i * 37) % 500) / 4,
    }));
  }
  return out;
}

// --- ClickHouse checks -------------------------------------------------------------------------

/**
 * The records as `engine` stores them. chDB stores every field exactly. clickhouse-server 18.16
 * parses float text (JSONEachRow, like every text format) with its fast parser, which can land one
 * ulp off — `toFloat64('1.402')` is 1.4020000000000001 there — so on the server a Float64 column
 * (duration_ms, the timings) must equal the published value or exactly what that server makes of
 * the value's shortest text, asked from the server itself; everything else must match as is.
 * Returns the records to compare with and how many values the server's parser changed.
 */
export async function asStoredBy(db: ClickHouse, records: readonly ResultRecord[]): Promise<{ records: ResultRecord[]; changedByServer: number }> {
  if (db.engine === 'chdb') return { records: [...records], changedByServer: 0 };
  const floats = new Set<number>();
  for (const r of records) {
    floats.add(r.duration_ms);
    for (const v of Object.values(r.timings_ms)) if (v !== undefined) floats.add(v);
  }
  const texts = [...floats].map((v) => JSON.stringify(v));
  const parsed = new Map<string, number>();
  for (let i = 0; i < texts.length; i += 500) {
    const chunk = texts.slice(i, i + 500);
    const found = await rows<{ text: string; value: number }>(db, `SELECT t AS text, toFloat64(t) AS value FROM (SELECT arrayJoin([${chunk.map(sqlString).join(', ')}]) AS t)`);
    for (const row of found) parsed.set(row.text, Number(row.value));
  }
  let changedByServer = 0;
  const server = (v: number): number => {
    const p = parsed.get(JSON.stringify(v));
    if (p === undefined) throw new Error(`no server parse of ${v}`);
    if (p !== v) changedByServer++;
    return p;
  };
  const out = records.map((r) => ({
    ...r,
    duration_ms: server(r.duration_ms),
    timings_ms: Object.fromEntries(Object.entries(r.timings_ms).map(([phase, v]) => [phase, v === undefined ? v : server(v)])),
  }) as ResultRecord);
  return { records: out, changedByServer };
}

export async function scalar(db: ClickHouse, query: string): Promise<number> {
  const [row] = await rows<{ n: number | string }>(db, query);
  return Number(row!.n);
}

export interface Counts {
  rows: number;
  ids: number;
}

/** count() and uniqExact(id) of vantage.results, with or without FINAL. */
export async function resultCounts(db: ClickHouse, final: boolean): Promise<Counts> {
  const [row] = await rows<{ rows: number; ids: number }>(db, `SELECT count() AS rows, uniqExact(id) AS ids FROM vantage.results${final ? ' FINAL' : ''}`);
  return { rows: Number(row!.rows), ids: Number(row!.ids) };
}

/**
 * Waits until all `records` are stored and the durable consumer has nothing pending or unacked
 * (so nothing more can be inserted), bounded by `timeoutMs`.
 */
export async function waitAllStored(db: ClickHouse, nc: NatsConnection, records: readonly ResultRecord[], timeoutMs: number, detail?: () => string): Promise<void> {
  await waitFor(`${records.length} distinct ids stored, and every message acked`, async () => {
    const { ids } = await resultCounts(db, false);
    if (ids < records.length) return null;
    const info = await consumerInfo(nc);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }, {
    timeoutMs,
    intervalMs: 500,
    detail: async () => {
      const counts = await resultCounts(db, false).catch((e: Error) => e.message);
      const info = await consumerInfo(nc).then((i) => ({ pending: i.num_pending, ack_pending: i.num_ack_pending, redelivered: i.num_redelivered }), (e: Error) => e.message);
      return `stored: ${JSON.stringify(counts)}; consumer: ${JSON.stringify(info)}${detail ? `\n${detail().slice(-4000)}` : ''}`;
    },
  });
}

type Cell = { task_id: string; probe_id: string; minute: number; checks: number; successes: number };

const cellKey = (c: Pick<Cell, 'task_id' | 'probe_id' | 'minute'>) => `${c.task_id}|${c.probe_id}|${c.minute}`;

function normalizeCells(cells: Cell[]): Cell[] {
  return cells
    .map((c) => ({ task_id: c.task_id, probe_id: c.probe_id, minute: Number(c.minute), checks: Number(c.checks), successes: Number(c.successes) }))
    .sort((a, b) => (cellKey(a) < cellKey(b) ? -1 : cellKey(a) > cellKey(b) ? 1 : 0));
}

/** Checks and successes per task × probe × minute, counted from the records themselves. */
export function expectedCells(records: readonly ResultRecord[]): Cell[] {
  const cells = new Map<string, Cell>();
  for (const r of records) {
    const minute = Math.floor(Date.parse(r.started_at) / 60_000) * 60;
    const key = cellKey({ task_id: r.task_id, probe_id: r.probe_id, minute });
    const cell = cells.get(key) ?? { task_id: r.task_id, probe_id: r.probe_id, minute, checks: 0, successes: 0 };
    cell.checks++;
    if (r.ok) cell.successes++;
    cells.set(key, cell);
  }
  return normalizeCells([...cells.values()]);
}

/**
 * The end state every fault test demands: each published record stored exactly once (count() and
 * uniqExact(id), with and without FINAL, and the very ids), and the per-minute rollup equal, cell
 * for cell, to the counts of the published records and to the raw table under FINAL.
 */
export async function assertExactlyStored(db: ClickHouse, records: readonly ResultRecord[]): Promise<void> {
  const n = records.length;
  assert.equal(await resultCounts(db, false), { rows: n, ids: n }, 'count() and uniqExact(id) without FINAL');
  assert.equal(await resultCounts(db, true), { rows: n, ids: n }, 'count() and uniqExact(id) with FINAL');
  const stored = new Set((await rows<{ id: string }>(db, 'SELECT toString(id) AS id FROM vantage.results')).map((r) => r.id));
  const missing = records.filter((r) => !stored.has(r.id)).map((r) => r.id);
  assert.equal(missing, [], 'every published id is stored');

  const expected = expectedCells(records);
  const rollup = normalizeCells(await rows<Cell>(db, `
    SELECT task_id, probe_id, toUInt32(minute) AS minute, countMerge(checks) AS checks, sumMerge(successes) AS successes
    FROM vantage.results_1m GROUP BY task_id, probe_id, minute`));
  const raw = normalizeCells(await rows<Cell>(db, `
    SELECT task_id, probe_id, toUInt32(toStartOfMinute(started_at)) AS minute, count() AS checks, sum(ok) AS successes
    FROM vantage.results FINAL GROUP BY task_id, probe_id, minute`));
  assert.equal(raw, expected, 'raw (FINAL) counts per task × probe × minute = the published records');
  assert.equal(rollup, expected, 'results_1m checks/successes per task × probe × minute = the published records');
  const successes = records.filter((r) => r.ok).length;
  for (const table of ['results_1h', 'results_1d']) {
    const [total] = await rows<{ checks: number; successes: number }>(db, `SELECT countMerge(checks) AS checks, sumMerge(successes) AS successes FROM vantage.${table}`);
    assert.equal({ checks: Number(total!.checks), successes: Number(total!.successes) }, { checks: n, successes }, table);
  }
}
