/**
 * Time buckets of an availability query (pure): aligns the requested range to whole buckets in
 * the caller's time zone, picks the coarsest stored table whose rows never straddle a bucket
 * boundary, and lists every bucket so gaps are filled explicitly.
 *
 * A bucket is keyed in SQL by one integer `b`: for minute and hour buckets the bucket's start
 * instant (computed with the row's own offset, so the repeated hour of a fall-back night stays two
 * buckets); for day buckets the local day number (days since 1970-01-01 in wall time).
 */
import { badRequest } from './errors.ts';
import { offsetSegments, offsetSql, segmentOffset, wallToInstant, type OffsetSegment } from './time-zone.ts';

export const GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

const DAY = 86_400;
export const GRANULARITY_SECONDS: Record<Granularity, number> = { minute: 60, hour: 3600, day: DAY };
/** The longest range per granularity (bounded so an answer stays a few thousand buckets at most). */
export const MAX_RANGE_SECONDS: Record<Granularity, number> = { minute: 2 * DAY, hour: 62 * DAY, day: 400 * DAY };

export interface Source {
  table: 'results_1m' | 'results_1h' | 'results_1h_cells' | 'results_1d' | 'results';
  /** How the rows are aligned (seconds); the raw table's rows are single instants. */
  step: number;
  /** Integer SQL expression: the row's instant in Unix seconds. */
  instant: string;
  /** The WHERE clause for [from, to). */
  range(from: number, to: number): string;
}

/** A table whose rows carry their instant in the DateTime column `column`. */
function dateTimeSource(table: Source['table'], column: string, step: number): Source {
  return {
    table,
    step,
    instant: `toUInt32(${column})`,
    range: (from, to) => `${column} >= toDateTime(${from}) AND ${column} < toDateTime(${to})`,
  };
}

const SOURCES: Record<Source['table'], Source> = {
  results: dateTimeSource('results', 'started_at', 1),
  results_1m: dateTimeSource('results_1m', 'minute', 60),
  results_1h: dateTimeSource('results_1h', 'hour', 3600),
  // results_1h without the probe (per region × ISP cell): see useCells().
  results_1h_cells: dateTimeSource('results_1h_cells', 'hour', 3600),
  results_1d: {
    table: 'results_1d',
    step: DAY,
    // A Date is a day number: no time-zone conversion involved on either engine.
    instant: '(toUInt32(toUInt16(day)) * 86400)',
    range: (from, to) => `day >= toDate('${isoDate(from)}') AND day < toDate('${isoDate(to)}')`,
  },
};

function isoDate(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

export interface Bucket {
  /** The key SQL returns for this bucket. */
  key: number;
  /** [start, end) in Unix seconds. */
  start: number;
  end: number;
}

export interface BucketPlan {
  granularity: Granularity;
  zone: string;
  /** The requested range aligned outwards to whole buckets. */
  from: number;
  to: number;
  source: Source;
  buckets: Bucket[];
  /** Integer SQL expression giving a row's bucket key. */
  keySql: string;
  segments: OffsetSegment[];
}

/**
 * Plans the buckets of [from, to) (Unix seconds). `raw` forces the raw table (for cross-checks
 * and the benchmark's reference). Bad ranges throw a 400 ApiError saying what is wrong.
 */
export function planBuckets(opts: { from: number; to: number; granularity: Granularity; zone: string; raw?: boolean }): BucketPlan {
  const { granularity, zone } = opts;
  const size = GRANULARITY_SECONDS[granularity];
  if (!(opts.to > opts.from)) throw badRequest(['to: must be after from']);
  const max = MAX_RANGE_SECONDS[granularity];
  if (opts.to - opts.from > max) {
    throw badRequest([`to: the range from..to is ${describeSeconds(opts.to - opts.from)}; at ${granularity} granularity it may be at most ${describeSeconds(max)}`]);
  }
  // Offsets over a margin around the range: alignment may move the ends by up to a day.
  const segments = offsetSegments(zone, opts.from - 2 * DAY, opts.to + 2 * DAY);
  let from: number;
  let to: number;
  if (granularity === 'day') {
    from = wallToInstant(segments, Math.floor((opts.from + segmentOffset(segments, opts.from)) / DAY) * DAY);
    to = wallToInstant(segments, (Math.floor((opts.to - 1 + segmentOffset(segments, opts.to - 1)) / DAY) + 1) * DAY);
  } else {
    const o1 = segmentOffset(segments, opts.from);
    const o2 = segmentOffset(segments, opts.to - 1);
    from = Math.floor((opts.from + o1) / size) * size - o1;
    to = Math.floor((opts.to - 1 + o2) / size) * size - o2 + size;
  }
  const inRange = segments.filter((s) => s.to > from && s.from < to);
  const source = opts.raw ? SOURCES.results : chooseSource(granularity, inRange);
  const offset = offsetSql(inRange, source.instant);
  const keySql =
    granularity === 'day'
      ? `intDiv(${source.instant} + ${offset}, ${DAY})`
      : `(intDiv(${source.instant} + ${offset}, ${size}) * ${size} - ${offset})`;
  return { granularity, zone, from, to, source, buckets: listBuckets(granularity, from, to, segments), keySql, segments };
}

/**
 * The plan on `results_1h_cells` instead of `results_1h` when that gives the same answer: the
 * grouping does not need the probe, and the range starts after the cells rollup was created
 * (`cellsSince`, Unix seconds; it has no rows from before).
 */
export function useCells(plan: BucketPlan, grouping: string, cellsSince: number): BucketPlan {
  if (plan.source.table !== 'results_1h' || grouping === 'probe' || plan.from < cellsSince) return plan;
  return { ...plan, source: SOURCES.results_1h_cells };
}

/** The coarsest table whose row boundaries coincide with bucket boundaries over the range. */
function chooseSource(granularity: Granularity, segments: readonly OffsetSegment[]): Source {
  const aligned = (step: number) =>
    segments.every((s) => s.offset % step === 0) && segments.slice(1).every((s) => s.from % step === 0);
  if (granularity === 'day' && segments.every((s) => s.offset === 0)) return SOURCES.results_1d;
  if (granularity !== 'minute' && aligned(3600)) return SOURCES.results_1h;
  if (aligned(60)) return SOURCES.results_1m;
  return SOURCES.results;
}

function listBuckets(granularity: Granularity, from: number, to: number, segments: readonly OffsetSegment[]): Bucket[] {
  if (granularity === 'day') {
    const first = Math.floor((from + segmentOffset(segments, from)) / DAY);
    const last = Math.floor((to - 1 + segmentOffset(segments, to - 1)) / DAY);
    const out: Bucket[] = [];
    for (let k = first; k <= last; k++) {
      out.push({ key: k, start: wallToInstant(segments, k * DAY), end: wallToInstant(segments, (k + 1) * DAY) });
    }
    return out;
  }
  const size = GRANULARITY_SECONDS[granularity];
  // key (what SQL computes from a row) → where the bucket's rows begin. After a transition that
  // shifts by less than the bucket size, the first bucket is partial: its key lies before the
  // transition but its rows start at it.
  const starts = new Map<number, number>();
  for (const s of segments) {
    const a = Math.max(s.from, from);
    const b = Math.min(s.to, to);
    if (a >= b) continue;
    for (let u = Math.floor((a + s.offset) / size) * size - s.offset; u < b; u += size) {
      const start = Math.max(u, s.from);
      if (!starts.has(u) || start < starts.get(u)!) starts.set(u, start);
    }
  }
  const sorted = [...starts].sort((x, y) => x[1] - y[1]);
  return sorted.map(([key, start], i) => ({ key, start, end: Math.min(sorted[i + 1]?.[1] ?? to, key + size) }));
}

/** "3 days", "36 hours", "90 minutes". */
export function describeSeconds(s: number): string {
  if (s % DAY === 0) return `${s / DAY} day${s === DAY ? '' : 's'}`;
  if (s >= DAY) return `${(s / DAY).toFixed(1)} days`;
  if (s % 3600 === 0) return `${s / 3600} hour${s === 3600 ? '' : 's'}`;
  return `${Math.round(s / 60)} minutes`;
}
