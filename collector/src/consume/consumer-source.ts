/**
 * Hands the consumer loop a pull consumer bound to the live NATS connection: waits while NATS is
 * down, makes sure the stream and the durable consumer exist once per connection, and starts over
 * after a fetch failed (the consumer may have been deleted, or the connection replaced).
 */
import { jetstream, jetstreamManager, type Consumer } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsLink } from '../../../probe/src/publish/nats-connection.ts';
import { ensureStreams, streamSpecs } from '../../../probe/src/publish/streams.ts';
import type { Logger } from '../../../probe/src/run/log.ts';
import { ensureDurable, type DurableSpec } from './durable-consumer.ts';
import { WakeSignal } from './wake-signal.ts';

export interface ConsumerSource {
  /** The consumer to fetch from; null once `stopping()` says so. */
  get(stopping: () => boolean): Promise<Consumer | null>;
  /** Forget the cached consumer (after a fetch error). */
  invalidate(): void;
  /** Ends waits in `get` (on stop). */
  wake(): void;
}

const RETRY_MS = 2000;

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

  async get(stopping: () => boolean): Promise<Consumer | null> {
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
    // A collector may start before any probe: create the stream with the contract's limits.
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
