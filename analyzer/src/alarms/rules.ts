/**
 * The alarm configuration as the engine uses it: rules, maintenance windows and defaults, already
 * validated and normalised (durations in ms, defaults filled in). `config.ts` turns the YAML file
 * into this; analyzer/README.md ("Alarms and webhooks") is the reference people read.
 */
import type { CheckKind, Phase } from '@vantage/probe';
import type { ChannelConfig } from '../notify/channels/channel.ts';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_KINDS = ['availability', 'latency', 'hijack', 'probe_offline'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Where an alarm is scoped: one per group of probes that share this. */
export const SCOPE_LEVELS = ['fleet', 'region', 'isp', 'region_isp', 'probe'] as const;
export type ScopeLevel = (typeof SCOPE_LEVELS)[number];

/** Which results, verdicts or probes a rule looks at. An empty list (or map) matches anything. */
export interface Selector {
  /** Task ids; `*` is a wildcard (e.g. `web-*`). */
  tasks: string[];
  /** Targets; `*` is a wildcard. */
  targets: string[];
  kinds: CheckKind[];
  regions: string[];
  isps: string[];
  probes: string[];
  /** Probe labels that must all be present with these values. */
  labels: Record<string, string>;
}

interface RuleBase {
  id: string;
  severity: Severity;
  select: Selector;
  scope: ScopeLevel;
  /** Observations older than this (by their own time) no longer count. */
  windowMs: number;
  /** The condition must hold this long (pending) before the alarm fires; 0 fires at once. */
  forMs: number;
  /** Consecutive clear evaluations (rounds; heartbeats for probe_offline) before it resolves. */
  resolveAfter: number;
  /** A reminder goes out this often while it fires; 0 = never. */
  repeatIntervalMs: number;
  /** A firing alarm whose group sent nothing for this long resolves (reason no_data). */
  staleAfterMs: number;
  channels: string[];
  /** Added to every alarm of the rule (routing, maintenance matching, Alertmanager labels). */
  labels: Record<string, string>;
  description: string | null;
}

export interface AvailabilityRule extends RuleBase {
  kind: 'availability';
  /** Fires when the share of ok results in the window is below this (0–1). */
  successRatioBelow: number | null;
  /** Fires when the group's last N rounds all failed. */
  consecutiveFailedRounds: number | null;
  /** Fires when at least this many probes' latest result failed. */
  minFailingProbes: number | null;
  /** Fires when at least this percentage of the probes running the task failed. */
  minFailingPercent: number | null;
  /** A round counts as failed when at least this share of its results failed. */
  roundFailureRatio: number;
  /** Fewer results in the window than this: no judgement either way. */
  minSamples: number;
}

export type LatencyPhase = Phase | 'total';

export interface LatencyRule extends RuleBase {
  kind: 'latency';
  phase: LatencyPhase;
  percentile: number;
  aboveMs: number;
  minSamples: number;
}

export interface HijackRule extends RuleBase {
  kind: 'hijack';
  classes: string[];
  /** Fires when at least this many probes of the group saw one of the classes in the window… */
  minProbes: number | null;
  /** …or when each of the group's last R rounds had one. */
  consecutiveRounds: number | null;
}

export interface ProbeOfflineRule extends RuleBase {
  kind: 'probe_offline';
  /** A probe is offline after this long without a heartbeat. */
  afterMs: number;
  /** At least this many probes offline at once (and at least 2) become one fleet alarm. */
  fleetCount: number | null;
  /** …or at least this percentage of the known probes. */
  fleetPercent: number | null;
  /** A probe silent this long is forgotten (its alarm resolves, reason probe_forgotten). */
  forgetAfterMs: number;
}

export type Rule = AvailabilityRule | LatencyRule | HijackRule | ProbeOfflineRule;

/** What a maintenance window applies to; every given key must match (a list: any of it). */
export interface MaintenanceMatch {
  rules: string[];
  tasks: string[];
  targets: string[];
  regions: string[];
  isps: string[];
  probes: string[];
  labels: Record<string, string>;
}

export type MaintenanceWhen =
  | { type: 'once'; startMs: number; endMs: number }
  | {
      type: 'every';
      /** 0 = Sunday … 6 = Saturday; empty = every day. */
      days: number[];
      /** Minutes after local midnight. */
      atMinute: number;
      durationMs: number;
      timezone: string;
    };

export interface MaintenanceWindow {
  name: string;
  when: MaintenanceWhen;
  match: MaintenanceMatch;
}

export interface NotifierSettings {
  /** Prefix of evidence links (e.g. https://vantage.example.com); null leaves API paths as they are. */
  externalUrl: string | null;
  maxAttempts: number;
  backoff: { initialMs: number; maxMs: number };
}

export interface AlarmConfig {
  file: string;
  rules: Rule[];
  maintenance: MaintenanceWindow[];
  channels: Record<string, ChannelConfig>;
  notifier: NotifierSettings;
}
