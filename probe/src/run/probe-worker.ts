/**
 * The running probe: config → scheduler → checks → sink, plus heartbeats and /metrics. The sink
 * (RecordSink: `publish` resolves once the record is durable) is the JetStream publisher in
 * production and a JSON-lines writer for `--once` and `vantage up`.
 */
import { setMaxListeners } from 'node:events';
import type { Server } from 'node:http';
import type { ProbeConfig, Task } from '../config/config.ts';
import { HEARTBEAT_INTERVAL_MS } from '../contract/heartbeat.ts';
import type { ResultRecord } from '../contract/record.ts';
import { describeError } from '../net/classify-error.ts';
import type { RecordSink } from '../publish/publisher.ts';
import type { Logger } from './log.ts';
import { ProbeMetrics, serveMetrics } from './metrics.ts';
import { runCheck, type RunEnvironment } from './run-check.ts';
import { Scheduler } from './scheduler.ts';

export interface ProbeWorkerOptions {
  config: ProbeConfig;
  sink: RecordSink;
  version: string;
  log: Logger;
  now?: () => number;
  wallClock?: () => number;
  /** Serve /metrics and /healthz (default: as configured). */
  serveMetrics?: boolean;
  /** Run every task once right at start, before the first slot of its schedule. */
  runAtStart?: boolean;
}

export class ProbeWorker {
  readonly metrics: ProbeMetrics;
  #scheduler: Scheduler | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #metricsServer: Server | null = null;
  #stopController = new AbortController();
  #env: RunEnvironment;
  #startedAt: number;
  #lastError: string | null = null;
  metricsPort: number | null = null;

  constructor(private readonly opts: ProbeWorkerOptions) {
    const { config } = opts;
    this.#env = {
      probe: config.probe,
      resolvers: config.resolvers,
      extraCaPem: config.extraCaPem,
      probeVersion: opts.version,
      now: opts.now ?? (() => performance.now()),
      wallClock: opts.wallClock ?? Date.now,
      stopSignal: this.#stopController.signal,
    };
    // Every running check listens on the stop signal: allow as many listeners as checks may run.
    setMaxListeners(config.concurrency + 16, this.#stopController.signal);
    this.#startedAt = this.#env.wallClock();
    this.metrics = new ProbeMetrics({
      spoolDepth: () => opts.sink.stats().spoolDepth,
      spoolDropped: () => opts.sink.stats().spoolDropped,
      tasks: () => config.tasks.length,
      running: () => this.#scheduler?.running ?? 0,
    });
  }

  /** Starts the schedule, the heartbeat and the metrics server. */
  async start(): Promise<void> {
    const { config, log } = this.opts;
    if (config.metrics && this.opts.serveMetrics !== false) {
      const served = await serveMetrics(this.metrics.registry, config.metrics, () => this.health());
      this.#metricsServer = served.server;
      this.metricsPort = served.port;
    }
    this.#scheduler = new Scheduler(config.tasks, {
      concurrency: config.concurrency,
      run: (task, slot) => this.#runAndDeliver(task, slot).then(() => undefined),
      onSkip: (task) => {
        this.metrics.skippedRuns.inc({ kind: task.kind });
        log.warn('slot skipped: previous run still going', { task_id: task.id });
      },
    });
    this.#scheduler.start();
    if (this.opts.runAtStart) this.#scheduler.fireSlot(config.tasks, this.#env.wallClock(), 0);
    if (this.opts.sink.publishHeartbeat) {
      void this.#sendHeartbeat();
      this.#heartbeatTimer = setInterval(() => void this.#sendHeartbeat(), HEARTBEAT_INTERVAL_MS);
    }
    log.info('probe started', { probe_id: config.probe.id, tasks: config.tasks.length, metrics_port: this.metricsPort });
  }

  /** Runs every task once (bounded by the concurrency setting) and returns the records. */
  async runOnce(): Promise<ResultRecord[]> {
    const records: ResultRecord[] = [];
    const pending = [...this.opts.config.tasks];
    const slot = this.#env.wallClock();
    const worker = async () => {
      for (let task = pending.shift(); task; task = pending.shift()) {
        const record = await this.#runAndDeliver(task, slot);
        if (record) records.push(record);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.config.concurrency, pending.length) }, worker));
    return records;
  }

  /** Drains: no new checks, in-flight ones finish and are delivered, then the sink is flushed. */
  async stop(): Promise<void> {
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    await this.#scheduler?.stop();
    await this.opts.sink.close();
    await new Promise<void>((resolve) => (this.#metricsServer ? this.#metricsServer.close(() => resolve()) : resolve()));
    this.opts.log.info('probe stopped', { probe_id: this.opts.config.probe.id });
  }

  /** Ends in-flight checks at once (a second SIGTERM): they are recorded as timeouts. */
  abortChecks(): void {
    this.#stopController.abort();
  }

  health(): { healthy: boolean; body: Record<string, unknown> } {
    const stats = this.opts.sink.stats();
    return {
      healthy: true,
      body: {
        status: 'ok',
        probe_id: this.opts.config.probe.id,
        tasks: this.opts.config.tasks.length,
        running_checks: this.#scheduler?.running ?? 0,
        ...(stats.connection === undefined ? {} : { nats: stats.connection }),
        spool_depth: stats.spoolDepth,
        spool_dropped: stats.spoolDropped,
        last_error: stats.lastError ?? this.#lastError,
      },
    };
  }

  async #runAndDeliver(task: Task, slot: number): Promise<ResultRecord | null> {
    const record = await runCheck(task, slot, this.#env);
    this.metrics.observe(record);
    try {
      await this.opts.sink.publish(record);
      return record;
    } catch (err) {
      this.metrics.deliveryErrors.inc();
      this.#lastError = describeError(err);
      this.opts.log.error('record could not be delivered', { task_id: task.id, id: record.id, error: this.#lastError });
      return null;
    }
  }

  async #sendHeartbeat(): Promise<void> {
    const { config, sink, version } = this.opts;
    const stats = sink.stats();
    try {
      await sink.publishHeartbeat?.({
        schema: 1,
        probe_id: config.probe.id,
        region: config.probe.region,
        isp: config.probe.isp,
        asn: config.probe.asn,
        labels: config.probe.labels,
        version,
        sent_at: new Date(this.#env.wallClock()).toISOString(),
        started_at: new Date(this.#startedAt).toISOString(),
        task_count: config.tasks.length,
        spool_depth: stats.spoolDepth,
        spool_dropped: stats.spoolDropped,
        last_error: stats.lastError ?? this.#lastError,
      });
    } catch (err) {
      this.opts.log.debug('heartbeat not sent', { error: describeError(err) });
    }
  }
}
