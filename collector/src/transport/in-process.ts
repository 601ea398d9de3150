/**
 * In-process streams: the Transport of `vantage up`, where every role runs in one process and no
 * NATS server is needed. They keep JetStream's semantics that the consumers rely on — subjects
 * bound to streams, dedup by message id, durable consumers with explicit ack, nak, term and
 * working(), redelivery after the ack wait, delivery counts — in memory. A message is dropped once
 * every durable consumer of its stream has settled it; nothing survives the process, which is fine
 * for `vantage up` (the probes' next round follows within a minute).
 */
import type { DurableSpec } from './durable-consumer.ts';
import type { ConsumerLag, ConsumerSource, PullConsumer, StreamMessage, Transport, TransportState } from './transport.ts';
import { WakeSignal } from './wake-signal.ts';

export interface InProcessStreamSpec {
  name: string;
  /** Subjects it stores: exact, or a prefix ending in `>` (e.g. `vantage.results.>`). */
  subjects: string[];
  /** Repeats of a message id within this window are dropped (default 2 h). */
  dedupWindowMs?: number;
}

const TRIM_CHUNK = 1024;

interface Stored {
  seq: number;
  subject: string;
  data: Uint8Array;
}

interface Delivery {
  deliveries: number;
  /** When it is due again: the ack wait's end, or a nak's delay. */
  dueAt: number;
}

class Stream {
  readonly messages: Stored[] = [];
  lastSeq = 0;
  readonly consumers = new Map<string, InProcessConsumer>();
  readonly #seenIds = new Map<string, number>(); // message id → when first stored
  readonly published = new WakeSignal();

  constructor(readonly spec: InProcessStreamSpec, private readonly now: () => number) {}

  matches(subject: string): boolean {
    return this.spec.subjects.some((s) => (s.endsWith('>') ? subject.startsWith(s.slice(0, -1)) : subject === s));
  }

  append(subject: string, data: Uint8Array, msgId: string): void {
    const now = this.now();
    const window = this.spec.dedupWindowMs ?? 2 * 3600_000;
    for (const [id, at] of this.#seenIds) {
      if (now - at <= window) break; // insertion order is time order
      this.#seenIds.delete(id);
    }
    if (this.#seenIds.has(msgId)) return;
    this.#seenIds.set(msgId, now);
    this.messages.push({ seq: ++this.lastSeq, subject, data });
    this.published.notify();
  }

  get(seq: number): Stored | undefined {
    const first = this.messages[0]?.seq ?? this.lastSeq + 1;
    return this.messages[seq - first];
  }

  /** Drops messages every consumer has settled (in chunks: a splice per ack would be quadratic). */
  trim(): void {
    if (this.consumers.size === 0) return;
    const floor = Math.min(...[...this.consumers.values()].map((c) => c.floor()));
    const first = this.messages[0]?.seq;
    if (first === undefined) return;
    const settled = floor - first;
    if (settled >= TRIM_CHUNK || (settled > 0 && settled === this.messages.length)) this.messages.splice(0, settled);
  }
}

class InProcessConsumer implements PullConsumer {
  /** The next sequence never delivered. */
  #next: number;
  readonly #unsettled = new Map<number, Delivery>();
  #redelivered = 0;

  constructor(
    private readonly stream: Stream,
    private readonly ackWaitMs: number,
    private readonly now: () => number,
  ) {
    this.#next = stream.messages[0]?.seq ?? stream.lastSeq + 1;
  }

  /** The lowest sequence this consumer may still need. */
  floor(): number {
    // Unsettled messages are kept in delivery order of their first delivery: the first is the lowest.
    const lowest = this.#unsettled.keys().next();
    return lowest.done ? this.#next : Math.min(this.#next, lowest.value);
  }

  lag(): ConsumerLag {
    return { pending: this.stream.lastSeq - this.#next + 1, ackPending: this.#unsettled.size, redelivered: this.#redelivered };
  }

  async fetch(opts: { max_messages: number; expires: number }): Promise<AsyncIterable<StreamMessage>> {
    const deadline = this.now() + opts.expires;
    for (;;) {
      const batch = this.#take(opts.max_messages);
      const left = deadline - this.now();
      if (batch.length > 0 || left <= 0) return iterate(batch);
      await this.stream.published.wait(Math.max(1, Math.min(left, this.#earliestDue() - this.now())));
    }
  }

  /** When the next unsettled message is due again (a loop: there may be tens of thousands). */
  #earliestDue(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const delivery of this.#unsettled.values()) earliest = Math.min(earliest, delivery.dueAt);
    return earliest;
  }

  #take(max: number): StreamMessage[] {
    const now = this.now();
    const out: StreamMessage[] = [];
    for (const [seq, delivery] of this.#unsettled) {
      if (out.length >= max) break;
      if (delivery.dueAt > now) continue;
      const stored = this.stream.get(seq);
      if (!stored) {
        this.#unsettled.delete(seq);
        continue;
      }
      delivery.deliveries++;
      delivery.dueAt = now + this.ackWaitMs;
      this.#redelivered++;
      out.push(this.#message(stored, delivery));
    }
    while (out.length < max && this.#next <= this.stream.lastSeq) {
      const stored = this.stream.get(this.#next++);
      if (!stored) continue;
      const delivery = { deliveries: 1, dueAt: now + this.ackWaitMs };
      this.#unsettled.set(stored.seq, delivery);
      out.push(this.#message(stored, delivery));
    }
    return out;
  }

  #message(stored: Stored, delivery: Delivery): StreamMessage {
    const deliveryCount = delivery.deliveries;
    // Only the delivery that is current may settle the message (as with JetStream's reply subjects).
    const current = () => this.#unsettled.get(stored.seq) === delivery && delivery.deliveries === deliveryCount;
    const settle = () => {
      if (!current()) return;
      this.#unsettled.delete(stored.seq);
      this.stream.trim();
    };
    return {
      subject: stored.subject,
      data: stored.data,
      info: { deliveryCount, streamSequence: stored.seq },
      ack: settle,
      term: settle,
      nak: (delayMs = 0) => {
        if (!current()) return;
        delivery.dueAt = this.now() + delayMs;
        this.stream.published.notify();
      },
      working: () => {
        if (current()) delivery.dueAt = this.now() + this.ackWaitMs;
      },
    };
  }
}

async function* iterate(messages: StreamMessage[]): AsyncIterable<StreamMessage> {
  yield* messages;
}

/** Streams in this process, shared by every role of `vantage up`. */
export class InProcessStreams implements Transport {
  readonly state: TransportState = 'connected';
  readonly lastError = null;
  readonly #streams: Stream[];

  constructor(specs: InProcessStreamSpec[], private readonly now: () => number = () => performance.now()) {
    this.#streams = specs.map((spec) => new Stream(spec, now));
  }

  start(): void {}

  onChange(): () => void {
    return () => undefined;
  }

  async publish(subject: string, data: Uint8Array, msgId: string): Promise<void> {
    const stream = this.#streams.find((s) => s.matches(subject));
    if (!stream) throw new Error(`no stream stores subject ${subject}`);
    stream.append(subject, data, msgId);
  }

  consumerSource(spec: DurableSpec): ConsumerSource {
    const consumer = this.#consumer(spec);
    return { get: async (stopping) => (stopping() ? null : consumer), invalidate: () => undefined, wake: () => this.#stream(spec.stream).published.notify() };
  }

  async consumerLag(stream: string, consumer: string): Promise<ConsumerLag | null> {
    return this.#stream(stream).consumers.get(consumer)?.lag() ?? null;
  }

  async close(): Promise<void> {
    for (const stream of this.#streams) stream.published.notify();
  }

  #stream(name: string): Stream {
    const stream = this.#streams.find((s) => s.spec.name === name);
    if (!stream) throw new Error(`no in-process stream named ${name}`);
    return stream;
  }

  #consumer(spec: DurableSpec): InProcessConsumer {
    const stream = this.#stream(spec.stream);
    let consumer = stream.consumers.get(spec.name);
    if (!consumer) {
      consumer = new InProcessConsumer(stream, spec.ackWaitMs, this.now);
      stream.consumers.set(spec.name, consumer);
    }
    return consumer;
  }
}
