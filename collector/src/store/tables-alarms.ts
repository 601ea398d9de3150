/**
 * Tables of alarms and their delivery (migration 3), documented in collector/README.md: every
 * alarm event from the alarms stream, every delivery attempt the notifier made, and the events it
 * gave up on. Written by the analyzer's alarm service and by `vantage notifier`.
 */
import type { TableDef } from './ddl.ts';

/**
 * Alarm events (firing, reminder, resolved), one row per event, copied from the alarms stream by
 * the analyzer (durable consumer `alarm-events`). A redelivered event is replaced, not added
 * (`event_id` within the same sorting key): read with FINAL. The latest event of a fingerprint
 * says whether the alarm fires now.
 */
export const ALARM_EVENTS: TableDef = {
  name: 'alarm_events',
  columns: [
    ['event_id', 'String'],
    ['kind', 'String'],
    ['seq', 'UInt64'],
    ['fingerprint', 'String'],
    ['rule_id', 'String'],
    ['rule_kind', 'String'],
    ['severity', 'String'],
    ['task_id', 'String'],
    ['target', 'String'],
    ['scope', 'String'],
    ['region', 'String'],
    ['isp', 'String'],
    ['probe_id', 'String'],
    ['label_keys', 'Array(String)'],
    ['label_values', 'Array(String)'],
    ['summary', 'String'],
    ['details', 'String'],
    ['links', 'Array(String)'],
    ['started_at', "DateTime('UTC')"],
    ['started_at_ms', 'UInt64'],
    ['at', "DateTime('UTC')"],
    ['at_ms', 'UInt64'],
    ['duration_ms', 'Nullable(UInt64)'],
    ['resolve_reason', 'String'],
    ['notify', 'UInt8'],
    ['maintenance', 'String'],
    ['channels', 'Array(String)'],
    ['stream_seq', 'UInt64'],
    ['inserted_at', "DateTime('UTC')"],
  ],
  engine: 'ReplacingMergeTree',
  partitionBy: 'toYYYYMM(at)',
  partitionUnit: 'month',
  orderBy: ['fingerprint', 'at_ms', 'event_id'],
  shardingKey: 'cityHash64(fingerprint)',
};

/** Every attempt of the notifier to deliver an event to a channel, with the channel's answer. */
export const ALARM_DELIVERIES: TableDef = {
  name: 'alarm_deliveries',
  columns: [
    ['attempted_at', "DateTime('UTC')"],
    ['attempted_at_ms', 'UInt64'],
    ['event_id', 'String'],
    ['event_kind', 'String'],
    ['fingerprint', 'String'],
    ['rule_id', 'String'],
    ['severity', 'String'],
    ['channel', 'String'],
    ['channel_type', 'String'],
    ['url', 'String'],
    ['attempt', 'UInt32'],
    ['outcome', 'String'],
    ['http_status', 'Nullable(UInt16)'],
    ['response', 'String'],
    ['error', 'String'],
    ['duration_ms', 'Float64'],
    ['idempotency_key', 'String'],
    ['notifier', 'String'],
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMMDD(attempted_at)',
  partitionUnit: 'day',
  orderBy: ['channel', 'attempted_at', 'event_id'],
  shardingKey: 'cityHash64(event_id)',
};

/** Events a channel did not accept after the last attempt (or refused for good), kept whole for a replay. */
export const ALARM_DEAD_LETTERS: TableDef = {
  name: 'alarm_dead_letters',
  columns: [
    ['dead_at', "DateTime('UTC')"],
    ['dead_at_ms', 'UInt64'],
    ['event_id', 'String'],
    ['event_kind', 'String'],
    ['fingerprint', 'String'],
    ['channel', 'String'],
    ['channel_type', 'String'],
    ['attempts', 'UInt32'],
    ['reason', 'String'],
    ['event', 'String'],
    ['stream_seq', 'UInt64'],
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMM(dead_at)',
  partitionUnit: 'month',
  orderBy: ['dead_at', 'channel', 'event_id'],
  shardingKey: 'cityHash64(event_id)',
};

/** Retention of the alarm tables: deliveries like raw data; events and dead letters like rollups. */
export const ALARM_RETENTION = [
  { table: ALARM_DELIVERIES, keep: 'raw' },
  { table: ALARM_EVENTS, keep: 'rollup' },
  { table: ALARM_DEAD_LETTERS, keep: 'rollup' },
] as const;
