/**
 * Maintenance windows: the time rules (one-off, recurring in a time zone, across midnight) and
 * what they do to alarms — evaluation goes on and events are recorded, but nothing is sent until
 * the window ends; a resolve of an alarm people were told about is always sent.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Clock, config, result, T0 } from '../../../test/alarms/build.ts';
import { AlarmEngine } from './engine.ts';
import type { AlarmEvent } from './event.ts';
import { isWithin } from './maintenance.ts';

const MIN = 60_000;
const HOUR = 3_600_000;

const within = suite('isWithin');

within('one-off: [start, end)', () => {
  const when = { type: 'once' as const, startMs: T0, endMs: T0 + HOUR };
  assert.is(isWithin(when, T0 - 1), false);
  assert.is(isWithin(when, T0), true);
  assert.is(isWithin(when, T0 + HOUR - 1), true);
  assert.is(isWithin(when, T0 + HOUR), false);
});

within('recurring on Mondays 20:00–21:00 Asia/Shanghai is 12:00–13:00 UTC', () => {
  const when = { type: 'every' as const, days: [1], atMinute: 20 * 60, durationMs: HOUR, timezone: 'Asia/Shanghai' };
  assert.is(isWithin(when, T0 - 1000), false); // T0 is Monday 12:00 UTC
  assert.is(isWithin(when, T0), true);
  assert.is(isWithin(when, T0 + HOUR - 1000), true);
  assert.is(isWithin(when, T0 + HOUR), false);
  assert.is(isWithin(when, T0 + 24 * HOUR + 30 * MIN), false, 'Tuesday');
  assert.is(isWithin(when, T0 + 7 * 24 * HOUR + 30 * MIN), true, 'the next Monday');
});

within('a window that crosses midnight covers the next morning; every day when no days are given', () => {
  const monday = { type: 'every' as const, days: [1], atMinute: 23 * 60 + 30, durationMs: 2 * HOUR, timezone: 'UTC' };
  const tuesdayHalfPastMidnight = Date.UTC(2025, 2, 4, 0, 30);
  assert.is(isWithin(monday, tuesdayHalfPastMidnight), true);
  assert.is(isWithin(monday, Date.UTC(2025, 2, 4, 1, 30)), false);
  assert.is(isWithin(monday, Date.UTC(2025, 2, 3, 0, 30)), false, 'Monday morning belongs to Sunday night');
  const daily = { ...monday, days: [] };
  assert.is(isWithin(daily, Date.UTC(2025, 2, 3, 0, 30)), true);
});

within('a zone with daylight saving: 02:30 local on the night the clocks go forward', () => {
  // America/New_York skips 02:00–03:00 on 2025-03-09: a window from 01:00 EST lasting 3 h (of real
  // time) runs 06:00–09:00 UTC, i.e. until 05:00 EDT.
  const when = { type: 'every' as const, days: [], atMinute: 60, durationMs: 3 * HOUR, timezone: 'America/New_York' };
  assert.is(isWithin(when, Date.UTC(2025, 2, 9, 5, 59)), false, '00:59 EST');
  assert.is(isWithin(when, Date.UTC(2025, 2, 9, 6, 0)), true, '01:00 EST');
  assert.is(isWithin(when, Date.UTC(2025, 2, 9, 8, 59)), true, '04:59 EDT');
  assert.is(isWithin(when, Date.UTC(2025, 2, 9, 9, 0)), false, '05:00 EDT');
  assert.is(isWithin(when, Date.UTC(2025, 2, 10, 5, 0)), true, 'the next day 01:00 EDT is 05:00 UTC');
});

within.run();

// ---

const effect = suite('maintenance and alarms');

const RULES = `
rules:
  - { id: web, kind: availability, scope: region_isp, min_failing_probes: 1, repeat_interval: 5m, labels: { team: web }, channels: [ops] }
`;

function run(engine: AlarmEngine, clock: Clock, fromMin: number, toMin: number, failing: (minute: number) => boolean, probe = { id: 'p1' }): AlarmEvent[] {
  const events: AlarmEvent[] = [];
  for (let m = fromMin; m <= toMin; m++) {
    clock.ms = T0 + m * MIN;
    events.push(...engine.observeResult(result(probe, { atMs: clock.ms, ok: !failing(m) })));
    events.push(...engine.tick());
  }
  return events;
}

const view = (e: AlarmEvent) => [Math.round((Date.parse(e.at) - T0) / MIN), e.kind, e.notify, e.maintenance];

effect('an alarm that fires inside a window is recorded silently, announced when the window ends, and its resolve is sent', () => {
  const clock = new Clock();
  const engine = new AlarmEngine(config(`${RULES}
maintenance:
  - { name: deploy, start: "2025-03-03T12:02:00Z", end: "2025-03-03T12:10:00Z", match: { targets: ["https://shop.test/"] } }
`), { now: clock.now });
  const events = run(engine, clock, 0, 20, (m) => m >= 3 && m < 14);
  assert.equal(events.map(view), [
    [3, 'firing', false, 'deploy'],
    [10, 'firing', true, null],
    [15, 'resolved', true, null],
  ]);
  assert.equal(events.map((e) => e.seq), [1, 2, 3]);
});

effect('an alarm people were told about: reminders pause inside a window, its resolve is still sent', () => {
  const clock = new Clock();
  const engine = new AlarmEngine(config(`${RULES}
maintenance:
  - { name: weekly, every: { days: [mon], at: "20:04", duration: 10m, timezone: Asia/Shanghai }, match: { labels: { team: web }, regions: [cn-east] } }
`), { now: clock.now });
  const events = run(engine, clock, 0, 20, (m) => m < 12);
  assert.equal(events.map(view), [
    [0, 'firing', true, null],
    [13, 'resolved', true, 'weekly'],
  ], 'the reminder due at minute 5 and 10 fell in 12:04–12:14; the resolve at 13 goes out');
});

effect('a window that does not match (another rule, label or region) changes nothing; a silent incident that resolves stays silent', () => {
  const clock = new Clock();
  const engine = new AlarmEngine(config(`${RULES}
maintenance:
  - { name: other-rule, start: "2025-03-03T11:00:00Z", end: "2025-03-03T13:00:00Z", match: { rules: [web], regions: [us-west] } }
  - { name: other-label, start: "2025-03-03T11:00:00Z", end: "2025-03-03T13:00:00Z", match: { labels: { team: db } } }
  - { name: short, start: "2025-03-03T12:30:00Z", end: "2025-03-03T12:40:00Z" }
`), { now: clock.now });
  assert.equal(run(engine, clock, 0, 2, (m) => m === 0).map(view), [[0, 'firing', true, null], [2, 'resolved', true, null]]);
  assert.equal(run(engine, clock, 30, 33, (m) => m === 31).map(view), [[31, 'firing', false, 'short'], [33, 'resolved', false, 'short']]);
});

effect.run();
