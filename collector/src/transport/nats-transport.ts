/**
 * The Transport on NATS JetStream: one connection (NatsLink, reconnecting in the background),
 * durable pull consumers, consumer lag from the server, and publishes deduplicated by Nats-Msg-Id.
 */
import { jetstream, jetstreamManager, type Consumer } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsLink, type NatsLinkOptions } from '../../../probe/src/publish/nats-connection.ts';
import { ensureStreams, streamSpecs } from '../../../probe/src/publish/streams.ts';
import type { Logger } from '../../../probe/src/run/log.ts';
import type { ProbeConfig } from '@vantage/probe';
import { ensureDurable, type DurableSpec } from './durable-consumer.ts';
import type { ConsumerLag, ConsumerSource, PullConsumer, Transport, TransportState } from './transport.ts';
import { WakeSignal } from './wake-signal.ts';

export type NatsSettings = ProbeConfig['nats'];

export class NatsTransport implements Transport {
  readonly link: NatsLink;

  constructor(settings: NatsSettings, opts: NatsLinkOptions = {}) {
    this.link = new NatsLink(settings, opts);
  }

  get state(): TransportState {
    return this.link.state;
  }

  get lastError(): string | null {
    return this.link.lastError;
  }

  start(): void {
    this.link.start();
  }

  onChange(listener: (state: TransportState, detail: { server?: string; error?: string }) => void): () => void {
    return this.link.onChange((event) => listener(event.state, { server: event.server, error: event.error }));
  }

  consumerSource(spec: DurableSpec, log: Logger): ConsumerSource {
    return new DurableConsumerSource(this.link, spec, log);
  }

  async consumerLag(stream: string, consumer: string): Promise<ConsumerLag | null> {
    const nc = this.link.connection;
    if (!nc) return null;
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const info = await jsm.consumers.info(stream, consumer).catch(() => null);
    return info && { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
  }

  async publish(subject: string, data: Uint8Array, msgId: string): Promise<void> {
    const nc = this.link.connection;
    if (!nc) throw new Error(`NATS is not connected (${this.link.lastError ?? this.link.state})`);
    await jetstream(nc).publish(subject, data, { msgID: msgId });
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

const RETRY_MS = 2000;

/**
 * Hands the consumer loop a pull consumer bound to the live NATS connection: waits while NATS is
 * down, makes sure the stream and the durable consumer exist once per connection, and starts over
 * after a fetch failed (the consumer may have been deleted, or the connection replaced).
 */
export class DurableConsumerSource implements ConsumerSource {
  #cached: { nc: NatsConnection; consumer: Consumer } | null = null;
  readonly #changed = new WakeSignal();

  constructor(
    private readonly link: NatsLink,
    private readonly spec: DurableSpec,
    private readonly log: Logger,
  ) {
    link.onChange(() => this.#changed.notify());
  }

  async get(stopping: () => boolean): Promise<PullConsumer | null> {
    while (!stopping()) {
      const nc = this.link.connection;
      if (!nc) {
        await this.#changed.wait(1000);
        continue;
      }
      if (this.#cached?.nc === nc) return this.#cached.consumer;
      try {
        const consumer = await this.#prepare(nc);
        this.#cached = { nc, consumer };
        return consumer;
      } catch (err) {
        this.log.warn('cannot set up the durable consumer: retrying', { stream: this.spec.stream, consumer: this.spec.name, error: (err as Error).message });
        await this.#changed.wait(RETRY_MS);
      }
    }
    return null;
  }

  invalidate(): void {
    this.#cached = null;
  }

  wake(): void {
    this.#changed.notify();
  }

  async #prepare(nc: NatsConnection): Promise<Consumer> {
    // A consumer may start before any probe: create the stream with the contract's limits.
    const specs = streamSpecs().filter((s) => s.name === this.spec.stream);
    for (const outcome of await ensureStreams(nc, { specs })) {
      if (outcome.result === 'failed') throw new Error(`stream ${outcome.stream}: ${outcome.error}`);
      if (outcome.result === 'created') this.log.info('stream created', { stream: outcome.stream });
      for (const mismatch of outcome.mismatches ?? []) this.log.warn('stream settings differ from the contract', { stream: outcome.stream, mismatch });
    }
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const { created, differences } = await ensureDurable(jsm, this.spec);
    if (created) this.log.info('durable consumer created', { stream: this.spec.stream, consumer: this.spec.name });
    for (const difference of differences) this.log.warn('durable consumer has other settings than this replica asked for (kept)', { consumer: this.spec.name, difference });
    return jetstream(nc).consumers.get(this.spec.stream, this.spec.name);
  }
}
