/**
 * Every message this replica has pulled and not yet settled (acked, terminated or handed back).
 * Messages queue here until a batch takes them, and stay tracked while the batch is written, so
 * the keep-alive can tell JetStream "still working on it" for each one: a slow or failing store
 * must not make the server redeliver them to another replica.
 */
import type { StreamMessage } from '../transport/transport.ts';

export interface Held {
  readonly msg: StreamMessage;
  /** When it arrived (the batch clock starts at the oldest queued message). */
  readonly arrivedAt: number;
  /** When JetStream last heard about it (arrival, or the last working()). */
  touchedAt: number;
}

export type Settlement = 'ack' | 'term' | 'nak';

export class HeldMessages {
  #queue: Held[] = [];
  readonly #taken = new Set<Held>();

  /** Messages held: queued plus taken into a batch and not settled. */
  get size(): number {
    return this.#queue.length + this.#taken.size;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Arrival time of the oldest queued message, or null when none is queued. */
  get oldestArrival(): number | null {
    return this.#queue[0]?.arrivedAt ?? null;
  }

  add(msg: StreamMessage, now: number): void {
    this.#queue.push({ msg, arrivedAt: now, touchedAt: now });
  }

  /** Takes up to `max` queued messages, oldest first, into a batch. */
  take(max: number): Held[] {
    const batch = this.#queue.slice(0, max);
    this.#queue = this.#queue.slice(batch.length);
    for (const held of batch) this.#taken.add(held);
    return batch;
  }

  /**
   * Settles a taken message. A failed ack (connection gone) is not an error here: the message
   * comes back after ack_wait and the redelivery check finds it stored.
   */
  settle(held: Held, how: Settlement): void {
    if (!this.#taken.delete(held)) return;
    try {
      // term() without a reason: nats-server 2.9 ignores "+TERM <reason>" and redelivers.
      if (how === 'ack') held.msg.ack();
      else if (how === 'term') held.msg.term();
      else held.msg.nak();
    } catch {
      // connection closed: see above
    }
  }

  /** Hands back everything held (queued and taken) for immediate redelivery; returns how many. */
  nakAll(): number {
    const all = [...this.#queue, ...this.#taken];
    this.#queue = [];
    for (const held of all) {
      this.#taken.add(held);
      this.settle(held, 'nak');
    }
    return all.length;
  }

  /** Sends working() for every held message not touched for `intervalMs`; returns how many. */
  keepAlive(now: number, intervalMs: number): number {
    let sent = 0;
    for (const held of [...this.#queue, ...this.#taken]) {
      if (now - held.touchedAt < intervalMs) continue;
      try {
        held.msg.working();
        held.touchedAt = now;
        sent++;
      } catch {
        // connection closed: nothing to extend
      }
    }
    return sent;
  }
}
