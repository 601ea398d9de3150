/**
 * What a condition reports for one alarm group at one moment, and the observations it reads.
 * Conditions are pure functions of (rule, observations, now).
 */

export interface Evaluation {
  /** Whether the rule's condition holds; null when there is too little data to judge either way. */
  holds: boolean | null;
  /**
   * The evaluation point (the group's latest round; a heartbeat for probes). Clear evaluations
   * count once per key toward `resolve_after`, however many observations share the round.
   */
  key: string;
  /** One line: what was measured, against what. */
  summary: string;
  details: Record<string, unknown>;
  links: string[];
}

/** One result as availability and latency rules see it. */
export interface ResultSample {
  id: string;
  /** The check's start (ms). */
  atMs: number;
  /** The round (scheduled slot, ms) it belongs to. */
  round: number;
  probeId: string;
  ok: boolean;
  failure: string | null;
  /** The measured latency of the rule's phase, or null (latency rules only). */
  value: number | null;
}

/** One verdict as hijack rules see it. */
export interface VerdictSample {
  id: string;
  atMs: number;
  round: number;
  probeId: string;
  resolver: string;
  cls: string;
  answerIps: string[];
  expectedIps: string[];
}

/** Samples inside the window ending at `nowMs` (by their own time). */
export function inWindow<T extends { atMs: number }>(samples: readonly T[], windowMs: number, nowMs: number): T[] {
  const from = nowMs - windowMs;
  return samples.filter((s) => s.atMs > from);
}

/** Distinct rounds, newest first. */
export function roundsNewestFirst<T extends { round: number }>(samples: readonly T[]): Map<number, T[]> {
  const byRound = new Map<number, T[]>();
  for (const s of [...samples].sort((a, b) => b.round - a.round)) {
    const list = byRound.get(s.round);
    if (list) list.push(s);
    else byRound.set(s.round, [s]);
  }
  return byRound;
}

export function percentText(ratio: number): string {
  const pct = ratio * 100;
  return `${Number.isInteger(pct) ? pct : pct.toFixed(1)}%`;
}

/** "90s", "5m", "2h", "1h30m": durations in messages. */
export function durationText(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('') || '0s';
}
