/** The heartbeat a probe publishes every 15 s: the fleet view is built from these. */
import { dictionary, nullable, number, object, oneOf, string, text } from './shape.ts';
import { ID_PATTERN } from './subjects.ts';

export const HEARTBEAT_INTERVAL_MS = 15_000;

export const heartbeat = object({
  schema: oneOf([1] as const),
  probe_id: string({ pattern: ID_PATTERN }),
  region: text,
  isp: text,
  asn: nullable(number({ min: 0, integer: true })),
  labels: dictionary(text),
  version: text,
  sent_at: text, // ISO 8601
  started_at: text, // when this probe process started
  task_count: number({ min: 0, integer: true }),
  spool_depth: number({ min: 0, integer: true }), // records waiting on disk for NATS
  spool_dropped: number({ min: 0, integer: true }), // records dropped past the spool bound since start
  last_error: nullable(text),
});
export type Heartbeat = ReturnType<typeof heartbeat>;
