/**
 * When something was seen (an IP in a domain's reference answers, a CNAME, an NXDOMAIN), as
 * merged intervals: observations closer than `mergeMs` join one interval, so an address the
 * references give every minute for a week costs one pair of numbers, not 10,080.
 */
export class SeenTimes {
  /** Flat [start0, end0, start1, end1, …], sorted, non-overlapping. */
  #spans: number[] = [];

  constructor(readonly mergeMs: number) {}

  get empty(): boolean {
    return this.#spans.length === 0;
  }

  add(at: number): void {
    const s = this.#spans;
    const n = s.length;
    // The common case: a new latest observation.
    if (n === 0 || at > s[n - 1]) {
      if (n > 0 && at - s[n - 1] <= this.mergeMs) s[n - 1] = at;
      else s.push(at, at);
      return;
    }
    // Out of order: insert, then merge neighbours within mergeMs.
    let i = 0;
    while (i < n && s[i + 1] < at) i += 2;
    if (i < n && s[i] <= at) return; // already inside a span
    s.splice(i, 0, at, at);
    this.#mergeAround(i);
  }

  #mergeAround(i: number): void {
    const s = this.#spans;
    if (i + 2 < s.length && s[i + 2] - s[i + 1] <= this.mergeMs) s.splice(i + 1, 2);
    if (i >= 2 && s[i] - s[i - 1] <= this.mergeMs) s.splice(i - 1, 2);
  }

  /** Whether any observation falls in [from, to]. */
  within(from: number, to: number): boolean {
    const s = this.#spans;
    for (let i = s.length - 2; i >= 0; i -= 2) {
      if (s[i + 1] < from) return false;
      if (s[i] <= to) return true;
    }
    return false;
  }

  /** The latest observation at or before `at`, or null. */
  latestAtOrBefore(at: number): number | null {
    const s = this.#spans;
    for (let i = s.length - 2; i >= 0; i -= 2) {
      if (s[i] <= at) return Math.min(s[i + 1], at);
    }
    return null;
  }

  /** Forgets what ended before `before`; true when nothing is left. */
  prune(before: number): boolean {
    const s = this.#spans;
    let drop = 0;
    while (drop < s.length && s[drop + 1] < before) drop += 2;
    if (drop > 0) s.splice(0, drop);
    return s.length === 0;
  }
}
