/**
 * Delivers result records to JetStream, with the on-disk spool as the fallback.
 *
 * `publish` resolves once JetStream acked the record or it is safely in the spool. While the
 * spool holds anything (or a replay runs), new records go behind it, so a task's records reach
 * the stream in the order the task made them (a task awaits `publish` before its next run).
 * When the connection is up, one replay loop sends the spool in order, one record at a time
 * (the next only after the previous was acked), and removes what was acked. Nats-Msg-Id = record
 * id, so a record sent twice (a timed-out publish that the client's reconnect buffer delivers
 * later, or a replay repeated after a crash) is stored once.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { errors, type NatsConnection } from '@nats-io/transport-node';
import type { ProbeConfig, ProbeIdentity } from '../config/config.ts';
import type { Heartbeat } from '../contract/heartbeat.ts';
import type { ResultRecord } from '../contract/record.ts';
import { heartbeatSubject, resultSubject } from '../contract/subjects.ts';
import { silentLogger, type Logger } from '../run/log.ts';
import { NatsLink, type LinkEvent, type NatsLinkOptions } from './nats-connection.ts';
import { Spool, type SpoolEntry, type SpoolOptions } from './spool.ts';
import { ensureStreams } from './streams.ts';
import { WakeablePause } from './wakeable-pause.ts';

export interface SinkStats {
  spoolDepth: number;
  spoolDropped: number;
  lastError: string | null;
  /** The NATS connection's state, for sinks that have one. */
  connection?: string;
}

/** Where the probe's records go; the worker depends only on this. */
export interface RecordSink {
  publish(record: ResultRecord): Promise<void>;
  publishHeartbeat?(heartbeat: Heartbeat): Promise<void>;
  stats(): SinkStats;
  close(): Promise<void>;
}

export interface PublisherStats extends SinkStats {
  /** Unreadable spool lines skipped since start (a torn line after a crash). */
  spoolCorrupt: number;
  /** Records NATS can never take (too large, bad subject): logged and removed from the spool. */
  rejected: number;
  connection: LinkEvent['state'];
}

export interface PublisherOptions {
  log?: Logger;
  /** How long a publish waits for the JetStream ack before the record goes to the spool. */
  ackTimeoutMs?: number;
  /** Pause before a failed replay is tried again. */
  retryDelayMs?: number;
  link?: NatsLinkOptions;
  spool?: Omit<SpoolOptions, 'maxBytes'>;
  /** Create missing streams on every (re)connect. Default true. */
  ensureStreams?: boolean;
  /** Monotonic ms, for the publish latency. */
  now?: () => number;
}

export type PublisherConfig = Pick<ProbeConfig, 'nats' | 'spool'> & { probe: Pick<ProbeIdentity, 'id'> };

const REPLAY_BATCH = 100;

export class JetStreamPublisher implements RecordSink {
  /** Called with the ack latency of each record published directly (not through the spool). */
  onPublished?: (latencyMs: number) => void;

  readonly #link: NatsLink;
  readonly #spoolReady: Promise<Spool<ResultRecord> | null>;
  #spool: Spool<ResultRecord> | null = null;
  readonly #log: Logger;
  readonly #ackTimeoutMs: number;
  readonly #retryDelayMs: number;
  readonly #ensure: boolean;
  readonly #now: () => number;
  #client: { nc: NatsConnection; js: JetStreamClient } | null = null;
  #lastError: string | null = null;
  #rejected = 0;
  #dropsReported = 0;
  #appending = 0;
  #replay: Promise<void> | null = null;
  #inflight = new Set<Promise<unknown>>();
  #stopping = false;
  #waitingHeartbeat: Heartbeat | null = null;
  #closing: Promise<void> | null = null;
  readonly #pauser = new WakeablePause();
  readonly #unsubscribe: () => void;

  constructor(config: PublisherConfig, opts: PublisherOptions = {}) {
    this.#log = opts.log ?? silentLogger;
    this.#ackTimeoutMs = opts.ackTimeoutMs ?? 2000;
    this.#retryDelayMs = opts.retryDelayMs ?? 1000;
    this.#ensure = opts.ensureStreams ?? true;
    this.#now = opts.now ?? (() => performance.now());
    this.#spoolReady = Spool.open<ResultRecord>(config.spool.dir, { ...opts.spool, maxBytes: config.spool.maxBytes }).then(
      (spool) => {
        this.#spool = spool;
        if (spool.depth > 0 || spool.corrupt > 0) {
          this.#log.info('spool opened with records to replay', { dir: config.spool.dir, depth: spool.depth, corrupt: spool.corrupt });
        }
        this.#startReplay();
        return spool;
      },
      (err: unknown) => {
        this.#fail(err);
        this.#log.error('spool unavailable: records are published only while NATS is up', { dir: config.spool.dir, error: this.#lastError });
        return null;
      },
    );
    this.#link = new NatsLink(config.nats, { name: `vantage-probe-${config.probe.id}`, ...opts.link });
    this.#unsubscribe = this.#link.onChange((event) => this.#onLink(event));
    this.#link.start();
  }

  publish(record: ResultRecord): Promise<void> {
    if (this.#stopping) return Promise.reject(new Error('publisher is closed'));
    return this.#track(this.#deliver(record));
  }

  /**
   * Best effort, never spooled (a stale heartbeat is useless): while disconnected only the latest
   * one is kept, and sent as soon as the connection is (back) up, so the fleet view sees the probe
   * without waiting for the next interval.
   */
  publishHeartbeat(heartbeat: Heartbeat): Promise<void> {
    const nc = this.#link.connection;
    if (this.#stopping) return Promise.resolve();
    if (!nc) {
      this.#waitingHeartbeat = heartbeat;
      return Promise.resolve();
    }
    this.#waitingHeartbeat = null;
    const sent = this.#js(nc)
      .publish(heartbeatSubject(heartbeat.probe_id), JSON.stringify(heartbeat), { timeout: this.#ackTimeoutMs })
      .then(
        () => undefined,
        (err: unknown) => this.#fail(err),
      );
    return this.#track(sent);
  }

  stats(): PublisherStats {
    return {
      spoolDepth: this.#spool?.depth ?? 0,
      spoolDropped: this.#spool?.dropped ?? 0,
      spoolCorrupt: this.#spool?.corrupt ?? 0,
      rejected: this.#rejected,
      // While NATS is unreachable, why the connection fails is the error that matters.
      lastError: this.#lastError ?? (this.#link.state === 'connected' ? null : this.#link.lastError),
      connection: this.#link.state,
    };
  }

  /**
   * Lets in-flight publishes finish (acked or spooled), stops the replay after its current
   * record, closes the spool (what it holds waits for the next start) and drains the connection.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#stopping = true;
    this.#pauser.wake();
    this.#closing = (async () => {
      await Promise.allSettled([...this.#inflight]);
      await this.#replay;
      await (await this.#spoolReady)?.close();
      this.#unsubscribe();
      await this.#link.close();
    })();
    return this.#closing;
  }

  // ---------------------------------------------------------------------------------------------

  async #deliver(record: ResultRecord): Promise<void> {
    const spool = await this.#spoolReady;
    const nc = this.#link.connection;
    const queued = spool !== null && (spool.depth > 0 || this.#appending > 0 || this.#replay !== null);
    if (nc && !queued) {
      const started = this.#now();
      try {
        await this.#send(nc, record);
        this.onPublished?.(this.#now() - started);
        return;
      } catch (err) {
        this.#fail(err);
        if (!spool || isPermanent(err)) throw err;
      }
    }
    if (!spool) throw new Error(`NATS is not connected and the spool is unavailable (${this.#lastError ?? 'no error'})`);
    const wasEmpty = spool.depth === 0 && this.#appending === 0;
    this.#appending++;
    try {
      await spool.append(record);
    } finally {
      this.#appending--;
    }
    if (wasEmpty) this.#log.info('spooling records until NATS takes them again', { connection: this.#link.state, error: this.#lastError });
    this.#reportDrops(spool);
    this.#startReplay();
  }

  /** One warning when the spool starts dropping, then one per thousand drops. */
  #reportDrops(spool: Spool<ResultRecord>): void {
    const dropped = spool.dropped;
    if (dropped === this.#dropsReported || (this.#dropsReported > 0 && dropped - this.#dropsReported < 1000)) return;
    this.#dropsReported = dropped;
    this.#log.warn('spool full: oldest records dropped', { dropped, depth: spool.depth, bytes: spool.bytes });
  }

  async #send(nc: NatsConnection, record: ResultRecord): Promise<void> {
    await this.#js(nc).publish(resultSubject(record.kind, record.probe_id), JSON.stringify(record), {
      msgID: record.id,
      timeout: this.#ackTimeoutMs,
    });
    this.#lastError = null;
  }

  #js(nc: NatsConnection): JetStreamClient {
    if (this.#client?.nc !== nc) this.#client = { nc, js: jetstream(nc, { timeout: this.#ackTimeoutMs }) };
    return this.#client.js;
  }

  #onLink(event: LinkEvent): void {
    if (event.state === 'connected') {
      this.#log.info('connected to NATS', { server: event.server });
      void this.#prepare();
    } else if (event.state === 'reconnecting') {
      this.#log.warn('NATS connection lost: reconnecting', { server: event.server });
    } else if (event.state === 'connecting' && event.error) {
      this.#log.warn('cannot connect to NATS: retrying', { error: event.error });
    }
  }

  /** On every (re)connect: create missing streams, then replay the spool. */
  async #prepare(): Promise<void> {
    const nc = this.#link.connection;
    if (nc && this.#ensure) await this.#ensureStreams(nc);
    this.#startReplay();
    if (this.#waitingHeartbeat) void this.publishHeartbeat(this.#waitingHeartbeat);
  }

  async #ensureStreams(nc: NatsConnection): Promise<void> {
    for (const outcome of await ensureStreams(nc, { timeoutMs: this.#ackTimeoutMs })) {
      if (outcome.result === 'created') this.#log.info('stream created', { stream: outcome.stream });
      else if (outcome.result === 'failed') this.#log.warn('cannot check or create stream', { stream: outcome.stream, error: outcome.error });
      else if (outcome.mismatches) this.#log.warn('stream differs from what the probe expects', { stream: outcome.stream, mismatches: outcome.mismatches });
    }
  }

  #startReplay(): void {
    const spool = this.#spool;
    if (this.#replay || this.#stopping || !spool || spool.depth === 0 || !this.#link.connection) return;
    this.#replay = this.#replayLoop(spool)
      .catch((err: unknown) => {
        this.#fail(err);
        this.#log.error('spool replay failed', { error: this.#lastError });
        return 'stopped' as const;
      })
      .then((end) => {
        this.#replay = null;
        // A record appended while the loop was ending would otherwise wait for the next one.
        if (end === 'empty') this.#startReplay();
      });
  }

  async #replayLoop(spool: Spool<ResultRecord>): Promise<'empty' | 'stopped'> {
    const depthAtStart = spool.depth;
    let sent = 0;
    for (;;) {
      const nc = this.#link.connection;
      if (this.#stopping || !nc) return 'stopped';
      if (spool.depth === 0) {
        this.#log.info('spool replayed', { records: sent, started_with: depthAtStart, dropped: spool.dropped });
        return 'empty';
      }
      const batch = await spool.peek(REPLAY_BATCH);
      if (batch.length === 0) return 'stopped';
      let done: SpoolEntry<ResultRecord> | null = null;
      let failed: unknown = null;
      for (const entry of batch) {
        if (this.#stopping || this.#link.connection !== nc) break;
        try {
          await this.#send(nc, entry.record);
          sent++;
        } catch (err) {
          if (!isPermanent(err)) {
            failed = err;
            break;
          }
          this.#rejected++;
          this.#fail(err);
          this.#log.error('record rejected by NATS: removed from the spool', { id: entry.record.id, task_id: entry.record.task_id, error: this.#lastError });
        }
        done = entry;
      }
      if (done) await spool.commit(done);
      if (failed) {
        this.#fail(failed);
        if ((failed as Error).name === 'JetStreamNotEnabled' && this.#ensure) await this.#ensureStreams(nc); // no stream took it
        if (!this.#stopping) await this.#pauser.sleep(this.#retryDelayMs);
      }
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inflight.add(work);
    const forget = () => this.#inflight.delete(work);
    work.then(forget, forget);
    return work;
  }

  #fail(err: unknown): void {
    this.#lastError = err instanceof Error ? err.message : String(err);
  }
}

/** Errors that no retry can fix for this record: it is too large, or its subject is invalid. */
function isPermanent(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof errors.InvalidSubjectError || e instanceof errors.InvalidArgumentError) return true;
  }
  return false;
}
