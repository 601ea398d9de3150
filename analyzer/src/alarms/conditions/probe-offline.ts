/**
 * Probe offline: no heartbeat for `after`. When many probes go silent at once (at least
 * `fleet_threshold` of them: a count or a percentage of the known probes) it is one fleet alarm
 * listing them, not one alarm per probe: the per-probe alarms then neither fire nor resolve.
 */
import type { ProbeOfflineRule } from '../rules.ts';
import { durationText, percentText, type Evaluation } from './evaluation.ts';

export interface ProbeSeen {
  probeId: string;
  region: string;
  isp: string;
  labels: Record<string, string>;
  /** The latest heartbeat's time (ms). */
  lastSeenMs: number;
}

export interface OfflineOutcome {
  /** The fleet alarm's evaluation: holds while the drop is fleet-wide. */
  fleet: Evaluation;
  /** Per probe (every known probe). holds is null for an offline probe while the fleet alarm covers it. */
  probes: Map<string, Evaluation>;
  /** Probes silent longer than forget_after: drop them (their alarms resolve). */
  forgotten: string[];
}

export function evaluateProbeOffline(rule: ProbeOfflineRule, seen: readonly ProbeSeen[], nowMs: number): OfflineOutcome {
  const forgotten = seen.filter((p) => nowMs - p.lastSeenMs > rule.forgetAfterMs).map((p) => p.probeId);
  const known = seen.filter((p) => nowMs - p.lastSeenMs <= rule.forgetAfterMs);
  const offline = known.filter((p) => nowMs - p.lastSeenMs > rule.afterMs).sort((a, b) => (a.probeId < b.probeId ? -1 : 1));
  const share = known.length === 0 ? 0 : offline.length / known.length;
  const grouped = offline.length >= 2 && (
    (rule.fleetCount !== null && offline.length >= rule.fleetCount) ||
    (rule.fleetPercent !== null && share * 100 >= rule.fleetPercent)
  );
  const second = String(Math.floor(nowMs / 1000));
  const fleet: Evaluation = {
    holds: known.length === 0 ? null : grouped,
    key: second,
    summary: `${offline.length} of ${known.length} probes (${percentText(share)}) without a heartbeat for over ${durationText(rule.afterMs)}`,
    details: {
      offline_probes: offline.map((p) => p.probeId),
      known_probes: known.length,
      offline_share: share,
      regions: [...new Set(offline.map((p) => p.region))].sort(),
      isps: [...new Set(offline.map((p) => p.isp))].sort(),
      thresholds: { after_ms: rule.afterMs, fleet_count: rule.fleetCount, fleet_percent: rule.fleetPercent },
    },
    links: [],
  };
  const probes = new Map<string, Evaluation>();
  for (const p of known) {
    const silentMs = nowMs - p.lastSeenMs;
    const isOffline = silentMs > rule.afterMs;
    probes.set(p.probeId, {
      holds: isOffline && grouped ? null : isOffline,
      key: String(p.lastSeenMs),
      summary: isOffline
        ? `no heartbeat for ${durationText(silentMs)} (alarm after ${durationText(rule.afterMs)}); last at ${new Date(p.lastSeenMs).toISOString()}`
        : `heartbeat ${durationText(silentMs)} ago`,
      details: { last_heartbeat_at: new Date(p.lastSeenMs).toISOString(), silent_ms: silentMs, after_ms: rule.afterMs },
      links: [],
    });
  }
  return { fleet, probes, forgotten };
}
