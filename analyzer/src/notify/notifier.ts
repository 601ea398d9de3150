/**
 * The notifier: one ChannelWorker per configured channel, each on its own durable consumer of the
 * alarms stream, sharing one delivery log. Takes an opened ClickHouse and a Transport from its
 * caller, so `vantage up` can run it next to the analyzer in one process. Any number of notifier
 * processes may run: they share the consumers, and max_ack_pending 1 keeps each channel in order.
 */
import { hostname } from 'node:os';
import type { BackoffPolicy } from '../../../collector/src/consume/backoff.ts';
import type { ClickHouse } from '../../../collector/src/store/clickhouse-client.ts';
import type { Transport } from '../../../collector/src/transport/transport.ts';
import { silentLogger, type Logger } from '../../../probe/src/run/log.ts';
import { PROBE_VERSION } from '../../../probe/src/version.ts';
import { ensureAlarmStream } from '../alarms/bus.ts';
import { ALARMS_STREAM } from '../alarms/event.ts';
import type { AlarmConfig } from '../alarms/rules.ts';
import { resolveChannel } from './channel-config.ts';
import { ChannelWorker, type WorkerHealth } from './channel-worker.ts';
import { DeliveryLog } from './delivery-log.ts';
import { NotifierMetrics } from './metrics.ts';

export const NOTIFIER_CONSUMER_PREFIX = 'notifier-';

export interface NotifierOptions {
  config: AlarmConfig;
  transport: Transport;
  /** An already-opened, migrated ClickHouse: the delivery log and dead letters. */
  ch: ClickHouse;
  /** Where `env:NAME` secrets are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Run only these channels (default: every channel in the config). */
  channels?: string[];
  /**
   * ack_wait of the consumers this notifier creates (default 30 s): how long after a crash an event
   * in delivery is delivered again. Must exceed the channels' timeouts.
   */
  ackWaitMs?: number;
  fetchExpiresMs?: number;
  /** Overrides notifier.backoff of the config (tests). */
  backoff?: BackoffPolicy;
  log?: Logger;
  metrics?: NotifierMetrics;
  now?: () => number;
  random?: () => number;
}

export class Notifier {
  readonly metrics: NotifierMetrics;
  readonly #opts: NotifierOptions;
  readonly #log: Logger;
  readonly #deliveries: DeliveryLog;
  readonly #workers: ChannelWorker[];
  #streamReady = false;
  #stopped = false;

  /** Throws MissingSecretError when a channel's secret is not in the environment, Error for an unknown channel name. */
  constructor(opts: NotifierOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? silentLogger;
    this.metrics = opts.metrics ?? new NotifierMetrics();
    this.#deliveries = new DeliveryLog(opts.ch, this.#log);
    const { config } = opts;
    const names = opts.channels ?? Object.keys(config.channels);
    for (const name of names) if (!config.channels[name]) throw new Error(`no channel "${name}" in ${config.file} (known: ${Object.keys(config.channels).join(', ') || 'none'})`);
    const ackWaitMs = opts.ackWaitMs ?? 30_000;
    const notifierId = `${hostname()}:${process.pid}`;
    this.#workers = names.map((name) => {
      const channel = resolveChannel(config.channels[name]!, opts.env ?? process.env);
      if (channel.timeoutMs >= ackWaitMs) this.#log.warn('a channel timeout is not shorter than the ack wait: a slow answer may be redelivered', { channel: name, timeout_ms: channel.timeoutMs, ack_wait_ms: ackWaitMs });
      return new ChannelWorker({
        channel,
        source: opts.transport.consumerSource({ stream: ALARMS_STREAM, name: `${NOTIFIER_CONSUMER_PREFIX}${name}`, ackWaitMs, maxAckPending: 1 }, this.#log),
        deliveries: this.#deliveries,
        log: this.#log,
        metrics: this.metrics,
        maxAttempts: config.notifier.maxAttempts,
        backoff: opts.backoff ?? config.notifier.backoff,
        externalUrl: config.notifier.externalUrl,
        ackWaitMs,
        fetchExpiresMs: Math.max(1000, opts.fetchExpiresMs ?? 2000),
        notifierId,
        userAgent: `vantage-notifier/${PROBE_VERSION}`,
        now: opts.now ?? Date.now,
        random: opts.random ?? Math.random,
      });
    });
  }

  get channels(): string[] {
    return this.#workers.map((w) => w.health().channel);
  }

  /** Starts delivering; the alarms stream is created if missing (retrying in the background while NATS is away). */
  start(): void {
    this.#deliveries.start();
    for (const worker of this.#workers) worker.start();
    void this.#ensureStream();
  }

  /** Finishes the deliveries in hand, writes the delivery log (bounded by `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#workers.map((w) => w.stop()));
    await this.#deliveries.close(timeoutMs);
  }

  health(): { healthy: boolean; body: Record<string, unknown> } {
    const workers: WorkerHealth[] = this.#workers.map((w) => w.health());
    const transport = this.#opts.transport.state;
    const healthy = transport === 'connected' && workers.every((w) => w.failingSince === null);
    return {
      healthy,
      body: {
        status: healthy ? 'ok' : 'degraded',
        transport,
        stream: this.#streamReady ? 'ok' : 'waiting',
        delivery_log: this.#deliveries.failingSince === null ? 'ok' : 'failing',
        delivery_log_error: this.#deliveries.lastError,
        channels: Object.fromEntries(workers.map((w) => [w.channel, {
          state: w.failingSince === null ? 'ok' : 'failing',
          failing_since: w.failingSince === null ? null : new Date(w.failingSince).toISOString(),
          last_error: w.lastError,
          last_delivered_at: w.lastDeliveredAt === null ? null : new Date(w.lastDeliveredAt).toISOString(),
          dead_letters: w.deadLetters,
        }])),
      },
    };
  }

  async #ensureStream(): Promise<void> {
    for (let attempt = 0; !this.#streamReady && !this.#stopped; attempt++) {
      try {
        await ensureAlarmStream(this.#opts.transport, this.#log);
        this.#streamReady = true;
      } catch (err) {
        if (attempt % 10 === 0) this.#log.warn('cannot make sure the alarms stream exists yet: retrying', { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}
