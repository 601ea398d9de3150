/**
 * The collector: results (durable consumer `collector` on VANTAGE_RESULTS) and heartbeats
 * (`collector-heartbeats` on VANTAGE_HEARTBEATS) from JetStream into the store, in batches,
 * acked only once stored. Any number of replicas share the two consumers; it keeps no state of
 * its own, so it may be killed at any instant (see consumer-loop.ts).
 */
import { COLLECTOR_CONSUMER, HEARTBEATS_STREAM, RESULTS_STREAM, type Heartbeat, type ResultRecord } from '@vantage/probe';
import { silentLogger, type Logger } from '../../../probe/src/run/log.ts';
import { CollectorMetrics, type ConsumerMetrics } from '../run/metrics.ts';
import type { ResultStore } from '../store/result-store.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import type { BatchTarget } from './batch-writer.ts';
import { ConsumerLoop } from './consumer-loop.ts';
import { NatsTransport, type NatsSettings } from '../transport/nats-transport.ts';
import type { ConsumerLag, Transport } from '../transport/transport.ts';
import { decodeHeartbeat, decodeResult, DEFAULT_MAX_RECORD_BYTES } from './decode.ts';

export const HEARTBEATS_CONSUMER = 'collector-heartbeats';
const WRITES_IN_FLIGHT = 2;

export type { NatsSettings };

export interface CollectorOptions {
  /** Where messages come from: NATS JetStream (built from `nats`), or another Transport (`vantage up`). */
  nats?: NatsSettings;
  transport?: Transport;
  store: ResultStore;
  /** Messages per batch at most (default 5000). */
  batchSize?: number;
  /** A batch is written at the latest this long after its first message arrived (default 1000). */
  batchMs?: number;
  /** ack_wait of the consumers this replica creates (default 30 s). */
  ackWaitMs?: number;
  /** max_ack_pending of the consumers this replica creates (default 4 batches: the 3 one replica holds, and some). */
  maxAckPending?: number;
  /** Time limit of one pull request (default 2000 ms; a stop waits for it). */
  fetchExpiresMs?: number;
  /** Larger payloads are rejected (default 512 KiB). */
  maxRecordBytes?: number;
  backoff?: BackoffPolicy;
  /** How often the consumers' lag is read (default 5000 ms). */
  lagPollMs?: number;
  /** Consumer names (tests use their own). */
  consumers?: { results: string; heartbeats: string };
  metrics?: CollectorMetrics;
  log?: Logger;
  /** Monotonic ms. */
  now?: () => number;
  /** Epoch ms. */
  wallClock?: () => number;
  random?: () => number;
  /** Client name shown in the server's connection list. */
  clientName?: string;
}

/** One durable consumer and its loop (the loop's value type does not matter out here). */
interface Pipeline {
  name: string;
  stream: string;
  loop: Pick<ConsumerLoop<unknown>, 'start' | 'stop' | 'health'>;
  metrics: ConsumerMetrics;
  lag: ConsumerLag | null;
}

export class Collector {
  readonly metrics: CollectorMetrics;
  readonly #transport: Transport;
  readonly #log: Logger;
  readonly #pipelines: Pipeline[];
  readonly #lagPollMs: number;
  #lagTimer: NodeJS.Timeout | null = null;
  #started = false;

  constructor(opts: CollectorOptions) {
    this.metrics = opts.metrics ?? new CollectorMetrics();
    this.#log = opts.log ?? silentLogger;
    if (!opts.transport && !opts.nats) throw new TypeError('Collector: give it `nats` settings or a `transport`');
    this.#transport = opts.transport ?? new NatsTransport(opts.nats!, { name: opts.clientName ?? 'vantage-collector' });
    this.#lagPollMs = opts.lagPollMs ?? 5000;
    const batchSize = opts.batchSize ?? 5000;
    const ackWaitMs = opts.ackWaitMs ?? 30_000;
    const maxBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    const names = opts.consumers ?? { results: COLLECTOR_CONSUMER, heartbeats: HEARTBEATS_CONSUMER };
    const { store } = opts;
    const results: BatchTarget<ResultRecord> = {
      decode: (msg) => decodeResult(msg, maxBytes),
      idOf: (record) => record.id,
      storedIds: (records) => store.storedIds(records),
      insert: (records, hints) => store.insertResults(records, hints),
      insertRejected: (rows) => store.insertRejected(rows),
    };
    const heartbeats: BatchTarget<Heartbeat> = {
      decode: (msg) => decodeHeartbeat(msg, maxBytes),
      insert: (beats) => store.insertHeartbeats(beats),
      insertRejected: (rows) => store.insertRejected(rows),
    };
    const pipeline = <T>(name: string, stream: string, target: BatchTarget<T>): Pipeline => {
      const metrics = this.metrics.forConsumer(name);
      const source = this.#transport.consumerSource({ stream, name, ackWaitMs, maxAckPending: opts.maxAckPending ?? batchSize * 4 }, this.#log);
      const loop = new ConsumerLoop({
        name,
        source,
        target,
        batchSize,
        batchMs: opts.batchMs ?? 1000,
        ackWaitMs,
        fetchExpiresMs: Math.max(1000, opts.fetchExpiresMs ?? 2000),
        maxHeld: batchSize * (WRITES_IN_FLIGHT + 1),
        writesInFlight: WRITES_IN_FLIGHT,
        backoff: opts.backoff ?? DEFAULT_BACKOFF,
        metrics,
        log: this.#log,
        random: opts.random ?? Math.random,
        now: opts.now ?? (() => performance.now()),
        wallClock: opts.wallClock ?? Date.now,
      });
      return { name, stream, loop, metrics, lag: null };
    };
    this.#pipelines = [pipeline(names.results, RESULTS_STREAM, results), pipeline(names.heartbeats, HEARTBEATS_STREAM, heartbeats)];
  }

  /** Connects (in the background, retrying) and starts consuming. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#transport.onChange((state, detail) => this.#log[state === 'connected' ? 'info' : 'warn'](`nats ${state}`, detail));
    this.#transport.start();
    for (const { loop } of this.#pipelines) loop.start();
    const poll = () => {
      this.#pollLag().finally(() => {
        if (this.#lagTimer) this.#lagTimer = setTimeout(poll, this.#lagPollMs);
      });
    };
    this.#lagTimer = setTimeout(poll, 0);
  }

  /** Stops fetching, writes and acks what is held (handing back what the store cannot take in time), disconnects. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.#lagTimer) clearTimeout(this.#lagTimer);
    this.#lagTimer = null;
    await Promise.all(this.#pipelines.map(({ loop }) => loop.stop(timeoutMs)));
    await this.#transport.close(); // drains: the last acks reach the server
  }

  /** Healthy while NATS is connected and the store takes writes. */
  health(): { healthy: boolean; body: Record<string, unknown> } {
    const consumers = Object.fromEntries(
      this.#pipelines.map(({ name, stream, loop, lag }) => {
        const h = loop.health();
        return [name, {
          stream,
          held: h.held,
          store: h.failingSince === null ? 'ok' : 'failing',
          failing_since: h.failingSince === null ? null : new Date(h.failingSince).toISOString(),
          last_error: h.lastError,
          last_batch_at: h.lastBatchAt === null ? null : new Date(h.lastBatchAt).toISOString(),
          pending: lag?.pending ?? null,
          ack_pending: lag?.ackPending ?? null,
        }];
      }),
    );
    const nats = this.#transport.state;
    const healthy = nats === 'connected' && this.#pipelines.every(({ loop }) => loop.health().failingSince === null);
    return { healthy, body: { status: healthy ? 'ok' : 'degraded', nats, nats_error: this.#transport.lastError, consumers } };
  }

  async #pollLag(): Promise<void> {
    try {
      for (const pipeline of this.#pipelines) {
        const lag = await this.#transport.consumerLag(pipeline.stream, pipeline.name);
        if (!lag) continue;
        pipeline.lag = lag;
        pipeline.metrics.lag(lag);
      }
    } catch (err) {
      this.#log.debug('cannot read consumer lag', { error: (err as Error).message });
    }
  }
}
