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

export class CollectorMetrics {
  readonly registry = new Registry();
  readonly #consumed = this.#counter('vantage_collector_consumed_total', 'Messages taken from JetStream into a batch.');
  readonly #inserted = this.#counter('vantage_collector_inserted_total', 'Records (or heartbeats) inserted into the store.');
  readonly #rejected = new Counter({
    name: 'vantage_collector_rejected_total',
    help: 'Messages kept in the rejected table and terminated, by reason class (not_json, too_large, unknown_schema, invalid, subject_mismatch, store_refused).',
    labelNames: ['consumer', 'reason'] as const,
    registers: [this.registry],
  });
  readonly #duplicates = this.#counter('vantage_collector_duplicates_skipped_total', 'Messages acked without an insert: redelivered and already stored, or a repeat of a record in the same batch.');
  readonly #retries = this.#counter('vantage_collector_insert_retries_total', 'Store calls that failed and were retried (the messages stayed unacked).');
  readonly #batchSize = new Histogram({
    name: 'vantage_collector_batch_size',
    help: 'Messages per batch.',
    labelNames: ['consumer'] as const,
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 20_000],
    registers: [this.registry],
  });
  readonly #insertSeconds = new Histogram({
    name: 'vantage_collector_insert_duration_seconds',
    help: 'Time of one successful insert call into the store.',
    labelNames: ['consumer'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly #pending = this.#gauge('vantage_collector_consumer_pending', 'Messages in the stream not yet delivered to the durable consumer (its lag; num_pending).');
  readonly #ackPending = this.#gauge('vantage_collector_consumer_ack_pending', 'Messages delivered to the durable consumer and not yet acked (all replicas).');
  readonly #redelivered = this.#gauge('vantage_collector_consumer_redelivered', 'Messages of the durable consumer delivered more than once and not yet acked.');

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vantage_collector_' });
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

  #counter(name: string, help: string): Counter<'consumer'> {
    return new Counter({ name, help, labelNames: ['consumer'] as const, registers: [this.registry] });
  }

  #gauge(name: string, help: string): Gauge<'consumer'> {
    return new Gauge({ name, help, labelNames: ['consumer'] as const, registers: [this.registry] });
  }
}

/** /metrics and /healthz are served by the probe package's server, as for every process. */
export { serveMetrics } from '../../../probe/src/run/metrics.ts';
