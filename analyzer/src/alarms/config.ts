/**
 * The alarm config file (YAML): rules, maintenance windows, channels and notifier settings, in one
 * file that the analyzer (rules) and the notifier (channels) both read. Every problem is reported
 * with the file and the key it is under, all at once; analyzer/README.md is the reference.
 */
import { ConfigError, readConfigYaml } from '../../../probe/src/config/config.ts';
import {
  array, dictionary, number, object, oneOf, optional, string, text, type Validator,
} from '../../../probe/src/contract/shape.ts';
import { CHECK_KINDS, ID_PATTERN, PHASES } from '@vantage/probe';
import { parseChannels } from '../notify/channel-config.ts';
import { VERDICT_CLASSES } from '../classify/verdict.ts';
import { duration } from './duration.ts';
import { isTimeZone } from './maintenance.ts';
import {
  RULE_KINDS, SCOPE_LEVELS, SEVERITIES,
  type AlarmConfig, type MaintenanceMatch, type MaintenanceWindow, type NotifierSettings, type Rule, type RuleKind, type Selector,
} from './rules.ts';

export class AlarmConfigError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid alarm config ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'AlarmConfigError';
  }
}

const DAY_MS = 86_400_000;
const id = string({ pattern: ID_PATTERN, hint: 'letters, digits, _ and -, at most 64' });
const names = array(string());

const selectorFields = {
  tasks: optional(names, []),
  targets: optional(names, []),
  kinds: optional(array(oneOf(CHECK_KINDS)), []),
  regions: optional(names, []),
  isps: optional(names, []),
  probes: optional(names, []),
  labels: optional(dictionary(text), {}),
};
const selector = object(selectorFields, { strict: true });

/** Settings every rule has; `defaults` may set those marked so. */
const defaultsFields = {
  severity: optional(oneOf(SEVERITIES)),
  scope: optional(oneOf(SCOPE_LEVELS)),
  window: optional(duration({ min: 1000 })),
  for: optional(duration()),
  resolve_after: optional(number({ min: 1, max: 1000, integer: true })),
  repeat_interval: optional(duration()),
  stale_after: optional(duration({ min: 1000 })),
  channels: optional(array(id)),
  labels: optional(dictionary(text)),
};

const commonFields = {
  id,
  kind: oneOf(RULE_KINDS),
  description: optional(text),
  select: optional(selector),
  ...defaultsFields,
};

const kindFields = {
  availability: {
    success_ratio_below: optional(number({ min: 0, max: 1 })),
    consecutive_failed_rounds: optional(number({ min: 1, max: 1000, integer: true })),
    min_failing_probes: optional(number({ min: 1, integer: true })),
    min_failing_percent: optional(number({ min: 0, max: 100 })),
    round_failure_ratio: optional(number({ min: 0, max: 1 })),
    min_samples: optional(number({ min: 1, integer: true })),
  },
  latency: {
    phase: oneOf([...PHASES, 'total'] as const),
    percentile: optional(number({ min: 1, max: 100 })),
    above: duration(),
    min_samples: optional(number({ min: 1, integer: true })),
  },
  hijack: {
    classes: array(oneOf(VERDICT_CLASSES), { min: 1 }),
    min_probes: optional(number({ min: 1, integer: true })),
    consecutive_rounds: optional(number({ min: 1, max: 1000, integer: true })),
  },
  probe_offline: {
    after: duration({ min: 1000 }),
    fleet_threshold: optional((value: unknown, path: string, problems: string[]) => fleetThreshold(value, path, problems)),
    forget_after: optional(duration({ min: 60_000 })),
  },
} satisfies Record<RuleKind, Record<string, unknown>>;

/** Kind-specific defaults: what an SRE would pick when the rule does not say. */
const KIND_DEFAULTS: Record<RuleKind, { severity: Rule['severity']; scope: Rule['scope']; resolveAfter: number }> = {
  availability: { severity: 'critical', scope: 'region_isp', resolveAfter: 2 },
  latency: { severity: 'warning', scope: 'region_isp', resolveAfter: 2 },
  hijack: { severity: 'critical', scope: 'region_isp', resolveAfter: 2 },
  probe_offline: { severity: 'warning', scope: 'probe', resolveAfter: 1 },
};

function fleetThreshold(value: unknown, path: string, problems: string[]): { count: number | null; percent: number | null } {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 2) return { count: value, percent: null };
  const pct = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim()) : null;
  if (pct && Number(pct[1]) > 0 && Number(pct[1]) <= 100) return { count: null, percent: Number(pct[1]) };
  problems.push(`${path}: ${JSON.stringify(value)} is not a probe count (2 or more) or a percentage (e.g. "30%")`);
  return { count: null, percent: null };
}

/** YAML reads an unquoted timestamp as a date: take it as written or as that date. */
const timeText: Validator<string> = (value, path, problems) => (value instanceof Date ? value.toISOString() : text(value, path, problems));

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const maintenanceMatch = object({
  rules: optional(names, []),
  tasks: optional(names, []),
  targets: optional(names, []),
  regions: optional(names, []),
  isps: optional(names, []),
  probes: optional(names, []),
  labels: optional(dictionary(text), {}),
}, { strict: true });

const maintenanceEntry = object({
  name: string({ maxLength: 128 }),
  start: optional(timeText),
  end: optional(timeText),
  every: optional(object({
    days: optional(array(oneOf(WEEKDAYS)), []),
    at: string({ pattern: /^([01]\d|2[0-3]):[0-5]\d$/, hint: 'HH:MM, 24-hour' }),
    duration: duration({ min: 60_000, max: 7 * DAY_MS }),
    timezone: optional(string(), 'UTC'),
  }, { strict: true })),
  match: optional(maintenanceMatch),
}, { strict: true });

const notifierFields = object({
  external_url: optional(string({ pattern: /^https?:\/\/[^\s/]+/, hint: 'an http(s):// URL' })),
  max_attempts: optional(number({ min: 1, max: 100, integer: true }), 10),
  backoff: optional(object({
    initial: optional(duration({ min: 10 }), 2000),
    max: optional(duration({ min: 10 }), 600_000),
  }, { strict: true })),
}, { strict: true });

const topLevel = object({
  defaults: optional(object(defaultsFields, { strict: true })),
  rules: optional(array((v) => v), []),
  maintenance: optional(array((v) => v), []),
  channels: optional(dictionary((v) => v), {}),
  notifier: optional(notifierFields),
}, { strict: true });

type Defaults = ReturnType<ReturnType<typeof object<typeof defaultsFields>>>;

/** Reads and validates an alarm config file. Throws AlarmConfigError. */
export function loadAlarmConfig(file: string, readFile?: (path: string) => string): AlarmConfig {
  let path: string;
  let raw: unknown;
  try {
    ({ path, raw } = readConfigYaml(file, readFile));
  } catch (err) {
    if (err instanceof ConfigError) throw new AlarmConfigError(err.file, err.problems);
    throw err;
  }
  return parseAlarmConfig(raw, path);
}

/** Validates an already parsed config; `file` names it in errors. */
export function parseAlarmConfig(raw: unknown, file: string): AlarmConfig {
  const problems: string[] = [];
  const top = topLevel(raw ?? {}, '', problems);
  if (!top) throw new AlarmConfigError(file, problems);
  const defaults: Partial<Defaults> = top.defaults ?? {};
  const rules: Rule[] = [];
  const ruleIds = new Map<string, number>();
  top.rules.forEach((value, i) => {
    const path = `rules[${i}]`;
    const rule = parseRule(value, path, defaults, problems);
    if (!rule) return;
    const earlier = ruleIds.get(rule.id);
    if (earlier !== undefined) problems.push(`${path}.id: "${rule.id}" is already the id of rules[${earlier}]`);
    else ruleIds.set(rule.id, i);
    rules.push(rule);
  });
  const channels = parseChannels(top.channels, 'channels', problems);
  for (const [i, rule] of rules.entries()) {
    for (const [j, name] of rule.channels.entries()) {
      if (!(name in channels)) problems.push(`rules[${i}].channels[${j}]: no channel "${name}" in channels (known: ${Object.keys(channels).join(', ') || 'none'})`);
    }
  }
  const maintenance = top.maintenance
    .map((value, i) => parseMaintenance(value, `maintenance[${i}]`, ruleIds, problems))
    .filter((w): w is MaintenanceWindow => w !== null);
  const seenWindows = new Set<string>();
  for (const [i, w] of maintenance.entries()) {
    if (seenWindows.has(w.name)) problems.push(`maintenance[${i}].name: "${w.name}" is used twice`);
    seenWindows.add(w.name);
  }
  const n = top.notifier;
  const notifier: NotifierSettings = {
    externalUrl: n?.external_url ?? null,
    maxAttempts: n?.max_attempts ?? 10,
    backoff: { initialMs: n?.backoff?.initial ?? 2000, maxMs: n?.backoff?.max ?? 600_000 },
  };
  if (notifier.backoff.maxMs < notifier.backoff.initialMs) problems.push('notifier.backoff.max: must not be shorter than notifier.backoff.initial');
  if (problems.length > 0) throw new AlarmConfigError(file, problems);
  return { file, rules, maintenance, channels, notifier };
}

function parseRule(value: unknown, path: string, defaults: Partial<Defaults>, problems: string[]): Rule | null {
  const head = object({ kind: oneOf(RULE_KINDS) })(value, path, problems);
  if (!head?.kind) return null;
  const kind = head.kind;
  const before = problems.length;
  const r = object({ ...commonFields, ...kindFields[kind] }, { strict: true })(value, path, problems) as Record<string, unknown> & Partial<Defaults> & { id: string; description?: string; select?: Selector };
  const rule = ruleOf(kind, r, path, defaults, problems);
  return problems.length > before ? null : rule;
}

/** The normalised rule; checks that span keys. Fields that failed validation are undefined here. */
function ruleOf(kind: RuleKind, r: Record<string, unknown> & Partial<Defaults> & { id: string; description?: string; select?: Selector }, path: string, defaults: Partial<Defaults>, problems: string[]): Rule {
  const kd = KIND_DEFAULTS[kind];
  const select: Selector = r.select ?? { tasks: [], targets: [], kinds: [], regions: [], isps: [], probes: [], labels: {} };
  const windowMs = r.window ?? defaults.window ?? 300_000;
  const base = {
    id: r.id,
    severity: r.severity ?? defaults.severity ?? kd.severity,
    select,
    scope: r.scope ?? (kind === 'probe_offline' ? 'probe' : defaults.scope ?? kd.scope),
    windowMs,
    forMs: r.for ?? defaults.for ?? 0,
    resolveAfter: r.resolve_after ?? (kind === 'probe_offline' ? undefined : defaults.resolve_after) ?? kd.resolveAfter,
    repeatIntervalMs: r.repeat_interval ?? defaults.repeat_interval ?? 4 * 3_600_000,
    staleAfterMs: r.stale_after ?? defaults.stale_after ?? Math.max(3 * windowMs, 600_000),
    channels: r.channels ?? defaults.channels ?? [],
    labels: { ...(defaults.labels ?? {}), ...(r.labels ?? {}) },
    description: r.description ?? null,
  };
  const only = (keys: (keyof Selector)[], why: string) => {
    for (const key of keys) {
      const v = select[key];
      if (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0) problems.push(`${path}.select.${key}: ${why}`);
    }
  };
  switch (kind) {
    case 'availability': {
      const rule = {
        ...base, kind,
        successRatioBelow: (r.success_ratio_below as number | undefined) ?? null,
        consecutiveFailedRounds: (r.consecutive_failed_rounds as number | undefined) ?? null,
        minFailingProbes: (r.min_failing_probes as number | undefined) ?? null,
        minFailingPercent: (r.min_failing_percent as number | undefined) ?? null,
        roundFailureRatio: (r.round_failure_ratio as number | undefined) ?? 0.5,
        minSamples: (r.min_samples as number | undefined) ?? 1,
      };
      if (rule.successRatioBelow === null && rule.consecutiveFailedRounds === null && rule.minFailingProbes === null && rule.minFailingPercent === null) {
        problems.push(`${path}: an availability rule needs at least one of success_ratio_below, consecutive_failed_rounds, min_failing_probes, min_failing_percent`);
      }
      return rule;
    }
    case 'latency':
      return {
        ...base, kind,
        phase: r.phase as never,
        percentile: (r.percentile as number | undefined) ?? 95,
        aboveMs: r.above as number,
        minSamples: (r.min_samples as number | undefined) ?? 1,
      };
    case 'hijack': {
      only(['labels', 'kinds'], 'hijack rules read verdicts, which have no probe labels or kinds (select by tasks, targets, regions, isps, probes)');
      const minProbes = (r.min_probes as number | undefined) ?? null;
      const consecutiveRounds = (r.consecutive_rounds as number | undefined) ?? null;
      const neither = minProbes === null && consecutiveRounds === null;
      // Agreement before an alarm: two probes of the group, or three rounds in a row.
      return { ...base, kind, classes: r.classes as string[], minProbes: neither ? 2 : minProbes, consecutiveRounds: neither ? 3 : consecutiveRounds };
    }
    case 'probe_offline': {
      only(['tasks', 'targets', 'kinds'], 'probe_offline rules watch probes: select them by regions, isps, probes or labels');
      if (r.scope !== undefined && r.scope !== 'probe') problems.push(`${path}.scope: probe_offline rules are per probe (a fleet-wide drop is grouped by fleet_threshold)`);
      const threshold = (r.fleet_threshold as { count: number | null; percent: number | null } | undefined) ?? { count: 10, percent: 50 };
      const afterMs = r.after as number;
      const forgetAfterMs = (r.forget_after as number | undefined) ?? DAY_MS;
      if (forgetAfterMs <= afterMs) problems.push(`${path}.forget_after: must be longer than after`);
      return { ...base, kind, scope: 'probe', afterMs, fleetCount: threshold.count, fleetPercent: threshold.percent, forgetAfterMs };
    }
  }
}

function parseMaintenance(value: unknown, path: string, ruleIds: Map<string, number>, problems: string[]): MaintenanceWindow | null {
  const before = problems.length;
  const m = maintenanceEntry(value, path, problems);
  if (!m) return null;
  const window = maintenanceOf(m, path, ruleIds, problems);
  return problems.length > before ? null : window;
}

type MaintenanceEntry = NonNullable<ReturnType<typeof maintenanceEntry>>;

function maintenanceOf(m: MaintenanceEntry, path: string, ruleIds: Map<string, number>, problems: string[]): MaintenanceWindow | null {
  const match: MaintenanceMatch = m.match ?? { rules: [], tasks: [], targets: [], regions: [], isps: [], probes: [], labels: {} };
  match.rules.forEach((rule, i) => {
    if (!rule.includes('*') && !ruleIds.has(rule)) problems.push(`${path}.match.rules[${i}]: no rule "${rule}"`);
  });
  const once = m.start !== undefined || m.end !== undefined;
  if (once === (m.every !== undefined)) {
    problems.push(`${path}: give either start and end (one-off) or every (recurring)`);
    return null;
  }
  if (m.every) {
    if (m.every.timezone && !isTimeZone(m.every.timezone)) problems.push(`${path}.every.timezone: "${m.every.timezone}" is not an IANA time zone (e.g. Asia/Shanghai, UTC)`);
    const [h, min] = (m.every.at ?? '00:00').split(':').map(Number);
    const days = m.every.days.map((d) => WEEKDAYS.indexOf(d));
    return { name: m.name, when: { type: 'every', days, atMinute: h! * 60 + min!, durationMs: m.every.duration, timezone: m.every.timezone }, match };
  }
  const start = isoTime(m.start, `${path}.start`, problems);
  const end = isoTime(m.end, `${path}.end`, problems);
  if (start === null || end === null) return null;
  if (end <= start) {
    problems.push(`${path}.end: must be after start`);
    return null;
  }
  return { name: m.name, when: { type: 'once', startMs: start, endMs: end }, match };
}

/** An ISO 8601 time with a zone (Z or ±hh:mm), so it means one instant wherever it is read. */
function isoTime(value: string | undefined, path: string, problems: string[]): number | null {
  if (value === undefined) {
    problems.push(`${path}: is required for a one-off window`);
    return null;
  }
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    problems.push(`${path}: ${JSON.stringify(value)} is not an ISO 8601 time with a zone (e.g. 2025-03-01T22:00:00+08:00)`);
    return null;
  }
  return ms;
}
