/**
 * Alarm events in ClickHouse (`vantage.alarm_events`): the row of an event and back, the
 * insert, and the last event per alarm (a second source for a restart, after the stream).
 */
import type { ClickHouse } from '../../../collector/src/store/clickhouse-client.ts';
import { toStoreError } from '../../../collector/src/store/clickhouse-client.ts';
import { DATABASE } from '../../../collector/src/store/ddl.ts';
import { sqlString, wellFormed as ws } from '../../../collector/src/store/sql.ts';
import { ALARM_EVENTS } from '../../../collector/src/store/tables-alarms.ts';
import { alarmEvent, type AlarmEvent } from './event.ts';

export type AlarmEventRow = ReturnType<typeof alarmEventRow>;

const seconds = (ms: number) => Math.floor(ms / 1000);

export function alarmEventRow(event: AlarmEvent, streamSeq: number, insertedAtMs: number) {
  const startedMs = Date.parse(event.started_at);
  const atMs = Date.parse(event.at);
  const labels = Object.entries(event.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    event_id: event.event_id,
    kind: event.kind,
    seq: event.seq,
    fingerprint: event.fingerprint,
    rule_id: event.rule_id,
    rule_kind: event.rule_kind,
    severity: event.severity,
    task_id: ws(event.task_id),
    target: ws(event.target),
    scope: event.scope,
    region: ws(event.region),
    isp: ws(event.isp),
    probe_id: ws(event.probe_id),
    label_keys: labels.map(([k]) => ws(k)),
    label_values: labels.map(([, v]) => ws(v)),
    summary: ws(event.summary),
    details: JSON.stringify(event.details),
    links: event.links.map(ws),
    started_at: seconds(startedMs),
    started_at_ms: startedMs,
    at: seconds(atMs),
    at_ms: atMs,
    duration_ms: event.duration_ms === null ? null : Math.round(event.duration_ms),
    resolve_reason: event.resolve_reason ?? '',
    notify: event.notify ? 1 : 0,
    maintenance: event.maintenance ?? '',
    channels: event.channels,
    stream_seq: streamSeq,
    inserted_at: seconds(insertedAtMs),
  };
}

/** The event a row holds (as the stream carried it, but for duration_ms rounded to whole ms). */
export function alarmEventFromRow(row: Record<string, unknown>): AlarmEvent {
  const r = row as unknown as AlarmEventRow & { label_keys: string[]; label_values: string[] };
  const value = {
    schema: 1,
    event_id: r.event_id,
    kind: r.kind,
    seq: Number(r.seq),
    fingerprint: r.fingerprint,
    rule_id: r.rule_id,
    rule_kind: r.rule_kind,
    severity: r.severity,
    task_id: r.task_id,
    target: r.target,
    scope: r.scope,
    region: r.region,
    isp: r.isp,
    probe_id: r.probe_id,
    labels: Object.fromEntries(r.label_keys.map((k, i) => [k, r.label_values[i] ?? ''])),
    summary: r.summary,
    details: JSON.parse(r.details) as Record<string, unknown>,
    links: r.links,
    started_at: new Date(Number(r.started_at_ms)).toISOString(),
    at: new Date(Number(r.at_ms)).toISOString(),
    duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
    resolve_reason: r.resolve_reason === '' ? null : r.resolve_reason,
    notify: Number(r.notify) === 1,
    maintenance: r.maintenance === '' ? null : r.maintenance,
    channels: r.channels,
  };
  const problems: string[] = [];
  const event = alarmEvent(value, '', problems);
  if (problems.length > 0) throw new Error(`alarm_events row ${r.event_id}: ${problems.join('; ')}`);
  return event;
}

export async function insertAlarmEvents(ch: ClickHouse, rows: readonly AlarmEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  try {
    await ch.client.insert({ table: `${DATABASE}.${ALARM_EVENTS.name}`, values: rows as AlarmEventRow[], format: 'JSONEachRow' });
  } catch (err) {
    throw toStoreError(err, `insert into ${ALARM_EVENTS.name}`);
  }
}

/** Which of these event ids are stored already. */
export async function storedEventIds(ch: ClickHouse, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  try {
    const result = await ch.client.query({
      query: `SELECT DISTINCT event_id FROM ${DATABASE}.${ALARM_EVENTS.name} WHERE event_id IN (${ids.map(sqlString).join(', ')})`,
      format: 'JSONEachRow',
    });
    return new Set((await result.json<{ event_id: string }>()).map((r) => r.event_id));
  } catch (err) {
    throw toStoreError(err, 'looking up stored alarm events');
  }
}

/** The last event (highest seq) of every alarm in the table. */
export async function lastStoredEvents(ch: ClickHouse): Promise<AlarmEvent[]> {
  try {
    const result = await ch.client.query({
      query: `SELECT * FROM ${DATABASE}.${ALARM_EVENTS.name} FINAL ORDER BY fingerprint, seq DESC LIMIT 1 BY fingerprint`,
      format: 'JSONEachRow',
    });
    return (await result.json<Record<string, unknown>>()).map(alarmEventFromRow);
  } catch (err) {
    throw toStoreError(err, 'reading the last alarm events');
  }
}

/** Per fingerprint the event with the higher seq of the two sources. */
export function latestPerAlarm(...sources: readonly (readonly AlarmEvent[])[]): AlarmEvent[] {
  const best = new Map<string, AlarmEvent>();
  for (const events of sources) {
    for (const e of events) {
      const seen = best.get(e.fingerprint);
      if (!seen || e.seq > seen.seq) best.set(e.fingerprint, e);
    }
  }
  return [...best.values()];
}
