/**
 * The collector's Prometheus metrics (its own registry, no global state), labelled by durable
 * consumer (`collector` for results, `collector-heartbeats`), and the HTTP server for /metrics
 * and /healthz.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What one consumer pipeline reports. */
export interface ConsumerMetrics {
  consumed(n: number): void;
  inserted(n: number): void;
  rejected(reasonClass: string, n: number): void;
  duplicatesSkipped(n: number): void;
  batch(size: number): void;
  insertSeconds(seconds: number): void;
  insertRetry(): void;
  lag(info: { pending: number; ackPending: number; redelivered: number }): void;
}

/**
 * Metrics of stream consumers, named `<prefix>_…` (`vantage_collector_…` for the collector; the
 * analyzer uses the same set as `vantage_analyzer_…`).
 */
export class CollectorMetrics {
  readonly registry = new Registry();
  readonly #consumed: Counter<'consumer'>;
  readonly #inserted: Counter<'consumer'>;
  readonly #rejected: Counter<'consumer' | 'reason'>;
  readonly #duplicates: Counter<'consumer'>;
  readonly #retries: Counter<'consumer'>;
  readonly #batchSize: Histogram<'consumer'>;
  readonly #insertSeconds: Histogram<'consumer'>;
  readonly #pending: Gauge<'consumer'>;
  readonly #ackPending: Gauge<'consumer'>;
  readonly #redelivered: Gauge<'consumer'>;

  constructor(opts: { processMetrics?: boolean; prefix?: string } = {}) {
    const prefix = opts.prefix ?? 'vantage_collector';
    const registers = [this.registry];
    const labelNames = ['consumer'] as const;
    const counter = (name: string, help: string) => new Counter({ name: `${prefix}_${name}`, help, labelNames, registers });
    const gauge = (name: string, help: string) => new Gauge({ name: `${prefix}_${name}`, help, labelNames, registers });
    this.#consumed = counter('consumed_total', 'Messages taken from the stream into a batch.');
    this.#inserted = counter('inserted_total', 'Records (or heartbeats) inserted into the store.');
    this.#rejected = new Counter({
      name: `${prefix}_rejected_total`,
      help: 'Messages kept in the rejected table and terminated, by reason class (not_json, too_large, unknown_schema, invalid, subject_mismatch, store_refused).',
      labelNames: ['consumer', 'reason'] as const,
      registers,
    });
    this.#duplicates = counter('duplicates_skipped_total', 'Messages acked without an insert: redelivered and already stored, or a repeat of a record in the same batch.');
    this.#retries = counter('insert_retries_total', 'Store calls that failed and were retried (the messages stayed unacked).');
    this.#batchSize = new Histogram({
      name: `${prefix}_batch_size`,
      help: 'Messages per batch.',
      labelNames,
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 20_000],
      registers,
    });
    this.#insertSeconds = new Histogram({
      name: `${prefix}_insert_duration_seconds`,
      help: 'Time of one successful insert call into the store.',
      labelNames,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#pending = gauge('consumer_pending', 'Messages in the stream not yet delivered to the durable consumer (its lag; num_pending).');
    this.#ackPending = gauge('consumer_ack_pending', 'Messages delivered to the durable consumer and not yet acked (all replicas).');
    this.#redelivered = gauge('consumer_redelivered', 'Messages of the durable consumer delivered more than once and not yet acked.');
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: `${prefix}_` });
  }

  forConsumer(consumer: string): ConsumerMetrics {
    const labels = { consumer };
    return {
      consumed: (n) => this.#consumed.inc(labels, n),
      inserted: (n) => this.#inserted.inc(labels, n),
      rejected: (reason, n) => this.#rejected.inc({ consumer, reason }, n),
      duplicatesSkipped: (n) => this.#duplicates.inc(labels, n),
      batch: (size) => this.#batchSize.observe(labels, size),
      insertSeconds: (s) => this.#insertSeconds.observe(labels, s),
      insertRetry: () => this.#retries.inc(labels),
      lag: (info) => {
        this.#pending.set(labels, info.pending);
        this.#ackPending.set(labels, info.ackPending);
        this.#redelivered.set(labels, info.redelivered);
      },
    };
  }
}

/** /metrics and /healthz are served by the probe package's server, as for every process. */
export { serveMetrics } from '../../../probe/src/run/metrics.ts';
