/**
 * SQL of availability queries (pure). One statement answers all three levels — per group and
 * bucket ('series'), per group ('groups') and overall ('total'): an inner query merges the stored
 * states once per group × bucket (`-MergeState`, or `-State` over raw rows), and the outer query
 * folds those few states into each level, the rows repeated per level with ARRAY JOIN (18.16 has
 * no GROUPING SETS or ROLLUP). The t-digest merges dominate the cost, and this way every stored
 * state is merged once, not once per level.
 *
 * Every value from the request goes through the escaping helpers; identifiers come from the fixed
 * lists here. Aliases never equal a column name (18.16 would read them as the column).
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

/** Which latency percentiles to compute: every phase, the whole check only, or none. */
export const LATENCIES = ['all', 'total', 'none'] as const;
export type Latencies = (typeof LATENCIES)[number];

export interface AvailabilityFilter {
  /** The task ids to read (already checked to belong to the tenant). */
  taskIds: readonly string[];
  target?: string;
  kind?: string;
}

/** Levels of a row in the answer. */
export const LEVEL = { series: 0, groups: 1, total: 2 } as const;

export function phasesOf(latencies: Latencies): readonly Phase[] {
  return latencies === 'all' ? PHASES : latencies === 'total' ? ['total'] : [];
}

/** Inner aggregates: counts as numbers, latency as partial states. */
function innerAggregates(raw: boolean, phases: readonly Phase[]): string[] {
  const counts = raw
    ? ['count() AS n_checks', 'sum(ok) AS n_ok', 'countIf(ok = 0) AS n_failed']
    : ['countMerge(checks) AS n_checks', 'sumMerge(successes) AS n_ok', 'countIfMerge(failures) AS n_failed'];
  const states = phases.map((phase) => {
    if (phase === 'total') return raw ? `quantilesTDigestState(${QUANTILES})(duration_ms) AS s_total` : `quantilesTDigestMergeState(${QUANTILES})(duration_q) AS s_total`;
    const column = PHASE_COLUMNS[PHASES.indexOf(phase) - 1]!;
    return raw
      ? `quantilesTDigestIfState(${QUANTILES})(assumeNotNull(${column}), isNotNull(${column})) AS s_${phase}`
      : `quantilesTDigestIfMergeState(${QUANTILES})(${column.replace(/_ms$/, '_q')}) AS s_${phase}`;
  });
  return [...counts, ...states];
}

export interface AvailabilitySqlOptions {
  grouping: Grouping;
  series: boolean;
  latencies: Latencies;
  /** Most rows returned (the caller checks the series against its own bound). */
  limit: number;
}

export function availabilitySql(plan: BucketPlan, filter: AvailabilityFilter, o: AvailabilitySqlOptions): string {
  if (filter.taskIds.length === 0) throw new Error('availabilitySql: no task ids');
  const raw = plan.source.table === 'results';
  const groups = GROUP_COLUMNS[o.grouping];
  const phases = phasesOf(o.latencies);
  const innerKeys = [...groups.map(([name, column]) => [`g_${name}`, column] as const), ...(o.series ? [['g_b', `toInt64(${plan.keySql})`] as const] : [])];
  const where = [
    filter.taskIds.length === 1 ? `task_id = ${sqlString(filter.taskIds[0]!)}` : `task_id IN ${sqlTuple(filter.taskIds.map(sqlString))}`,
    plan.source.range(plan.from, plan.to),
    ...(filter.target !== undefined ? [`target = ${sqlString(filter.target)}`] : []),
    ...(filter.kind !== undefined ? [`kind = ${sqlString(filter.kind)}`] : []),
  ];
  const inner = [
    `SELECT ${[...innerKeys.map(([alias, expr]) => `${expr} AS ${alias}`), ...innerAggregates(raw, phases)].join(', ')}`,
    `FROM ${DATABASE}.${plan.source.table}${raw ? ' FINAL' : ''}`,
    `WHERE ${where.join(' AND ')}`,
    ...(innerKeys.length > 0 ? [`GROUP BY ${innerKeys.map(([alias]) => alias).join(', ')}`] : []),
  ].join('\n');

  const levels = [...(o.series ? [LEVEL.series] : []), ...(groups.length > 0 ? [LEVEL.groups] : []), LEVEL.total];
  const outerKeys = [
    'lvl',
    ...groups.map(([name]) => `if(lvl = ${LEVEL.total}, '', g_${name}) AS o_${name}`),
    ...(o.series ? [`if(lvl = ${LEVEL.series}, g_b, toInt64(-1)) AS o_b`] : []),
  ];
  const outerGroup = ['lvl', ...groups.map(([name]) => `o_${name}`), ...(o.series ? ['o_b'] : [])];
  const merges = phases.map((phase) => (phase === 'total' ? `quantilesTDigestMerge(${QUANTILES})(s_total) AS q_total` : `quantilesTDigestIfMerge(${QUANTILES})(s_${phase}) AS q_${phase}`));
  return [
    `SELECT ${[...outerKeys, 'sum(n_checks) AS t_checks', 'sum(n_ok) AS t_ok', 'sum(n_failed) AS t_failed', ...merges].join(', ')}`,
    `FROM (\n${inner}\n)`,
    `ARRAY JOIN [${levels.join(', ')}] AS lvl`,
    `GROUP BY ${outerGroup.join(', ')}`,
    `ORDER BY ${['lvl DESC', ...outerGroup.slice(1)].join(', ')}`,
    `LIMIT ${Math.floor(o.limit)}`,
  ].join('\n');
}
