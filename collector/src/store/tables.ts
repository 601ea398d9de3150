/**
 * The tables of database `vantage`, as migration 1 (schema.ts) creates them; documented in
 * collector/README.md as a public interface (people point Grafana at it). Once released, a
 * definition never changes in place: a later migration alters the table.
 * Types are limited to what ClickHouse 18.16 has: no LowCardinality, DateTime64, IPv4 or Map; every
 * time is DateTime('UTC') in whole seconds, with a `_ms` UInt64 twin where milliseconds matter.
 */
import type { TableDef, ViewDef } from './ddl.ts';
import { ALARM_RETENTION } from './tables-alarms.ts';

/** Quantile levels of every latency state in the rollups, in this order: p50, p90, p95, p99. */
export const QUANTILES = '0.5, 0.9, 0.95, 0.99';
export const PHASE_COLUMNS = ['resolve_ms', 'connect_ms', 'tls_ms', 'processing_ms', 'transfer_ms'] as const;

export const RESULTS: TableDef = {
  name: 'results',
  columns: [
    ['id', 'UUID'],
    ['schema', 'UInt8'],
    ['kind', 'String'],
    ['task_id', 'String'],
    ['target', 'String'],
    ['probe_id', 'String'],
    ['probe_region', 'String'],
    ['probe_isp', 'String'],
    ['probe_asn', 'Nullable(UInt64)'],
    ['probe_label_keys', 'Array(String)'],
    ['probe_label_values', 'Array(String)'],
    ['probe_version', 'String'],
    ['scheduled_at', "DateTime('UTC')"],
    ['started_at', "DateTime('UTC')"],
    ['started_at_ms', 'UInt64'],
    ['duration_ms', 'Float64'],
    ['ok', 'UInt8'],
    ['failure', 'String'],
    ['failure_detail', 'Nullable(String)'],
    ...PHASE_COLUMNS.map((c) => [c, 'Nullable(Float64)'] as const),
    ['resolver', 'String'],
    ['resolved_ips', 'Array(String)'],
    ['dialed_ip', 'String'],
    ['http_status', 'Nullable(UInt16)'],
    ['tls_verified', 'Nullable(UInt8)'],
    ['cert_expires_in_days', 'Nullable(Float64)'],
    ['ping_loss_pct', 'Nullable(Float64)'],
    ['keys', 'String'],
    ['inserted_at', "DateTime('UTC')"],
  ],
  engine: 'ReplacingMergeTree',
  partitionBy: 'toYYYYMMDD(started_at)',
  partitionUnit: 'day',
  orderBy: ['task_id', 'probe_id', 'started_at', 'id'],
  shardingKey: 'cityHash64(task_id)',
};

/** The dimensions every rollup row is keyed by (besides its time bucket). */
const ROLLUP_DIMENSIONS = ['task_id', 'probe_id', 'probe_region', 'probe_isp', 'kind', 'target'] as const;
/** The same without the probe: one row per region × ISP cell (far fewer states to merge per query). */
const CELL_DIMENSIONS = ['task_id', 'probe_region', 'probe_isp', 'kind', 'target'] as const;
type Dimensions = typeof ROLLUP_DIMENSIONS | typeof CELL_DIMENSIONS;

function rollupColumns(bucket: readonly [string, string], dimensions: Dimensions): (readonly [string, string])[] {
  return [
    bucket,
    ...dimensions.map((c) => [c, 'String'] as const),
    ['checks', 'AggregateFunction(count)'],
    ['successes', 'AggregateFunction(sum, UInt8)'],
    ['failures', 'AggregateFunction(countIf, UInt8)'],
    ['duration_min', 'AggregateFunction(min, Float64)'],
    ['duration_max', 'AggregateFunction(max, Float64)'],
    ['duration_sum', 'AggregateFunction(sum, Float64)'],
    ['duration_q', `AggregateFunction(quantilesTDigest(${QUANTILES}), Float64)`],
    // Phases are Nullable (absent when the phase did not happen); the -If form keeps the state type
    // the same on 18.16 and on chDB 26.x, which disagree about states of Nullable arguments.
    ...PHASE_COLUMNS.map((c) => [c.replace(/_ms$/, '_q'), `AggregateFunction(quantilesTDigestIf(${QUANTILES}), Float64, UInt8)`] as const),
  ];
}

function rollupSelect(bucket: string, dimensions: Dimensions): (source: string) => string {
  const phases = PHASE_COLUMNS.map(
    (c) => `quantilesTDigestIfState(${QUANTILES})(assumeNotNull(${c}), isNotNull(${c})) AS ${c.replace(/_ms$/, '_q')}`,
  );
  const groupBy = [bucket.split(' AS ')[1], ...dimensions].join(', ');
  return (source) =>
    [
      `SELECT ${bucket}, ${dimensions.join(', ')},`,
      '    countState() AS checks, sumState(ok) AS successes, countIfState(ok = 0) AS failures,',
      '    minState(duration_ms) AS duration_min, maxState(duration_ms) AS duration_max, sumState(duration_ms) AS duration_sum,',
      `    quantilesTDigestState(${QUANTILES})(duration_ms) AS duration_q,`,
      `    ${phases.join(',\n    ')}`,
      `FROM ${source}`,
      `GROUP BY ${groupBy}`,
    ].join('\n');
}

export interface Rollup {
  table: TableDef;
  view: ViewDef;
  /** The time-bucket column and the expression over `results.started_at` that fills it. */
  bucket: { column: string; expr: string };
}

function rollup(
  name: string,
  bucket: readonly [string, string],
  expr: string,
  partitionUnit: 'day' | 'month',
  dimensions: Dimensions = ROLLUP_DIMENSIONS,
): Rollup {
  const [column] = bucket;
  return {
    table: {
      name,
      columns: rollupColumns(bucket, dimensions),
      engine: 'AggregatingMergeTree',
      partitionBy: partitionUnit === 'day' ? `toYYYYMMDD(${column})` : `toYYYYMM(${column})`,
      partitionUnit,
      orderBy: ['task_id', column, ...dimensions.filter((d) => d !== 'task_id')],
      shardingKey: 'cityHash64(task_id)',
    },
    view: { name: `${name}_mv`, to: name, from: RESULTS.name, select: rollupSelect(`${expr} AS ${column}`, dimensions) },
    bucket: { column, expr },
  };
}

export const RESULTS_1M = rollup('results_1m', ['minute', "DateTime('UTC')"], 'toStartOfMinute(started_at)', 'day');
export const RESULTS_1H = rollup('results_1h', ['hour', "DateTime('UTC')"], 'toStartOfHour(started_at)', 'month');
export const RESULTS_1D = rollup('results_1d', ['day', 'Date'], 'toDate(started_at)', 'month');
/**
 * Hourly per region × ISP, without the probe (migration 5): a query grouped by region, ISP or both
 * merges one state per cell and hour instead of one per probe and hour. It holds what was inserted
 * after it was created (no backfill): readers use it for ranges that start after that.
 */
export const RESULTS_1H_CELLS = rollup('results_1h_cells', ['hour', "DateTime('UTC')"], 'toStartOfHour(started_at)', 'month', CELL_DIMENSIONS);
export const ROLLUPS: readonly Rollup[] = [RESULTS_1M, RESULTS_1H, RESULTS_1D, RESULTS_1H_CELLS];

export const REJECTED_RECORDS: TableDef = {
  name: 'rejected_records',
  columns: [
    ['received_at', "DateTime('UTC')"],
    ['received_at_ms', 'UInt64'],
    ['subject', 'String'],
    ['stream_seq', 'UInt64'],
    ['reason', 'String'],
    ['payload', 'String'],
    ['payload_bytes', 'UInt64'],
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMMDD(received_at)',
  partitionUnit: 'day',
  orderBy: ['received_at', 'stream_seq'],
  shardingKey: 'rand()',
};

export const PROBE_HEARTBEATS: TableDef = {
  name: 'probe_heartbeats',
  columns: [
    ['probe_id', 'String'],
    ['schema', 'UInt8'],
    ['region', 'String'],
    ['isp', 'String'],
    ['asn', 'Nullable(UInt64)'],
    ['label_keys', 'Array(String)'],
    ['label_values', 'Array(String)'],
    ['version', 'String'],
    ['sent_at', "DateTime('UTC')"],
    ['sent_at_ms', 'UInt64'],
    ['started_at', "DateTime('UTC')"],
    ['started_at_ms', 'UInt64'],
    ['task_count', 'UInt64'],
    ['spool_depth', 'UInt64'],
    ['spool_dropped', 'UInt64'],
    ['last_error', 'Nullable(String)'],
    ['received_at', "DateTime('UTC')"],
  ],
  engine: 'ReplacingMergeTree',
  partitionBy: 'toYYYYMMDD(sent_at)',
  partitionUnit: 'day',
  orderBy: ['probe_id', 'sent_at', 'sent_at_ms'],
  shardingKey: 'cityHash64(probe_id)',
};

/**
 * Hijack verdicts from the analyzer (migration 2): one row per (DNS record, local resolver). `id` is
 * `<record id>/<resolver>`, so re-analysing a record replaces its verdict instead of adding one.
 * `evidence` is the JSON a person needs to check the decision (see analyzer/README.md).
 */
export const VERDICTS: TableDef = {
  name: 'verdicts',
  columns: [
    ['id', 'String'],
    ['record_id', 'UUID'],
    ['task_id', 'String'],
    ['target', 'String'],
    ['probe_id', 'String'],
    ['probe_region', 'String'],
    ['probe_isp', 'String'],
    ['resolver', 'String'],
    ['round', "DateTime('UTC')"], // the record's scheduled_at
    ['started_at_ms', 'UInt64'],
    ['class', 'String'],
    ['flags', 'Array(String)'],
    ['rule', 'String'],
    ['answer_ips', 'Array(String)'],
    ['expected_ips', 'Array(String)'],
    ['evidence', 'String'],
    ['analyzed_at', "DateTime('UTC')"],
  ],
  engine: 'ReplacingMergeTree',
  partitionBy: 'toYYYYMMDD(round)',
  partitionUnit: 'day',
  orderBy: ['task_id', 'round', 'probe_id', 'resolver', 'id'],
  shardingKey: 'cityHash64(task_id)',
};

export const SCHEMA_MIGRATIONS: TableDef = {
  name: 'schema_migrations',
  columns: [
    ['version', 'UInt32'],
    ['name', 'String'],
    ['applied_at', "DateTime('UTC')"],
  ],
  engine: 'ReplacingMergeTree',
  orderBy: ['version'],
  shardingKey: 'version',
};

/**
 * Which retention setting applies to each partitioned table: raw tables (and the per-minute rollup,
 * which has about as many rows as raw) keep `days`, the coarser rollups `rollupDays`.
 */
export const RETENTION: readonly { table: TableDef; keep: 'raw' | 'rollup' }[] = [
  { table: RESULTS, keep: 'raw' },
  { table: RESULTS_1M.table, keep: 'raw' },
  { table: REJECTED_RECORDS, keep: 'raw' },
  { table: PROBE_HEARTBEATS, keep: 'raw' },
  { table: VERDICTS, keep: 'raw' },
  { table: RESULTS_1H.table, keep: 'rollup' },
  { table: RESULTS_1D.table, keep: 'rollup' },
  { table: RESULTS_1H_CELLS.table, keep: 'rollup' },
  ...ALARM_RETENTION,
];
