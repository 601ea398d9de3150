/**
 * Collector bench (npm run bench:collector): records per second from VANTAGE_RESULTS into
 * ClickHouse, end to end with acks, by `vantage collector` (the bundle, as production runs it) on
 * clickhouse-server 18.16 and on embedded chDB, next to references measured in the same run on the
 * same messages and rows: plain JetStream fetch+ack, clickhouse-client inserting the same rows,
 * and one raw @clickhouse/client insert of them. Prints a table and one JSON line. See
 * test/bench/README.md.
 *
 *   node --import tsx test/bench/collector-bench.ts [--records N] [--cpu-prof DIR]
 *     [--batch-size N] [--batch-ms MS] [--node-flags="FLAGS"]
 *
 * --cpu-prof DIR: the collector children run with `node --cpu-prof`; their profiles land in DIR.
 * --batch-size, --batch-ms: passed to `vantage collector` (default: its defaults, as the figures
 * are defined); --node-flags=FLAGS: extra node flags for the collector (--node-flags=--max-semi-space-size=16).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { COLLECTOR_CONSUMER, RESULTS_STREAM, resultSubject, type ResultRecord } from '@vantage/probe';
import { ensureStreams } from '../../probe/src/publish/streams.ts';
import { durableConfig } from '../../collector/src/transport/durable-consumer.ts';
import { openClickHouse, type ClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import { resultRow } from '../../collector/src/store/rows.ts';
import { startClickHouseServer, type ClickHouseServer } from '../helpers/clickhouse-server.ts';
import { rows } from '../helpers/clickhouse-engines.ts';
import { makeDnsRecord, makeHttpRecord, makePingRecord } from '../helpers/kind-records.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { makeRecord } from '../helpers/records.ts';
import { sleep } from '../helpers/wait.ts';
import { newRecordId } from '../../probe/src/run/record-id.ts';
import { fmt, measure, perSecond, pidStopper, ratio, runTimed, table, benchWorkspace } from './bench-tools.ts';

const HERE = new URL('.', import.meta.url).pathname;
const BUNDLE = join(HERE, '../../dist/vantage.mjs');
const { values: opts } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    'cpu-prof': { type: 'string' },
    'batch-size': { type: 'string' },
    'batch-ms': { type: 'string' },
    'node-flags': { type: 'string', default: '' },
  },
});
const RECORDS = Number(opts.records);
const CPU_PROF_DIR = opts['cpu-prof'] === undefined ? null : resolve(opts['cpu-prof']);
const COLLECTOR_NODE_FLAGS = opts['node-flags'].split(' ').filter((f) => f.length > 0);
const COLLECTOR_ARGS = [
  ...(opts['batch-size'] === undefined ? [] : ['--batch-size', opts['batch-size']]),
  ...(opts['batch-ms'] === undefined ? [] : ['--batch-ms', opts['batch-ms']]),
];
/** Publishes in flight while the stream is loaded (not timed). */
const PUBLISH_IN_FLIGHT = 1000;
/** The plain consumer fetches this many per pull (as the research notes measured). */
const PLAIN_FETCH = 1000;
/** How often the drain is checked (consumer info, and the row count on the server). */
const POLL_MS = 25;
/** One drain may take this long at most. */
const DRAIN_LIMIT_MS = 60_000;
/** Background merges may run this long before a timed part starts anyway. */
const QUIET_LIMIT_MS = 15_000;
const WATCHDOG_MS = 240_000;
/** Half of plain JetStream fetch+ack measured on this machine kind (~72k/s). */
const TARGET_PER_SECOND = 36_000;
const PLAIN_CONSUMER = 'bench-plain';
const CLK_TCK = 100;

// --- processes and temp dirs, all undone at the end (or on a signal, or by the watchdog) -------

const { root, undo, finish } = benchWorkspace('collector-bench', WATCHDOG_MS);

const round = (n: number) => Math.round(n * 10) / 10;
const benchStart = performance.now();
/** Progress on stderr, with the time since the bench started. */
const progress = (what: string) => process.stderr.write(`[${((performance.now() - benchStart) / 1000).toFixed(1)} s] ${what}\n`);

// --- CPU of other processes, from /proc -----------------------------------------------------------

/** user+system CPU of a process (µs), from /proc/PID/stat; NaN once it is gone. */
function procCpuUs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1e6; // utime, stime
  } catch {
    return NaN;
  }
}

/** The PID of this process's child running `comm` (the server helpers do not expose theirs). */
function childPid(comm: string): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && command === comm) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** CPU of the servers (and optionally one more process) over a part of the run. */
class CpuMeter {
  readonly #pids: Record<string, number | undefined>;
  #start: Record<string, number> = {};
  constructor(pids: Record<string, number | undefined>) {
    this.#pids = pids;
  }
  start(): void {
    this.#start = Object.fromEntries(Object.entries(this.#pids).map(([k, pid]) => [k, procCpuUs(pid)]));
  }
  /** µs of CPU per record for each process since start(). */
  perRecord(count: number): Record<string, number> {
    return Object.fromEntries(Object.entries(this.#pids).map(([k, pid]) => [k, round((procCpuUs(pid) - this.#start[k]) / count)]));
  }
}

// --- the records: a mix of kinds, ~1 KB each, as probes send them ------------------------------

const PROBES = 50;
const TASKS = 400;
/** Records were made over the 20 minutes before the bench (a backlog to drain). */
const SPREAD_MS = 20 * 60_000;

/**
 * Record `i`: 25% dns, 35% http, 30% tcp, 10% ping, from 50 probes and 400 tasks, one in 13
 * failed. The helpers build (and validate) one record per kind, probe and outcome; each record is
 * a copy with its own id, task, times and duration.
 */
function recordMaker(baseMs: number): (i: number) => ResultRecord {
  const templates = new Map<string, ResultRecord>();
  const template = (slot: number, probeId: string, ok: boolean): ResultRecord => {
    const kind = slot < 5 ? 'dns' : slot < 12 ? 'http' : slot < 18 ? 'tcp' : 'ping';
    const key = `${kind} ${probeId} ${ok}`;
    let record = templates.get(key);
    if (!record) {
      const o = { probeId, taskId: 'bench-task-000', atMs: baseMs, ok };
      record = kind === 'dns' ? makeDnsRecord(o) : kind === 'http' ? makeHttpRecord(o) : kind === 'tcp' ? makeRecord(probeId, o.taskId, 0) : makePingRecord(o);
      templates.set(key, record);
    }
    return record;
  };
  return (i) => {
    const probeId = `bench-probe-${String(i % PROBES).padStart(2, '0')}`;
    const atMs = baseMs + Math.floor((i * SPREAD_MS) / RECORDS);
    const record: ResultRecord = {
      ...template(i % 20, probeId, i % 13 !== 0),
      id: newRecordId(atMs),
      task_id: `bench-task-${String(Math.floor(i / PROBES) % TASKS).padStart(3, '0')}`,
      scheduled_at: new Date(Math.floor(atMs / 1000) * 1000).toISOString(),
      started_at: new Date(atMs).toISOString(),
      duration_ms: 5 + (i % 997) / 10,
    };
    return record;
  };
}

interface Loaded {
  bytes: number;
  publish: { perSecond: number; seconds: number };
}

/**
 * Builds the records, writes their rows (the store's own mapping) as JSONEachRow for the
 * references, and publishes them to VANTAGE_RESULTS with 1000 in flight. Not timed for the figures.
 */
async function loadStream(nc: NatsConnection, rowsFile: string): Promise<Loaded> {
  const benchRecord = recordMaker(Date.now() - SPREAD_MS - 60_000);
  const insertedAt = Date.now();
  const payloads: { subject: string; data: string; id: string }[] = [];
  const rowLines = createWriteStream(rowsFile);
  let bytes = 0;
  for (let i = 0; i < RECORDS; i++) {
    const record = benchRecord(i);
    const data = JSON.stringify(record);
    bytes += Buffer.byteLength(data);
    payloads.push({ subject: resultSubject(record.kind, record.probe_id), data, id: record.id });
    if (!rowLines.write(`${JSON.stringify(resultRow(record, insertedAt))}\n`)) await once(rowLines, 'drain');
  }
  rowLines.end();
  await once(rowLines, 'finish');
  const js = jetstream(nc);
  const published = await measure(RECORDS, PUBLISH_IN_FLIGHT, async (i) => {
    const p = payloads[i];
    await js.publish(p.subject, p.data, { msgID: p.id, timeout: 30_000 });
  });
  return { bytes, publish: { perSecond: round(perSecond(published)), seconds: round(published.wallMs / 1000) } };
}

// --- draining: until the consumer has nothing pending or unacked --------------------------------

/**
 * Polls the consumer until num_pending and num_ack_pending are 0 (and `also()` holds); returns
 * performance.now() of that poll. A missing consumer (not created yet) counts as not drained.
 */
async function drained(jsm: JetStreamManager, consumer: string, also: () => Promise<boolean> = async () => true): Promise<number> {
  const deadline = performance.now() + DRAIN_LIMIT_MS;
  for (;;) {
    const info = await jsm.consumers.info(RESULTS_STREAM, consumer).catch(() => null);
    if (info && info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= RECORDS && (await also())) return performance.now();
    if (performance.now() > deadline) {
      throw new Error(`consumer ${consumer} not drained after ${DRAIN_LIMIT_MS / 1000} s: ${info ? `pending ${info.num_pending}, ack pending ${info.num_ack_pending}` : 'no consumer'}`);
    }
    await sleep(POLL_MS);
  }
}

/** Waits (bounded) until the server runs no merges, so a timed part does not pay for the last one's. */
async function quiet(ch: ClickHouse): Promise<void> {
  const started = Date.now();
  while (Date.now() < started + QUIET_LIMIT_MS) {
    const [row] = await rows<{ n: number }>(ch, 'SELECT count() AS n FROM system.merges');
    if (Number(row.n) === 0) break;
    await sleep(100);
  }
  if (Date.now() - started > 500) progress(`waited ${((Date.now() - started) / 1000).toFixed(1)} s for merges to end`);
}

async function count(ch: ClickHouse, table: string): Promise<number> {
  const [row] = await rows<{ n: number }>(ch, `SELECT count() AS n FROM ${table}`);
  return Number(row.n);
}

// --- 1. plain JetStream fetch+ack ------------------------------------------------------------------

interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
}
const rate = (n: number, ms: number): Rate => ({ count: n, seconds: round(ms / 1000), perSecond: round(n / (ms / 1000)) });

/**
 * A durable pull consumer (the collector's settings) in this process: fetch 1000, JSON.parse and
 * ack each message, until every message is delivered and the server holds no unacked one.
 */
async function plainFetchAck(nc: NatsConnection, jsm: JetStreamManager, meter: CpuMeter) {
  await jsm.consumers.add(RESULTS_STREAM, durableConfig({ stream: RESULTS_STREAM, name: PLAIN_CONSUMER, ackWaitMs: 30_000, maxAckPending: 20_000 }));
  const consumer = await jetstream(nc).consumers.get(RESULTS_STREAM, PLAIN_CONSUMER);
  meter.start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  let received = 0;
  let parsedKinds = 0;
  while (received < RECORDS) {
    const messages = await consumer.fetch({ max_messages: PLAIN_FETCH, expires: 2000 });
    for await (const msg of messages) {
      if ((JSON.parse(msg.string()) as ResultRecord).kind) parsedKinds++;
      msg.ack();
      received++;
    }
  }
  const ended = await drained(jsm, PLAIN_CONSUMER);
  const used = process.cpuUsage(cpu);
  const servers = meter.perRecord(RECORDS);
  await jsm.consumers.delete(RESULTS_STREAM, PLAIN_CONSUMER);
  if (parsedKinds !== RECORDS) throw new Error(`plain fetch+ack parsed ${parsedKinds} of ${RECORDS}`);
  return { ...rate(RECORDS, ended - started), fetch: PLAIN_FETCH, cpuUsPerRecord: { consumer: round((used.user + used.system) / RECORDS), ...servers } };
}

// --- 2. the collector, end to end ----------------------------------------------------------------

interface CollectorRun {
  engine: 'server' | 'chdb';
  /** From the "collector started" log line (store open, migrations applied) to drained. */
  drain: Rate;
  /** From the spawn to drained (node start, chDB load, migrations included). */
  withStartup: Rate;
  startupSeconds: number;
  cpuUsPerRecord: Record<string, number>;
  insertedMetric: number;
  warnings: string[];
}

/**
 * Runs `node dist/vantage.mjs collector` with default batch settings on a fresh `collector`
 * consumer (the whole stream to deliver), and times it until the consumer is drained and, on the
 * server, `SELECT count() FROM vantage.results` equals the records. Then stops it by PID (SIGTERM).
 */
async function runCollector(engine: 'server' | 'chdb', env: { nats: NatsServer; clickhouse: ClickHouseServer; ch: ClickHouse; jsm: JetStreamManager; pids: Record<string, number | undefined>; dataDir: string }): Promise<CollectorRun> {
  await env.jsm.consumers.delete(RESULTS_STREAM, COLLECTOR_CONSUMER).catch(() => undefined);
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.CLICKHOUSE_URL;
  delete childEnv.CLICKHOUSE_USER;
  delete childEnv.CLICKHOUSE_PASSWORD;
  if (engine === 'server') childEnv.CLICKHOUSE_URL = env.clickhouse.url;
  const nodeFlags = [...COLLECTOR_NODE_FLAGS, ...(CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, `--cpu-prof-name=collector-${engine}-${Date.now()}.cpuprofile`] : [])];
  const args = [...nodeFlags, BUNDLE, 'collector', '--nats-url', env.nats.url, '--metrics-listen', '127.0.0.1:0', '--data', env.dataDir, ...COLLECTOR_ARGS];

  const spawned = performance.now();
  const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  const stopChild = pidStopper(child, 30_000); // the collector's own stop allows 20 s
  undo.push(stopChild);
  const warnings: string[] = [];
  let stopping = false; // its own "nats closed" at the stop is no warning
  let metricsUrl = '';
  const started = new Promise<number>((resolveStarted, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      let entry: { level?: string; msg?: string; metrics?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        warnings.push(line.slice(0, 300));
        return;
      }
      if (entry.msg === 'collector started') {
        metricsUrl = entry.metrics ?? '';
        resolveStarted(performance.now());
      } else if ((entry.level === 'warn' || entry.level === 'error') && !stopping) {
        warnings.push(line.slice(0, 300));
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`the collector (${engine}) exited (${code ?? signal}) before it started: ${warnings.join('\n')}`)));
  });
  const startedAt = await Promise.race([started, sleep(60_000).then(() => Promise.reject(new Error(`the collector (${engine}) did not start within 60 s`)))]);
  const meter = new CpuMeter({ collector: child.pid, ...env.pids });
  meter.start();
  const also = engine === 'server' ? async () => (await count(env.ch, 'vantage.results')) === RECORDS : undefined;
  const ended = await drained(env.jsm, COLLECTOR_CONSUMER, also);
  const cpuUsPerRecord = meter.perRecord(RECORDS);
  progress(`drained in ${((ended - startedAt) / 1000).toFixed(1)} s; stopping the collector`);
  const metrics = await (await fetch(`${metricsUrl.replace('0.0.0.0', '127.0.0.1')}/metrics`)).text();
  const insertedMetric = Number(/^vantage_collector_inserted_total\{consumer="collector"\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
  stopping = true;
  await stopChild();
  return {
    engine,
    drain: rate(RECORDS, ended - startedAt),
    withStartup: rate(RECORDS, ended - spawned),
    startupSeconds: round((startedAt - spawned) / 1000),
    cpuUsPerRecord,
    insertedMetric,
    warnings,
  };
}

// --- 3. references: the same rows inserted by clickhouse-client and by one raw client insert -----

/**
 * A copy of the results table and its rollups (tables, then the materialized views feeding them)
 * in database `db`, from SHOW CREATE of the collector's own schema: the reference pays for the
 * same views on insert.
 */
async function copyResultsSchema(ch: ClickHouse, db: string): Promise<void> {
  await ch.client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.client.command({ query: `CREATE DATABASE ${db}` });
  const tables = await rows<{ name: string; engine: string }>(ch,
    "SELECT name, engine FROM system.tables WHERE database = 'vantage' AND name LIKE 'results%' AND name NOT LIKE '.inner%' ORDER BY engine = 'MaterializedView', name");
  for (const { name } of tables) {
    const [row] = await rows<{ statement: string }>(ch, `SHOW CREATE TABLE vantage.${name}`);
    await ch.client.command({ query: row.statement.replace(/\bvantage\./g, `${db}.`) });
  }
}

async function clickhouseClientInsert(ch: ClickHouse, server: ClickHouseServer, rowsFile: string, pids: Record<string, number | undefined>) {
  const db = 'bench_ref_cli';
  await copyResultsSchema(ch, db);
  await quiet(ch);
  const meter = new CpuMeter(pids);
  meter.start();
  const started = performance.now();
  const run = await runTimed('clickhouse-client', ['--host', '127.0.0.1', '--port', String(server.tcpPort), '--query', `INSERT INTO ${db}.results FORMAT JSONEachRow`], join(root, 'clickhouse-client.time'), 60_000, rowsFile);
  const ms = performance.now() - started;
  const servers = meter.perRecord(RECORDS);
  if (run.code !== 0) throw new Error(`clickhouse-client failed (${run.code}): ${run.stderr.slice(-2000)}`);
  const stored = await count(ch, `${db}.results`);
  await ch.client.command({ query: `DROP DATABASE ${db}` });
  if (stored !== RECORDS) throw new Error(`clickhouse-client stored ${stored} of ${RECORDS} rows`);
  return { ...rate(RECORDS, ms), cpuUsPerRecord: { client: round(run.cpuUs / RECORDS), ...servers } };
}

async function rawClientInsert(ch: ClickHouse, rowsFile: string, pids: Record<string, number | undefined>) {
  const db = 'bench_ref_raw';
  await copyResultsSchema(ch, db);
  const values = readFileSync(rowsFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as object);
  await quiet(ch);
  const meter = new CpuMeter(pids);
  meter.start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await ch.client.insert({ table: `${db}.results`, values, format: 'JSONEachRow' });
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const servers = meter.perRecord(RECORDS);
  const stored = await count(ch, `${db}.results`);
  await ch.client.command({ query: `DROP DATABASE ${db}` });
  if (stored !== RECORDS) throw new Error(`the raw insert stored ${stored} of ${RECORDS} rows`);
  return { ...rate(RECORDS, ms), cpuUsPerRecord: { client: round((used.user + used.system) / RECORDS), ...servers } };
}

// --- the run -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!Number.isSafeInteger(RECORDS) || RECORDS < 1000) throw new Error(`--records must be a whole number ≥ 1000, got ${opts.records}`);
  if (CPU_PROF_DIR) mkdirSync(CPU_PROF_DIR, { recursive: true });
  progress('building the bundle');
  execFileSync(process.execPath, [join(HERE, '../../bin/build.mjs')]);

  const nats = await startNatsServer();
  undo.push(() => nats.cleanup());
  const clickhouse = await startClickHouseServer();
  undo.push(() => clickhouse.cleanup());
  const pids = { 'nats-server': childPid('nats-server'), 'clickhouse-server': childPid('clickhouse-serv') };
  const ch = await openClickHouse({ engine: 'server', url: clickhouse.url });
  undo.push(() => ch.close());
  const nc = await connect({ servers: nats.url });
  undo.push(() => nc.close());
  const jsm = await jetstreamManager(nc);
  await ensureStreams(nc);

  const rowsFile = join(root, 'rows.jsonl');
  progress(`building and publishing ${RECORDS} records`);
  const loaded = await loadStream(nc, rowsFile);

  progress('plain fetch+ack');
  const plain = await plainFetchAck(nc, jsm, new CpuMeter(pids));
  const collectorEnv = { nats, clickhouse, ch, jsm, pids };
  progress('collector on clickhouse-server');
  const server = await runCollector('server', { ...collectorEnv, dataDir: join(root, 'collector-server') });
  await quiet(ch);
  const chdbDir = join(root, 'collector-chdb');
  progress('collector on chDB');
  const chdb = await runCollector('chdb', { ...collectorEnv, dataDir: chdbDir });
  progress('clickhouse-client insert');
  const clickhouseClient = await clickhouseClientInsert(ch, clickhouse, rowsFile, pids);
  progress('raw @clickhouse/client insert');
  const rawClient = await rawClientInsert(ch, rowsFile, pids);

  progress('counting rows');
  // chDB allows one process per data dir: its row count is read here, after the collector exited.
  const chdbStore = await openClickHouse({ engine: 'chdb', path: join(chdbDir, 'chdb') });
  const chdbCount = await count(chdbStore, 'vantage.results');
  await chdbStore.close();
  const serverCount = await count(ch, 'vantage.results');

  report({ loaded, plain, server, chdb, clickhouseClient, rawClient, counts: { server: serverCount, chdb: chdbCount } });
  if (serverCount !== RECORDS || chdbCount !== RECORDS) throw new Error(`stored rows: server ${serverCount}, chdb ${chdbCount}, expected ${RECORDS}`);
}

function report(r: {
  loaded: Loaded;
  plain: Awaited<ReturnType<typeof plainFetchAck>>;
  server: CollectorRun;
  chdb: CollectorRun;
  clickhouseClient: Awaited<ReturnType<typeof clickhouseClientInsert>>;
  rawClient: Awaited<ReturnType<typeof rawClientInsert>>;
  counts: { server: number; chdb: number };
}): void {
  const tool = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
    } catch {
      return 'unknown';
    }
  };
  const env = {
    node: process.version,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    natsServer: tool('nats-server', ['--version']),
    clickhouseServer: tool('clickhouse-client', ['--version']).replace('ClickHouse client version', 'ClickHouse').replace(/\.$/, ''),
  };
  const avgBytes = Math.round(r.loaded.bytes / RECORDS);
  const cpuText = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  const row = (label: string, run: CollectorRun) => [
    label, fmt(run.drain.perSecond, 0), ratio(run.drain.perSecond, r.plain.perSecond), ratio(run.drain.perSecond, r.clickhouseClient.perSecond), ratio(run.drain.perSecond, TARGET_PER_SECOND),
  ];
  const lines = [
    ['collector, end to end with acks', 'records/s', '/ fetch+ack', '/ clickhouse-client', `/ target ${fmt(TARGET_PER_SECOND, 0)}`],
    row('clickhouse-server 18.16', r.server),
    row('chDB (embedded)', r.chdb),
  ];
  const refs = [
    ['reference, same messages / same rows, same run', 'records/s', 'µs CPU per record'],
    [`plain JetStream fetch(${r.plain.fetch}) + JSON.parse + ack`, fmt(r.plain.perSecond, 0), cpuText(r.plain.cpuUsPerRecord)],
    ['clickhouse-client INSERT … FORMAT JSONEachRow', fmt(r.clickhouseClient.perSecond, 0), cpuText(r.clickhouseClient.cpuUsPerRecord)],
    ['one raw @clickhouse/client insert (JSONEachRow)', fmt(r.rawClient.perSecond, 0), cpuText(r.rawClient.cpuUsPerRecord)],
  ];
  const out: string[] = [];
  out.push(`Vantage collector bench — ${env.cores} cores (${env.cpu}), Node ${env.node}, ${env.natsServer}, ${env.clickhouseServer}`);
  out.push(`${fmt(RECORDS, 0)} records (25% dns, 35% http, 30% tcp, 10% ping; ${avgBytes} bytes on average) preloaded into ${RESULTS_STREAM} ` +
    `(${fmt(r.loaded.publish.perSecond, 0)}/s with ${PUBLISH_IN_FLIGHT} in flight, not timed). Target: ≥${fmt(TARGET_PER_SECOND, 0)} records/s for one collector.`);
  out.push(`Collector: node ${[...COLLECTOR_NODE_FLAGS, 'dist/vantage.mjs collector', ...COLLECTOR_ARGS].join(' ')} (${COLLECTOR_ARGS.length ? 'batch settings given' : 'default batch settings'}). ` +
    `The target is also "half of plain fetch+ack": ${fmt(r.plain.perSecond / 2, 0)} records/s in this run (/ fetch+ack ≥ 0.50×).`);
  out.push('');
  out.push(table(lines));
  out.push('');
  out.push(table(refs));
  out.push('');
  for (const run of [r.server, r.chdb]) {
    out.push(`collector on ${run.engine}: ${fmt(run.drain.seconds)} s from "collector started" to drained (${fmt(run.withStartup.perSecond, 0)}/s counting its ${fmt(run.startupSeconds)} s start); ` +
      `µs CPU per record: ${cpuText(run.cpuUsPerRecord)}; inserted_total ${run.insertedMetric}${run.warnings.length ? `; ${run.warnings.length} warnings, first: ${run.warnings[0]}` : ''}`);
  }
  out.push(`Rows stored by the collectors: server ${r.counts.server}, chDB ${r.counts.chdb} (expected ${RECORDS}).`);
  console.log(out.join('\n'));
  console.log(JSON.stringify({
    bench: 'collector', env, records: RECORDS, avgBytes, targetPerSecond: TARGET_PER_SECOND, publish: r.loaded.publish,
    collectorCommand: { nodeFlags: COLLECTOR_NODE_FLAGS, args: COLLECTOR_ARGS },
    plainFetchAck: r.plain, collector: { server: r.server, chdb: r.chdb }, clickhouseClient: r.clickhouseClient, rawClient: r.rawClient,
    ratios: {
      server: { toFetchAck: round3(r.server.drain.perSecond / r.plain.perSecond), toClickhouseClient: round3(r.server.drain.perSecond / r.clickhouseClient.perSecond), toTarget: round3(r.server.drain.perSecond / TARGET_PER_SECOND) },
      chdb: { toFetchAck: round3(r.chdb.drain.perSecond / r.plain.perSecond), toClickhouseClient: round3(r.chdb.drain.perSecond / r.clickhouseClient.perSecond), toTarget: round3(r.chdb.drain.perSecond / TARGET_PER_SECOND) },
    },
    counts: r.counts,
  }));
}
const round3 = (n: number) => Math.round(n * 1000) / 1000;

try {
  await main();
  process.exitCode = 0;
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
} finally {
  await finish();
}
