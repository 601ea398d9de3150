/**
 * Availability: success ratio below a threshold, N consecutive failed rounds, at least M probes
 * (or P percent of the probes running the task) failing at once. Every criterion the rule sets
 * must hold, so e.g. `consecutive_failed_rounds: 3` with `min_failing_probes: 2` keeps one broken
 * probe from paging anyone.
 */
import type { AvailabilityRule } from '../rules.ts';
import { durationText, inWindow, percentText, roundsNewestFirst, type Evaluation, type ResultSample } from './evaluation.ts';

export function evaluateAvailability(rule: AvailabilityRule, samples: readonly ResultSample[], nowMs: number): Evaluation {
  const window = inWindow(samples, rule.windowMs, nowMs);
  const rounds = roundsNewestFirst(window);
  const key = String(rounds.keys().next().value ?? 'none');
  if (window.length === 0 || window.length < rule.minSamples) {
    return { holds: null, key, summary: `${window.length} results in ${durationText(rule.windowMs)}: too few to judge`, details: { samples: window.length }, links: [] };
  }
  const ok = window.filter((s) => s.ok).length;
  const ratio = ok / window.length;

  const latest = new Map<string, ResultSample>();
  for (const s of window) {
    const seen = latest.get(s.probeId);
    if (!seen || s.atMs > seen.atMs) latest.set(s.probeId, s);
  }
  const failingProbes = [...latest.values()].filter((s) => !s.ok).map((s) => s.probeId).sort();
  const probes = latest.size;
  const failingPct = (failingProbes.length / probes) * 100;

  let failedRounds = 0;
  for (const results of rounds.values()) {
    const failed = results.filter((s) => !s.ok).length;
    if (failed / results.length >= rule.roundFailureRatio) failedRounds++;
    else break;
  }

  const failures = new Map<string, number>();
  for (const s of window) if (!s.ok) failures.set(s.failure ?? 'failed', (failures.get(s.failure ?? 'failed') ?? 0) + 1);
  const topFailures = [...failures.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);

  const checks: boolean[] = [];
  const parts: string[] = [`success ${percentText(ratio)} of ${window.length} results in ${durationText(rule.windowMs)}`];
  if (rule.successRatioBelow !== null) {
    checks.push(ratio < rule.successRatioBelow);
    parts[0] += ` (alarm below ${percentText(rule.successRatioBelow)})`;
  }
  parts.push(`${failingProbes.length} of ${probes} probes failing`);
  if (rule.minFailingProbes !== null) checks.push(failingProbes.length >= rule.minFailingProbes);
  if (rule.minFailingPercent !== null) checks.push(failingPct >= rule.minFailingPercent);
  if (rule.consecutiveFailedRounds !== null) {
    checks.push(failedRounds >= rule.consecutiveFailedRounds);
    parts.push(`last ${failedRounds} round${failedRounds === 1 ? '' : 's'} failed (alarm at ${rule.consecutiveFailedRounds})`);
  }
  if (topFailures.length > 0) parts.push(topFailures.map(([code, n]) => `${code} ×${n}`).join(', '));

  return {
    holds: checks.every(Boolean),
    key,
    summary: parts.join('; '),
    details: {
      success_ratio: ratio,
      samples: window.length,
      probes,
      failing_probes: failingProbes,
      failing_percent: failingPct,
      consecutive_failed_rounds: failedRounds,
      failures: Object.fromEntries(topFailures),
      thresholds: {
        success_ratio_below: rule.successRatioBelow,
        consecutive_failed_rounds: rule.consecutiveFailedRounds,
        min_failing_probes: rule.minFailingProbes,
        min_failing_percent: rule.minFailingPercent,
      },
    },
    links: [],
  };
}
