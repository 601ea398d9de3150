/**
 * The analyzer service (`vantage analyzer`): consumes the results stream through its own durable
 * consumer, keeps the ground truth, classifies every DNS record as it arrives and stores the
 * verdicts in `vantage.verdicts`; results, verdicts and heartbeats also go to an observer (the
 * alarm service). Messages are acked only after the verdicts are stored and the observer has
 * published what they caused, so a kill -9 at any instant loses nothing: redelivered records are
 * judged again and their verdicts replace the stored ones (same ids).
 *
 * Ground truth is derived state: at start it is rebuilt from the DNS records ClickHouse holds
 * (the collector stores every record), so a restarted analyzer judges as the one before it did.
 *
 * Sharding: with `shard: { index, count }` a replica judges only the tasks whose id hashes to its
 * index. Every shard reads the whole stream through a durable consumer of its own
 * (`analyzer-<index>-of-<count>`) and acks the records of other shards unread.
 */
import {
  ANALYZER_CONSUMER, HEARTBEATS_STREAM, RESULTS_STREAM, type Heartbeat, type ResultRecord,
} from '@vantage/probe';
import {
  CollectorMetrics, ConsumerLoop, DATABASE, DEFAULT_BACKOFF, VERDICTS, decodeHeartbeat, decodeResult, recordFromRow, toStoreError,
  type BatchTarget, type ClickHouse, type ConsumerMetrics, type LoopHealth, type Transport,
} from '@vantage/collector';
import { silentLogger, type Logger } from '../../../probe/src/run/log.ts';
import { classifyRecord } from '../classify/classifier.ts';
import { Expectations } from '../classify/expectations.ts';
import { GroundTruth } from '../classify/ground-truth.ts';
import type { AnalyzerSettings } from '../classify/settings.ts';
import { verdictRow, type Verdict } from '../classify/verdict.ts';
import { ownsTask, type Shard } from './shard.ts';

/** What sees every analyzed result, verdict and heartbeat (the alarm service). */
export interface AnalysisObserver {
  observeResult(record: ResultRecord): void;
  observeVerdict(verdict: Verdict): void;
  observeHeartbeat(heartbeat: Heartbeat): void;
  /** Resolves once everything observed so far is durable (alarm events published). */
  flush(): Promise<void>;
}

export interface AnalyzerServiceOptions {
  transport: Transport;
  /** An opened, migrated ClickHouse (shared with the other roles in `vantage up`). */
  ch: ClickHouse;
  settings?: Partial<AnalyzerSettings>;
  /** Customer expectations of the dns tasks (from the task config). */
  expectations?: Expectations;
  shard?: Shard;
  observer?: AnalysisObserver | null;
  /** Records per batch at most (default 1000): verdicts are stored per batch. */
  batchSize?: number;
  /** A batch is judged at the latest this long after its first record arrived (default 200 ms). */
  batchMs?: number;
  ackWaitMs?: number;
  fetchExpiresMs?: number;
  metrics?: CollectorMetrics;
  log?: Logger;
  /** Epoch ms (analyzed_at, the rebuild window). */
  wallClock?: () => number;
}

export interface RebuildResult {
  records: number;
  seconds: number;
}

export class AnalyzerService {
  readonly groundTruth: GroundTruth;
  readonly metrics: CollectorMetrics;
  readonly #opts: AnalyzerServiceOptions;
  readonly #log: Logger;
  readonly #wallClock: () => number;
  readonly #expectations: Expectations;
  readonly #shard: Shard;
  readonly #loops: { name: string; loop: ConsumerLoop<unknown> }[] = [];
  /** Verdicts of records judged in a batch whose insert has not succeeded yet (a retry reuses them). */
  readonly #judged = new Map<string, Verdict[]>();
  #started = false;
  #resultsMetrics: ConsumerMetrics | null = null;

  constructor(opts: AnalyzerServiceOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? silentLogger;
    this.#wallClock = opts.wallClock ?? Date.now;
    this.#expectations = opts.expectations ?? new Expectations();
    this.#shard = opts.shard ?? { index: 0, count: 1 };
    this.groundTruth = new GroundTruth(opts.settings);
    this.metrics = opts.metrics ?? new CollectorMetrics({ prefix: 'vantage_analyzer' });
  }

  /** Rebuilds the ground truth from ClickHouse, then starts consuming. */
  async start(): Promise<RebuildResult> {
    if (this.#started) throw new Error('the analyzer service is started already');
    this.#started = true;
    const rebuilt = await this.rebuild();
    this.#log.info('ground truth rebuilt from ClickHouse', { records: rebuilt.records, seconds: rebuilt.seconds });

    const suffix = this.#shard.count === 1 ? '' : `-${this.#shard.index}-of-${this.#shard.count}`;
    const results: BatchTarget<ResultRecord> = {
      decode: (msg) => decodeResult(msg),
      insert: (records) => this.#judge(records),
      insertRejected: async (rows) => {
        // The collector keeps invalid messages in rejected_records; here they are only counted.
        this.#log.warn('invalid messages skipped (the collector keeps them)', { count: rows.length, first: rows[0]?.reason.slice(0, 200) });
      },
    };
    this.#resultsMetrics = this.#addLoop(`${ANALYZER_CONSUMER}${suffix}`, RESULTS_STREAM, results);
    const observer = this.#opts.observer;
    if (observer) {
      const heartbeats: BatchTarget<Heartbeat> = {
        decode: (msg) => decodeHeartbeat(msg),
        insert: async (beats) => {
          for (const beat of beats) observer.observeHeartbeat(beat);
          await observer.flush();
        },
        insertRejected: async () => undefined,
      };
      this.#addLoop(`${ANALYZER_CONSUMER}-heartbeats${suffix}`, HEARTBEATS_STREAM, heartbeats);
    }
    this.#opts.transport.start();
    for (const { loop } of this.#loops) loop.start();
    return rebuilt;
  }

  /** Feeds the ground truth the DNS records stored over its history window (this shard's tasks). */
  async rebuild(): Promise<RebuildResult> {
    const started = performance.now();
    const since = this.#wallClock() - this.groundTruth.settings.historyMs;
    const query = `SELECT * FROM ${DATABASE}.results FINAL
WHERE kind = 'dns' AND started_at >= toDateTime(${Math.max(0, Math.floor(since / 1000))})
ORDER BY started_at_ms`;
    let records = 0;
    try {
      const result = await this.#opts.ch.client.query({ query, format: 'JSONEachRow' });
      for await (const rows of result.stream<Record<string, unknown>>()) {
        for (const row of rows) {
          const record = recordFromRow(row.json());
          if (!ownsTask(this.#shard, record.task_id)) continue;
          if (this.groundTruth.observe(record)) records++;
        }
      }
    } catch (err) {
      throw toStoreError(err, 'rebuilding the ground truth');
    }
    return { records, seconds: (performance.now() - started) / 1000 };
  }

  async stop(timeoutMs = 15_000): Promise<void> {
    await Promise.all(this.#loops.map(({ loop }) => loop.stop(timeoutMs)));
  }

  health(): { healthy: boolean; body: Record<string, unknown> } {
    const consumers: Record<string, LoopHealth & { store: string }> = {};
    for (const { name, loop } of this.#loops) {
      const h = loop.health();
      consumers[name] = { ...h, store: h.failingSince === null ? 'ok' : 'failing' };
    }
    const healthy = this.#opts.transport.state === 'connected' && Object.values(consumers).every((c) => c.failingSince === null);
    return { healthy, body: { status: healthy ? 'ok' : 'degraded', nats: this.#opts.transport.state, shard: this.#shard, consumers } };
  }

  /** Judges a batch: verdicts stored, observer told, then (by the caller) the messages acked. */
  async #judge(records: ResultRecord[]): Promise<void> {
    const mine = records.filter((r) => ownsTask(this.#shard, r.task_id));
    // Learn from the whole batch first: every probe's reference answers of a round count for all.
    const fresh = mine.filter((r) => !this.#judged.has(r.id));
    for (const record of fresh) this.groundTruth.observe(record);
    for (const record of fresh) this.#judged.set(record.id, this.#classify(record));
    const verdicts = mine.flatMap((r) => this.#judged.get(r.id) ?? []);
    if (verdicts.length > 0) {
      const analyzedAt = this.#wallClock();
      try {
        await this.#opts.ch.client.insert({
          table: `${DATABASE}.${VERDICTS.name}`,
          values: verdicts.map((v) => verdictRow(v, analyzedAt)),
          format: 'JSONEachRow',
        });
      } catch (err) {
        const failure = toStoreError(err, `inserting ${verdicts.length} verdicts`);
        // Refused for good: these records are rejected, not retried, so nothing reuses their verdicts.
        if (!failure.transient) for (const record of mine) this.#judged.delete(record.id);
        throw failure;
      }
    }
    const observer = this.#opts.observer;
    if (observer) {
      for (const record of mine) observer.observeResult(record);
      for (const verdict of verdicts) observer.observeVerdict(verdict);
      await observer.flush();
    }
    for (const record of mine) this.#judged.delete(record.id);
  }

  /** A record the classifier cannot judge (a bug) is logged and counted, and must not stall the stream. */
  #classify(record: ResultRecord): Verdict[] {
    try {
      return classifyRecord(record, this.groundTruth, this.#expectations);
    } catch (err) {
      this.#log.error('cannot classify a record: no verdict stored for it', { record_id: record.id, task_id: record.task_id, error: (err as Error).stack ?? String(err) });
      this.#resultsMetrics?.rejected('classify_error', 1);
      return [];
    }
  }

  #addLoop<T>(name: string, stream: string, target: BatchTarget<T>): ConsumerMetrics {
    const metrics = this.metrics.forConsumer(name);
    const batchSize = this.#opts.batchSize ?? 1000;
    const ackWaitMs = this.#opts.ackWaitMs ?? 30_000;
    const loop = new ConsumerLoop<T>({
      name,
      source: this.#opts.transport.consumerSource({ stream, name, ackWaitMs, maxAckPending: batchSize * 4 }, this.#log),
      target,
      batchSize,
      batchMs: this.#opts.batchMs ?? 200,
      ackWaitMs,
      fetchExpiresMs: Math.max(1000, this.#opts.fetchExpiresMs ?? 2000),
      maxHeld: batchSize * 2,
      // One batch at a time: verdicts depend on what earlier batches taught the ground truth.
      writesInFlight: 1,
      backoff: DEFAULT_BACKOFF,
      metrics,
      log: this.#log,
      random: Math.random,
      now: () => performance.now(),
      wallClock: this.#wallClock,
    });
    this.#loops.push({ name, loop: loop as ConsumerLoop<unknown> });
    return metrics;
  }
}
