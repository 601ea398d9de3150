/** Latency: a phase's percentile (p95 by default) over the window above a threshold. */
import type { LatencyRule } from '../rules.ts';
import { durationText, type Evaluation } from './evaluation.ts';
import type { ResultWindow } from './result-window.ts';

/** Nearest-rank percentile of ascending `sorted` (not empty). */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function evaluateLatency(rule: LatencyRule, w: ResultWindow): Evaluation {
  const key = String(w.newestRound() ?? 'none');
  const n = w.values.length;
  const name = `${rule.phase} p${rule.percentile}`;
  if (n === 0 || n < rule.minSamples) {
    return { holds: null, key, summary: `${n} ${rule.phase} timings in ${durationText(rule.windowMs)}: too few to judge`, details: { samples: n }, links: [] };
  }
  const value = percentileOfSorted(w.values, rule.percentile);
  const holds = value > rule.aboveMs;
  const slowest = holds ? [...w.samples].sort((a, b) => b.value! - a.value!).slice(0, 3).map((s) => ({ probe_id: s.probeId, value_ms: s.value })) : [];
  return {
    holds,
    key,
    summary: `${name} ${round(value)} ms over ${n} results in ${durationText(rule.windowMs)} (alarm above ${rule.aboveMs} ms)`,
    details: { phase: rule.phase, percentile: rule.percentile, value_ms: round(value), threshold_ms: rule.aboveMs, samples: n, slowest },
    links: [],
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
