/**
 * Probe offline: one silent probe is one alarm; a fleet-wide drop of heartbeats is ONE alarm
 * listing the probes (not one per probe); heartbeats resolve; long-silent probes are forgotten.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Clock, config, heartbeat, T0, type ProbeSpec } from '../../../test/alarms/build.ts';
import { AlarmEngine } from './engine.ts';
import type { AlarmEvent } from './event.ts';

const probes: ProbeSpec[] = [1, 2, 3, 4, 5, 6].map((i) => ({ id: `p${i}`, region: i <= 3 ? 'cn-east' : 'cn-north', isp: 'telecom', labels: { tier: 'edge' } }));

/** Seconds from..to in steps of 5: `alive(probe, s)` probes send a heartbeat every 15 s; a tick every step. */
function run(engine: AlarmEngine, clock: Clock, fromS: number, toS: number, alive: (p: ProbeSpec, s: number) => boolean): AlarmEvent[] {
  const events: AlarmEvent[] = [];
  for (let s = fromS; s <= toS; s += 5) {
    clock.ms = T0 + s * 1000;
    if (s % 15 === 0) for (const p of probes) if (alive(p, s)) events.push(...engine.observeHeartbeat(heartbeat(p, clock.ms)));
    events.push(...engine.tick());
  }
  return events;
}

const view = (e: AlarmEvent) => [e.kind, e.scope, e.probe_id, (Date.parse(e.at) - T0) / 1000];

const test = suite('probe_offline rules');

const RULES = `
rules:
  - { id: offline, kind: probe_offline, after: 60s, fleet_threshold: 3, select: { labels: { tier: edge } }, channels: [ops] }
`;

test('one silent probe fires after `after`, and its next heartbeat resolves it', () => {
  const clock = new Clock();
  const engine = new AlarmEngine(config(RULES), { now: clock.now });
  const events = run(engine, clock, 0, 300, (p, s) => p.id !== 'p4' || s <= 30 || s >= 200);
  assert.equal(events.map(view), [['firing', 'probe', 'p4', 95], ['resolved', 'probe', 'p4', 210]]);
  assert.equal(events[0]!.labels, { tier: 'edge' });
  assert.match(events[0]!.summary, /^no heartbeat for 1m5s \(alarm after 1m\); last at 2025-03-03T12:00:30\.000Z$/);
  assert.is(events[1]!.duration_ms, 115_000);
});

test('a fleet-wide drop is one alarm listing the probes; per-probe alarms stay quiet; it resolves as heartbeats return', () => {
  const clock = new Clock();
  const engine = new AlarmEngine(config(RULES), { now: clock.now });
  const events = run(engine, clock, 0, 400, (p, s) => s <= 30 || s >= 300 || p.id === 'p6');
  assert.equal(events.map(view), [['firing', 'fleet', '', 95], ['resolved', 'fleet', '', 300]]);
  const details = events[0]!.details as { offline_probes: string[]; regions: string[] };
  assert.equal(details.offline_probes, ['p1', 'p2', 'p3', 'p4', 'p5']);
  assert.equal(details.regions, ['cn-east', 'cn-north']);
  assert.match(events[0]!.summary, /^5 of 6 probes \(83\.3%\) without a heartbeat for over 1m$/);
});

test('by percentage: half the fleet at once is one alarm; the probe that stays silent then gets its own', () => {
  const clock = new Clock();
  const engine = new AlarmEngine(config(`
rules:
  - { id: offline, kind: probe_offline, after: 60s, fleet_threshold: "50%", channels: [ops] }
`), { now: clock.now });
  const events = run(engine, clock, 0, 400, (p, s) => s <= 30 || (s >= 210 && p.id !== 'p1') || p.id >= 'p4');
  assert.equal(events.map(view), [['firing', 'fleet', '', 95], ['resolved', 'fleet', '', 210], ['firing', 'probe', 'p1', 210]]);
});

test('a probe silent longer than forget_after is forgotten and its alarm resolves (probe_forgotten)', () => {
  const clock = new Clock();
  const engine = new AlarmEngine(config(`
rules:
  - { id: offline, kind: probe_offline, after: 60s, forget_after: 5m, channels: [ops] }
`), { now: clock.now });
  const events = run(engine, clock, 0, 600, (p, s) => p.id !== 'p2' || s <= 30);
  assert.equal(events.map((e) => [...view(e), e.resolve_reason]), [['firing', 'probe', 'p2', 95, null], ['resolved', 'probe', 'p2', 335, 'probe_forgotten']]);
});

test('only the replica running probe rules evaluates them, also on restore', () => {
  const clock = new Clock();
  const engine = new AlarmEngine(config(RULES), { now: clock.now });
  const fired = run(engine, clock, 0, 120, (p, s) => p.id !== 'p4' || s <= 30);
  assert.equal(fired.map(view), [['firing', 'probe', 'p4', 95]]);
  const other = new AlarmEngine(config(RULES), { now: clock.now, probeRules: false });
  other.restore(fired);
  assert.equal(run(other, clock, 125, 600, () => false), [], 'no offline alarms, no rule_removed resolves');
  const again = new AlarmEngine(config(RULES), { now: clock.now });
  again.restore(fired);
  assert.equal(run(again, clock, 605, 700, (p) => p.id !== 'p4'), [], 'restored as firing: no second firing while p4 stays silent');
  assert.equal(run(again, clock, 705, 720, () => true).map(view), [['resolved', 'probe', 'p4', 705]]);
});

test.run();
