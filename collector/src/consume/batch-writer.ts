/**
 * Writes one batch of pulled messages to the store and settles each message only after the store
 * holds it: valid values are acked after the insert that contains them resolved; invalid ones are
 * terminated after their rejected row was inserted. A failing store is retried (backoff) while the
 * messages stay unacked; a store that refuses values for good (StoreError.transient = false) has
 * the batch split until the refused values are found, and those are kept as rejected.
 */
import type { RejectedMessage } from '../store/result-store.ts';
import { StoreError } from '../store/result-store.ts';
import type { Logger } from '../../../probe/src/run/log.ts';
import type { ConsumerMetrics } from '../run/metrics.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { payloadText, rejectReason, type Decoded, type RawMessage, type RejectClass } from './decode.ts';
import type { Held, HeldMessages } from './held-messages.ts';

/** What a consumer stores and how: results and heartbeats differ only here. */
export interface BatchTarget<T> {
  decode(msg: RawMessage): Decoded<T>;
  /** The idempotency key; without it there is no redelivery check (heartbeats). */
  idOf?(value: T): string;
  /** Which of these are stored already; asked only for redelivered messages. */
  storedIds?(values: T[]): Promise<Set<string>>;
  /**
   * `firstAttempt`: no earlier call tried to insert these values, and none of them is a
   * redelivery the store was not asked about — so none can be stored yet, unless it is older than
   * the stream's dedup window (the store may skip its duplicate check for the rest).
   */
  insert(values: T[], hints: { firstAttempt: boolean }): Promise<void>;
  insertRejected(rows: RejectedMessage[]): Promise<void>;
}

export interface WriterEnvironment {
  metrics: ConsumerMetrics;
  log: Logger;
  backoff: BackoffPolicy;
  random: () => number;
  /** Monotonic ms, for durations. */
  now: () => number;
  /** Epoch ms, for rejected rows. */
  wallClock: () => number;
  /** True once a stop's deadline passed: stop retrying and leave the messages to another replica. */
  givingUp(): boolean;
  /** A retry pause; a stop's deadline cuts it short. */
  pause(ms: number): Promise<void>;
}

export type WriteOutcome = 'done' | 'abandoned';

/** Messages carrying the same value (repeats of one record id in a batch). */
interface Group<T> {
  id: string | null;
  value: T;
  helds: Held[];
  redelivered: boolean;
}

interface Rejection {
  held: Held;
  rejectClass: RejectClass;
  reason: string;
}

const ABANDONED = 'abandoned' as const;

export class BatchWriter<T> {
  /** When the store started failing (cleared by the next success), for /healthz. */
  failingSince: number | null = null;
  lastError: string | null = null;

  constructor(
    private readonly target: BatchTarget<T>,
    private readonly held: HeldMessages,
    private readonly env: WriterEnvironment,
  ) {}

  async write(batch: Held[]): Promise<WriteOutcome> {
    const { metrics } = this.env;
    metrics.batch(batch.length);
    metrics.consumed(batch.length);
    const rejections: Rejection[] = [];
    const groups = new Map<string | Held, Group<T>>();
    for (const held of batch) {
      const decoded = this.#decode(held);
      if (!decoded.ok) {
        rejections.push({ held, rejectClass: decoded.rejectClass, reason: decoded.reason });
        continue;
      }
      const id = this.target.idOf?.(decoded.value) ?? null;
      const group = groups.get(id ?? held);
      const redelivered = held.msg.info.deliveryCount > 1;
      if (group) {
        group.helds.push(held);
        group.redelivered ||= redelivered;
      } else {
        groups.set(id ?? held, { id, value: decoded.value, helds: [held], redelivered });
      }
    }
    if (rejections.length > 0 && (await this.#reject(rejections)) === ABANDONED) return ABANDONED;

    const { kept: pending, checked } = await this.#dropStored([...groups.values()]);
    const outcome = await this.#insert(pending, checked);
    if (outcome === ABANDONED) return ABANDONED;
    if (outcome.length > 0 && (await this.#reject(outcome)) === ABANDONED) return ABANDONED;
    return 'done';
  }

  /** Bad input never stops the collector: even a decoder that throws yields a rejection. */
  #decode(held: Held): Decoded<T> {
    try {
      return this.target.decode(held.msg);
    } catch (err) {
      return { ok: false, rejectClass: 'invalid', reason: rejectReason('invalid', `cannot decode: ${message(err)}`) };
    }
  }

  /** Redelivered values the store already holds (inserted, then the ack was lost) are acked, not inserted. */
  async #dropStored(groups: Group<T>[]): Promise<{ kept: Group<T>[]; checked: boolean }> {
    const redelivered = groups.filter((g) => g.redelivered);
    if (redelivered.length === 0) return { kept: groups, checked: true };
    if (!this.target.storedIds || redelivered.some((g) => g.id === null)) return { kept: groups, checked: false };
    let stored: Set<string>;
    try {
      stored = await this.target.storedIds(redelivered.map((g) => g.value));
    } catch (err) {
      // Not fatal: the store drops repeats of an id on its own, this check only saves the work.
      this.env.log.warn('cannot check redelivered records against the store: inserting them again', { error: message(err) });
      return { kept: groups, checked: false };
    }
    const kept: Group<T>[] = [];
    for (const group of groups) {
      if (group.id !== null && group.redelivered && stored.has(group.id)) {
        for (const held of group.helds) this.held.settle(held, 'ack');
        this.env.metrics.duplicatesSkipped(group.helds.length);
      } else {
        kept.push(group);
      }
    }
    return { kept, checked: true };
  }

  /**
   * Inserts the groups and acks their messages; returns what the store refused for good. A refused
   * batch is split in halves (recursively), so one bad value costs O(log n) extra inserts and the
   * rest of its batch is still stored.
   */
  async #insert(groups: Group<T>[], firstAttempt: boolean): Promise<Rejection[] | typeof ABANDONED> {
    if (groups.length === 0) return [];
    try {
      const values = groups.map((g) => g.value);
      const outcome = await this.#retrying('insert', (attempt) => this.#timedInsert(values, { firstAttempt: firstAttempt && attempt === 0 }), false);
      if (outcome === ABANDONED) return ABANDONED;
    } catch (err) {
      if (groups.length === 1) {
        const reason = rejectReason('store_refused', message(err));
        return groups[0].helds.map((held) => ({ held, rejectClass: 'store_refused', reason }));
      }
      this.env.log.warn('the store refused a batch: splitting it to find the refused records', { size: groups.length, error: message(err) });
      const middle = Math.ceil(groups.length / 2);
      const first = await this.#insert(groups.slice(0, middle), false);
      if (first === ABANDONED) return ABANDONED;
      const second = await this.#insert(groups.slice(middle), false);
      if (second === ABANDONED) return ABANDONED;
      return [...first, ...second];
    }
    let repeats = 0;
    for (const group of groups) {
      repeats += group.helds.length - 1;
      for (const held of group.helds) this.held.settle(held, 'ack');
    }
    this.env.metrics.inserted(groups.length);
    if (repeats > 0) this.env.metrics.duplicatesSkipped(repeats);
    return [];
  }

  async #timedInsert(values: T[], hints: { firstAttempt: boolean }): Promise<void> {
    const started = this.env.now();
    await this.target.insert(values, hints);
    this.env.metrics.insertSeconds((this.env.now() - started) / 1000);
  }

  /** Keeps rejected messages with their reasons, then terminates them (never the other way round). */
  async #reject(rejections: Rejection[]): Promise<void | typeof ABANDONED> {
    const receivedAtMs = this.env.wallClock();
    const rows: RejectedMessage[] = rejections.map(({ held, reason }) => ({
      receivedAtMs,
      subject: held.msg.subject,
      streamSeq: held.msg.info.streamSequence,
      reason,
      payload: payloadText(held.msg.data),
      payloadBytes: held.msg.data.length,
    }));
    // Retried even when the store calls the failure permanent: terminating unkept would drop data.
    if ((await this.#retrying('insertRejected', () => this.target.insertRejected(rows), true)) === ABANDONED) return ABANDONED;
    const byClass = new Map<RejectClass, number>();
    for (const { held, rejectClass } of rejections) {
      this.held.settle(held, 'term');
      byClass.set(rejectClass, (byClass.get(rejectClass) ?? 0) + 1);
    }
    for (const [rejectClass, n] of byClass) this.env.metrics.rejected(rejectClass, n);
    this.env.log.warn('rejected messages kept and terminated', {
      count: rejections.length,
      classes: Object.fromEntries(byClass),
      first: { subject: rows[0].subject, stream_seq: rows[0].streamSeq, reason: rows[0].reason.slice(0, 300) },
    });
  }

  /**
   * Calls `call` until it succeeds, with capped jittered backoff in between. A StoreError marked
   * permanent is thrown to the caller unless `retryPermanent`; any other error counts as
   * transient (never drop data on an error nobody classified).
   */
  async #retrying(what: string, call: (attempt: number) => Promise<void>, retryPermanent: boolean): Promise<'ok' | typeof ABANDONED> {
    for (let attempt = 0; ; attempt++) {
      try {
        await call(attempt);
        if (this.failingSince !== null) this.env.log.info('store calls succeed again', { call: what, attempts: attempt + 1 });
        this.failingSince = null;
        return 'ok';
      } catch (err) {
        const permanent = err instanceof StoreError && !err.transient;
        if (permanent && !retryPermanent) throw err;
        this.env.metrics.insertRetry();
        this.failingSince ??= this.env.wallClock();
        this.lastError = `${what}: ${message(err)}`;
        const delayMs = backoffDelay(attempt, this.env.backoff, this.env.random);
        this.env.log[permanent ? 'error' : 'warn']('store call failed: messages stay unacked, retrying', { call: what, attempt: attempt + 1, delay_ms: delayMs, error: message(err) });
        if (this.env.givingUp()) return ABANDONED;
        await this.env.pause(delayMs);
        if (this.env.givingUp()) return ABANDONED;
      }
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
