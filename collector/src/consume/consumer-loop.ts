/**
 * One durable consumer's loop: a fetcher pulls messages into the held queue (never more than
 * `maxHeld` at once, so a slow store applies back-pressure), and a batcher takes a batch when
 * `batchSize` messages wait or the oldest has waited `batchMs`, and writes it, with up to
 * `writesInFlight` batches being written at once. While batches are written the fetcher already
 * pulls the next ones. A keep-alive sends working() for held
 * messages so that JetStream does not redeliver them to another replica while the store is slow.
 *
 * stop(): no new fetch starts; the fetch in flight runs out (it is bounded by fetchExpiresMs),
 * every held message is written and settled, then the loop ends. If the store is still failing
 * when the stop's time is up, what is held is handed back (nak) for another replica — nothing is
 * lost either way, and a kill -9 at any instant only means redelivery after ack_wait.
 */
import type { Logger } from '../../../probe/src/run/log.ts';
import type { ConsumerMetrics } from '../run/metrics.ts';
import type { BackoffPolicy } from './backoff.ts';
import { BatchWriter, type BatchTarget, type WriteOutcome } from './batch-writer.ts';
import type { ConsumerSource } from '../transport/transport.ts';
import { HeldMessages, type Held } from './held-messages.ts';
import { WakeSignal } from '../transport/wake-signal.ts';

/** After the stop deadline, how long a hanging store call may still finish before messages are handed back. */
const STOP_GRACE_MS = 1000;

export interface ConsumerLoopOptions<T> {
  name: string;
  source: ConsumerSource;
  target: BatchTarget<T>;
  batchSize: number;
  batchMs: number;
  /** The consumer's ack_wait: held messages get working() well within it. */
  ackWaitMs: number;
  /** Time limit of one pull request (at least 1000 ms: the client's minimum). */
  fetchExpiresMs: number;
  /** Messages held at most (queued + being written). */
  maxHeld: number;
  /**
   * Batches written at once. Two keep the store busy while the next batch is decoded: the insert
   * is mostly the server's time, the decoding ours.
   */
  writesInFlight: number;
  backoff: BackoffPolicy;
  metrics: ConsumerMetrics;
  log: Logger;
  random: () => number;
  now: () => number;
  wallClock: () => number;
}

export interface LoopHealth {
  held: number;
  /** Epoch ms since when store calls fail (null: they succeed). */
  failingSince: number | null;
  lastError: string | null;
  lastBatchAt: number | null;
}

export class ConsumerLoop<T> {
  readonly #held = new HeldMessages();
  readonly #writer: BatchWriter<T>;
  readonly #arrived = new WakeSignal(); // a batch may be due, or the fetcher ended
  readonly #space = new WakeSignal(); // held messages were settled, or stop
  readonly #pause = new WakeSignal(); // retry pauses, cut short at the stop deadline
  readonly #stopChanged = new WakeSignal(); // a stop began or its deadline moved
  #stopping = false;
  #deadline = Number.POSITIVE_INFINITY;
  #fetchDone = false;
  #running: Promise<void> | null = null;
  #keepAlive: NodeJS.Timeout | null = null;
  #lastBatchAt: number | null = null;

  constructor(private readonly opts: ConsumerLoopOptions<T>) {
    this.#writer = new BatchWriter(opts.target, this.#held, {
      metrics: opts.metrics,
      log: opts.log,
      backoff: opts.backoff,
      random: opts.random,
      now: opts.now,
      wallClock: opts.wallClock,
      givingUp: () => this.#stopping && opts.now() >= this.#deadline,
      pause: (ms) => this.#pause.wait(ms),
    });
  }

  start(): void {
    if (this.#running) return;
    const interval = Math.max(50, Math.floor(this.opts.ackWaitMs / 3));
    this.#keepAlive = setInterval(() => this.#held.keepAlive(this.opts.now(), interval), Math.max(25, Math.floor(interval / 2)));
    this.#running = Promise.all([this.#fetchLoop(), this.#batchLoop()]).then(() => undefined);
  }

  /**
   * Stops fetching, writes and settles what is held; after `timeoutMs` hands back the rest. May be
   * called again with a shorter time (a second SIGTERM).
   */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.#running) return;
    this.#stopping = true;
    this.#deadline = Math.min(this.#deadline, this.opts.now() + Math.max(0, timeoutMs));
    this.opts.source.wake();
    this.#arrived.notify();
    this.#space.notify();
    this.#stopChanged.notify();
    // The loops end by themselves unless an insert call hangs past the deadline (plus a grace).
    for (;;) {
      const left = this.#deadline + STOP_GRACE_MS - this.opts.now();
      if (left <= 0) break;
      const untilDeadline = this.#deadline - this.opts.now();
      const ended = await Promise.race([
        this.#running.then(() => true),
        this.#stopChanged.wait(untilDeadline > 0 ? untilDeadline : left).then(() => false),
      ]);
      if (ended) break;
      if (this.opts.now() >= this.#deadline) this.#pause.notify(); // a retry pause ends: it sees givingUp()
    }
    this.#stopChanged.notify(); // ends the wait that lost the race (its timer would keep the process up)
    const handedBack = this.#held.nakAll();
    if (handedBack > 0) this.opts.log.warn('stop: messages handed back unwritten, another replica gets them', { consumer: this.opts.name, count: handedBack });
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
  }

  health(): LoopHealth {
    return { held: this.#held.size, failingSince: this.#writer.failingSince, lastError: this.#writer.lastError, lastBatchAt: this.#lastBatchAt };
  }

  async #fetchLoop(): Promise<void> {
    const { source, batchSize, maxHeld, fetchExpiresMs, log, name } = this.opts;
    try {
      while (!this.#stopping) {
        const room = Math.min(batchSize, maxHeld - this.#held.size);
        if (room <= 0) {
          await this.#space.wait(1000);
          continue;
        }
        const consumer = await source.get(() => this.#stopping);
        if (!consumer) break;
        try {
          const messages = await consumer.fetch({ max_messages: room, expires: fetchExpiresMs });
          for await (const msg of messages) {
            this.#held.add(msg, this.opts.now());
            // Wake the batcher only when it may have something to do: the first message starts
            // the batch clock, a full batch ends it.
            if (this.#held.queued === 1 || this.#held.queued >= batchSize) this.#arrived.notify();
          }
        } catch (err) {
          if (this.#stopping) break;
          log.warn('fetch failed: retrying', { consumer: name, error: (err as Error).message });
          source.invalidate();
          await this.#space.wait(1000);
        }
      }
    } finally {
      this.#fetchDone = true;
      this.#arrived.notify();
    }
  }

  async #batchLoop(): Promise<void> {
    const { batchSize, batchMs } = this.opts;
    const writing = new Set<Promise<void>>();
    let abandoned = false;
    for (;;) {
      if (abandoned) break;
      if (writing.size >= this.opts.writesInFlight) {
        await Promise.race(writing);
        continue;
      }
      const queued = this.#held.queued;
      if (queued === 0) {
        if (this.#fetchDone) break;
        await this.#arrived.wait(1000);
        continue;
      }
      // While stopping there is no point waiting for a fuller batch.
      if (queued < batchSize && !this.#stopping) {
        const wait = (this.#held.oldestArrival ?? 0) + batchMs - this.opts.now();
        if (wait > 0) {
          await this.#arrived.wait(wait);
          continue;
        }
      }
      const write = this.#write(this.#held.take(batchSize)).then((outcome) => {
        writing.delete(write);
        if (outcome === 'abandoned') abandoned = true; // stop() hands back what is left
        this.#arrived.notify();
      });
      writing.add(write);
    }
    await Promise.all(writing);
  }

  async #write(batch: Held[]): Promise<WriteOutcome> {
    let outcome: WriteOutcome = 'done';
    try {
      outcome = await this.#writer.write(batch);
    } catch (err) {
      // A bug must not leave messages held (and kept alive) forever: hand them back, go on.
      this.opts.log.error('writing a batch failed unexpectedly: its messages are handed back', { consumer: this.opts.name, error: (err as Error).stack ?? String(err) });
      for (const held of batch) this.#held.settle(held, 'nak');
      await this.#pause.wait(1000);
    }
    this.#lastBatchAt = this.opts.wallClock();
    this.#space.notify();
    return outcome;
  }
}
