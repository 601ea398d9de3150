/**
 * The alarms stream `VANTAGE_ALARMS` on a Transport: its definition (for NATS, and for the
 * in-process streams of `vantage up`), publishing an event (Nats-Msg-Id = event id, so a repeat
 * after a failed or timed-out publish is stored once), and reading back the last event of every
 * alarm — what a restarted analyzer resumes from.
 */
import { DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { ensureStreams, type StreamSpec } from '../../../probe/src/publish/streams.ts';
import type { Logger } from '../../../probe/src/run/log.ts';
import type { InProcessStreamSpec } from '../../../collector/src/transport/in-process.ts';
import { NatsTransport } from '../../../collector/src/transport/nats-transport.ts';
import type { Transport } from '../../../collector/src/transport/transport.ts';
import {
  ALARM_SUBJECTS, ALARMS_DEDUP_WINDOW_MS, ALARMS_MAX_AGE_MS, ALARMS_STREAM, alarmSubject, encodeAlarmEvent, parseAlarmEvent, type AlarmEvent,
} from './event.ts';

/** The stream as the analyzer or the notifier creates it when it is missing (nats-server 2.9 options only). */
export const ALARMS_STREAM_SPEC: StreamSpec = {
  name: ALARMS_STREAM,
  subjects: [ALARM_SUBJECTS],
  storage: StorageType.File,
  retention: RetentionPolicy.Limits,
  discard: DiscardPolicy.Old,
  max_age: nanos(ALARMS_MAX_AGE_MS),
  duplicate_window: nanos(ALARMS_DEDUP_WINDOW_MS),
  num_replicas: 1,
};

/** The alarms stream among the in-process streams of `vantage up`. */
export const ALARMS_IN_PROCESS: InProcessStreamSpec = { name: ALARMS_STREAM, subjects: [ALARM_SUBJECTS], dedupWindowMs: ALARMS_DEDUP_WINDOW_MS };

/** Creates the stream on NATS when it is missing (in-process streams exist from the start). Throws when it cannot. */
export async function ensureAlarmStream(transport: Transport, log: Logger): Promise<void> {
  if (!(transport instanceof NatsTransport)) return;
  const nc = transport.link.connection;
  if (!nc) throw new Error(`NATS is not connected (${transport.lastError ?? transport.state})`);
  for (const outcome of await ensureStreams(nc, { specs: [ALARMS_STREAM_SPEC] })) {
    if (outcome.result === 'failed') throw new Error(`stream ${outcome.stream}: ${outcome.error}`);
    if (outcome.result === 'created') log.info('stream created', { stream: outcome.stream });
    for (const mismatch of outcome.mismatches ?? []) log.warn('stream settings differ from the contract', { stream: outcome.stream, mismatch });
  }
}

export function publishAlarmEvent(transport: Transport, event: AlarmEvent): Promise<void> {
  return transport.publish(alarmSubject(event.fingerprint), encodeAlarmEvent(event), event.event_id);
}

/**
 * The last event of every alarm in the stream (one subject per fingerprint), through an ordered
 * consumer that delivers the last message per subject. In-process streams do not outlive the
 * process, so there is nothing to read back there.
 */
export async function lastStreamEvents(transport: Transport, log: Logger): Promise<AlarmEvent[]> {
  if (!(transport instanceof NatsTransport)) return [];
  const nc = transport.link.connection;
  if (!nc) throw new Error(`NATS is not connected (${transport.lastError ?? transport.state})`);
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const info = await jsm.streams.info(ALARMS_STREAM);
  if (info.state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(ALARMS_STREAM, { deliver_policy: DeliverPolicy.LastPerSubject });
  const events: AlarmEvent[] = [];
  for (;;) {
    let pending = -1;
    let got = 0;
    for await (const msg of await consumer.fetch({ max_messages: 1000, expires: 2000 })) {
      got++;
      pending = msg.info.pending;
      try {
        events.push(parseAlarmEvent(msg.data));
      } catch (err) {
        log.warn('alarms stream: skipping a message that is not an alarm event', { subject: msg.subject, seq: msg.seq, error: (err as Error).message });
      }
      if (pending === 0) break;
    }
    if (got === 0 || pending === 0) break;
  }
  return events;
}
