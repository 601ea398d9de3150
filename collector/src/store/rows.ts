/**
 * Maps records, heartbeats and rejected messages to the rows of their tables, and rows back.
 * Mapping never throws: a value a column cannot hold is replaced by a documented substitute, so
 * one odd record can never make a whole batch fail forever. Substitutes:
 *  - a lone UTF-16 surrogate in any string becomes U+FFFD (neither engine accepts it in JSON input);
 *  - an unparsable or out-of-range time becomes the id's time (results; a UUIDv7 holds the ms it was
 *    made, i.e. when the check started) or the receive time (heartbeats, rejected messages);
 *  - an integer beyond 2^53 is clamped to 2^53 − 1; an HTTP status beyond 65535 becomes NULL.
 */
import type { Heartbeat, ResultRecord } from '@vantage/probe';
import type { RejectedMessage } from './result-store.ts';
import { DATETIME_MAX_SECONDS, wellFormed } from './sql.ts';
import { PHASE_COLUMNS } from './tables.ts';

/** Payloads of rejected messages are kept up to this many UTF-8 bytes. */
export const REJECTED_PAYLOAD_MAX_BYTES = 64 * 1024;

const PHASES = PHASE_COLUMNS.map((c) => c.replace(/_ms$/, '')) as ('resolve' | 'connect' | 'tls' | 'processing' | 'transfer')[];

export interface ResultRow {
  id: string;
  schema: number;
  kind: string;
  task_id: string;
  target: string;
  probe_id: string;
  probe_region: string;
  probe_isp: string;
  probe_asn: number | null;
  probe_label_keys: string[];
  probe_label_values: string[];
  probe_version: string;
  scheduled_at: number;
  started_at: number;
  started_at_ms: number;
  duration_ms: number;
  ok: number;
  failure: string;
  failure_detail: string | null;
  resolve_ms: number | null;
  connect_ms: number | null;
  tls_ms: number | null;
  processing_ms: number | null;
  transfer_ms: number | null;
  resolver: string;
  resolved_ips: string[];
  dialed_ip: string;
  http_status: number | null;
  tls_verified: number | null;
  cert_expires_in_days: number | null;
  ping_loss_pct: number | null;
  keys: string;
  inserted_at: number;
}

const ws = wellFormed;
const wsOrNull = (s: string | null): string | null => (s === null ? null : ws(s));

function uint(n: number): number {
  return Number.isSafeInteger(n) && n >= 0 ? n : n > 0 ? Number.MAX_SAFE_INTEGER : 0;
}

function inDateTimeRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms / 1000 <= DATETIME_MAX_SECONDS;
}

/** ms of an ISO time, or `fallback` when it does not parse or DateTime cannot hold it. */
function timeMs(iso: string, fallback: number): number {
  const ms = Date.parse(iso);
  return inDateTimeRange(ms) ? ms : fallback;
}

/** The ms timestamp in a UUIDv7's first 48 bits. */
export function uuidV7Ms(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The extracted per-kind columns (the full keys are kept verbatim in `keys`). */
function kindColumns(record: ResultRecord) {
  const none = { resolver: '', resolved_ips: [] as string[], dialed_ip: '', http_status: null as number | null,
    tls_verified: null as number | null, cert_expires_in_days: null as number | null, ping_loss_pct: null as number | null };
  switch (record.kind) {
    case 'dns': {
      // What users behind this ISP get: the addresses the local resolvers answered.
      const ips = record.keys.queries.filter((q) => q.role === 'local').flatMap((q) => q.ips);
      return { ...none, resolved_ips: [...new Set(ips)].map(ws) };
    }
    case 'http': {
      const k = record.keys;
      const status = k.status !== null && k.status <= 0xffff ? k.status : null;
      return { ...none, resolver: ws(k.resolver ?? ''), resolved_ips: k.resolved_ips.map(ws), dialed_ip: ws(k.dialed_ip ?? ''),
        http_status: status, tls_verified: k.tls ? Number(k.tls.verified) : null, cert_expires_in_days: k.cert_expires_in_days };
    }
    case 'tcp': {
      const k = record.keys;
      return { ...none, resolver: ws(k.resolver ?? ''), resolved_ips: k.resolved_ips.map(ws), dialed_ip: ws(k.dialed_ip ?? ''),
        tls_verified: k.tls ? Number(k.tls.verified) : null };
    }
    case 'ping': {
      const k = record.keys;
      return { ...none, resolver: ws(k.resolver ?? ''), resolved_ips: k.resolved_ips.map(ws), dialed_ip: ws(k.dialed_ip ?? ''),
        ping_loss_pct: k.loss_pct };
    }
  }
}

export function resultRow(record: ResultRecord, insertedAtMs: number): ResultRow {
  const startedMs = timeMs(record.started_at, uuidV7Ms(record.id));
  const labels = Object.entries(record.probe_labels);
  const timing = (phase: (typeof PHASES)[number]) => record.timings_ms[phase] ?? null;
  return {
    id: record.id,
    schema: record.schema,
    kind: record.kind,
    task_id: ws(record.task_id),
    target: ws(record.target),
    probe_id: ws(record.probe_id),
    probe_region: ws(record.probe_region),
    probe_isp: ws(record.probe_isp),
    probe_asn: record.probe_asn === null ? null : uint(record.probe_asn),
    probe_label_keys: labels.map(([k]) => ws(k)),
    probe_label_values: labels.map(([, v]) => ws(v)),
    probe_version: ws(record.probe_version),
    scheduled_at: seconds(timeMs(record.scheduled_at, startedMs)),
    started_at: seconds(startedMs),
    started_at_ms: startedMs,
    duration_ms: record.duration_ms,
    ok: record.ok ? 1 : 0,
    failure: record.failure ?? '',
    failure_detail: wsOrNull(record.failure_detail),
    resolve_ms: timing('resolve'),
    connect_ms: timing('connect'),
    tls_ms: timing('tls'),
    processing_ms: timing('processing'),
    transfer_ms: timing('transfer'),
    ...kindColumns(record),
    // JSON.stringify writes lone surrogates as \uXXXX escapes, so the keys survive exactly.
    keys: JSON.stringify(record.keys),
    inserted_at: seconds(insertedAtMs),
  };
}

/** A DateTime('UTC') as ClickHouse prints it in JSON ("2024-05-01 10:00:00") → ms. */
export function dateTimeMs(value: string | number): number {
  return typeof value === 'number' ? value * 1000 : Date.parse(`${value.replace(' ', 'T')}Z`);
}

const zip = (keys: readonly string[], values: readonly string[]) => Object.fromEntries(keys.map((k, i) => [k, values[i] ?? '']));

/** The record a `SELECT * FROM vantage.results` row holds (times normalized to ISO 8601 UTC). */
export function recordFromRow(row: Record<string, unknown>): ResultRecord {
  const r = row as unknown as Omit<ResultRow, 'scheduled_at'> & { scheduled_at: string };
  const timings: Partial<Record<(typeof PHASES)[number], number>> = {};
  for (const phase of PHASES) {
    const value = r[`${phase}_ms`];
    if (value !== null && value !== undefined) timings[phase] = Number(value);
  }
  return {
    schema: Number(r.schema) as 1,
    id: r.id,
    kind: r.kind,
    task_id: r.task_id,
    target: r.target,
    probe_id: r.probe_id,
    probe_region: r.probe_region,
    probe_isp: r.probe_isp,
    probe_asn: r.probe_asn === null ? null : Number(r.probe_asn),
    probe_labels: zip(r.probe_label_keys, r.probe_label_values),
    probe_version: r.probe_version,
    scheduled_at: new Date(dateTimeMs(r.scheduled_at)).toISOString(),
    started_at: new Date(Number(r.started_at_ms)).toISOString(),
    duration_ms: Number(r.duration_ms),
    ok: Number(r.ok) === 1,
    failure: (r.failure || null) as ResultRecord['failure'],
    failure_detail: r.failure_detail,
    timings_ms: timings,
    keys: JSON.parse(r.keys),
  } as ResultRecord;
}

export function heartbeatRow(hb: Heartbeat, receivedAtMs: number) {
  const sentMs = timeMs(hb.sent_at, receivedAtMs);
  const startedMs = timeMs(hb.started_at, sentMs);
  const labels = Object.entries(hb.labels);
  return {
    probe_id: ws(hb.probe_id),
    schema: hb.schema,
    region: ws(hb.region),
    isp: ws(hb.isp),
    asn: hb.asn === null ? null : uint(hb.asn),
    label_keys: labels.map(([k]) => ws(k)),
    label_values: labels.map(([, v]) => ws(v)),
    version: ws(hb.version),
    sent_at: seconds(sentMs),
    sent_at_ms: sentMs,
    started_at: seconds(startedMs),
    started_at_ms: startedMs,
    task_count: uint(hb.task_count),
    spool_depth: uint(hb.spool_depth),
    spool_dropped: uint(hb.spool_dropped),
    last_error: wsOrNull(hb.last_error),
    received_at: seconds(receivedAtMs),
  };
}

export function heartbeatFromRow(row: Record<string, unknown>): Heartbeat {
  const r = row as ReturnType<typeof heartbeatRow>;
  return {
    schema: Number(r.schema) as 1,
    probe_id: r.probe_id,
    region: r.region,
    isp: r.isp,
    asn: r.asn === null ? null : Number(r.asn),
    labels: zip(r.label_keys, r.label_values),
    version: r.version,
    sent_at: new Date(Number(r.sent_at_ms)).toISOString(),
    started_at: new Date(Number(r.started_at_ms)).toISOString(),
    task_count: Number(r.task_count),
    spool_depth: Number(r.spool_depth),
    spool_dropped: Number(r.spool_dropped),
    last_error: r.last_error,
  };
}

/** Cuts `text` to at most `max` UTF-8 bytes, on a character boundary. */
function capUtf8(text: string, max: number): { text: string; bytes: number } {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return { text, bytes: buf.length };
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // do not split a multi-byte character
  return { text: buf.subarray(0, end).toString('utf8'), bytes: buf.length };
}

export function rejectedRow(msg: RejectedMessage, nowMs: number) {
  const receivedMs = inDateTimeRange(msg.receivedAtMs) ? Math.floor(msg.receivedAtMs) : nowMs;
  const payload = capUtf8(ws(msg.payload), REJECTED_PAYLOAD_MAX_BYTES);
  return {
    received_at: seconds(receivedMs),
    received_at_ms: receivedMs,
    subject: ws(msg.subject),
    stream_seq: uint(msg.streamSeq),
    reason: ws(msg.reason),
    payload: payload.text,
    payload_bytes: msg.payloadBytes === undefined ? payload.bytes : uint(msg.payloadBytes),
  };
}

export function rejectedFromRow(row: Record<string, unknown>): RejectedMessage & { payloadBytes: number } {
  const r = row as ReturnType<typeof rejectedRow>;
  return {
    receivedAtMs: Number(r.received_at_ms),
    subject: r.subject,
    streamSeq: Number(r.stream_seq),
    reason: r.reason,
    payload: r.payload,
    payloadBytes: Number(r.payload_bytes),
  };
}
