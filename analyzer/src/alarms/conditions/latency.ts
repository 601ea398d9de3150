/** Latency: a phase's percentile (p95 by default) over the window above a threshold. */
import type { LatencyRule } from '../rules.ts';
import { durationText, inWindow, roundsNewestFirst, type Evaluation, type ResultSample } from './evaluation.ts';

/** Nearest-rank percentile of `values` (not empty). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function evaluateLatency(rule: LatencyRule, samples: readonly ResultSample[], nowMs: number): Evaluation {
  const window = inWindow(samples, rule.windowMs, nowMs).filter((s) => s.value !== null);
  const key = String(roundsNewestFirst(window).keys().next().value ?? 'none');
  const name = `${rule.phase} p${rule.percentile}`;
  if (window.length === 0 || window.length < rule.minSamples) {
    return { holds: null, key, summary: `${window.length} ${rule.phase} timings in ${durationText(rule.windowMs)}: too few to judge`, details: { samples: window.length }, links: [] };
  }
  const value = percentile(window.map((s) => s.value!), rule.percentile);
  const slowest = [...window].sort((a, b) => b.value! - a.value!).slice(0, 3).map((s) => ({ probe_id: s.probeId, value_ms: s.value }));
  return {
    holds: value > rule.aboveMs,
    key,
    summary: `${name} ${round(value)} ms over ${window.length} results in ${durationText(rule.windowMs)} (alarm above ${rule.aboveMs} ms)`,
    details: { phase: rule.phase, percentile: rule.percentile, value_ms: round(value), threshold_ms: rule.aboveMs, samples: window.length, slowest },
    links: [],
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
