/**
 * The probe's Prometheus metrics (its own registry, no global state) and the small HTTP server
 * that serves a registry with /healthz (every Vantage process uses it).
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ResultRecord } from '../contract/record.ts';

export class ProbeMetrics {
  readonly registry = new Registry();
  readonly checks = new Counter({
    name: 'vantage_probe_checks_total',
    help: 'Checks run, by kind and outcome (ok or the failure code).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly checkDuration = new Histogram({
    name: 'vantage_probe_check_duration_seconds',
    help: 'Wall time of one check, by kind.',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly publishLatency = new Histogram({
    name: 'vantage_probe_publish_latency_seconds',
    help: 'From publish to the JetStream ack, for records published directly (not spooled).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly skippedRuns = new Counter({
    name: 'vantage_probe_skipped_runs_total',
    help: 'Schedule slots skipped because the previous run of the task was still going.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly deliveryErrors = new Counter({
    name: 'vantage_probe_delivery_errors_total',
    help: 'Records that could be neither published nor spooled (disk trouble).',
    registers: [this.registry],
  });

  constructor(gauges: { spoolDepth(): number; spoolDropped(): number; tasks(): number; running(): number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'vantage_probe_' });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
    gauge('vantage_probe_spool_depth', 'Records waiting in the on-disk spool for NATS.', gauges.spoolDepth);
    gauge('vantage_probe_spool_dropped', 'Records dropped from the spool past its size bound since start.', gauges.spoolDropped);
    gauge('vantage_probe_tasks', 'Tasks configured.', gauges.tasks);
    gauge('vantage_probe_running_checks', 'Checks running now.', gauges.running);
  }

  observe(record: ResultRecord): void {
    this.checks.inc({ kind: record.kind, outcome: record.failure ?? 'ok' });
    this.checkDuration.observe({ kind: record.kind }, record.duration_ms / 1000);
  }
}

/** Serves /metrics and /healthz; `health()` returns the JSON body and whether the probe is healthy. */
export async function serveMetrics(
  registry: Registry,
  listen: { host: string; port: number },
  health: () => { healthy: boolean; body: Record<string, unknown> },
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end('method not allowed\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    } else if (path === '/healthz') {
      const { healthy, body } = health();
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    } else {
      res.writeHead(404).end('not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : listen.port };
}
