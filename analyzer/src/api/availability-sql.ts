/**
 * SQL of availability queries (pure). Reads a rollup with the -Merge functions (or the raw table,
 * deduplicated with FINAL, with the same aggregates), for one plan of buckets. Every value from
 * the request goes through the escaping helpers; identifiers come from fixed lists here.
 */
import { DATABASE, PHASE_COLUMNS, QUANTILES, sqlString, sqlTuple } from '@vantage/collector';
import type { BucketPlan } from './buckets.ts';

export const GROUPINGS = ['none', 'region', 'isp', 'region_isp', 'probe'] as const;
export type Grouping = (typeof GROUPINGS)[number];

/** Output name → column, per grouping. */
export const GROUP_COLUMNS: Record<Grouping, readonly (readonly [string, string])[]> = {
  none: [],
  region: [['region', 'probe_region']],
  isp: [['isp', 'probe_isp']],
  region_isp: [['region', 'probe_region'], ['isp', 'probe_isp']],
  probe: [['probe', 'probe_id'], ['region', 'probe_region'], ['isp', 'probe_isp']],
};

/** Latency series in answers: the whole check, then blackbox_exporter's phase names. */
export const PHASES = ['total', 'resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
export type Phase = (typeof PHASES)[number];

export interface AvailabilityFilter {
  /** The task ids to read (already checked to belong to the tenant). */
  taskIds: readonly string[];
  target?: string;
  kind?: string;
}

/** Aggregates over rollup states, or over raw rows. */
function aggregates(raw: boolean): string[] {
  const phases = PHASE_COLUMNS.map((c, i) => {
    const name = PHASES[i + 1]!;
    return raw
      ? `quantilesTDigestIf(${QUANTILES})(assumeNotNull(${c}), isNotNull(${c})) AS q_${name}`
      : `quantilesTDigestIfMerge(${QUANTILES})(${c.replace(/_ms$/, '_q')}) AS q_${name}`;
  });
  return raw
    ? ['count() AS n_checks', 'sum(ok) AS n_ok', 'countIf(ok = 0) AS n_failed', `quantilesTDigest(${QUANTILES})(duration_ms) AS q_total`, ...phases]
    : ['countMerge(checks) AS n_checks', 'sumMerge(successes) AS n_ok', 'countIfMerge(failures) AS n_failed', `quantilesTDigestMerge(${QUANTILES})(duration_q) AS q_total`, ...phases];
}

export type Level = 'series' | 'groups' | 'total';

/**
 * One query: per group and bucket ('series'), per group ('groups'), or over everything ('total').
 * `limit` caps the rows (the caller asks for one more than it accepts, to detect overflow).
 */
export function availabilitySql(plan: BucketPlan, filter: AvailabilityFilter, grouping: Grouping, level: Level, limit?: number): string {
  if (filter.taskIds.length === 0) throw new Error('availabilitySql: no task ids');
  const raw = plan.source.table === 'results';
  const groups = level === 'total' ? [] : GROUP_COLUMNS[grouping];
  const select = [
    ...groups.map(([name, column]) => `${column} AS g_${name}`),
    ...(level === 'series' ? [`${plan.keySql} AS b`] : []),
    ...aggregates(raw),
  ];
  const where = [
    filter.taskIds.length === 1 ? `task_id = ${sqlString(filter.taskIds[0]!)}` : `task_id IN ${sqlTuple(filter.taskIds.map(sqlString))}`,
    plan.source.range(plan.from, plan.to),
    ...(filter.target !== undefined ? [`target = ${sqlString(filter.target)}`] : []),
    ...(filter.kind !== undefined ? [`kind = ${sqlString(filter.kind)}`] : []),
  ];
  const groupBy = [...groups.map(([name]) => `g_${name}`), ...(level === 'series' ? ['b'] : [])];
  return [
    `SELECT ${select.join(', ')}`,
    `FROM ${DATABASE}.${plan.source.table}${raw ? ' FINAL' : ''}`,
    `WHERE ${where.join(' AND ')}`,
    ...(groupBy.length > 0 ? [`GROUP BY ${groupBy.join(', ')}`, `ORDER BY ${groupBy.join(', ')}`] : []),
    ...(limit !== undefined ? [`LIMIT ${Math.floor(limit)}`] : []),
  ].join('\n');
}
