/**
 * Probe bench (npm run bench): CPU per DNS check and per HTTP check (fresh connection), records
 * built by runCheck and published to a real nats-server with acks awaited, next to references run
 * against the same servers in the same run (dnsperf; wrk and a plain undici loop), and the peak
 * RSS of a probe with 10,000 tasks. Prints a table and one JSON line. See test/bench/README.md.
 *
 *   node --import tsx test/bench/probe-bench.ts [--dns N] [--http N] [--skip-rss]
 */
import { setMaxListeners } from 'node:events';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { Client, request } from 'undici';
import { parseConfig, type ProbeConfig, type Task } from '../../probe/src/config/config.ts';
import type { ResultRecord } from '../../probe/src/contract/record.ts';
import { JetStreamPublisher } from '../../probe/src/publish/publisher.ts';
import { ensureStreams } from '../../probe/src/publish/streams.ts';
import { silentLogger } from '../../probe/src/run/log.ts';
import { ProbeMetrics } from '../../probe/src/run/metrics.ts';
import { runCheck, type RunEnvironment } from '../../probe/src/run/run-check.ts';
import { newRecordId } from '../../probe/src/run/record-id.ts';
import { freePort, startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { RSS_SCHEDULE, writeRssConfig } from './rss-config.ts';
import { fmt, measure, perOp, perSecond, ratio, runTimed, startNodeChild, table, benchWorkspace, type Measured } from './bench-tools.ts';

const HERE = new URL('.', import.meta.url).pathname;
// Measure the code as production runs it: the bundle under plain node has no source-map support,
// which tsx turns on (it makes every Error.stack read, e.g. undici's socket resets, far dearer).
process.setSourceMapsEnabled(false);
/** Node flags of the probe as deployed (deploy/systemd/vantage-probe.service): small young generation. */
const PROBE_NODE_FLAGS = ['--max-semi-space-size=2'];
const { values: opts } = parseArgs({
  options: { dns: { type: 'string', default: '20000' }, http: { type: 'string', default: '5000' }, 'skip-rss': { type: 'boolean', default: false } },
});
const DNS_CHECKS = Number(opts.dns);
const HTTP_CHECKS = Number(opts.http);
/** In flight at once, as the worker's queue bounds it. */
const CONCURRENCY = 64;
/** Each reference tool runs this long. */
const TOOL_SECONDS = 3;
const RSS_TASKS = 10_000;
const RSS_MAX_WAIT_MS = 150_000;
/** The whole bench is stopped (and cleaned up) after this. */
const WATCHDOG_MS = 240_000;

/** Twice as efficient as blackbox_exporter measured on this machine kind (~330 and ~520 µs per probe). */
const TARGETS = { dnsCpuUs: 165, httpCpuUs: 260, rssMb: 150 };
const BLACKBOX_US = { dns: 330, http: 520 };
const DNS_NAME = 'bench.vantage.test';

// --- processes and temp dirs, all undone at the end (or on a signal, or by the watchdog) -------

const { root, undo, finish } = benchWorkspace('bench', WATCHDOG_MS);

// --- what one part reports -----------------------------------------------------------------------

interface Outcomes {
  ok: number;
  failed: Record<string, number>;
}
function tally(into: Outcomes, record: ResultRecord): void {
  if (record.failure === null) into.ok++;
  else into.failed[record.failure] = (into.failed[record.failure] ?? 0) + 1;
}
const failures = (o: Outcomes) => Object.values(o.failed).reduce((a, b) => a + b, 0);

interface Probe {
  config: ProbeConfig;
  env: RunEnvironment;
  metrics: ProbeMetrics;
  publisher: JetStreamPublisher;
}

/** The worker's path for one task: runCheck, metrics, publish (resolves on the JetStream ack). */
function deliverer(probe: Probe, task: Task, outcomes: Outcomes) {
  return async () => {
    const record = await runCheck(task, Date.now(), probe.env);
    probe.metrics.observe(record);
    tally(outcomes, record);
    await probe.publisher.publish(record);
  };
}

/**
 * How long after a run its leftovers may still cost CPU: runCheck's timeout signal fires
 * task.timeoutMs after each check started, even when the check ended long before, and then arms
 * a grace timer (HANG_GRACE_MS, 500 ms). Waited for (idle otherwise) and counted with the run.
 */
const settleMs = (task: Task) => task.timeoutMs + 700;

/** The same without publishing, and publishing alone (a built record with a fresh id): the split. */
async function split(probe: Probe, task: Task, count: number) {
  let sample: ResultRecord | null = null;
  const checkOnly = await measure(count, CONCURRENCY, async () => {
    sample = await runCheck(task, Date.now(), probe.env);
    probe.metrics.observe(sample);
  }, settleMs(task));
  const record = sample!;
  const publishOnly = await measure(count, CONCURRENCY, () => probe.publisher.publish({ ...record, id: newRecordId() }));
  return { checkOnly, publishOnly };
}

const figures = (m: Measured) => ({ count: m.count, cpuUsPerOp: round(perOp(m)), perSecond: round(perSecond(m)) });
const round = (n: number) => Math.round(n * 10) / 10;

// --- 1. DNS ------------------------------------------------------------------------------------

async function benchDns(probe: Probe, dnsPort: number) {
  const task = probe.config.tasks.find((t) => t.kind === 'dns')!;
  const outcomes: Outcomes = { ok: 0, failed: {} };
  const deliver = deliverer(probe, task, outcomes);
  await measure(Math.min(1000, DNS_CHECKS), CONCURRENCY, deliver, settleMs(task)); // JIT warm-up, not counted
  const full = await measure(DNS_CHECKS, CONCURRENCY, deliver, settleMs(task));
  const parts = await split(probe, task, Math.min(5000, DNS_CHECKS));

  // dnsperf: one client, the same question (EDNS0 on, as ours), 64 outstanding, for TOOL_SECONDS.
  const queries = join(root, 'dnsperf-queries.txt');
  writeFileSync(queries, `${DNS_NAME} A\n`);
  const run = await runTimed('dnsperf', ['-s', '127.0.0.1', '-p', String(dnsPort), '-d', queries, '-l', String(TOOL_SECONDS), '-c', '1', '-T', '1', '-q', String(CONCURRENCY), '-e'], join(root, 'dnsperf.time'), (TOOL_SECONDS + 20) * 1000);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(run.stdout)?.[1] ?? NaN);
  const dnsperf = {
    completed,
    lost: Number(/Queries lost:\s+(\d+)/.exec(run.stdout)?.[1] ?? NaN),
    qps: Number(/Queries per second:\s+([\d.]+)/.exec(run.stdout)?.[1] ?? NaN),
    cpuUsPerQuery: round(run.cpuUs / completed),
  };
  return { ...figures(full), failures: failures(outcomes), failed: outcomes.failed, checkOnly: figures(parts.checkOnly), publishOnly: figures(parts.publishOnly), dnsperf };
}

// --- 2. HTTP, a fresh connection per check -------------------------------------------------------

async function benchHttp(probe: Probe, httpPort: number) {
  const task = probe.config.tasks.find((t) => t.kind === 'http')!;
  const outcomes: Outcomes = { ok: 0, failed: {} };
  const deliver = deliverer(probe, task, outcomes);
  await measure(Math.min(500, HTTP_CHECKS), CONCURRENCY, deliver, settleMs(task));
  const full = await measure(HTTP_CHECKS, CONCURRENCY, deliver, settleMs(task));
  const parts = await split(probe, task, Math.min(2000, HTTP_CHECKS));

  // Plain Node clients doing the same exchange (no phases, no record): undici, the probe's HTTP
  // library, with one Client per request; and node:http without an agent (its llhttp parser).
  const origin = `http://127.0.0.1:${httpPort}`;
  let undiciErrors = 0;
  const fetchOnce = async () => {
    const client = new Client(origin, { pipelining: 0 });
    try {
      const res = await request(`${origin}/`, { dispatcher: client });
      await res.body.dump();
      if (res.statusCode !== 200) undiciErrors++;
    } catch {
      undiciErrors++;
    } finally {
      await client.close();
    }
  };
  await measure(Math.min(500, HTTP_CHECKS), CONCURRENCY, fetchOnce);
  const undiciLoop = await measure(HTTP_CHECKS, CONCURRENCY, fetchOnce);
  let nodeHttpErrors = 0;
  const getOnce = () => new Promise<void>((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port: httpPort, path: '/', agent: false }, (res) => {
      if (res.statusCode !== 200) nodeHttpErrors++;
      res.resume().once('end', resolve);
    });
    req.once('error', () => (nodeHttpErrors++, resolve()));
  });
  await measure(Math.min(500, HTTP_CHECKS), CONCURRENCY, getOnce);
  const nodeHttpLoop = await measure(HTTP_CHECKS, CONCURRENCY, getOnce);

  // wrk: 64 connections, "Connection: close" so every request opens a new one.
  const run = await runTimed('wrk', ['-t1', `-c${CONCURRENCY}`, `-d${TOOL_SECONDS}s`, '-H', 'Connection: close', `${origin}/`], join(root, 'wrk.time'), (TOOL_SECONDS + 20) * 1000);
  const requests = Number(/(\d+) requests in/.exec(run.stdout)?.[1] ?? NaN);
  const wrk = {
    requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1] ?? NaN),
    socketErrors: /Socket errors: (.*)/.exec(run.stdout)?.[1] ?? 'none',
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(run.stdout)?.[1] ?? 0),
    cpuUsPerRequest: round(run.cpuUs / requests),
  };
  return {
    ...figures(full), failures: failures(outcomes), failed: outcomes.failed, checkOnly: figures(parts.checkOnly), publishOnly: figures(parts.publishOnly),
    undiciLoop: { ...figures(undiciLoop), errors: undiciErrors }, nodeHttpLoop: { ...figures(nodeHttpLoop), errors: nodeHttpErrors }, wrk,
  };
}

// --- 3. RSS with 10,000 tasks: the production command itself ---------------------------------

interface RssReport {
  tasks: number;
  /** VmHWM (peak RSS) of the probe process, MB: once it serves /healthz, and after a whole round. */
  peakAfterStartMb: number;
  peakAfterRoundMb: number;
  startSeconds: number;
  roundSeconds: number;
  checks: number;
  outcomes: Record<string, number>;
}

/**
 * Runs `node dist/vantage.mjs probe --config <10,000 tasks>` (the bundle production boxes run,
 * built here first) and reads its VmHWM from /proc: after start, and once /metrics counts a check
 * for every task.
 */
async function benchRss(nats: NatsServer, ports: { dnsPort: number; httpPort: number }): Promise<RssReport> {
  execFileSync(process.execPath, [join(HERE, '../../bin/build.mjs')]);
  const metricsPort = await freePort();
  const file = writeRssConfig(root, RSS_TASKS, { natsUrl: nats.url, metricsPort, ...ports });
  const started = performance.now();
  const probe = spawn(process.execPath, [...PROBE_NODE_FLAGS, join(HERE, '../../dist/vantage.mjs'), 'probe', '--config', file], { stdio: 'ignore' });
  undo.push(async () => void probe.kill('SIGKILL'));
  const peakMb = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${probe.pid}/status`, 'utf8'))![1]) / 1024;
  const scrape = async () => (await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
  const deadline = Date.now() + RSS_MAX_WAIT_MS;
  while (!(await scrape().then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error('the probe did not start serving /metrics');
    await new Promise((r) => setTimeout(r, 100));
  }
  const startSeconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const peakAfterStartMb = peakMb();
  let outcomes: Record<string, number> = {};
  let checks = 0;
  while (checks < RSS_TASKS && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    outcomes = {};
    for (const m of (await scrape()).matchAll(/^vantage_probe_checks_total\{kind="(\w+)",outcome="(\w+)"\} (\d+)/gm)) {
      outcomes[`${m[1]}:${m[2]}`] = Number(m[3]);
    }
    checks = Object.values(outcomes).reduce((a, b) => a + b, 0);
  }
  const report = {
    tasks: RSS_TASKS, peakAfterStartMb, peakAfterRoundMb: peakMb(), startSeconds,
    roundSeconds: (performance.now() - started) / 1000 - startSeconds, checks, outcomes,
  };
  probe.kill('SIGTERM');
  await new Promise((r) => probe.once('exit', r));
  return report;
}

// --- the run -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const servers = startNodeChild<{ dnsPort: number; httpPort: number }>(join(HERE, 'bench-servers.ts'));
  undo.push(() => servers.stop());
  const nats = await startNatsServer();
  undo.push(() => nats.cleanup());
  const ports = await servers.first;

  const config = parseConfig({
    probe: { id: 'bench-probe', region: 'bench', isp: 'loopback', resolvers: [`127.0.0.1:${ports.dnsPort}`] },
    nats: { url: nats.url },
    spool: { dir: join(root, 'spool') },
    tasks: [
      { id: 'bench-dns', kind: 'dns', target: DNS_NAME },
      { id: 'bench-http', kind: 'http', target: `http://127.0.0.1:${ports.httpPort}/` },
    ],
  }, join(root, 'bench.yaml'));

  // Streams first, so no record of the measured runs is spooled while the publisher creates them.
  const nc = await connect({ servers: nats.url });
  await ensureStreams(nc);
  await nc.close();
  const publisher = new JetStreamPublisher(config, { log: silentLogger });
  undo.push(() => publisher.close());
  for (const deadline = Date.now() + 10_000; publisher.stats().connection !== 'connected';) {
    if (Date.now() > deadline) throw new Error('the publisher did not connect to NATS');
    await new Promise((r) => setTimeout(r, 20));
  }
  const probe: Probe = {
    config,
    publisher,
    env: {
      probe: config.probe, resolvers: config.resolvers, extraCaPem: null, probeVersion: 'bench',
      now: () => performance.now(), wallClock: Date.now,
      stopSignal: benchStopSignal(), // as the worker passes one (never aborted here)
    },
    metrics: new ProbeMetrics({ spoolDepth: () => 0, spoolDropped: () => 0, tasks: () => 2, running: () => 0 }),
  };
  publisher.onPublished = (ms) => probe.metrics.publishLatency.observe(ms / 1000);

  const dns = await benchDns(probe, ports.dnsPort);
  const http = await benchHttp(probe, ports.httpPort);
  const spooled = publisher.stats().spoolDepth;
  await publisher.close();
  const rss = opts['skip-rss'] ? null : await benchRss(nats, ports);

  report({ dns, http, rss, spooled });
}

function report({ dns, http, rss, spooled }: {
  dns: Awaited<ReturnType<typeof benchDns>>;
  http: Awaited<ReturnType<typeof benchHttp>>;
  rss: RssReport | null;
  spooled: number;
}): void {
  const tool = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
    } catch (err) {
      return ((err as { stdout?: string }).stdout ?? '').split('\n')[0].trim() || 'unknown';
    }
  };
  const env = {
    node: process.version,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    natsServer: tool('nats-server', ['--version']),
    dnsperf: tool('dnsperf', ['-h']).length > 0 ? 'dnsperf 2.x' : 'dnsperf',
    wrk: tool('wrk', ['-v']).split(' [')[0],
  };

  const lines = [
    ['figure', 'ours', 'reference', 'ours/ref', 'target', 'ours/target'],
    [`DNS check, µs CPU (built + published, ${fmt(dns.perSecond, 0)} checks/s)`, fmt(dns.cpuUsPerOp), `dnsperf ${fmt(dns.dnsperf.cpuUsPerQuery)} µs/q (${fmt(dns.dnsperf.qps, 0)} q/s)`, ratio(dns.cpuUsPerOp, dns.dnsperf.cpuUsPerQuery), `≤${TARGETS.dnsCpuUs}`, ratio(dns.cpuUsPerOp, TARGETS.dnsCpuUs)],
    ['  of which runCheck alone (no publish)', fmt(dns.checkOnly.cpuUsPerOp), '', '', '', ''],
    ['  of which publish alone (JetStream ack)', fmt(dns.publishOnly.cpuUsPerOp), '', '', '', ''],
    [`HTTP check, fresh conn, µs CPU (${fmt(http.perSecond, 0)} checks/s)`, fmt(http.cpuUsPerOp), `wrk ${fmt(http.wrk.cpuUsPerRequest)} µs/req (${fmt(http.wrk.rps, 0)} req/s)`, ratio(http.cpuUsPerOp, http.wrk.cpuUsPerRequest), `≤${TARGETS.httpCpuUs}`, ratio(http.cpuUsPerOp, TARGETS.httpCpuUs)],
    ['', '', `undici loop ${fmt(http.undiciLoop.cpuUsPerOp)} µs/req (${fmt(http.undiciLoop.perSecond, 0)} req/s)`, ratio(http.cpuUsPerOp, http.undiciLoop.cpuUsPerOp), '', ''],
    ['', '', `node:http loop ${fmt(http.nodeHttpLoop.cpuUsPerOp)} µs/req (${fmt(http.nodeHttpLoop.perSecond, 0)} req/s)`, ratio(http.cpuUsPerOp, http.nodeHttpLoop.cpuUsPerOp), '', ''],
    ['  of which runCheck alone (no publish)', fmt(http.checkOnly.cpuUsPerOp), '', '', '', ''],
    ['  of which publish alone (JetStream ack)', fmt(http.publishOnly.cpuUsPerOp), '', '', '', ''],
  ];
  if (rss) {
    lines.push(
      [`Peak RSS, ${fmt(rss.tasks, 0)} tasks, after start (MB)`, fmt(rss.peakAfterStartMb), '', '', `≤${TARGETS.rssMb}`, ratio(rss.peakAfterStartMb, TARGETS.rssMb)],
      [`Peak RSS, after a round of ${fmt(rss.checks, 0)} checks (MB)`, fmt(rss.peakAfterRoundMb), '', '', `≤${TARGETS.rssMb}`, ratio(rss.peakAfterRoundMb, TARGETS.rssMb)],
    );
  }

  const out: string[] = [];
  out.push(`Vantage probe bench — ${env.cores} cores (${env.cpu}), Node ${env.node}, ${env.natsServer}, ${env.wrk}`);
  out.push(`Targets: twice as efficient as blackbox_exporter measured here (about ${BLACKBOX_US.dns} and ${BLACKBOX_US.http} µs per probe); RSS ≤${TARGETS.rssMb} MB with 10,000 tasks.`);
  out.push('CPU is user+system of the measuring process only: the DNS/HTTP servers and nats-server run in processes of their own.');
  out.push('');
  out.push(table(lines));
  out.push('');
  out.push(`DNS: ${fmt(dns.count, 0)} checks, ${dns.failures} failed${dns.failures ? ` ${JSON.stringify(dns.failed)}` : ''}; dnsperf ${fmt(dns.dnsperf.completed, 0)} queries, ${dns.dnsperf.lost} lost.`);
  out.push(`HTTP: ${fmt(http.count, 0)} checks, ${http.failures} failed${http.failures ? ` ${JSON.stringify(http.failed)}` : ''}; undici loop ${http.undiciLoop.errors} errors, node:http loop ${http.nodeHttpLoop.errors}; wrk ${fmt(http.wrk.requests, 0)} requests, socket errors: ${http.wrk.socketErrors}, non-2xx: ${http.wrk.non2xx}.`);
  out.push(`Records left in the spool (not acked directly): ${spooled}.`);
  if (rss) {
    out.push(`RSS: node dist/vantage.mjs probe with ${fmt(rss.tasks, 0)} tasks (${RSS_SCHEDULE}), serving after ${fmt(rss.startSeconds)} s; ` +
      `${fmt(rss.checks, 0)} checks in ${fmt(rss.roundSeconds)} s: ${JSON.stringify(rss.outcomes)}`);
  }
  console.log(out.join('\n'));
  console.log(JSON.stringify({ bench: 'probe', env, targets: TARGETS, blackboxUs: BLACKBOX_US, dns, http, rss, spooled }));
}

try {
  await main();
  process.exitCode = 0;
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
} finally {
  await finish();
}

/** A stop signal like the worker's: never aborted here, with room for every check in flight. */
function benchStopSignal(): AbortSignal {
  const signal = new AbortController().signal;
  setMaxListeners(1000, signal);
  return signal;
}
