/**
 * Alarms of a tenant from vantage.alarm_events (written by the analyzer's alarm service) and
 * their deliveries from vantage.alarm_deliveries (written by the notifier): what fires now, the
 * incidents of a range, one alarm's events with their delivery attempts.
 *
 * A tenant sees the alarms of its tasks (or of its targets, for target-level rules) and the
 * fleet's probe_offline alarms, which concern every tenant like the fleet itself.
 */
import { ALARM_DELIVERIES, ALARM_EVENTS, DATABASE, TASKS, sqlDateTime, sqlNumber, sqlString, sqlTuple, type ClickHouse } from '@vantage/collector';
import { queryRows } from './query.ts';
import { TaskStore } from './tasks.ts';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export const DELIVERY_OUTCOMES = ['delivered', 'failed', 'dead_letter'] as const;

/** The tenant's alarms: its tasks', its targets' and the fleet's. */
export function alarmTenantFilter(tenant: string): string {
  const ownedTargets = `SELECT argMax(target, version) FROM ${DATABASE}.${TASKS.name} GROUP BY task_id HAVING argMax(tenant, version) = ${sqlString(tenant)}`;
  return `(task_id GLOBAL IN (${TaskStore.ownedSubquery(tenant)}) OR (task_id = '' AND (rule_kind = 'probe_offline' OR target GLOBAL IN (${ownedTargets}))))`;
}

export interface AlarmFilter {
  tenant: string;
  task?: string;
  target?: string;
  severities?: readonly string[];
  rule?: string;
}

function where(f: AlarmFilter): string[] {
  return [
    alarmTenantFilter(f.tenant),
    ...(f.task !== undefined ? [`task_id = ${sqlString(f.task)}`] : []),
    ...(f.target !== undefined ? [`target = ${sqlString(f.target)}`] : []),
    ...(f.severities !== undefined ? [`severity IN ${sqlTuple(f.severities.map(sqlString))}`] : []),
    ...(f.rule !== undefined ? [`rule_id = ${sqlString(f.rule)}`] : []),
  ];
}

/** The latest event's fields of each group (aliases differ from columns: 18.16 reads them as columns otherwise). */
const LATEST = `fingerprint, started_at_ms AS a_started_ms, max(seq) AS a_seq, argMax(kind, seq) AS a_kind, argMax(rule_id, seq) AS a_rule,
  argMax(rule_kind, seq) AS a_rule_kind, argMax(severity, seq) AS a_severity, argMax(task_id, seq) AS a_task, argMax(target, seq) AS a_target,
  argMax(scope, seq) AS a_scope, argMax(region, seq) AS a_region, argMax(isp, seq) AS a_isp, argMax(probe_id, seq) AS a_probe,
  argMax(label_keys, seq) AS a_label_keys, argMax(label_values, seq) AS a_label_values, argMax(summary, seq) AS a_summary,
  argMax(details, seq) AS a_details, argMax(links, seq) AS a_links, max(at_ms) AS a_last_ms, argMax(duration_ms, seq) AS a_duration,
  argMax(resolve_reason, seq) AS a_reason, argMax(maintenance, seq) AS a_maintenance, count() AS a_events`;

interface AlarmRow {
  fingerprint: string;
  a_started_ms: number;
  a_seq: number;
  a_kind: string;
  a_rule: string;
  a_rule_kind: string;
  a_severity: string;
  a_task: string;
  a_target: string;
  a_scope: string;
  a_region: string;
  a_isp: string;
  a_probe: string;
  a_label_keys: string[];
  a_label_values: string[];
  a_summary: string;
  a_details: string;
  a_links: string[];
  a_last_ms: number;
  a_duration: number | null;
  a_reason: string;
  a_maintenance: string;
  a_events: number;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { unparsable: text };
  }
}

function alarmView(r: AlarmRow): Record<string, unknown> {
  const resolved = r.a_kind === 'resolved';
  return {
    fingerprint: r.fingerprint,
    state: resolved ? 'resolved' : 'firing',
    rule: r.a_rule,
    rule_kind: r.a_rule_kind,
    severity: r.a_severity,
    task_id: r.a_task,
    target: r.a_target,
    scope: r.a_scope,
    region: r.a_region,
    isp: r.a_isp,
    probe_id: r.a_probe,
    labels: Object.fromEntries(r.a_label_keys.map((k, i) => [k, r.a_label_values[i] ?? ''])),
    summary: r.a_summary,
    details: parseJson(r.a_details),
    links: r.a_links,
    started_at: new Date(Number(r.a_started_ms)).toISOString(),
    last_event: { kind: r.a_kind, seq: Number(r.a_seq), at: new Date(Number(r.a_last_ms)).toISOString() },
    resolved_at: resolved ? new Date(Number(r.a_last_ms)).toISOString() : null,
    duration_ms: r.a_duration === null ? null : Number(r.a_duration),
    resolve_reason: r.a_reason || null,
    maintenance: r.a_maintenance || null,
    events: Number(r.a_events),
  };
}

/** How far back an incident may have begun and still be listed by a range query. */
const INCIDENT_LOOKBACK_MS = 31 * 86_400_000;

/**
 * 'firing': alarms whose latest event is not `resolved`, whenever they began. 'all': every
 * incident (fingerprint × start) that overlaps [from, to), firing or resolved, newest first.
 */
export async function listAlarms(ch: ClickHouse, f: AlarmFilter, o: { state: 'firing' | 'all'; fromMs: number; toMs: number; limit: number }): Promise<Record<string, unknown>[]> {
  const table = `${DATABASE}.${ALARM_EVENTS.name}`;
  const query =
    o.state === 'firing'
      ? `SELECT ${LATEST.replace('started_at_ms AS a_started_ms', 'argMax(started_at_ms, seq) AS a_started_ms')}
FROM ${table} FINAL
WHERE ${where(f).join(' AND ')}
GROUP BY fingerprint
HAVING a_kind != 'resolved'
ORDER BY a_started_ms DESC, fingerprint
LIMIT ${o.limit}`
      : `SELECT ${LATEST}
FROM ${table} FINAL
WHERE ${[...where(f), `at >= ${sqlDateTime(Math.max(0, o.fromMs - INCIDENT_LOOKBACK_MS))}`, `started_at_ms < ${sqlNumber(o.toMs)}`].join(' AND ')}
GROUP BY fingerprint, started_at_ms
HAVING a_kind != 'resolved' OR a_last_ms >= ${sqlNumber(o.fromMs)}
ORDER BY a_started_ms DESC, fingerprint
LIMIT ${o.limit}`;
  return (await queryRows<AlarmRow>(ch, query)).map(alarmView);
}

interface EventRow {
  event_id: string;
  kind: string;
  seq: number;
  at_ms: number;
  started_at_ms: number;
  summary: string;
  details: string;
  notify: number;
  maintenance: string;
  channels: string[];
}

interface DeliveryRow {
  attempted_at_ms: number;
  event_id: string;
  event_kind: string;
  fingerprint: string;
  channel: string;
  channel_type: string;
  url: string;
  attempt: number;
  outcome: string;
  http_status: number | null;
  error: string;
  duration_ms: number;
}

function deliveryView(d: DeliveryRow): Record<string, unknown> {
  return {
    attempted_at: new Date(Number(d.attempted_at_ms)).toISOString(),
    event_id: d.event_id,
    event_kind: d.event_kind,
    fingerprint: d.fingerprint,
    channel: d.channel,
    channel_type: d.channel_type,
    url: d.url,
    attempt: Number(d.attempt),
    outcome: d.outcome,
    http_status: d.http_status === null ? null : Number(d.http_status),
    error: d.error,
    duration_ms: Number(d.duration_ms),
  };
}

const DELIVERY_COLUMNS = 'attempted_at_ms, event_id, event_kind, fingerprint, channel, channel_type, url, attempt, outcome, http_status, error, duration_ms';

/** One alarm: its latest state, every event, and every delivery attempt of those events; null when not the tenant's. */
export async function getAlarm(ch: ClickHouse, tenant: string, fingerprint: string): Promise<Record<string, unknown> | null> {
  const table = `${DATABASE}.${ALARM_EVENTS.name}`;
  const mine = `fingerprint = ${sqlString(fingerprint)} AND ${alarmTenantFilter(tenant)}`;
  const [latest, events] = await Promise.all([
    queryRows<AlarmRow>(ch, `SELECT ${LATEST.replace('started_at_ms AS a_started_ms', 'argMax(started_at_ms, seq) AS a_started_ms')}\nFROM ${table} FINAL\nWHERE ${mine}\nGROUP BY fingerprint`),
    queryRows<EventRow>(ch, `SELECT event_id, kind, seq, at_ms, started_at_ms, summary, details, notify, maintenance, channels\nFROM ${table} FINAL\nWHERE ${mine}\nORDER BY seq\nLIMIT 10000`),
  ]);
  if (!latest[0]) return null;
  const deliveries = await queryRows<DeliveryRow>(
    ch,
    `SELECT ${DELIVERY_COLUMNS}\nFROM ${DATABASE}.${ALARM_DELIVERIES.name}\nWHERE fingerprint = ${sqlString(fingerprint)}\nORDER BY attempted_at_ms, channel\nLIMIT 10000`,
  );
  return {
    ...alarmView(latest[0]),
    history: events.map((e) => ({
      event_id: e.event_id,
      kind: e.kind,
      seq: Number(e.seq),
      at: new Date(Number(e.at_ms)).toISOString(),
      started_at: new Date(Number(e.started_at_ms)).toISOString(),
      summary: e.summary,
      details: parseJson(e.details),
      notify: Number(e.notify) === 1,
      maintenance: e.maintenance || null,
      channels: e.channels,
    })),
    deliveries: deliveries.map(deliveryView),
  };
}

export interface DeliveryFilter {
  tenant: string;
  fromMs: number;
  toMs: number;
  fingerprint?: string;
  channel?: string;
  outcomes?: readonly string[];
}

/** Delivery attempts of the tenant's alarms over a range, newest first. */
export async function listDeliveries(ch: ClickHouse, f: DeliveryFilter, limit: number): Promise<Record<string, unknown>[]> {
  const visible = `SELECT DISTINCT fingerprint FROM ${DATABASE}.${ALARM_EVENTS.name} WHERE ${alarmTenantFilter(f.tenant)}`;
  const conditions = [
    `attempted_at >= ${sqlDateTime(f.fromMs)} AND attempted_at < ${sqlDateTime(f.toMs)}`,
    `fingerprint GLOBAL IN (${visible})`,
    ...(f.fingerprint !== undefined ? [`fingerprint = ${sqlString(f.fingerprint)}`] : []),
    ...(f.channel !== undefined ? [`channel = ${sqlString(f.channel)}`] : []),
    ...(f.outcomes !== undefined ? [`outcome IN ${sqlTuple(f.outcomes.map(sqlString))}`] : []),
  ];
  const rows = await queryRows<DeliveryRow>(
    ch,
    `SELECT ${DELIVERY_COLUMNS}\nFROM ${DATABASE}.${ALARM_DELIVERIES.name}\nWHERE ${conditions.join(' AND ')}\nORDER BY attempted_at_ms DESC, channel\nLIMIT ${limit}`,
  );
  return rows.map(deliveryView);
}
