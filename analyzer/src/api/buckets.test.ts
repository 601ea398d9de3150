import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planBuckets } from './buckets.ts';
import { ApiError } from './errors.ts';
import { formatLocal, isTimeZone, offsetAt, offsetSegments, wallToInstant } from './time-zone.ts';

const at = (iso: string) => Date.parse(iso) / 1000;

// ---
const zones = suite('time zones');

zones('knows IANA names and refuses offsets, junk and overlong names', () => {
  assert.ok(isTimeZone('UTC'));
  assert.ok(isTimeZone('Asia/Shanghai'));
  assert.ok(isTimeZone('America/Argentina/Buenos_Aires'));
  for (const bad of ['+08:00', 'Mars/Olympus', '', 'Asia/Shanghai; DROP TABLE x', 'a'.repeat(65), '../etc/passwd']) {
    assert.not.ok(isTimeZone(bad), bad);
  }
});

zones('offsets follow daylight saving time', () => {
  assert.is(offsetAt('America/New_York', at('2024-01-15T12:00:00Z')), -5 * 3600);
  assert.is(offsetAt('America/New_York', at('2024-07-15T12:00:00Z')), -4 * 3600);
  assert.is(offsetAt('Asia/Kolkata', at('2024-07-15T12:00:00Z')), 5.5 * 3600);
  assert.is(offsetAt('Asia/Kathmandu', at('2024-07-15T12:00:00Z')), 5.75 * 3600);
});

zones('segments split exactly at the transition second', () => {
  const segments = offsetSegments('America/New_York', at('2024-03-01T00:00:00Z'), at('2024-04-01T00:00:00Z'));
  assert.is(segments.length, 2);
  assert.is(segments[0]!.to, at('2024-03-10T07:00:00Z'));
  assert.equal(segments.map((s) => s.offset), [-18000, -14400]);
  // No transition in 1970-71: one segment over the whole range at +08:00.
  assert.equal(offsetSegments('Asia/Shanghai', 0, 86_400 * 400), [{ from: 0, to: 86_400 * 400, offset: 8 * 3600 }]);
});

zones('a wall time skipped by spring-forward maps to the first instant after the gap', () => {
  const segments = offsetSegments('America/New_York', at('2024-03-09T00:00:00Z'), at('2024-03-12T00:00:00Z'));
  // 02:30 local on 2024-03-10 does not exist; 03:00 EDT = 07:00Z.
  assert.is(wallToInstant(segments, at('2024-03-10T02:30:00Z')), at('2024-03-10T07:00:00Z'));
  assert.is(wallToInstant(segments, at('2024-03-10T00:00:00Z')), at('2024-03-10T05:00:00Z'));
  assert.is(formatLocal(at('2024-03-10T05:00:00Z'), -18000), '2024-03-10T00:00:00-05:00');
  assert.is(formatLocal(at('2024-03-10T05:00:00Z'), 0), '2024-03-10T05:00:00Z');
});

zones.run();

// ---
const plan = suite('planBuckets');

plan('UTC hours over a day: 24 buckets from the hourly rollup', () => {
  const p = planBuckets({ from: at('2024-05-01T00:00:00Z'), to: at('2024-05-02T00:00:00Z'), granularity: 'hour', zone: 'UTC' });
  assert.is(p.source.table, 'results_1h');
  assert.is(p.buckets.length, 24);
  assert.is(p.buckets[0]!.start, at('2024-05-01T00:00:00Z'));
  assert.is(p.buckets[23]!.end, at('2024-05-02T00:00:00Z'));
});

plan('an unaligned range widens to whole buckets', () => {
  const p = planBuckets({ from: at('2024-05-01T10:17:00Z'), to: at('2024-05-01T12:05:00Z'), granularity: 'hour', zone: 'UTC' });
  assert.is(p.from, at('2024-05-01T10:00:00Z'));
  assert.is(p.to, at('2024-05-01T13:00:00Z'));
  assert.is(p.buckets.length, 3);
});

plan('UTC days come from the daily rollup; Shanghai days from hours, starting at 16:00Z', () => {
  const utc = planBuckets({ from: at('2024-05-01T00:00:00Z'), to: at('2024-05-08T00:00:00Z'), granularity: 'day', zone: 'UTC' });
  assert.is(utc.source.table, 'results_1d');
  assert.is(utc.buckets.length, 7);
  const sh = planBuckets({ from: at('2024-04-30T16:00:00Z'), to: at('2024-05-07T16:00:00Z'), granularity: 'day', zone: 'Asia/Shanghai' });
  assert.is(sh.source.table, 'results_1h');
  assert.is(sh.buckets.length, 7);
  assert.ok(sh.buckets.every((b) => b.end - b.start === 86_400 && (b.start + 8 * 3600) % 86_400 === 0));
});

plan('half- and quarter-hour zones read the minute rollup; their hours start at :30 / :15', () => {
  const kol = planBuckets({ from: at('2024-05-01T00:00:00Z'), to: at('2024-05-01T06:00:00Z'), granularity: 'hour', zone: 'Asia/Kolkata' });
  assert.is(kol.source.table, 'results_1m');
  assert.ok(kol.buckets.every((b) => (b.start + 1800) % 3600 === 0), 'buckets at :30 UTC');
  const ktm = planBuckets({ from: at('2024-05-01T00:00:00Z'), to: at('2024-05-03T00:00:00Z'), granularity: 'day', zone: 'Asia/Kathmandu' });
  assert.is(ktm.source.table, 'results_1m');
  assert.ok(ktm.buckets.every((b) => (b.start + 5.75 * 3600) % 86_400 === 0));
});

plan('a fall-back night has 25 hourly buckets; the spring-forward day is 23 hours long', () => {
  const fall = planBuckets({ from: at('2024-11-03T04:00:00Z'), to: at('2024-11-04T05:00:00Z'), granularity: 'hour', zone: 'America/New_York' });
  assert.is(fall.buckets.length, 25);
  assert.ok(fall.buckets.every((b) => b.end - b.start === 3600));
  const spring = planBuckets({ from: at('2024-03-10T05:00:00Z'), to: at('2024-03-11T04:00:00Z'), granularity: 'day', zone: 'America/New_York' });
  assert.is(spring.buckets.length, 1);
  assert.is(spring.buckets[0]!.end - spring.buckets[0]!.start, 23 * 3600);
  assert.is(spring.source.table, 'results_1h');
});

plan('the raw table on request', () => {
  const p = planBuckets({ from: at('2024-05-01T00:00:00Z'), to: at('2024-05-02T00:00:00Z'), granularity: 'hour', zone: 'UTC', raw: true });
  assert.is(p.source.table, 'results');
  assert.match(p.source.range(p.from, p.to), /started_at >= toDateTime\(\d+\)/);
});

plan('too long a range, or an empty one, is a 400 that says why', () => {
  for (const [from, to, granularity, pattern] of [
    ['2024-05-01T00:00:00Z', '2024-05-04T00:00:00Z', 'minute', /3 days; at minute granularity it may be at most 2 days/],
    ['2024-01-01T00:00:00Z', '2025-06-01T00:00:00Z', 'day', /at most 400 days/],
    ['2024-05-02T00:00:00Z', '2024-05-01T00:00:00Z', 'hour', /must be after from/],
  ] as const) {
    try {
      planBuckets({ from: at(from), to: at(to), granularity, zone: 'UTC' });
      assert.unreachable('should throw');
    } catch (err) {
      assert.instance(err, ApiError);
      assert.is((err as ApiError).status, 400);
      assert.match((err as ApiError).message, pattern);
    }
  }
});

plan.run();
