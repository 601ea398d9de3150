/**
 * The alarm engine: results, verdicts, heartbeats and clock ticks in; alarm events out. No I/O
 * and no timers of its own — the caller (AlarmService, or a test) feeds it and owns the clock.
 * Each alarm is one group (rule × task × scope) holding its window of observations and its state;
 * an observation re-evaluates only its own group, so a result becomes an event within the call.
 */
import type { Heartbeat, ResultRecord } from '@vantage/probe';
import { newRecordId } from '../../../probe/src/run/record-id.ts';
import type { Verdict } from '../classify/verdict.ts';
import { evaluateAvailability } from './conditions/availability.ts';
import type { Evaluation, ResultSample, VerdictSample } from './conditions/evaluation.ts';
import { evaluateHijack } from './conditions/hijack.ts';
import { evaluateLatency } from './conditions/latency.ts';
import { evaluateProbeOffline, type ProbeSeen } from './conditions/probe-offline.ts';
import { ResultWindow } from './conditions/result-window.ts';
import type { AlarmEvent } from './event.ts';
import { activeMaintenance } from './maintenance.ts';
import type { AlarmConfig, HijackRule, LatencyRule, ProbeOfflineRule, Rule, AvailabilityRule } from './rules.ts';
import { fingerprint, scopeOf, type Scope } from './scope.ts';
import { selects } from './select.ts';
import { newAlarmState, onEvaluation, onTick, resolve, stateFromEvent, type AlarmState, type Step, type StepContext } from './state.ts';

/** The verdict fields alarms read (the analyzer's Verdict has these and more). */
export type VerdictInput = Pick<
  Verdict,
  'id' | 'task_id' | 'target' | 'probe_id' | 'region' | 'isp' | 'resolver' | 'round' | 'started_at_ms' | 'class' | 'answer_ips' | 'expected_ips'
>;

export interface EngineOptions {
  /** Epoch ms. */
  now?: () => number;
  /** Event ids (default UUIDv7). */
  newId?: (nowMs: number) => string;
  /** Which tasks this replica evaluates (analyzer shards); default all. */
  ownsTask?: (taskId: string) => boolean;
  /** Whether this replica evaluates probe_offline rules (run them in one replica); default true. */
  probeRules?: boolean;
}

type ObservedRule = AvailabilityRule | LatencyRule | HijackRule;

/** An availability or latency alarm: its window of results, kept aggregated. */
interface ResultGroup {
  rule: AvailabilityRule | LatencyRule;
  state: AlarmState;
  window: ResultWindow;
  ids: Set<string>;
}

/** A hijack alarm: its window of verdicts. */
interface VerdictGroup {
  rule: HijackRule;
  state: AlarmState;
  samples: VerdictSample[];
  ids: Set<string>;
}

type AnyGroup = ResultGroup | VerdictGroup;

interface OfflineGroup {
  rule: ProbeOfflineRule;
  probes: Map<string, ProbeSeen>;
  fleet: AlarmState;
  perProbe: Map<string, AlarmState>;
}

/** What the API or a log shows of one alarm. */
export interface AlarmView {
  fingerprint: string;
  ruleId: string;
  status: AlarmState['status'];
  taskId: string;
  target: string;
  scope: Scope;
  seq: number;
  startedAtMs: number | null;
  summary: string | null;
}

export class AlarmEngine {
  readonly #now: () => number;
  readonly #newId: (nowMs: number) => string;
  readonly #ownsTask: (taskId: string) => boolean;
  readonly #probeRules: boolean;
  readonly #rules = new Map<string, Rule>();
  readonly #results: (AvailabilityRule | LatencyRule)[];
  readonly #hijack: HijackRule[];
  readonly #groups = new Map<string, AnyGroup>();
  readonly #offline = new Map<string, OfflineGroup>();
  /** Last seq per fingerprint, also for groups dropped while inactive: seq never goes back. */
  readonly #seqs = new Map<string, number>();
  /** Alarms restored from the stream whose rule is no longer configured: resolved by the first tick. */
  #orphans: AlarmState[] = [];

  constructor(private readonly config: AlarmConfig, opts: EngineOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#newId = opts.newId ?? newRecordId;
    this.#ownsTask = opts.ownsTask ?? (() => true);
    this.#probeRules = opts.probeRules !== false;
    for (const rule of config.rules) this.#rules.set(rule.id, rule);
    this.#results = config.rules.filter((r): r is AvailabilityRule | LatencyRule => r.kind === 'availability' || r.kind === 'latency');
    this.#hijack = config.rules.filter((r): r is HijackRule => r.kind === 'hijack');
    if (this.#probeRules) {
      for (const rule of config.rules) {
        if (rule.kind !== 'probe_offline') continue;
        const fleetScope = scopeOf('fleet', { region: '', isp: '', probeId: '' });
        const fleet = newAlarmState({ fingerprint: fingerprint(rule.id, '', '', fleetScope), ruleId: rule.id, taskId: '', target: '', scope: fleetScope, labels: { ...rule.labels } }, this.#now());
        this.#offline.set(rule.id, { rule, probes: new Map(), fleet, perProbe: new Map() });
      }
    }
  }

  /** A result: updates the availability and latency alarms of its task and group. */
  observeResult(record: ResultRecord): AlarmEvent[] {
    if (this.#results.length === 0 || !this.#ownsTask(record.task_id)) return [];
    const subject = {
      taskId: record.task_id, target: record.target, kind: record.kind, region: record.probe_region, isp: record.probe_isp,
      probeId: record.probe_id, labels: record.probe_labels,
    };
    const atMs = timeOf(record.started_at) ?? this.#now();
    const round = timeOf(record.scheduled_at) ?? atMs;
    const events: AlarmEvent[] = [];
    for (const rule of this.#results) {
      if (!selects(rule.select, subject)) continue;
      const value = rule.kind === 'latency' ? latencyOf(record, rule) : null;
      if (rule.kind === 'latency' && value === null) continue;
      const sample: ResultSample = { id: record.id, atMs, round, probeId: record.probe_id, ok: record.ok, failure: record.failure, value };
      const scope = scopeOf(rule.scope, { region: record.probe_region, isp: record.probe_isp, probeId: record.probe_id });
      const labels = rule.scope === 'probe' ? { ...record.probe_labels, ...rule.labels } : rule.labels;
      const group = this.#group(rule, record.task_id, record.target, scope, labels) as ResultGroup;
      events.push(...this.#observe(group, sample));
    }
    return events;
  }

  /** A verdict: updates the hijack alarms of its task and group. */
  observeVerdict(verdict: VerdictInput): AlarmEvent[] {
    if (this.#hijack.length === 0 || !this.#ownsTask(verdict.task_id)) return [];
    const subject = { taskId: verdict.task_id, target: verdict.target, kind: 'dns', region: verdict.region, isp: verdict.isp, probeId: verdict.probe_id };
    const atMs = Number.isFinite(verdict.started_at_ms) ? verdict.started_at_ms : this.#now();
    const round = timeOf(verdict.round) ?? atMs;
    const events: AlarmEvent[] = [];
    for (const rule of this.#hijack) {
      if (!selects(rule.select, subject)) continue;
      const sample: VerdictSample = {
        id: verdict.id, atMs, round, probeId: verdict.probe_id, resolver: verdict.resolver, cls: verdict.class,
        answerIps: [...verdict.answer_ips], expectedIps: [...verdict.expected_ips],
      };
      const scope = scopeOf(rule.scope, { region: verdict.region, isp: verdict.isp, probeId: verdict.probe_id });
      const group = this.#group(rule, verdict.task_id, verdict.target, scope, rule.labels) as VerdictGroup;
      events.push(...this.#observe(group, sample));
    }
    return events;
  }

  /** A heartbeat: the probe is alive (its offline alarm may resolve). */
  observeHeartbeat(hb: Heartbeat): AlarmEvent[] {
    const now = this.#now();
    const seenMs = Math.min(timeOf(hb.sent_at) ?? now, now);
    const events: AlarmEvent[] = [];
    for (const group of this.#offline.values()) {
      const { rule } = group;
      if (!selects(rule.select, { region: hb.region, isp: hb.isp, probeId: hb.probe_id, labels: hb.labels })) continue;
      const before = group.probes.get(hb.probe_id);
      if (before && before.lastSeenMs >= seenMs) continue;
      group.probes.set(hb.probe_id, { probeId: hb.probe_id, region: hb.region, isp: hb.isp, labels: hb.labels, lastSeenMs: seenMs });
      const state = group.perProbe.get(hb.probe_id);
      if (state && state.status !== 'inactive') {
        const evaluation = evaluateProbeOffline(rule, [...group.probes.values()], now).probes.get(hb.probe_id);
        if (evaluation) events.push(...this.#apply(rule, state, evaluation, (s) => group.perProbe.set(hb.probe_id, s)));
      }
    }
    return events;
  }

  /**
   * Time passes: windows age, pending alarms fire after `for`, silent probes go offline, firing
   * alarms remind, resolve for lack of data, or announce themselves once maintenance ends.
   */
  tick(): AlarmEvent[] {
    const now = this.#now();
    const events: AlarmEvent[] = [];
    for (const orphan of this.#orphans) events.push(...this.#commit(resolve(orphan, null, 'rule_removed', this.#ctx(orphan, now))));
    this.#orphans = [];
    for (const [key, group] of this.#groups) {
      this.#prune(group, now);
      if (group.state.status === 'inactive') {
        if (group.ids.size === 0) this.#groups.delete(key);
        continue;
      }
      const evaluation = this.#evaluate(group, now);
      events.push(...this.#apply(group.rule, group.state, evaluation, (s) => (group.state = s), false));
      const step = onTick(group.state, group.rule, this.#ctx(group.state, now));
      group.state = step.state;
      events.push(...this.#commit(step));
    }
    for (const group of this.#offline.values()) events.push(...this.#tickOffline(group, now));
    return events;
  }

  /**
   * Resumes from each alarm's last event (read back from the alarms stream after a restart): a
   * firing alarm stays firing — it neither fires again nor is forgotten — and seq continues.
   */
  restore(lastEvents: readonly AlarmEvent[]): void {
    const now = this.#now();
    for (const event of lastEvents) {
      this.#seqs.set(event.fingerprint, Math.max(event.seq, this.#seqs.get(event.fingerprint) ?? 0));
      const rule = this.#rules.get(event.rule_id);
      const state = stateFromEvent(event, now);
      if (event.rule_kind === 'probe_offline' && !this.#probeRules) continue; // another replica evaluates probe rules
      if (rule?.kind === 'probe_offline' && event.rule_kind === 'probe_offline') {
        const group = this.#offline.get(rule.id)!;
        if (event.scope === 'fleet') group.fleet = state;
        else if (state.status === 'firing') group.perProbe.set(event.probe_id, state);
        // Known again as the event knew it: silent since its last heartbeat, until a new one comes.
        if (state.status === 'firing' && event.probe_id && !group.probes.has(event.probe_id)) {
          const last = timeOf(String(event.details.last_heartbeat_at ?? '')) ?? now - rule.afterMs - 1;
          group.probes.set(event.probe_id, { probeId: event.probe_id, region: event.region, isp: event.isp, labels: {}, lastSeenMs: last });
        }
        continue;
      }
      if (state.status !== 'firing' || (event.task_id && !this.#ownsTask(event.task_id))) continue;
      // A rule that is gone, or whose scope or kind changed, no longer makes this alarm: resolve it.
      if (!rule || rule.kind === 'probe_offline' || rule.kind !== event.rule_kind || rule.scope !== event.scope || fingerprint(rule.id, event.task_id, event.target, state.scope) !== event.fingerprint) {
        this.#orphans.push(state);
        continue;
      }
      const group = this.#group(rule, event.task_id, event.target, state.scope, event.labels);
      group.state = { ...state, seq: Math.max(state.seq, group.state.seq) };
    }
  }

  /** Every alarm not inactive (and the inactive ones with `all`). */
  alarms(all = false): AlarmView[] {
    const states = [
      ...[...this.#groups.values()].map((g) => g.state),
      ...[...this.#offline.values()].flatMap((g) => [g.fleet, ...g.perProbe.values()]),
    ];
    return states
      .filter((s) => all || s.status !== 'inactive')
      .map((s) => ({
        fingerprint: s.fingerprint, ruleId: s.ruleId, status: s.status, taskId: s.taskId, target: s.target, scope: s.scope, seq: s.seq,
        startedAtMs: s.startedAtMs, summary: s.last?.summary ?? null,
      }));
  }

  #group(rule: ObservedRule, taskId: string, target: string, scope: Scope, labels: Record<string, string>): AnyGroup {
    const fp = fingerprint(rule.id, taskId, target, scope);
    let group = this.#groups.get(fp);
    if (!group) {
      const state = newAlarmState({ fingerprint: fp, ruleId: rule.id, taskId, target, scope, labels }, this.#now());
      state.seq = this.#seqs.get(fp) ?? 0;
      group = rule.kind === 'hijack' ? { rule, state, samples: [], ids: new Set() } : { rule, state, window: new ResultWindow(), ids: new Set() };
      this.#groups.set(fp, group);
    }
    return group;
  }

  #observe(group: AnyGroup, sample: ResultSample | VerdictSample): AlarmEvent[] {
    const now = this.#now();
    if (group.ids.has(sample.id)) return []; // a redelivered observation counts once
    if (sample.atMs <= now - group.rule.windowMs) return []; // too old to matter
    group.ids.add(sample.id);
    if (group.rule.kind === 'hijack') {
      const samples = (group as VerdictGroup).samples;
      samples.push(sample as VerdictSample);
      if (samples.length > 1 && samples[samples.length - 2]!.atMs > sample.atMs) samples.sort((a, b) => a.atMs - b.atMs);
    } else {
      (group as ResultGroup).window.add(sample as ResultSample);
    }
    this.#prune(group, now);
    return this.#apply(group.rule, group.state, this.#evaluate(group, now), (s) => (group.state = s));
  }

  /** Judges the group's window (pruned to now first). */
  #evaluate(group: AnyGroup, now: number): Evaluation {
    if (group.rule.kind === 'hijack') return evaluateHijack(group.rule, (group as VerdictGroup).samples, now);
    const { window } = group as ResultGroup;
    return group.rule.kind === 'availability' ? evaluateAvailability(group.rule, window) : evaluateLatency(group.rule, window);
  }

  #prune(group: AnyGroup, now: number): void {
    const from = now - group.rule.windowMs;
    if (group.rule.kind !== 'hijack') {
      for (const s of (group as ResultGroup).window.expire(from)) group.ids.delete(s.id);
      return;
    }
    const samples = (group as VerdictGroup).samples;
    let n = 0;
    while (n < samples.length && samples[n]!.atMs <= from) group.ids.delete(samples[n++]!.id);
    if (n > 0) samples.splice(0, n);
  }

  /** One evaluation through the state machine; the maintenance lookup only when an event may come. */
  #apply(rule: Rule, state: AlarmState, evaluation: Evaluation, set: (s: AlarmState) => void, observed = true): AlarmEvent[] {
    const now = this.#now();
    const quiet = state.status === 'inactive' && evaluation.holds !== true;
    const ctx = quiet ? { nowMs: now, maintenance: null, newId: this.#newId } : this.#ctx(state, now);
    const step = onEvaluation(state, rule, evaluation, ctx, observed);
    set(step.state);
    return this.#commit(step);
  }

  #ctx(state: AlarmState, now: number): StepContext {
    const maintenance = this.config.maintenance.length === 0
      ? null
      : activeMaintenance(this.config.maintenance, {
          ruleId: state.ruleId, taskId: state.taskId, target: state.target, region: state.scope.region, isp: state.scope.isp,
          probeId: state.scope.probeId, labels: state.labels,
        }, now);
    return { nowMs: now, maintenance, newId: this.#newId };
  }

  #commit(step: Step): AlarmEvent[] {
    for (const e of step.events) this.#seqs.set(e.fingerprint, e.seq);
    return step.events;
  }

  #tickOffline(group: OfflineGroup, now: number): AlarmEvent[] {
    const { rule } = group;
    const events: AlarmEvent[] = [];
    const outcome = evaluateProbeOffline(rule, [...group.probes.values()], now);
    for (const probeId of outcome.forgotten) {
      const state = group.perProbe.get(probeId);
      if (state) events.push(...this.#commit(resolve(state, rule, 'probe_forgotten', this.#ctx(state, now))));
      group.perProbe.delete(probeId);
      group.probes.delete(probeId);
    }
    // The fleet alarm first: when a drop becomes fleet-wide, its one alarm goes out before anything else.
    events.push(...this.#apply(rule, group.fleet, outcome.fleet, (s) => (group.fleet = s)));
    const fleetTick = onTick(group.fleet, rule, this.#ctx(group.fleet, now));
    group.fleet = fleetTick.state;
    events.push(...this.#commit(fleetTick));
    for (const [probeId, evaluation] of outcome.probes) {
      let state = group.perProbe.get(probeId);
      if (!state) {
        if (evaluation.holds !== true) continue;
        const seen = group.probes.get(probeId)!;
        const scope = scopeOf('probe', { region: seen.region, isp: seen.isp, probeId });
        const fp = fingerprint(rule.id, '', '', scope);
        state = newAlarmState({ fingerprint: fp, ruleId: rule.id, taskId: '', target: '', scope, labels: { ...seen.labels, ...rule.labels } }, now);
        state.seq = this.#seqs.get(fp) ?? 0;
      }
      events.push(...this.#apply(rule, state, evaluation, (s) => (state = s)));
      const step = onTick(state, rule, this.#ctx(state, now));
      state = step.state;
      events.push(...this.#commit(step));
      if (state.status === 'inactive') group.perProbe.delete(probeId);
      else group.perProbe.set(probeId, state);
    }
    return events;
  }
}

function timeOf(iso: string): number | null {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

function latencyOf(record: ResultRecord, rule: LatencyRule): number | null {
  if (rule.phase === 'total') return record.ok ? record.duration_ms : null;
  return record.timings_ms[rule.phase] ?? null;
}
