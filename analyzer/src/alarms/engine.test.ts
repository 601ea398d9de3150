/**
 * The alarm engine as a pure function of its inputs and an injected clock: every rule shape,
 * scopes, hysteresis, pending, reminders, no-data, duplicates and restarts. Maintenance windows and
 * probe-offline grouping have their own files.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Clock, config, result, T0, verdict, type ProbeSpec } from '../../../test/alarms/build.ts';
import { AlarmEngine } from './engine.ts';
import type { AlarmEvent } from './event.ts';
import { alarmEvent } from './event.ts';
import type { Verdict, VerdictClass } from '../classify/verdict.ts';
import type { VerdictInput } from './engine.ts';

/** The classifier's verdicts go to the engine as they are (a compile-time check). */
export const verdictIsInput: (v: Verdict) => VerdictInput = (v) => v;

const MIN = 60_000;
const A = [1, 2, 3].map((i): ProbeSpec => ({ id: `a${i}`, region: 'cn-east', isp: 'telecom' }));
const B = [1, 2].map((i): ProbeSpec => ({ id: `b${i}`, region: 'cn-east', isp: 'unicom' }));

/** Feeds one round (at T0 + k minutes) of results; `failing` probes fail. */
function round(engine: AlarmEngine, clock: Clock, k: number, probes: ProbeSpec[], failing: (p: ProbeSpec) => boolean, task = 'web-home'): AlarmEvent[] {
  const events: AlarmEvent[] = [];
  probes.forEach((p, i) => {
    clock.ms = T0 + k * MIN + i * 100;
    events.push(...engine.observeResult(result(p, { task, atMs: clock.ms, roundMs: T0 + k * MIN, ok: !failing(p) })));
  });
  return events;
}

/** An engine of the rules in `yaml`, on a clock the test moves. */
function setup(yaml: string, start = T0): { clock: Clock; engine: AlarmEngine } {
  const clock = new Clock(start);
  return { clock, engine: new AlarmEngine(config(yaml), { now: clock.now }) };
}

const brief = (e: AlarmEvent) => ({ kind: e.kind, seq: e.seq, rule: e.rule_id, scope: e.scope, region: e.region, isp: e.isp, probe: e.probe_id });

function assertValid(events: AlarmEvent[]): void {
  for (const e of events) {
    const problems: string[] = [];
    alarmEvent(JSON.parse(JSON.stringify(e)), '', problems);
    assert.equal(problems, [], `event ${e.event_id} matches the wire shape`);
  }
  assert.is(new Set(events.map((e) => e.event_id)).size, events.length, 'event ids are unique');
}

// ---

const availability = suite('availability rules');

availability('success ratio × failing probes, per region × ISP: only the broken group fires, once; it resolves after 2 clear rounds', () => {
  const { clock, engine } = setup(`
rules:
  - { id: web-down, kind: availability, select: { tasks: [web-home] }, scope: region_isp, window: 5m, success_ratio_below: 0.5, min_failing_probes: 2, channels: [ops] }
`);
  const all = [...A, ...B];
  const events: AlarmEvent[] = [];
  events.push(...round(engine, clock, 0, all, () => false));
  assert.equal(events, []);
  events.push(...round(engine, clock, 1, all, (p) => p.isp === 'telecom'));
  assert.equal(events, [], 'ratio 3/6 in the telecom group is not below 0.5 yet');
  const fired = round(engine, clock, 2, all, (p) => p.isp === 'telecom');
  assert.equal(fired.map(brief), [{ kind: 'firing', seq: 1, rule: 'web-down', scope: 'region_isp', region: 'cn-east', isp: 'telecom', probe: '' }]);
  const firing = fired[0]!;
  assert.is(firing.started_at, new Date(T0 + 2 * MIN).toISOString(), 'fired by the first result of round 2');
  assert.is(firing.severity, 'critical');
  assert.equal(firing.channels, ['ops']);
  assert.equal((firing.details as { failing_probes: string[] }).failing_probes, ['a1', 'a2', 'a3']);
  assert.match(firing.summary, /success 42\.9% of 7 results in 5m \(alarm below 50%\); 3 of 3 probes failing; connection_refused ×4/);
  events.push(...fired);
  events.push(...round(engine, clock, 3, all, (p) => p.isp === 'telecom'));
  assert.is(events.length, 1, 'still failing: no second firing');
  const first = round(engine, clock, 4, all, () => false);
  assert.equal(first, [], 'one clear round is not enough (resolve_after 2)');
  const resolved = round(engine, clock, 5, all, () => false);
  assert.equal(resolved.map(brief), [{ kind: 'resolved', seq: 2, rule: 'web-down', scope: 'region_isp', region: 'cn-east', isp: 'telecom', probe: '' }]);
  assert.is(resolved[0]!.fingerprint, firing.fingerprint, 'the same alarm');
  assert.is(resolved[0]!.started_at, firing.started_at);
  assert.is(resolved[0]!.duration_ms, 3 * MIN, 'from the firing to the second clear round');
  assert.is(resolved[0]!.resolve_reason, 'recovered');
  assertValid([...events, ...resolved]);
});

availability('consecutive failed rounds with min_failing_probes: one broken probe pages nobody; two do on the 3rd round', () => {
  const { clock, engine } = setup(`
rules:
  - { id: outage, kind: availability, scope: fleet, window: 10m, consecutive_failed_rounds: 3, min_failing_probes: 2, round_failure_ratio: 0.5, channels: [ops] }
`);
  const probes = [...A, B[0]!];
  for (let k = 0; k < 5; k++) assert.equal(round(engine, clock, k, probes, (p) => p.id === 'a1'), [], `round ${k}: one probe failing`);
  assert.equal(round(engine, clock, 5, probes, (p) => p.id === 'a1' || p.id === 'a2'), [], '1st round with half failing');
  assert.equal(round(engine, clock, 6, probes, (p) => p.id === 'a1' || p.id === 'a2'), [], '2nd');
  const fired = round(engine, clock, 7, probes, (p) => p.id === 'a1' || p.id === 'a2');
  assert.equal(fired.map((e) => [e.kind, e.scope]), [['firing', 'fleet']]);
  assert.is((fired[0]!.details as { consecutive_failed_rounds: number }).consecutive_failed_rounds, 3);
});

availability('min_failing_percent of the probes running the task, per region', () => {
  const { clock, engine } = setup(`
rules:
  - { id: regional, kind: availability, scope: region, min_failing_percent: 60, channels: [ops] }
`);
  const probes = [...A, ...B]; // all cn-east
  assert.equal(round(engine, clock, 0, probes, (p) => p.isp === 'unicom'), [], '2 of 5 = 40%');
  const fired = round(engine, clock, 1, probes, (p) => p.id !== 'b2');
  assert.equal(fired.map((e) => [e.kind, e.scope, e.region, e.isp]), [['firing', 'region', 'cn-east', '']]);
});

availability('selectors: task globs, kinds and probe labels pick what a rule sees', () => {
  const { engine } = setup(`
rules:
  - { id: prod, kind: availability, select: { tasks: ["web-*"], kinds: [http], labels: { tier: prod } }, scope: probe, success_ratio_below: 1, channels: [ops] }
`);
  const prod = { id: 'p1', labels: { tier: 'prod', rack: 'r1' } };
  const lab = { id: 'p2', labels: { tier: 'lab' } };
  assert.equal(engine.observeResult(result(lab, { atMs: T0, ok: false })), [], 'label does not match');
  assert.equal(engine.observeResult(result(prod, { task: 'api-x', atMs: T0, ok: false })), [], 'task does not match');
  const fired = engine.observeResult(result(prod, { task: 'web-shop', atMs: T0, ok: false }));
  assert.equal(fired.map((e) => [e.kind, e.probe_id, e.task_id]), [['firing', 'p1', 'web-shop']]);
  assert.equal(fired[0]!.labels, { tier: 'prod', rack: 'r1' }, 'a probe-scoped alarm carries the probe labels');
});

availability.run();

// ---

const latency = suite('latency rules');

latency('a phase p95 above the threshold fires; the percentile needs enough slow results', () => {
  const { clock, engine } = setup(`
rules:
  - { id: slow, kind: latency, scope: fleet, phase: processing, percentile: 95, above: 500ms, window: 5m, min_samples: 5, channels: [ops] }
`);
  const p = { id: 'p1' };
  const feed = (processing: number) => {
    clock.advance(1000);
    return engine.observeResult(result(p, { atMs: clock.ms, timings: { connect: 1, processing } }));
  };
  for (let i = 0; i < 19; i++) assert.equal(feed(100), []);
  assert.equal(feed(900), [], '1 slow of 20: p95 is 100');
  const fired = feed(900);
  assert.equal(fired.map((e) => e.kind), ['firing'], '2 slow of 21: p95 is 900');
  assert.equal((fired[0]!.details as { value_ms: number; phase: string }).value_ms, 900);
  assert.is(fired[0]!.severity, 'warning');
  assert.match(fired[0]!.summary, /^processing p95 900 ms over 21 results in 5m \(alarm above 500 ms\)/);
});

latency('total latency counts ok results only; results without the phase are skipped', () => {
  const { engine } = setup(`
rules:
  - { id: slow-total, kind: latency, scope: fleet, phase: total, above: 1s, channels: [ops] }
  - { id: slow-tls, kind: latency, scope: fleet, phase: tls, above: 10ms, channels: [ops] }
`);
  assert.equal(engine.observeResult(result({ id: 'p1' }, { atMs: T0, ok: false, durationMs: 5000 })), [], 'a failed check is not slow, it failed');
  assert.equal(engine.observeResult(result({ id: 'p1' }, { atMs: T0 + 1000, durationMs: 800 })), []);
  assert.equal(engine.observeResult(result({ id: 'p1' }, { atMs: T0 + 2000, durationMs: 1500 })).map((e) => e.rule_id), ['slow-total']);
});

latency.run();

// ---

const hijack = suite('hijack rules');

hijack('a class seen by K probes of one region × ISP fires, naming class, IPs, resolver, probes and evidence', () => {
  const { clock, engine } = setup(`
rules:
  - { id: dns-hijack, kind: hijack, classes: [ad_hijack, malicious], min_probes: 2, channels: [ops] }
`);
  const h1 = { id: 'h1', region: 'cn-north', isp: 'unicom' };
  const h2 = { id: 'h2', region: 'cn-north', isp: 'unicom' };
  const other = { id: 'x1', region: 'cn-north', isp: 'mobile' };
  clock.ms = T0 + 1000;
  assert.equal(engine.observeVerdict(verdict(h1, { cls: 'ad_hijack', atMs: clock.ms })), []);
  assert.equal(engine.observeVerdict(verdict(other, { cls: 'ad_hijack', atMs: clock.ms })), [], 'another ISP is another group');
  assert.equal(engine.observeVerdict(verdict(h1, { cls: 'consistent', atMs: clock.ms, resolver: '10.0.0.54:53' })), []);
  const v2 = verdict(h2, { cls: 'ad_hijack', atMs: clock.ms, answerIps: ['198.51.100.66', '192.0.2.10'] });
  const fired = engine.observeVerdict(v2);
  assert.equal(fired.map((e) => [e.kind, e.scope, e.region, e.isp, e.task_id]), [['firing', 'region_isp', 'cn-north', 'unicom', 'shop-dns']]);
  const d = fired[0]!.details as Record<string, unknown>;
  assert.equal(d.classes, { ad_hijack: 2 });
  assert.equal(d.hijacked_ips, ['198.51.100.66']);
  assert.equal(d.resolvers, ['10.0.0.53:53']);
  assert.equal(d.probes, ['h1', 'h2']);
  assert.is((d.verdict_ids as string[]).length, 2);
  assert.ok(fired[0]!.links.includes(`/v1/verdicts/${encodeURIComponent(v2.id)}`), 'links the verdict (its id encoded)');
  assert.match(fired[0]!.summary, /^ad_hijack seen by 2 probes in 5m, in the last 1 round; answers 198\.51\.100\.66; resolver 10\.0\.0\.53:53$/);
});

hijack('R consecutive rounds of one probe fire; isp_cache as info; consistent rounds after the window resolve it', () => {
  const { clock, engine } = setup(`
rules:
  - { id: persistent, kind: hijack, classes: [nxdomain_rewrite], consecutive_rounds: 3, window: 5m, channels: [ops] }
  - { id: cache, kind: hijack, classes: [isp_cache], min_probes: 1, severity: info, channels: [ops] }
`);
  const p = { id: 'p1' };
  const at = (k: number, cls: VerdictClass) => {
    clock.ms = T0 + k * MIN + 500;
    return engine.observeVerdict(verdict(p, { cls, atMs: clock.ms }));
  };
  assert.equal(at(0, 'nxdomain_rewrite'), []);
  assert.equal(at(1, 'consistent'), [], 'the run is broken');
  assert.equal(at(2, 'nxdomain_rewrite'), []);
  assert.equal(at(3, 'nxdomain_rewrite'), []);
  const fired = at(4, 'nxdomain_rewrite');
  assert.equal(fired.map((e) => [e.kind, e.rule_id]), [['firing', 'persistent']]);
  const cache = at(5, 'isp_cache');
  assert.equal(cache.map((e) => [e.kind, e.rule_id, e.severity]), [['firing', 'cache', 'info']]);
  const resolved = at(6, 'consistent');
  assert.equal(resolved.map((e) => [e.kind, e.rule_id]), [['resolved', 'persistent']], 'two clear rounds (5 and 6) after the class stopped');
  assert.equal(at(7, 'consistent'), [], 'the isp_cache verdict is still in its window');
});

hijack.run();

// ---

const states = suite('states: hysteresis, pending, reminders, no data, duplicates');

states('flapping does not fire twice; it resolves only after resolve_after clear rounds in a row', () => {
  const { clock, engine } = setup(`
rules:
  - { id: flappy, kind: availability, scope: fleet, window: 10m, min_failing_probes: 1, resolve_after: 3, channels: [ops] }
`);
  const p = [{ id: 'p1' }, { id: 'p2' }];
  const pattern = ['F', 'F', 'ok', 'F', 'ok', 'ok', 'F', 'ok', 'ok', 'ok'];
  const kinds: string[] = [];
  pattern.forEach((s, k) => {
    for (const e of round(engine, clock, k, p, () => s === 'F')) kinds.push(`${k}:${e.kind}`);
  });
  assert.equal(kinds, ['0:firing', '9:resolved']);
});

states('clear results within one round count once toward resolve_after', () => {
  const { clock, engine } = setup(`
rules:
  - { id: r, kind: availability, scope: fleet, window: 2m, min_failing_probes: 1, resolve_after: 2, channels: [ops] }
`);
  const probes = [1, 2, 3, 4].map((i) => ({ id: `p${i}` }));
  assert.equal(round(engine, clock, 0, probes, (x) => x.id === 'p1').map((e) => e.kind), ['firing']);
  assert.equal(round(engine, clock, 1, probes, () => false), [], 'four clear results, one round');
  assert.equal(round(engine, clock, 2, probes, () => false).map((e) => e.kind), ['resolved']);
});

states('for: the condition must hold that long (pending) before firing; clearing while pending fires nothing', () => {
  const { clock, engine } = setup(`
rules:
  - { id: slow-fire, kind: availability, scope: fleet, for: 2m, min_failing_probes: 1, channels: [ops] }
`);
  const p = { id: 'p1' };
  clock.ms = T0;
  assert.equal(engine.observeResult(result(p, { atMs: T0, ok: false })), []);
  assert.equal(engine.alarms().map((a) => a.status), ['pending']);
  clock.ms = T0 + 2 * MIN - 1;
  assert.equal(engine.tick(), []);
  clock.ms = T0 + 2 * MIN;
  const fired = engine.tick();
  assert.equal(fired.map((e) => e.kind), ['firing']);
  assert.is(fired[0]!.started_at, new Date(T0).toISOString(), 'the incident started when it went pending');
  // A second incident that clears while pending never fires.
  clock.ms = T0 + 3 * MIN;
  assert.equal(engine.observeResult(result(p, { atMs: clock.ms, ok: true })), []);
  assert.equal(engine.observeResult(result(p, { atMs: clock.ms + 60_000, ok: true })).map((e) => e.kind), ['resolved']);
  clock.ms = T0 + 5 * MIN;
  assert.equal(engine.observeResult(result(p, { atMs: clock.ms, ok: false })), []);
  clock.ms += 30_000;
  assert.equal(engine.observeResult(result(p, { atMs: clock.ms, ok: true })), []);
  clock.ms += 5 * MIN;
  assert.equal(engine.tick(), []);
});

states('reminders at repeat_interval while firing; seq counts every event of the alarm', () => {
  const { clock, engine } = setup(`
rules:
  - { id: r, kind: availability, scope: fleet, min_failing_probes: 1, repeat_interval: 10m, channels: [ops] }
`);
  const events: AlarmEvent[] = [];
  for (let s = 0; s <= 25 * 60; s += 30) {
    clock.ms = T0 + s * 1000;
    if (s % 60 === 0) events.push(...engine.observeResult(result({ id: 'p1' }, { atMs: clock.ms, ok: false })));
    events.push(...engine.tick());
  }
  assert.equal(events.map((e) => [e.kind, e.seq, (Date.parse(e.at) - T0) / MIN]), [['firing', 1, 0], ['reminder', 2, 10], ['reminder', 3, 20]]);
  assert.ok(events.every((e) => e.notify && e.started_at === events[0]!.started_at));
});

states('a firing alarm whose group goes silent resolves after stale_after (reason no_data)', () => {
  const { clock, engine } = setup(`
rules:
  - { id: r, kind: availability, scope: fleet, window: 1m, stale_after: 5m, min_failing_probes: 1, channels: [ops] }
`);
  assert.equal(engine.observeResult(result({ id: 'p1' }, { atMs: T0, ok: false })).map((e) => e.kind), ['firing']);
  clock.ms = T0 + 5 * MIN - 1;
  assert.equal(engine.tick(), [], 'an empty window is no judgement either way');
  clock.ms = T0 + 5 * MIN;
  const resolved = engine.tick();
  assert.equal(resolved.map((e) => [e.kind, e.resolve_reason, e.duration_ms]), [['resolved', 'no_data', 5 * MIN]]);
});

states('a redelivered result counts once; results older than the window are ignored', () => {
  const { clock, engine } = setup(`
rules:
  - { id: r, kind: availability, scope: fleet, window: 5m, success_ratio_below: 0.6, channels: [ops] }
`, T0 + 10 * MIN);
  const ok = result({ id: 'p1' }, { atMs: clock.ms - 1000 });
  const bad = result({ id: 'p2' }, { atMs: clock.ms - 900, ok: false });
  assert.equal(engine.observeResult(result({ id: 'p3' }, { atMs: T0, ok: false })), [], 'ten minutes old');
  assert.equal(engine.observeResult(ok), []);
  assert.equal(engine.observeResult(ok), [], 'the same id again');
  assert.equal(engine.observeResult(ok), []);
  assert.equal(engine.observeResult(bad).map((e) => e.kind), ['firing'], '1 ok of 2 = 50% < 60%: the repeats did not count');
});

states.run();

// ---

const restart = suite('restart: restore from the last event per alarm');

restart('a restored firing alarm neither fires again nor is forgotten; seq and started_at carry on', () => {
  const yaml = `
rules:
  - { id: r, kind: availability, scope: region_isp, min_failing_probes: 2, channels: [ops] }
`;
  const clock = new Clock();
  const first = new AlarmEngine(config(yaml), { now: clock.now });
  const fired = round(first, clock, 0, A, () => true);
  assert.equal(fired.map((e) => e.kind), ['firing']);

  const second = new AlarmEngine(config(yaml), { now: clock.now });
  second.restore(fired);
  assert.equal(second.alarms().map((a) => [a.fingerprint, a.status]), [[fired[0]!.fingerprint, 'firing']]);
  assert.equal(round(second, clock, 1, A, () => true), [], 'still failing after the restart: no second firing');
  assert.equal(second.tick(), []);
  round(second, clock, 2, A, () => false);
  const resolved = round(second, clock, 3, A, () => false);
  assert.equal(resolved.map((e) => [e.kind, e.seq, e.fingerprint, e.started_at]), [['resolved', 2, fired[0]!.fingerprint, fired[0]!.started_at]]);
});

restart('an alarm whose rule was removed (or rescoped) is resolved by the first tick', () => {
  const clock = new Clock();
  const first = new AlarmEngine(config(`
rules:
  - { id: gone, kind: availability, scope: fleet, min_failing_probes: 1, channels: [ops] }
  - { id: rescoped, kind: availability, scope: fleet, min_failing_probes: 1, channels: [ops] }
`), { now: clock.now });
  const fired = first.observeResult(result({ id: 'p1' }, { atMs: T0, ok: false }));
  assert.equal(fired.map((e) => e.rule_id), ['gone', 'rescoped']);
  const second = new AlarmEngine(config(`
rules:
  - { id: rescoped, kind: availability, scope: probe, min_failing_probes: 1, channels: [ops] }
`), { now: clock.now });
  second.restore(fired);
  clock.advance(1000);
  const resolved = second.tick();
  assert.equal(resolved.map((e) => [e.kind, e.rule_id, e.resolve_reason, e.seq, e.notify]), [
    ['resolved', 'gone', 'rule_removed', 2, true],
    ['resolved', 'rescoped', 'rule_removed', 2, true],
  ]);
  assert.equal(second.tick(), []);
});

restart('an analyzer shard restores and evaluates only the tasks it owns', () => {
  const clock = new Clock();
  const yaml = `
rules:
  - { id: r, kind: availability, scope: fleet, min_failing_probes: 1, channels: [ops] }
`;
  const all = new AlarmEngine(config(yaml), { now: clock.now });
  const fired = [
    ...all.observeResult(result({ id: 'p1' }, { task: 'mine', atMs: T0, ok: false })),
    ...all.observeResult(result({ id: 'p1' }, { task: 'theirs', atMs: T0, ok: false })),
  ];
  const shard = new AlarmEngine(config(yaml), { now: clock.now, ownsTask: (t) => t === 'mine' });
  shard.restore(fired);
  assert.equal(shard.alarms().map((a) => a.taskId), ['mine']);
  assert.equal(shard.observeResult(result({ id: 'p1' }, { task: 'other', atMs: T0 + 1, ok: false })), []);
});

restart.run();
