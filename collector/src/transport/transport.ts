/**
 * What the central roles need from a message stream, so the same consumer code runs on NATS
 * JetStream (deployments) and on the in-process streams of `vantage up`. The shapes are the subset
 * of the JetStream client's that the consumers use: a JsMsg is a StreamMessage, a JetStream pull
 * consumer is a PullConsumer.
 */
import type { Logger } from '../../../probe/src/run/log.ts';
import type { DurableSpec } from './durable-consumer.ts';

export interface StreamMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly info: { readonly deliveryCount: number; readonly streamSequence: number };
  ack(): void;
  /** Hand back for redelivery (after `delayMs`, default at once). */
  nak(delayMs?: number): void;
  /** Never deliver again. */
  term(): void;
  /** Still being worked on: restarts the ack wait. */
  working(): void;
}

export interface PullConsumer {
  /** Up to `max_messages` messages; waits at most `expires` ms for the first. */
  fetch(opts: { max_messages: number; expires: number }): Promise<AsyncIterable<StreamMessage>>;
}

/** Hands a consumer loop its consumer, waiting while the transport is down. */
export interface ConsumerSource {
  /** The consumer to fetch from; null once `stopping()` says so. */
  get(stopping: () => boolean): Promise<PullConsumer | null>;
  /** Forget the cached consumer (after a fetch error). */
  invalidate(): void;
  /** Ends waits in `get` (on stop). */
  wake(): void;
}

export interface ConsumerLag {
  /** Messages not delivered yet. */
  pending: number;
  /** Delivered, not acked. */
  ackPending: number;
  redelivered: number;
}

export type TransportState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface Transport {
  readonly state: TransportState;
  readonly lastError: string | null;
  /** Connects in the background (retrying); returns at once. */
  start(): void;
  /** Calls `listener` on state changes; returns a function that unsubscribes. */
  onChange(listener: (state: TransportState, detail: { server?: string; error?: string }) => void): () => void;
  /** A durable consumer (created if missing) for a consumer loop. */
  consumerSource(spec: DurableSpec, log: Logger): ConsumerSource;
  consumerLag(stream: string, consumer: string): Promise<ConsumerLag | null>;
  /** Stores a message in its stream; `msgId` deduplicates repeats. Rejects when it cannot. */
  publish(subject: string, data: Uint8Array, msgId: string): Promise<void>;
  close(): Promise<void>;
}
