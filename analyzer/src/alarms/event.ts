/**
 * Alarm events: what the engine emits and the alarms stream carries (JSON, snake_case like every
 * wire type). One stream subject per alarm (`vantage.alarms.v1.<fingerprint>`), so the last event
 * of each alarm is what a restarted analyzer reads back.
 */
import { array, boolean, dictionary, nullable, number, object, oneOf, string, text } from '../../../probe/src/contract/shape.ts';
import { RULE_KINDS, SCOPE_LEVELS, SEVERITIES } from './rules.ts';

export const ALARMS_STREAM = 'VANTAGE_ALARMS';
export const ALARM_SUBJECTS = 'vantage.alarms.>';
export const ALARMS_MAX_AGE_MS = 30 * 24 * 3600_000;
/** Republishing an event (after a failed or timed-out publish) within this window stores it once. */
export const ALARMS_DEDUP_WINDOW_MS = 2 * 3600_000;

export function alarmSubject(fingerprint: string): string {
  return `vantage.alarms.v1.${fingerprint}`;
}

export const EVENT_KINDS = ['firing', 'reminder', 'resolved'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const RESOLVE_REASONS = ['recovered', 'no_data', 'rule_removed', 'probe_forgotten'] as const;
export type ResolveReason = (typeof RESOLVE_REASONS)[number];

export const alarmEvent = object({
  schema: oneOf([1] as const),
  /** Unique per event (UUIDv7); Nats-Msg-Id and the idempotency key of every delivery. */
  event_id: string({ maxLength: 64 }),
  kind: oneOf(EVENT_KINDS),
  /** 1, 2, 3 … per fingerprint, across incidents. */
  seq: number({ min: 1, integer: true }),
  /** Stable per rule × target × scope: 16 hex digits. */
  fingerprint: string({ pattern: /^[0-9a-f]{16}$/, hint: '16 hex digits' }),
  rule_id: string({ maxLength: 64 }),
  rule_kind: oneOf(RULE_KINDS),
  severity: oneOf(SEVERITIES),
  task_id: text, // '' for probe_offline
  target: text,
  scope: oneOf(SCOPE_LEVELS),
  region: text, // '' when the scope has no region
  isp: text,
  probe_id: text,
  labels: dictionary(text),
  /** One line a person reads first. */
  summary: text,
  /** Rule-specific facts: measured values, thresholds, probes, classes, hijacked IPs … */
  details: dictionary((value) => value),
  /** Evidence: API paths (e.g. /v1/verdicts/<id>) or URLs. */
  links: array(text),
  /** When the condition began to hold (ISO 8601); the same for every event of one incident. */
  started_at: text,
  /** When this event happened. */
  at: text,
  /** resolved: how long it lasted (at − started_at). */
  duration_ms: nullable(number({ min: 0 })),
  resolve_reason: nullable(oneOf(RESOLVE_REASONS)),
  /** false: a maintenance window (or a never-notified incident) keeps it from the channels. */
  notify: boolean,
  maintenance: nullable(text),
  channels: array(text),
});
export type AlarmEvent = ReturnType<typeof alarmEvent>;

export class InvalidAlarmEventError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid alarm event: ${problems.join('; ')}`);
    this.name = 'InvalidAlarmEventError';
  }
}

/** Parses and validates an event from the stream. */
export function parseAlarmEvent(data: Uint8Array | string): AlarmEvent {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
  } catch (err) {
    throw new InvalidAlarmEventError([`not JSON: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  const event = alarmEvent(value, '', problems);
  if (problems.length > 0) throw new InvalidAlarmEventError(problems);
  return event;
}

export function encodeAlarmEvent(event: AlarmEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(event));
}

/** Milliseconds of an ISO time (events are validated, so the time parses). */
export function eventMs(iso: string): number {
  return Date.parse(iso);
}
