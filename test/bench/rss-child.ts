/**
 * Peak RSS of a probe with many tasks, in a process of its own (so the bench's other parts do not
 * inflate it): loads the YAML config the bench wrote (rss-config.ts) as the CLI does, starts the
 * ProbeWorker (scheduler, heartbeats, /metrics on port 0) with the JetStream publisher, lets one
 * full round of checks run, and prints one JSON line.
 *
 * Usage: rss-child.ts '{"file":"…/probe-10000.yaml","tasks":10000,"maxWaitMs":60000}'
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../probe/src/config/config.ts';
import type { ResultRecord } from '../../probe/src/contract/record.ts';
import { JetStreamPublisher, type RecordSink } from '../../probe/src/publish/publisher.ts';
import { silentLogger } from '../../probe/src/run/log.ts';
import { ProbeWorker } from '../../probe/src/run/probe-worker.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { file: string; tasks: number; maxWaitMs: number };

/** VmHWM (peak) and VmRSS (now) of this process, and the JS heap in use, in MB. */
function memory(): { peakMb: number; rssMb: number; heapMb: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024, heapMb: process.memoryUsage().heapUsed / 2 ** 20 };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const beforeLoad = memory();
const loadStarted = performance.now();
const config = loadConfig(args.file);
const loadMs = performance.now() - loadStarted;
config.metrics = { host: '127.0.0.1', port: 0 }; // the config format cannot say "any free port"
const afterLoad = memory();

// Counts what the worker delivers, so we know when a whole round is through.
const publisher = new JetStreamPublisher(config, { log: silentLogger });
const outcomes: Record<string, number> = {};
let delivered = 0;
let firstAt: number | null = null;
let lastAt = 0;
const sink: RecordSink = {
  async publish(record: ResultRecord) {
    await publisher.publish(record);
    delivered++;
    firstAt ??= performance.now();
    lastAt = performance.now();
    const key = `${record.kind}:${record.failure ?? 'ok'}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  },
  publishHeartbeat: (hb) => publisher.publishHeartbeat(hb),
  stats: () => publisher.stats(),
  close: () => publisher.close(),
};
const worker = new ProbeWorker({ config, sink, version: 'bench', log: silentLogger });
publisher.onPublished = (ms) => worker.metrics.publishLatency.observe(ms / 1000);

const started = performance.now();
await worker.start();
await sleep(1000);
const afterStart = memory();

// One round: every task once (the first slot fires within 20 s, its checks spread over ~15 s).
while (delivered < args.tasks && performance.now() - started < args.maxWaitMs) await sleep(250);
const afterRound = memory();

// /metrics still answers with 10k tasks (and a scrape is part of a probe's life).
const metricsBytes = (await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text()).length;
const spoolDepth = publisher.stats().spoolDepth;
await worker.stop();

process.stdout.write(`${JSON.stringify({
  tasks: config.tasks.length,
  loadMs: Math.round(loadMs),
  beforeLoad,
  afterLoad,
  afterStart,
  afterRound,
  delivered,
  roundSeconds: firstAt === null ? 0 : (lastAt - firstAt) / 1000,
  spoolDepth,
  metricsBytes,
  outcomes,
})}\n`);
process.exit(0);
