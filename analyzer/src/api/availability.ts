/**
 * Availability of a task or a target over a range: totals, per group, and per group and bucket
 * with every empty bucket present (checks 0, ratio null). Queries run in parallel; assembling the
 * answer is a pure function of their rows.
 */
import { DATABASE, SCHEMA_MIGRATIONS, type ClickHouse } from '@vantage/collector';
import { formatLocal, segmentOffset } from './time-zone.ts';
import { availabilitySql, GROUP_COLUMNS, LEVEL, phasesOf, type AvailabilityFilter, type Grouping, type Latencies, type Phase } from './availability-sql.ts';
import type { BucketPlan } from './buckets.ts';
import { badRequest } from './errors.ts';
import { queryRows } from './query.ts';

export interface Quantiles {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

export interface Stats {
  checks: number;
  successes: number;
  failures: number;
  /** successes / checks; null without checks. */
  success_ratio: number | null;
  /**
   * Latency percentiles in ms per phase (`total` is the whole check); null where none happened.
   * Only the phases asked for (`latency`: all, total, none).
   */
  latency_ms: Partial<Record<Phase, Quantiles | null>>;
}

export interface SeriesPoint extends Stats {
  /** Bucket start and end, in the query's time zone with its offset. */
  start: string;
  end: string;
}

export interface Group extends Stats {
  region?: string;
  isp?: string;
  probe?: string;
  series?: SeriesPoint[];
}

export interface AvailabilityRow {
  lvl: number;
  o_region?: string;
  o_isp?: string;
  o_probe?: string;
  o_b?: number;
  t_checks: number;
  t_ok: number;
  t_failed: number;
  [q: `q_${string}`]: (number | null)[];
}

/** At most this many points (groups × buckets) in one answer. */
export const MAX_POINTS = 50_000;

export interface AvailabilityRequest {
  plan: BucketPlan;
  filter: AvailabilityFilter;
  grouping: Grouping;
  series: boolean;
  latencies: Latencies;
}

/** Migration that created `results_1h_cells`. */
const CELLS_MIGRATION = 5;
const cellsSinceCache = new WeakMap<ClickHouse, number>();

/**
 * Since when `results_1h_cells` holds every record (Unix seconds): the hour after its migration
 * ran; +Infinity while it has not. Read once per ClickHouse handle (+Infinity is not kept: asked
 * again until the migration has run). min(): several migrators may each record the version.
 */
export async function cellsSince(ch: ClickHouse): Promise<number> {
  const known = cellsSinceCache.get(ch);
  if (known !== undefined) return known;
  const [row] = await queryRows<{ at: number | string | null }>(
    ch,
    `SELECT toUInt32(min(applied_at)) AS at FROM ${DATABASE}.${SCHEMA_MIGRATIONS.name} WHERE version = ${CELLS_MIGRATION}`,
  );
  const applied = Number(row?.at ?? 0);
  const since = applied > 0 ? Math.ceil(applied / 3600) * 3600 : Number.POSITIVE_INFINITY;
  if (Number.isFinite(since)) cellsSinceCache.set(ch, since);
  return since;
}

export async function queryAvailability(ch: ClickHouse, req: AvailabilityRequest): Promise<{ total: Stats; groups: Group[] }> {
  const sql = availabilitySql(req.plan, req.filter, { grouping: req.grouping, series: req.series, latencies: req.latencies, limit: 2 * MAX_POINTS + 1 });
  // A task's rows of a merged rollup part are a few tens of thousands: below the default threshold
  // (163,840) ClickHouse reads them in one stream, so one thread does all the t-digest merging.
  return assembleAvailability(req, await queryRows<AvailabilityRow>(ch, sql, { merge_tree_min_rows_for_concurrent_read: 8192 }));
}

/** The answer from the query's rows (pure): total, groups, and each group's series with every bucket. */
export function assembleAvailability(req: Pick<AvailabilityRequest, 'plan' | 'grouping' | 'series' | 'latencies'>, rows: readonly AvailabilityRow[]): { total: Stats; groups: Group[] } {
  const { plan, grouping } = req;
  const phases = phasesOf(req.latencies);
  const at = (level: number) => rows.filter((r) => Number(r.lvl) === level);
  const totalRow = at(LEVEL.total)[0];
  const total = stats(totalRow ?? null, phases);
  const keyOf = (row: AvailabilityRow) => JSON.stringify(GROUP_COLUMNS[grouping].map(([name]) => row[`o_${name}` as 'o_region']));
  const groups = new Map<string, Group>();
  if (grouping === 'none') groups.set(keyOf({} as AvailabilityRow), { ...total });
  else for (const row of at(LEVEL.groups)) groups.set(keyOf(row), { ...labels(grouping, row), ...stats(row, phases) });
  if (req.series) {
    const seriesRows = at(LEVEL.series);
    if (seriesRows.length > MAX_POINTS || groups.size * plan.buckets.length > MAX_POINTS) {
      throw badRequest([`series: more than ${MAX_POINTS} points (groups × buckets): narrow the range, use a coarser granularity, group less finely, or ask series=false`]);
    }
    const byGroup = new Map<string, Map<number, AvailabilityRow>>();
    for (const row of seriesRows) {
      const key = keyOf(row);
      if (!byGroup.has(key)) byGroup.set(key, new Map());
      byGroup.get(key)!.set(Number(row.o_b), row);
    }
    for (const [key, group] of groups) {
      const rowsOf = byGroup.get(key) ?? new Map<number, AvailabilityRow>();
      group.series = plan.buckets.map((bucket) => ({
        start: formatLocal(bucket.start, segmentOffset(plan.segments, bucket.start)),
        end: formatLocal(bucket.end, segmentOffset(plan.segments, bucket.end)),
        ...stats(rowsOf.get(bucket.key) ?? null, phases),
      }));
    }
  }
  const order = (g: Group) => [g.region ?? '', g.isp ?? '', g.probe ?? ''].join('\u0000');
  return { total, groups: [...groups.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)) };
}

function labels(grouping: Grouping, row: AvailabilityRow): Pick<Group, 'region' | 'isp' | 'probe'> {
  const out: Pick<Group, 'region' | 'isp' | 'probe'> = {};
  for (const [name] of GROUP_COLUMNS[grouping]) out[name as 'region'] = String(row[`o_${name}` as 'o_region']);
  return out;
}

function stats(row: AvailabilityRow | null, phases: readonly Phase[]): Stats {
  const checks = Number(row?.t_checks ?? 0);
  const successes = Number(row?.t_ok ?? 0);
  const latency: Partial<Record<Phase, Quantiles | null>> = {};
  for (const phase of phases) latency[phase] = checks > 0 && row ? quantiles(row[`q_${phase}`]) : null;
  return {
    checks,
    successes,
    failures: Number(row?.t_failed ?? 0),
    success_ratio: checks > 0 ? successes / checks : null,
    latency_ms: latency,
  };
}

function quantiles(values: readonly (number | null)[] | undefined): Quantiles | null {
  if (!values || values.length !== 4 || values.some((v) => v === null || !Number.isFinite(v))) return null;
  const [p50, p90, p95, p99] = values.map((v) => Math.round(Number(v) * 1000) / 1000) as [number, number, number, number];
  return { p50, p90, p95, p99 };
}
