/**
 * Time-zone arithmetic for the API, done here rather than in SQL so both ClickHouse engines
 * (18.16 and chDB 26.x) see only integer arithmetic: a zone's UTC offset over a range is a
 * piecewise-constant function (segments between transitions), which SQL evaluates with multiIf.
 * All instants are Unix seconds.
 */

export interface OffsetSegment {
  /** First second of the segment (inclusive). */
  from: number;
  /** End of the segment (exclusive). */
  to: number;
  /** UTC offset in seconds (local wall time = t + offset). */
  offset: number;
}

const ZONE_NAME = /^(UTC|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** An IANA time-zone name this runtime knows ("Asia/Shanghai", "UTC"); offsets like "+08:00" are not names. */
export function isTimeZone(name: string): boolean {
  if (typeof name !== 'string' || name.length > 64 || !ZONE_NAME.test(name)) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    // The cache holds one formatter per zone name that was valid; names are checked before use.
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's UTC offset at instant `t`, in seconds. */
export function offsetAt(zone: string, t: number): number {
  if (zone === 'UTC') return 0;
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(t * 1000))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  const wall = Date.UTC(year, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) / 1000;
  return wall - t;
}

const DAY = 86_400;

/**
 * The offset segments covering [from, to). Transitions are found by stepping a day at a time
 * (zones change offset at most a few times a year) and bisecting to the exact second.
 */
export function offsetSegments(zone: string, from: number, to: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let start = from;
  let offset = offsetAt(zone, from);
  let probe = from;
  while (probe < to) {
    const next = Math.min(probe + DAY, to);
    const nextOffset = offsetAt(zone, next === to ? to - 1 : next);
    if (nextOffset !== offset) {
      // Bisect (probe, next]: the first second with the new offset.
      let lo = probe;
      let hi = next === to ? to - 1 : next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetAt(zone, mid) === offset) lo = mid;
        else hi = mid;
      }
      segments.push({ from: start, to: hi, offset });
      start = hi;
      offset = offsetAt(zone, hi);
      probe = hi;
      continue;
    }
    probe = next;
  }
  segments.push({ from: start, to, offset });
  return segments;
}

/** The offset of the segment holding `t` (the first or last segment outside the range). */
export function segmentOffset(segments: readonly OffsetSegment[], t: number): number {
  for (const s of segments) if (t < s.to) return s.offset;
  return segments[segments.length - 1]!.offset;
}

/**
 * The earliest instant whose wall time is `wall` (seconds since the epoch, in local wall time).
 * A wall time skipped by a transition (e.g. 02:30 on a spring-forward day) maps to the first
 * instant after the gap.
 */
export function wallToInstant(segments: readonly OffsetSegment[], wall: number): number {
  for (const s of segments) {
    const t = wall - s.offset;
    if (t >= s.from && t < s.to) return t;
  }
  // Outside the known segments: extrapolate with the nearest segment's offset.
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  if (wall - first.offset < first.from) return wall - first.offset;
  // In a gap between two segments (the wall time never happens): the first instant after it.
  for (let i = 1; i < segments.length; i++) {
    const before = segments[i - 1]!;
    const after = segments[i]!;
    if (wall - before.offset >= before.to && wall - after.offset < after.from) return after.from;
  }
  return wall - last.offset;
}

/** An SQL expression giving the offset (seconds) at the instant `t` (an integer SQL expression). */
export function offsetSql(segments: readonly OffsetSegment[], t: string): string {
  if (segments.length === 1) return literal(segments[0]!.offset);
  const branches = segments.slice(0, -1).map((s) => `${t} < ${s.to}, ${literal(s.offset)}`);
  return `multiIf(${branches.join(', ')}, ${literal(segments[segments.length - 1]!.offset)})`;
}

function literal(n: number): string {
  if (!Number.isInteger(n)) throw new TypeError(`offset ${n} is not whole seconds`);
  return n < 0 ? `(${n})` : String(n);
}

/** "2024-03-10T01:00:00-05:00": the instant as local time in the zone, with its offset. */
export function formatLocal(t: number, offset: number): string {
  const wall = new Date((t + offset) * 1000).toISOString().slice(0, 19);
  if (offset === 0) return `${wall}Z`;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 3600)).padStart(2, '0');
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, '0');
  return `${wall}${sign}${hh}:${mm}`;
}
