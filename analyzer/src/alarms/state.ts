/**
 * One alarm's state machine: inactive → pending → firing → (resolved) inactive, with hysteresis
 * (it resolves only after `resolve_after` distinct clear evaluations), reminders while it fires,
 * and maintenance windows that keep events from channels without stopping evaluation. Pure: the
 * time, the active maintenance window and the id maker come in; the next state and the events
 * go out.
 */
import type { AlarmEvent, EventKind, ResolveReason } from './event.ts';
import type { Evaluation } from './conditions/evaluation.ts';
import type { Rule } from './rules.ts';
import type { Scope } from './scope.ts';

export type AlarmStatus = 'inactive' | 'pending' | 'firing';

export interface AlarmState {
  fingerprint: string;
  ruleId: string;
  taskId: string;
  target: string;
  scope: Scope;
  /** Rule labels plus what the group shares (probe labels for a probe-scoped alarm). */
  labels: Record<string, string>;
  status: AlarmStatus;
  /** The seq of the alarm's last event (0: none yet). */
  seq: number;
  /** When the current incident began (the condition first held); null while inactive. */
  startedAtMs: number | null;
  /** Distinct clear evaluation keys seen while firing. */
  clearKeys: string[];
  /** Whether a firing event with notify=true went out in this incident. */
  notified: boolean;
  lastNotifiedMs: number | null;
  /** When the group last had an observation (for no_data resolution). */
  lastDataMs: number;
  /** The last judged evaluation (what the next event reports). */
  last: Evaluation | null;
  /**
   * Restored alarms keep what their last event said about the rule, for when the rule is gone
   * from the config (they are then resolved with reason rule_removed).
   */
  ruleKind?: AlarmEvent['rule_kind'];
  severity?: AlarmEvent['severity'];
  channels?: string[];
}

export interface StepContext {
  nowMs: number;
  /** The name of the maintenance window covering this alarm now, or null. */
  maintenance: string | null;
  newId: (nowMs: number) => string;
}

export interface Step {
  state: AlarmState;
  events: AlarmEvent[];
}

export function newAlarmState(init: Pick<AlarmState, 'fingerprint' | 'ruleId' | 'taskId' | 'target' | 'scope' | 'labels'>, nowMs: number): AlarmState {
  return { ...init, status: 'inactive', seq: 0, startedAtMs: null, clearKeys: [], notified: false, lastNotifiedMs: null, lastDataMs: nowMs, last: null };
}

/** Applies one evaluation of the rule's condition for this alarm's group. */
export function onEvaluation(state: AlarmState, rule: Rule, evaluation: Evaluation, ctx: StepContext, observed = true): Step {
  let s: AlarmState = observed ? { ...state, lastDataMs: ctx.nowMs } : { ...state };
  if (evaluation.holds === null) return { state: s, events: [] };
  s.last = evaluation;
  if (evaluation.holds) {
    if (s.status === 'inactive') s = { ...s, status: 'pending', startedAtMs: ctx.nowMs, clearKeys: [], notified: false, lastNotifiedMs: null };
    if (s.status === 'pending') return ctx.nowMs - s.startedAtMs! >= rule.forMs ? fire(s, rule, ctx) : { state: s, events: [] };
    return { state: { ...s, clearKeys: [] }, events: [] };
  }
  if (s.status === 'pending') return { state: { ...s, status: 'inactive', startedAtMs: null }, events: [] };
  if (s.status === 'firing') {
    const clearKeys = s.clearKeys.includes(evaluation.key) ? s.clearKeys : [...s.clearKeys, evaluation.key];
    s = { ...s, clearKeys };
    if (clearKeys.length >= rule.resolveAfter) return resolve(s, rule, 'recovered', ctx);
  }
  return { state: s, events: [] };
}

/** Time-driven changes: a pending alarm whose `for` elapsed, no_data, announcing after maintenance, reminders. */
export function onTick(state: AlarmState, rule: Rule, ctx: StepContext): Step {
  const s = state;
  if (s.status === 'pending' && s.last?.holds && ctx.nowMs - s.startedAtMs! >= rule.forMs) return fire(s, rule, ctx);
  if (s.status !== 'firing') return { state: s, events: [] };
  if (rule.kind !== 'probe_offline' && ctx.nowMs - s.lastDataMs >= rule.staleAfterMs) return resolve(s, rule, 'no_data', ctx);
  if (ctx.maintenance !== null) return { state: s, events: [] };
  if (!s.notified) return emit(s, rule, 'firing', ctx);
  if (rule.repeatIntervalMs > 0 && s.lastNotifiedMs !== null && ctx.nowMs - s.lastNotifiedMs >= rule.repeatIntervalMs) return emit(s, rule, 'reminder', ctx);
  return { state: s, events: [] };
}

/** Resolves a firing alarm at once (its rule was removed, its probe forgotten …). */
export function resolve(state: AlarmState, rule: Rule | null, reason: ResolveReason, ctx: StepContext): Step {
  if (state.status !== 'firing') return { state: { ...state, status: 'inactive', startedAtMs: null, clearKeys: [] }, events: [] };
  const event = makeEvent(state, rule, 'resolved', ctx, { notify: state.notified, reason });
  return {
    state: { ...state, seq: event.seq, status: 'inactive', startedAtMs: null, clearKeys: [], notified: false, lastNotifiedMs: null },
    events: [event],
  };
}

function fire(s: AlarmState, rule: Rule, ctx: StepContext): Step {
  return emit({ ...s, status: 'firing', clearKeys: [] }, rule, 'firing', ctx);
}

/** A firing or reminder event; notified unless a maintenance window covers the alarm. */
function emit(s: AlarmState, rule: Rule, kind: Exclude<EventKind, 'resolved'>, ctx: StepContext): Step {
  const notify = ctx.maintenance === null;
  const event = makeEvent(s, rule, kind, ctx, { notify, reason: null });
  return {
    state: { ...s, seq: event.seq, notified: s.notified || notify, lastNotifiedMs: notify ? ctx.nowMs : s.lastNotifiedMs },
    events: [event],
  };
}

function makeEvent(s: AlarmState, rule: Rule | null, kind: EventKind, ctx: StepContext, o: { notify: boolean; reason: ResolveReason | null }): AlarmEvent {
  const started = s.startedAtMs ?? ctx.nowMs;
  const last = s.last;
  return {
    schema: 1,
    event_id: ctx.newId(ctx.nowMs),
    kind,
    seq: s.seq + 1,
    fingerprint: s.fingerprint,
    rule_id: s.ruleId,
    rule_kind: rule?.kind ?? ruleKindOf(s),
    severity: rule?.severity ?? severityOf(s),
    task_id: s.taskId,
    target: s.target,
    scope: s.scope.level,
    region: s.scope.region,
    isp: s.scope.isp,
    probe_id: s.scope.probeId,
    labels: s.labels,
    summary: last?.summary ?? '',
    details: last?.details ?? {},
    links: last?.links ?? [],
    started_at: new Date(started).toISOString(),
    at: new Date(ctx.nowMs).toISOString(),
    duration_ms: kind === 'resolved' ? Math.max(0, ctx.nowMs - started) : null,
    resolve_reason: kind === 'resolved' ? o.reason : null,
    notify: o.notify,
    maintenance: ctx.maintenance,
    channels: rule?.channels ?? s.channels ?? [],
  };
}

function ruleKindOf(s: AlarmState): AlarmEvent['rule_kind'] {
  return s.ruleKind ?? 'availability';
}

function severityOf(s: AlarmState): AlarmEvent['severity'] {
  return s.severity ?? 'warning';
}

/** The state an alarm is in after `event` (its last event in the stream): how a restart resumes. */
export function stateFromEvent(event: AlarmEvent, nowMs: number): AlarmState {
  const firing = event.kind !== 'resolved';
  return {
    fingerprint: event.fingerprint,
    ruleId: event.rule_id,
    taskId: event.task_id,
    target: event.target,
    scope: { level: event.scope, region: event.region, isp: event.isp, probeId: event.probe_id },
    labels: event.labels,
    status: firing ? 'firing' : 'inactive',
    seq: event.seq,
    startedAtMs: firing ? Date.parse(event.started_at) : null,
    clearKeys: [],
    notified: firing && event.notify,
    lastNotifiedMs: firing && event.notify ? Date.parse(event.at) : null,
    lastDataMs: nowMs,
    last: { holds: firing, key: 'restored', summary: event.summary, details: event.details, links: event.links },
    ruleKind: event.rule_kind,
    severity: event.severity,
    channels: event.channels,
  };
}
