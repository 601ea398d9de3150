/**
 * Availability: success ratio below a threshold, N consecutive failed rounds, at least M probes
 * (or P percent of the probes running the task) failing at once. Every criterion the rule sets
 * must hold, so e.g. `consecutive_failed_rounds: 3` with `min_failing_probes: 2` keeps one broken
 * probe from paging anyone. Reads the group's window (results inside the rule's window only).
 */
import type { AvailabilityRule } from '../rules.ts';
import { durationText, percentText, type Evaluation } from './evaluation.ts';
import type { ResultWindow } from './result-window.ts';

export function evaluateAvailability(rule: AvailabilityRule, w: ResultWindow): Evaluation {
  const key = String(w.newestRound() ?? 'none');
  const total = w.total;
  if (total === 0 || total < rule.minSamples) {
    return { holds: null, key, summary: `${total} results in ${durationText(rule.windowMs)}: too few to judge`, details: { samples: total }, links: [] };
  }
  const ratio = w.ok / total;
  const probes = w.latest.size;
  const failingPct = (w.failingProbes / probes) * 100;

  let failedRounds = 0;
  for (let i = w.roundKeys.length - 1; i >= 0; i--) {
    const round = w.rounds.get(w.roundKeys[i]!)!;
    if (round.failed / round.n >= rule.roundFailureRatio) failedRounds++;
    else break;
  }

  const checks: boolean[] = [];
  if (rule.successRatioBelow !== null) checks.push(ratio < rule.successRatioBelow);
  if (rule.minFailingProbes !== null) checks.push(w.failingProbes >= rule.minFailingProbes);
  if (rule.minFailingPercent !== null) checks.push(failingPct >= rule.minFailingPercent);
  if (rule.consecutiveFailedRounds !== null) checks.push(failedRounds >= rule.consecutiveFailedRounds);
  const holds = checks.every(Boolean);

  // The words and the details are only read when an event is made or the state keeps them.
  const topFailures = [...w.failures.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
  const parts = [`success ${percentText(ratio)} of ${total} results in ${durationText(rule.windowMs)}${rule.successRatioBelow !== null ? ` (alarm below ${percentText(rule.successRatioBelow)})` : ''}`];
  parts.push(`${w.failingProbes} of ${probes} probes failing`);
  if (rule.consecutiveFailedRounds !== null) parts.push(`last ${failedRounds} round${failedRounds === 1 ? '' : 's'} failed (alarm at ${rule.consecutiveFailedRounds})`);
  if (topFailures.length > 0) parts.push(topFailures.map(([code, n]) => `${code} ×${n}`).join(', '));
  const failingProbes = w.failingProbes === 0 ? [] : [...w.latest.values()].filter((s) => !s.ok).map((s) => s.probeId).sort();

  return {
    holds,
    key,
    summary: parts.join('; '),
    details: {
      success_ratio: ratio,
      samples: total,
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
