/**
 * Turns one JetStream message into a typed value or a rejection with its reason. Pure: no I/O.
 * A rejection is kept in the rejected-records table and the message is terminated, so bad input
 * is neither redelivered forever nor dropped silently.
 */
import { heartbeat, heartbeatSubject, InvalidRecordError, parseRecord, resultSubject, SCHEMA_VERSION, type Heartbeat, type ResultRecord } from '@vantage/probe';

/** Why a message was rejected; the `reason` metric label and the prefix of the stored reason. */
export type RejectClass = 'not_json' | 'too_large' | 'unknown_schema' | 'invalid' | 'subject_mismatch' | 'store_refused';

export type Decoded<T> = { ok: true; value: T } | { ok: false; rejectClass: RejectClass; reason: string };

/** What decoding needs from a message (a JsMsg has these). */
export interface RawMessage {
  subject: string;
  data: Uint8Array;
}

/** Largest payload accepted by default. NATS' own default max_payload is 1 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 512 * 1024;

/** Stored reasons are capped: a record with thousands of problems must not make a huge row. */
const MAX_REASON_CHARS = 4000;

/** The stored reason: the class, then the detail, capped. */
export function rejectReason(rejectClass: RejectClass, detail: string): string {
  const reason = `${rejectClass}: ${detail}`;
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason;
}

function reject<T>(rejectClass: RejectClass, detail: string): Decoded<T> {
  return { ok: false, rejectClass, reason: rejectReason(rejectClass, detail) };
}

/** A result record, checked against the contract and against the subject it came on. */
export function decodeResult(msg: RawMessage, maxBytes = DEFAULT_MAX_RECORD_BYTES): Decoded<ResultRecord> {
  if (msg.data.length > maxBytes) return reject('too_large', `${msg.data.length} bytes, more than ${maxBytes}`);
  let record: ResultRecord;
  try {
    record = parseRecord(msg.data);
  } catch (err) {
    if (err instanceof InvalidRecordError) return classify(err.problems, msg.data);
    throw err;
  }
  // The subject carries the publisher's probe id, which NATS permissions tie to its credentials:
  // a record claiming another probe's id would be a forgery.
  const expected = resultSubject(record.kind, record.probe_id);
  if (msg.subject !== expected) return reject('subject_mismatch', `a ${record.kind} record of probe ${record.probe_id} belongs on ${expected}, came on ${msg.subject}`);
  return { ok: true, value: record };
}

/** A probe heartbeat, checked like a record. */
export function decodeHeartbeat(msg: RawMessage, maxBytes = DEFAULT_MAX_RECORD_BYTES): Decoded<Heartbeat> {
  if (msg.data.length > maxBytes) return reject('too_large', `${msg.data.length} bytes, more than ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(payloadText(msg.data));
  } catch (err) {
    return reject('not_json', `not JSON: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  const beat = heartbeat(value, '', problems);
  if (problems.length > 0) return classify(problems, msg.data, value);
  const expected = heartbeatSubject(beat.probe_id);
  if (msg.subject !== expected) return reject('subject_mismatch', `a heartbeat of probe ${beat.probe_id} belongs on ${expected}, came on ${msg.subject}`);
  return { ok: true, value: beat };
}

/** The payload as text for the rejected table (invalid UTF-8 replaced, never thrown on). */
export function payloadText(data: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(data);
}

function classify<T>(problems: string[], data: Uint8Array, parsed?: unknown): Decoded<T> {
  if (problems.length === 1 && problems[0].startsWith('not JSON')) return reject('not_json', problems[0]);
  // A schema this collector does not know is a version skew to fix by upgrading, not garbage.
  if (problems.some((p) => p.startsWith('schema:'))) {
    const schema = schemaOf(parsed ?? safeParse(data));
    if (typeof schema === 'number' && schema !== SCHEMA_VERSION) return reject('unknown_schema', `schema ${schema} (this collector reads ${SCHEMA_VERSION}); ${problems.join('; ')}`);
  }
  return reject('invalid', problems.join('; '));
}

function safeParse(data: Uint8Array): unknown {
  try {
    return JSON.parse(payloadText(data));
  } catch {
    return undefined;
  }
}

function schemaOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>).schema : undefined;
}
