/**
 * The collector's durable pull consumers. Any number of replicas share one: whoever starts first
 * creates it, the others (and a creator racing them) use it as it is. An existing consumer is
 * never changed — on nats-server 2.9 a create with other settings silently updates it, so a
 * replica started with other flags would rewrite the fleet's consumer — only checked.
 *
 * Only options nats-server 2.9 honours: no filter_subjects, no metadata, no pause.
 */
import {
  AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, ReplayPolicy, type ConsumerConfig, type ConsumerInfo, type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

export interface DurableSpec {
  stream: string;
  name: string;
  /** How long the server waits for an ack before redelivering (working() extends it). */
  ackWaitMs: number;
  /** Messages delivered and not acked, over all replicas, at most. */
  maxAckPending: number;
}

export function durableConfig(spec: DurableSpec): Partial<ConsumerConfig> {
  return {
    durable_name: spec.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending,
    max_deliver: -1, // a message is settled by ack or term, never dropped after N tries
  };
}

/** Thrown when a consumer of that name exists but cannot be used (push, or without explicit acks). */
export class UnusableConsumerError extends Error {
  constructor(readonly stream: string, readonly consumer: string, why: string) {
    super(`consumer ${consumer} on stream ${stream} ${why}: delete it or choose another name`);
    this.name = 'UnusableConsumerError';
  }
}

/** Creates the durable consumer if missing; returns its info and how its settings differ from ours. */
export async function ensureDurable(jsm: JetStreamManager, spec: DurableSpec): Promise<{ info: ConsumerInfo; created: boolean; differences: string[] }> {
  const existing = await lookup(jsm, spec);
  if (existing) return { info: existing, created: false, differences: check(spec, existing) };
  try {
    const info = await jsm.consumers.add(spec.stream, durableConfig(spec));
    return { info, created: true, differences: [] };
  } catch (err) {
    // Another replica may have created it a moment ago (with other settings): use theirs.
    const raced = await lookup(jsm, spec).catch(() => null);
    if (!raced) throw err;
    return { info: raced, created: false, differences: check(spec, raced) };
  }
}

async function lookup(jsm: JetStreamManager, spec: DurableSpec): Promise<ConsumerInfo | null> {
  try {
    return await jsm.consumers.info(spec.stream, spec.name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return null;
    throw err;
  }
}

function check(spec: DurableSpec, info: ConsumerInfo): string[] {
  const config = info.config;
  if (config.deliver_subject) throw new UnusableConsumerError(spec.stream, spec.name, 'is a push consumer');
  if (config.ack_policy !== AckPolicy.Explicit) throw new UnusableConsumerError(spec.stream, spec.name, `has ack_policy ${config.ack_policy}, not explicit`);
  const differences: string[] = [];
  if (config.ack_wait !== nanos(spec.ackWaitMs)) differences.push(`ack_wait ${(config.ack_wait ?? 0) / 1e6} ms (asked ${spec.ackWaitMs})`);
  if (config.max_ack_pending !== spec.maxAckPending) differences.push(`max_ack_pending ${config.max_ack_pending} (asked ${spec.maxAckPending})`);
  if (config.filter_subject) differences.push(`filter_subject ${config.filter_subject}`);
  return differences;
}
