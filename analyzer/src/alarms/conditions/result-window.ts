/**
 * The results of one alarm group inside its window, with the aggregates the availability and
 * latency conditions read kept up to date as results come and go — so judging a group after each
 * result costs about the same for 5 results as for 5,000 (a fleet-wide group at thousands of
 * results a second). No I/O, no clock: the engine says what has expired.
 */
import type { ResultSample } from './evaluation.ts';

export interface RoundCount {
  n: number;
  failed: number;
}

/** Index of the first element of sorted `list` whose key is greater than `key` (binary search). */
function upperBound<T>(list: readonly T[], key: number, keyOf: (t: T) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(list[mid]!) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const id = (n: number) => n;

export class ResultWindow {
  /** By start time, oldest first. */
  readonly samples: ResultSample[] = [];
  ok = 0;
  /** Per round (scheduled slot): results and failures. */
  readonly rounds = new Map<number, RoundCount>();
  /** Round keys, ascending. */
  readonly roundKeys: number[] = [];
  /** Each probe's latest result in the window. */
  readonly latest = new Map<string, ResultSample>();
  /** Probes whose latest result failed. */
  failingProbes = 0;
  /** Failure code → count. */
  readonly failures = new Map<string, number>();
  /** The samples' values (latency rules), ascending. */
  readonly values: number[] = [];

  get total(): number {
    return this.samples.length;
  }

  add(s: ResultSample): void {
    const { samples } = this;
    if (samples.length === 0 || samples[samples.length - 1]!.atMs <= s.atMs) samples.push(s);
    else samples.splice(upperBound(samples, s.atMs, (x) => x.atMs), 0, s);
    if (s.ok) this.ok++;
    else this.failures.set(s.failure ?? 'failed', (this.failures.get(s.failure ?? 'failed') ?? 0) + 1);
    const round = this.rounds.get(s.round);
    if (round) {
      round.n++;
      if (!s.ok) round.failed++;
    } else {
      this.rounds.set(s.round, { n: 1, failed: s.ok ? 0 : 1 });
      const keys = this.roundKeys;
      if (keys.length === 0 || keys[keys.length - 1]! < s.round) keys.push(s.round);
      else keys.splice(upperBound(keys, s.round, id), 0, s.round);
    }
    const before = this.latest.get(s.probeId);
    if (!before || before.atMs <= s.atMs) {
      if (before && !before.ok) this.failingProbes--;
      this.latest.set(s.probeId, s);
      if (!s.ok) this.failingProbes++;
    }
    if (s.value !== null) this.values.splice(upperBound(this.values, s.value, id), 0, s.value);
  }

  /** Drops the results that started at or before `fromMs`; returns their ids. */
  expire(fromMs: number): ResultSample[] {
    const { samples } = this;
    let n = 0;
    while (n < samples.length && samples[n]!.atMs <= fromMs) n++;
    if (n === 0) return [];
    const gone = samples.splice(0, n);
    for (const s of gone) {
      if (s.ok) this.ok--;
      else {
        const key = s.failure ?? 'failed';
        const left = (this.failures.get(key) ?? 1) - 1;
        if (left > 0) this.failures.set(key, left);
        else this.failures.delete(key);
      }
      const round = this.rounds.get(s.round)!;
      round.n--;
      if (!s.ok) round.failed--;
      if (round.n === 0) {
        this.rounds.delete(s.round);
        this.roundKeys.splice(upperBound(this.roundKeys, s.round, id) - 1, 1);
      }
      // The probe's latest result expiring means all of its results did (they are older).
      if (this.latest.get(s.probeId) === s) {
        this.latest.delete(s.probeId);
        if (!s.ok) this.failingProbes--;
      }
      if (s.value !== null) this.values.splice(upperBound(this.values, s.value, id) - 1, 1);
    }
    return gone;
  }

  /** The newest round's key, or null. */
  newestRound(): number | null {
    return this.roundKeys.length === 0 ? null : this.roundKeys[this.roundKeys.length - 1]!;
  }
}
