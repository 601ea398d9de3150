/**
 * Matching: which results, verdicts and probes a rule's selector takes, and which alarms a
 * maintenance window covers. Pure. Lists match when any entry matches (`*` is a wildcard);
 * an empty list or map matches anything; all given keys must match.
 */
import type { MaintenanceMatch, Selector } from './rules.ts';

/** What a selector can look at; absent facts (e.g. labels of a verdict) match only empty keys. */
export interface Subject {
  taskId?: string;
  target?: string;
  kind?: string;
  region?: string;
  isp?: string;
  probeId?: string;
  labels?: Record<string, string>;
}

const globs = new Map<string, RegExp>();

/** `*` matches any run of characters; everything else is literal. */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  let re = globs.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
    if (globs.size < 10_000) globs.set(pattern, re);
  }
  return re.test(value);
}

function listMatches(list: readonly string[], value: string | undefined): boolean {
  if (list.length === 0) return true;
  if (value === undefined) return false;
  return list.some((p) => globMatch(p, value));
}

function labelsMatch(wanted: Record<string, string>, have: Record<string, string> | undefined): boolean {
  for (const [key, value] of Object.entries(wanted)) {
    if (have?.[key] !== value) return false;
  }
  return true;
}

export function selects(selector: Selector, s: Subject): boolean {
  return (
    listMatches(selector.tasks, s.taskId) &&
    listMatches(selector.targets, s.target) &&
    listMatches(selector.kinds, s.kind) &&
    listMatches(selector.regions, s.region) &&
    listMatches(selector.isps, s.isp) &&
    listMatches(selector.probes, s.probeId) &&
    labelsMatch(selector.labels, s.labels)
  );
}

/** What maintenance matching sees of an alarm. */
export interface AlarmIdentity extends Subject {
  ruleId: string;
}

export function maintenanceMatches(match: MaintenanceMatch, alarm: AlarmIdentity): boolean {
  // An alarm without a region (fleet scope) is not inside a region-scoped window: it says more.
  return (
    listMatches(match.rules, alarm.ruleId) &&
    listMatches(match.tasks, alarm.taskId || undefined) &&
    listMatches(match.targets, alarm.target || undefined) &&
    listMatches(match.regions, alarm.region || undefined) &&
    listMatches(match.isps, alarm.isp || undefined) &&
    listMatches(match.probes, alarm.probeId || undefined) &&
    labelsMatch(match.labels, alarm.labels)
  );
}
