/**
 * AlarmService: the alarm engine at the edge of I/O, for the analyzer to drive. It feeds results,
 * verdicts and heartbeats to the engine, ticks it every second, and publishes the events to the
 * alarms stream in order (retrying until stored; `flush()` waits for that). At start it resumes
 * from the last event of every alarm (stream, then ClickHouse) and learns the fleet from the last
 * stored heartbeats, so a restarted analyzer neither forgets a firing alarm nor fires it twice.
 * It also copies the alarms stream into `vantage.alarm_events` (durable consumer `alarm-events`,
 * acked after the insert; any number of replicas share it).
 */
import type { Heartbeat, ResultRecord } from '@vantage/probe';
import { ConsumerLoop } from '../../../collector/src/consume/consumer-loop.ts';
import type { BatchTarget } from '../../../collector/src/consume/batch-writer.ts';
import { DEFAULT_BACKOFF, backoffDelay } from '../../../collector/src/consume/backoff.ts';
import { rejectReason, type RawMessage } from '../../../collector/src/consume/decode.ts';
import type { ClickHouse } from '../../../collector/src/store/clickhouse-client.ts';
import { ClickHouseStore } from '../../../collector/src/store/clickhouse-store.ts';
import { DATABASE } from '../../../collector/src/store/ddl.ts';
import { heartbeatFromRow } from '../../../collector/src/store/rows.ts';
import { sqlDateTime } from '../../../collector/src/store/sql.ts';
import type { StreamMessage, Transport } from '../../../collector/src/transport/transport.ts';
import { WakeSignal } from '../../../collector/src/transport/wake-signal.ts';
import { silentLogger, type Logger } from '../../../probe/src/run/log.ts';
import { ensureAlarmStream, lastStreamEvents, publishAlarmEvent } from './bus.ts';
import { AlarmEngine, type AlarmView, type VerdictInput } from './engine.ts';
import { ALARMS_STREAM, InvalidAlarmEventError, parseAlarmEvent, type AlarmEvent } from './event.ts';
import { alarmEventRow, insertAlarmEvents, lastStoredEvents, latestPerAlarm, storedEventIds } from './event-store.ts';
import { AlarmMetrics } from './metrics.ts';
import type { AlarmConfig } from './rules.ts';

export const ALARM_EVENTS_CONSUMER = 'alarm-events';

export interface AlarmServiceOptions {
  config: AlarmConfig;
  /** The analyzer's transport (NATS JetStream, or the in-process streams of `vantage up`). */
  transport: Transport;
  /** An already-opened ClickHouse (migrated): alarm_events, and the last heartbeats at start. */
  ch: ClickHouse;
  log?: Logger;
  /** Epoch ms (the engine's clock). */
  now?: () => number;
  /** How often time-driven changes are evaluated (default 1000 ms). */
  tickMs?: number;
  /** Which tasks this replica evaluates (analyzer shards); default all. */
  ownsTask?: (taskId: string) => boolean;
  /** Whether this replica evaluates probe_offline rules (one replica should); default true. */
  probeRules?: boolean;
  /** Copy the alarms stream into vantage.alarm_events (default true). */
  storeEvents?: boolean;
  metrics?: AlarmMetrics;
  random?: () => number;
}

interface Queued {
  event: AlarmEvent;
  attempts: number;
}

export class AlarmService {
  readonly engine: AlarmEngine;
  readonly metrics: AlarmMetrics;
  readonly #opts: AlarmServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #queue: Queued[] = [];
  readonly #queued = new WakeSignal();
  readonly #drained = new WakeSignal();
  readonly #pause = new WakeSignal();
  #publishing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #store: ConsumerLoop<{ event: AlarmEvent; seq: number }> | null = null;
  #started = false;
  #stopping = false;
  #restored = false;
  #publishFailingSince: number | null = null;
  #lastPublishError: string | null = null;

  constructor(opts: AlarmServiceOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? silentLogger;
    this.#now = opts.now ?? Date.now;
    this.metrics = opts.metrics ?? new AlarmMetrics();
    this.engine = new AlarmEngine(opts.config, { now: this.#now, ownsTask: opts.ownsTask, probeRules: opts.probeRules });
  }

  /**
   * Makes sure the alarms stream exists, resumes every alarm from its last event, learns the fleet
   * from the last stored heartbeats, then starts the tick, the publisher and the event store.
   * Waits (retrying) while NATS or ClickHouse are unreachable: observing before it resolved could
   * fire an alarm that already fires. Resolves false when stop() came first.
   */
  async start(): Promise<boolean> {
    if (this.#started) return true;
    this.#started = true;
    const { transport, ch } = this.#opts;
    for (let attempt = 0; !this.#stopping; attempt++) {
      try {
        await ensureAlarmStream(transport, this.#log);
        const fromStream = await lastStreamEvents(transport, this.#log);
        const fromStore = await lastStoredEvents(ch);
        const last = latestPerAlarm(fromStream, fromStore);
        this.engine.restore(last);
        const beats = await this.#lastHeartbeats();
        for (const hb of beats) this.engine.observeHeartbeat(hb);
        this.#restored = true;
        const firing = this.engine.alarms().length;
        this.#log.info('alarms resumed', { alarms: last.length, firing, from_stream: fromStream.length, from_store: fromStore.length, probes: beats.length });
        this.metrics.firing(firing);
        break;
      } catch (err) {
        const wait = backoffDelay(attempt, { initialMs: 500, maxMs: 10_000 }, this.#opts.random);
        this.#log.warn('cannot resume alarms yet: retrying', { error: (err as Error).message, retry_in_ms: wait });
        await this.#pause.wait(wait);
      }
    }
    if (this.#stopping) return false;
    this.#publishing = this.#publishLoop();
    const tickMs = this.#opts.tickMs ?? 1000;
    this.#timer = setInterval(() => this.tick(), tickMs);
    if (this.#opts.storeEvents !== false) {
      this.#store = this.#storeLoop();
      this.#store.start();
    }
    return true;
  }

  /** A result record (any kind). Events it causes are queued for publishing at once. */
  observeResult(record: ResultRecord): void {
    this.#enqueue(this.engine.observeResult(record));
  }

  /** A hijack verdict. */
  observeVerdict(verdict: VerdictInput): void {
    this.#enqueue(this.engine.observeVerdict(verdict));
  }

  /** A probe heartbeat. */
  observeHeartbeat(hb: Heartbeat): void {
    this.#enqueue(this.engine.observeHeartbeat(hb));
  }

  /** Time-driven evaluation (the service calls it every tickMs; a test may call it). */
  tick(): void {
    if (!this.#restored) return;
    this.#enqueue(this.engine.tick());
    this.metrics.firing(this.engine.alarms().length);
  }

  /** Resolves once every event queued so far is stored in the alarms stream (call before acking the input that caused them). */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopping) await this.#drained.wait(1000);
  }

  /** The alarms that are pending or firing now. */
  alarms(): AlarmView[] {
    return this.engine.alarms();
  }

  /** Stops ticking, publishes what is queued (bounded by `timeoutMs`), stops the event store. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length > 0 && this.#publishFailingSince === null && Date.now() < deadline) await this.#drained.wait(Math.max(1, deadline - Date.now()));
    this.#stopping = true;
    this.#pause.notify();
    this.#queued.notify();
    if (this.#queue.length > 0) this.#log.warn('stopping with alarm events not published (a restart re-derives them)', { events: this.#queue.length });
    await this.#publishing;
    await this.#store?.stop(Math.max(0, deadline - Date.now()));
  }

  health(): { healthy: boolean; body: Record<string, unknown> } {
    const store = this.#store?.health();
    const healthy = this.#restored && this.#publishFailingSince === null && (store?.failingSince ?? null) === null;
    return {
      healthy,
      body: {
        restored: this.#restored,
        firing: this.#restored ? this.engine.alarms().filter((a) => a.status === 'firing').length : null,
        queued_events: this.#queue.length,
        publish: this.#publishFailingSince === null ? 'ok' : 'failing',
        publish_error: this.#lastPublishError,
        event_store: store ? (store.failingSince === null ? 'ok' : 'failing') : 'off',
        event_store_error: store?.lastError ?? null,
      },
    };
  }

  #enqueue(events: AlarmEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) {
      this.#queue.push({ event, attempts: 0 });
      this.metrics.event(event);
      this.#log.info(`alarm ${event.kind}`, {
        rule: event.rule_id, fingerprint: event.fingerprint, seq: event.seq, task: event.task_id || undefined, scope: event.scope,
        region: event.region || undefined, isp: event.isp || undefined, probe: event.probe_id || undefined, notify: event.notify, summary: event.summary,
      });
    }
    this.#queued.notify();
  }

  /** Publishes queued events one by one, in order, each until the stream stored it. */
  async #publishLoop(): Promise<void> {
    while (!this.#stopping) {
      const head = this.#queue[0];
      if (!head) {
        this.#drained.notify();
        await this.#queued.wait(1000);
        continue;
      }
      try {
        await publishAlarmEvent(this.#opts.transport, head.event);
        this.#queue.shift();
        this.#publishFailingSince = null;
        this.metrics.published();
      } catch (err) {
        head.attempts++;
        this.#publishFailingSince ??= Date.now();
        this.#lastPublishError = (err as Error).message;
        const wait = backoffDelay(head.attempts - 1, { initialMs: 100, maxMs: 5000 }, this.#opts.random);
        if (head.attempts === 1 || head.attempts % 20 === 0) this.#log.warn('cannot publish an alarm event: retrying', { event_id: head.event.event_id, attempts: head.attempts, error: this.#lastPublishError });
        await this.#pause.wait(wait);
      }
    }
    this.#drained.notify();
  }

  async #lastHeartbeats(): Promise<Heartbeat[]> {
    const offline = this.#opts.config.rules.filter((r) => r.kind === 'probe_offline');
    if (offline.length === 0 || this.#opts.probeRules === false) return [];
    const lookback = Math.max(...offline.map((r) => r.forgetAfterMs));
    const result = await this.#opts.ch.client.query({
      query: `SELECT * FROM ${DATABASE}.probe_heartbeats WHERE sent_at >= ${sqlDateTime(Math.max(0, this.#now() - lookback))} ORDER BY probe_id, sent_at_ms DESC LIMIT 1 BY probe_id`,
      format: 'JSONEachRow',
    });
    return (await result.json<Record<string, unknown>>()).map(heartbeatFromRow);
  }

  #storeLoop(): ConsumerLoop<{ event: AlarmEvent; seq: number }> {
    const { ch, transport } = this.#opts;
    const rejects = new ClickHouseStore(ch);
    const target: BatchTarget<{ event: AlarmEvent; seq: number }> = {
      decode: (msg: RawMessage) => {
        try {
          const seq = (msg as Partial<StreamMessage>).info?.streamSequence ?? 0;
          return { ok: true, value: { event: parseAlarmEvent(msg.data), seq } };
        } catch (err) {
          if (!(err instanceof InvalidAlarmEventError)) throw err;
          return { ok: false, rejectClass: 'invalid', reason: rejectReason('invalid', err.message) };
        }
      },
      idOf: (v) => v.event.event_id,
      storedIds: (values) => storedEventIds(ch, values.map((v) => v.event.event_id)),
      insert: (values) => insertAlarmEvents(ch, values.map((v) => alarmEventRow(v.event, v.seq, Date.now()))),
      insertRejected: (rows) => rejects.insertRejected(rows),
    };
    const ackWaitMs = 30_000;
    return new ConsumerLoop({
      name: ALARM_EVENTS_CONSUMER,
      source: transport.consumerSource({ stream: ALARMS_STREAM, name: ALARM_EVENTS_CONSUMER, ackWaitMs, maxAckPending: 1000 }, this.#log),
      target,
      batchSize: 500,
      batchMs: 200,
      ackWaitMs,
      fetchExpiresMs: 2000,
      maxHeld: 1000,
      writesInFlight: 1,
      backoff: DEFAULT_BACKOFF,
      metrics: this.metrics.eventStore,
      log: this.#log,
      random: this.#opts.random ?? Math.random,
      now: () => performance.now(),
      wallClock: Date.now,
    });
  }
}
