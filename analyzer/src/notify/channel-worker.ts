/**
 * One channel's delivery loop, on its own durable consumer of the alarms stream
 * (`notifier-<channel>`, max_ack_pending 1): events go out one at a time, in stream order. An
 * event is acked only after the channel accepted it; a failed attempt is handed back with a delay
 * (nak: exponential backoff with jitter, the attempt number is the stream's delivery count) so a
 * crash loses nothing; after the last attempt, or an answer retrying cannot fix, a dead letter is
 * written and the message terminated. Every attempt is logged. Events meant for other channels,
 * and events a maintenance window silenced, are acked without a send.
 */
import { backoffDelay, type BackoffPolicy } from '../../../collector/src/consume/backoff.ts';
import type { ConsumerSource, StreamMessage } from '../../../collector/src/transport/transport.ts';
import { WakeSignal } from '../../../collector/src/transport/wake-signal.ts';
import type { Logger } from '../../../probe/src/run/log.ts';
import { parseAlarmEvent, type AlarmEvent } from '../alarms/event.ts';
import type { ResolvedChannel } from './channels/channel.ts';
import type { DeliveryLog } from './delivery-log.ts';
import { sendOnce } from './send.ts';
import type { NotifierMetrics } from './metrics.ts';
import { TokenBucket } from './rate-limit.ts';

export interface ChannelWorkerOptions {
  channel: ResolvedChannel;
  source: ConsumerSource;
  deliveries: DeliveryLog;
  log: Logger;
  metrics: NotifierMetrics;
  maxAttempts: number;
  backoff: BackoffPolicy;
  externalUrl: string | null;
  /** The consumer's ack wait: a message held longer gets working(). */
  ackWaitMs: number;
  fetchExpiresMs: number;
  /** host:pid, in the delivery log. */
  notifierId: string;
  userAgent: string;
  /** Epoch ms. */
  now: () => number;
  random: () => number;
}

export interface WorkerHealth {
  channel: string;
  lastDeliveredAt: number | null;
  failingSince: number | null;
  lastError: string | null;
  deadLetters: number;
}

export class ChannelWorker {
  readonly #o: ChannelWorkerOptions;
  readonly #bucket: TokenBucket | null;
  readonly #pause = new WakeSignal();
  #stopping = false;
  #running: Promise<void> | null = null;
  /** A message handed back for a retry: later ones wait for it (keeps the order on any transport). */
  #blocked: { seq: number; untilMs: number } | null = null;
  /** Deliveries of a message that were such hand-backs, not attempts. */
  readonly #bounced = new Map<number, number>();
  #health: WorkerHealth;

  constructor(opts: ChannelWorkerOptions) {
    this.#o = opts;
    this.#bucket = opts.channel.rateLimit ? new TokenBucket(opts.channel.rateLimit, opts.now()) : null;
    this.#health = { channel: opts.channel.name, lastDeliveredAt: null, failingSince: null, lastError: null, deadLetters: 0 };
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops after the message in hand (an unfinished one is handed back at once). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#pause.notify();
    this.#o.source.wake();
    await this.#running;
  }

  health(): WorkerHealth {
    return { ...this.#health };
  }

  async #loop(): Promise<void> {
    const { source, log, channel } = this.#o;
    while (!this.#stopping) {
      const consumer = await source.get(() => this.#stopping);
      if (!consumer) break;
      try {
        const messages = await consumer.fetch({ max_messages: 1, expires: this.#o.fetchExpiresMs });
        for await (const msg of messages) {
          if (this.#stopping) {
            msg.nak();
            continue;
          }
          await this.#handle(msg);
        }
      } catch (err) {
        if (this.#stopping) break;
        log.warn('fetch failed: retrying', { channel: channel.name, error: (err as Error).message });
        source.invalidate();
        await this.#pause.wait(1000);
      }
    }
  }

  async #handle(msg: StreamMessage): Promise<void> {
    const { channel, now } = this.#o;
    const seq = msg.info.streamSequence;
    if (this.#blocked && this.#blocked.seq !== seq) {
      // Only where the transport lets a later message past one waiting for its retry.
      const left = this.#blocked.untilMs - now();
      if (left > -2 * this.#o.ackWaitMs) {
        this.#bounced.set(seq, (this.#bounced.get(seq) ?? 0) + 1);
        msg.nak(Math.max(50, left + 10));
        return;
      }
      this.#blocked = null; // it never came back (aged out of the stream): stop waiting for it
    }
    let event: AlarmEvent;
    try {
      event = parseAlarmEvent(msg.data);
    } catch (err) {
      await this.#giveUp(msg, null, 1, `not an alarm event: ${(err as Error).message}`);
      return;
    }
    if (!event.notify || !event.channels.includes(channel.name)) {
      msg.ack();
      if (this.#blocked?.seq === seq) this.#blocked = null;
      this.#bounced.delete(seq);
      return;
    }
    const keepAlive = setInterval(() => msg.working(), Math.max(100, Math.floor(this.#o.ackWaitMs / 3)));
    try {
      await this.#deliver(msg, event);
    } finally {
      clearInterval(keepAlive);
    }
  }

  async #deliver(msg: StreamMessage, event: AlarmEvent): Promise<void> {
    const { channel, now, deliveries, metrics, log } = this.#o;
    const seq = msg.info.streamSequence;
    if (!(await this.#rateLimit())) {
      msg.nak();
      return;
    }
    const attempt = msg.info.deliveryCount - (this.#bounced.get(seq) ?? 0);
    const atMs = now();
    const { request, answer, acceptance, durationMs } = await sendOnce(event, channel, { nowMs: atMs, externalUrl: this.#o.externalUrl, userAgent: this.#o.userAgent });
    const last = !acceptance.ok && (!acceptance.retry || attempt >= this.#maxAttempts());
    const outcome = acceptance.ok ? 'delivered' : last ? 'dead_letter' : 'failed';
    await deliveries.record({
      atMs, event, channel: channel.name, channelType: channel.type, url: request.url, attempt, outcome,
      httpStatus: answer?.status ?? null, response: answer?.body ?? '', error: acceptance.ok ? '' : acceptance.detail, durationMs, notifier: this.#o.notifierId,
    });
    metrics.attempt(channel.name, outcome, durationMs / 1000);
    if (acceptance.ok) {
      msg.ack();
      this.#blocked = null;
      this.#bounced.delete(seq);
      this.#health.lastDeliveredAt = now();
      this.#health.failingSince = null;
      log.info('alarm delivered', { channel: channel.name, event_id: event.event_id, kind: event.kind, rule: event.rule_id, attempt, status: answer?.status });
      return;
    }
    this.#health.failingSince ??= now();
    this.#health.lastError = acceptance.detail;
    if (last) {
      await this.#giveUp(msg, event, attempt, acceptance.detail);
      return;
    }
    const delay = backoffDelay(attempt - 1, this.#o.backoff, this.#o.random);
    msg.nak(delay);
    this.#blocked = { seq, untilMs: now() + delay };
    log.warn('alarm delivery failed: retrying', { channel: channel.name, event_id: event.event_id, attempt, retry_in_ms: delay, error: acceptance.detail });
  }

  #maxAttempts(): number {
    return this.#o.channel.maxAttempts ?? this.#o.maxAttempts;
  }

  /** Waits for a token of the channel's rate limit; false when a stop came first. */
  async #rateLimit(): Promise<boolean> {
    if (!this.#bucket) return true;
    for (;;) {
      const wait = this.#bucket.take(this.#o.now());
      if (wait === 0) return true;
      if (this.#stopping) return false;
      this.#o.metrics.rateLimited(this.#o.channel.name);
      await this.#pause.wait(wait);
    }
  }

  /** Writes the dead letter (retrying while ClickHouse is away), then terminates the message. */
  async #giveUp(msg: StreamMessage, event: AlarmEvent | null, attempts: number, reason: string): Promise<void> {
    const { channel, deliveries, log, now, metrics } = this.#o;
    for (let i = 0; ; i++) {
      try {
        await deliveries.deadLetter({
          atMs: now(), event, channel: channel.name, channelType: channel.type, attempts, reason,
          payload: new TextDecoder().decode(msg.data), streamSeq: msg.info.streamSequence,
        });
        break;
      } catch (err) {
        if (this.#stopping) {
          msg.nak(); // the next notifier writes it
          return;
        }
        if (i % 10 === 0) log.warn('cannot write a dead letter yet: retrying', { channel: channel.name, error: (err as Error).message });
        msg.working();
        await this.#pause.wait(Math.min(5000, 200 * 2 ** Math.min(i, 5)));
      }
    }
    msg.term();
    if (this.#blocked?.seq === msg.info.streamSequence) this.#blocked = null;
    this.#bounced.delete(msg.info.streamSequence);
    this.#health.deadLetters++;
    metrics.deadLetter(channel.name);
    log.error('alarm dead-lettered', { channel: channel.name, event_id: event?.event_id, attempts, reason });
  }
}
