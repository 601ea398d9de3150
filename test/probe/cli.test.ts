/**
 * `vantage probe` as a user runs it: a real process, a YAML config, real servers on loopback.
 * --help and exit codes, --once to JSON lines, the long-running worker publishing to a real
 * nats-server (records, heartbeats, /metrics, /healthz, SIGTERM drain), and a probe killed with
 * SIGKILL while NATS is down whose spooled records all arrive after a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HEARTBEATS_STREAM, RESULTS_STREAM } from '../../probe/src/contract/subjects.ts';
import { parseRecord, validateRecord } from '../../probe/src/contract/validate.ts';
import { heartbeat as validateHeartbeat } from '../../probe/src/contract/heartbeat.ts';
import { a, startDnsServer, type DnsTestServer } from '../helpers/dns-server.ts';
import { freePort, startNatsServer } from '../helpers/nats-server.ts';
import { startWebServer, type WebServer } from '../helpers/web-server.ts';
import { runVantage } from '../helpers/run-command.ts';
import { waitFor } from '../helpers/wait.ts';

const VANTAGE = new URL('../../bin/vantage.mjs', import.meta.url).pathname;
/** Polls that read the stream or scrape /metrics: gentle on the servers. */
const POLL_MS = 100;


const vantage = (args: string[]) => runVantage(args);

/** Starts a long-running `vantage probe`; the caller stops it. */
function startProbe(config: string): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [VANTAGE, 'probe', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function streamMessages(url: string, stream: string): Promise<string[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    const out: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (m) out.push(new TextDecoder().decode(m.data));
    }
    return out;
  } finally {
    await nc.close();
  }
}

let dir: string;
let dns: DnsTestServer;
let web: WebServer;
let tcpPort = 0;

function writeConfig(name: string, body: { nats?: string; schedule?: string; metricsPort?: number }): string {
  const schedule = body.schedule ?? '* * * * *';
  const text = `
probe:
  id: cli-probe-01
  region: test-region
  isp: loopback
  asn: 64500
  labels: { tier: test }
  resolvers: ["${dns.address}"]
nats:
  url: ${body.nats ?? 'nats://127.0.0.1:1'}
spool: ./spool-${name}
metrics:
  listen: 127.0.0.1:${body.metricsPort ?? 0}
tasks:
  - { id: shop-dns, kind: dns, target: shop.test, schedule: "${schedule}", timeout: 500ms, dns: { types: [A] } }
  - { id: shop-http, kind: http, target: "http://shop.test:${web.port}/", schedule: "${schedule}", timeout: 500ms, http: { expect_status: [200], body_regexp: "welcome" } }
  - { id: shop-tcp, kind: tcp, target: "127.0.0.1:${tcpPort}", schedule: "${schedule}", timeout: 500ms }
  - { id: loop-ping, kind: ping, target: 127.0.0.1, schedule: "${schedule}", timeout: 900ms, ping: { count: 1, interval: 200ms } }
`;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

const cli = suite('vantage probe (the command)');

cli.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-cli-'));
  dns = await startDnsServer((q) => ({ answers: q.questions![0].type === 'A' ? [a('shop.test', '127.0.0.1')] : [] }));
  web = await startWebServer({ routes: { '/': { body: '<title>Shop</title> welcome' } } });
  tcpPort = web.port;
});

cli.after(async () => {
  await dns.close();
  await web.close();
  rmSync(dir, { recursive: true, force: true });
});

cli('--help on every command', async () => {
  for (const args of [['--help'], ['probe', '--help'], ['up', '--help']]) {
    const run = await vantage(args);
    assert.is(run.code, 0, args.join(' '));
    assert.match(run.stdout, /Usage: vantage/);
  }
  const unknown = await vantage(['launch']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "launch"/);
});

cli('an invalid config exits 2 naming the file and the key', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'probe: { id: p, region: r, isp: i }\ntasks:\n  - { id: t, kind: tcp, target: "127.0.0.1:1", timeout: 5x }\n');
  const run = await vantage(['probe', '--config', file]);
  assert.is(run.code, 2);
  assert.ok(run.stderr.includes(file), run.stderr);
  assert.match(run.stderr, /tasks\[0\]\.timeout: "5x" is not a duration/);
  const missing = await vantage(['probe', '--once']);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /--config is required/);
});

cli('--once writes one valid record per task as JSON lines', async () => {
  const file = writeConfig('once', {});
  const run = await vantage(['probe', '--config', file, '--once', '--output', '-']);
  assert.is(run.code, 0, run.stderr);
  const records = run.stdout.trim().split('\n').map((line) => validateRecord(JSON.parse(line)));
  assert.equal(records.map((r) => r.task_id).sort(), ['loop-ping', 'shop-dns', 'shop-http', 'shop-tcp']);
  for (const r of records) {
    assert.is(r.failure, null, `${r.task_id}: ${r.failure_detail}`);
    assert.is(r.probe_id, 'cli-probe-01');
    assert.is(r.probe_asn, 64500);
  }
  const byTask = Object.fromEntries(records.map((r) => [r.task_id, r]));
  const dnsKeys = byTask['shop-dns'].keys as { queries: { ips: string[]; server: string }[] };
  assert.equal(dnsKeys.queries[0].ips, ['127.0.0.1']);
  assert.is(dnsKeys.queries[0].server, dns.address);
  const httpRecord = byTask['shop-http'];
  assert.is((httpRecord.keys as { status: number }).status, 200);
  assert.is((httpRecord.keys as { dialed_ip: string }).dialed_ip, '127.0.0.1');
  for (const phase of ['resolve', 'connect', 'processing', 'transfer']) assert.type(httpRecord.timings_ms[phase as 'resolve'], 'number', phase);
});

cli('runs on schedule into JetStream with heartbeats, metrics and health; SIGTERM drains and exits 0', async () => {
  const nats = await startNatsServer();
  const metricsPort = await freePort();
  const probe = startProbe(writeConfig('live', { nats: nats.url, schedule: '* * * * * *', metricsPort }));
  try {
    const metricsUrl = `http://127.0.0.1:${metricsPort}`;
    const metrics = await waitFor('4 checks of each kind in /metrics', async () => {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      const done = ['dns', 'http', 'tcp', 'ping'].every((k) => Number(new RegExp(`vantage_probe_checks_total\\{kind="${k}",outcome="ok"\\} (\\d+)`).exec(text)?.[1] ?? 0) >= 4);
      return done ? text : null;
    }, { intervalMs: POLL_MS });
    assert.match(metrics, /vantage_probe_spool_depth 0/);
    assert.match(metrics, /vantage_probe_publish_latency_seconds_count \d+/);
    const health = await (await fetch(`${metricsUrl}/healthz`)).json();
    assert.is(health.status, 'ok');
    assert.is(health.probe_id, 'cli-probe-01');
    assert.is(health.nats, 'connected');
    assert.is(health.spool_depth, 0);

    probe.child.kill('SIGTERM');
    assert.is(await probe.exited, 0, probe.stderr());

    const records = (await streamMessages(nats.url, RESULTS_STREAM)).map((m) => parseRecord(m));
    assert.ok(records.length >= 16, `${records.length} records`);
    assert.is(new Set(records.map((r) => r.id)).size, records.length, 'each record once');
    const heartbeats = (await streamMessages(nats.url, HEARTBEATS_STREAM)).map((m) => validateHeartbeat(JSON.parse(m), '', []));
    assert.ok(heartbeats.length >= 1);
    assert.is(heartbeats[0].probe_id, 'cli-probe-01');
    assert.is(heartbeats[0].task_count, 4);
  } finally {
    probe.child.kill('SIGKILL');
    await nats.cleanup();
  }
});

cli('SIGTERM waits for a check in flight and delivers its record', async () => {
  const nats = await startNatsServer();
  const slow = await startWebServer({ routes: { '/slow': { headerDelayMs: 1500, body: 'late but fine' } } });
  const file = join(dir, 'drain.yaml');
  writeFileSync(file, `
probe: { id: drain-probe, region: r, isp: i, resolvers: ["${dns.address}"] }
nats: { url: ${nats.url} }
spool: ./spool-drain
metrics: { listen: "127.0.0.1:0" }
tasks:
  - { id: slow-http, kind: http, target: "http://127.0.0.1:${slow.port}/slow", schedule: "*/5 * * * * *", timeout: 4s }
`);
  const probe = startProbe(file);
  try {
    await waitFor('the slow request in flight', () => slow.requests.length > 0);
    probe.child.kill('SIGTERM');
    assert.is(await probe.exited, 0, probe.stderr());
    const records = (await streamMessages(nats.url, RESULTS_STREAM)).map((m) => parseRecord(m));
    assert.is(records.length, 1);
    assert.is(records[0].failure, null, records[0].failure_detail ?? '');
    assert.ok(records[0].timings_ms.processing! >= 1400, 'the record is of the request that was in flight');
  } finally {
    probe.child.kill('SIGKILL');
    await slow.close();
    await nats.cleanup();
  }
});

cli('a probe killed with SIGKILL while NATS is down loses nothing it spooled', async () => {
  const nats = await startNatsServer();
  await nats.stop();
  const config = writeConfig('outage', { nats: nats.url, schedule: '* * * * * *' });
  const first = startProbe(config);
  const spoolDir = join(dir, 'spool-outage');
  const spooled = await waitFor('at least 12 spooled records', async () => {
    const ids = spooledIds(spoolDir);
    return ids.length >= 12 ? ids : null;
  }, { intervalMs: POLL_MS });
  first.child.kill('SIGKILL');
  await first.exited;
  const before = spooledIds(spoolDir);
  assert.ok(before.length >= spooled.length);

  await nats.restart();
  const second = startProbe(config);
  try {
    const stored = await waitFor('every spooled record in the stream', async () => {
      const ids = new Set((await streamMessages(nats.url, RESULTS_STREAM)).map((m) => parseRecord(m).id));
      return before.every((id) => ids.has(id)) ? ids : null;
    }, { timeoutMs: 30_000, intervalMs: POLL_MS });
    assert.ok(stored.size >= before.length);
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
    await nats.cleanup();
  }
});

/** Ids of the records in the spool's segment files (every JSON line that parses). */
function spooledIds(spoolDir: string): string[] {
  const ids: string[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return ids;
  }
  for (const f of files) {
    for (const line of readFileSync(join(spoolDir, f), 'utf8').split('\n')) {
      try {
        const id = JSON.parse(line).id;
        if (typeof id === 'string') ids.push(id);
      } catch {
        // a torn last line
      }
    }
  }
  return ids;
}

cli.run();
