/**
 * NATS names: subjects, streams and consumers. Subjects end in the probe id so a NATS account can
 * allow each probe to publish only on its own subjects (see deploy/nats).
 */
import type { CheckKind } from './record.ts';

/** Results: `vantage.results.v1.<kind>.<probe_id>`. */
export const RESULTS_STREAM = 'VANTAGE_RESULTS';
export const RESULTS_SUBJECTS = 'vantage.results.>';
export function resultSubject(kind: CheckKind, probeId: string): string {
  return `vantage.results.v1.${kind}.${probeId}`;
}

/** Heartbeats: `vantage.heartbeat.v1.<probe_id>`, every 15 s. */
export const HEARTBEATS_STREAM = 'VANTAGE_HEARTBEATS';
export const HEARTBEAT_SUBJECTS = 'vantage.heartbeat.>';
export function heartbeatSubject(probeId: string): string {
  return `vantage.heartbeat.v1.${probeId}`;
}

/** Durable consumer names of the central roles (later issues). */
export const COLLECTOR_CONSUMER = 'collector';
export const ANALYZER_CONSUMER = 'analyzer';

/** Stream limits the probe applies when it creates a stream that does not exist yet. */
export const RESULTS_MAX_AGE_MS = 7 * 24 * 3600_000;
export const HEARTBEATS_MAX_AGE_MS = 24 * 3600_000;
/** JetStream dedup window on Nats-Msg-Id (= record id): covers a spool replayed after an outage. */
export const DEDUP_WINDOW_MS = 2 * 3600_000;

/** Probe ids and task ids become subject tokens and ClickHouse keys: keep them plain. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * What a probe's NATS user may do: publish its own results and heartbeats, look up and create the
 * two streams, and receive JetStream acks. A stolen probe cannot publish as another probe.
 * deploy/nats/nats-server.conf shows the same lists for one probe.
 */
export function probePermissions(probeId: string): { publish: string[]; subscribe: string[] } {
  return {
    publish: [
      `vantage.results.v1.*.${probeId}`,
      heartbeatSubject(probeId),
      '$JS.API.INFO',
      ...[RESULTS_STREAM, HEARTBEATS_STREAM].flatMap((s) => [`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`]),
    ],
    subscribe: ['_INBOX.>'],
  };
}
