/**
 * Nonces of accepted signed requests, remembered until their timestamp leaves the skew window
 * (after that the timestamp check refuses a replay by itself). Bounded: when full of live
 * entries it refuses new ones (the caller answers 503) rather than forgetting one early, which
 * would reopen a replay. Per process: replicas behind a load balancer each keep their own (see
 * analyzer/README.md, "Replays and replicas").
 */
export class NonceCache {
  #expiry = new Map<string, number>();

  constructor(private readonly maxEntries = 200_000) {}

  /**
   * Records `key` until `expiresAt` (ms). 'replayed' when it is already there and live,
   * 'full' when no room is left.
   */
  remember(key: string, expiresAt: number, now: number): 'ok' | 'replayed' | 'full' {
    const seen = this.#expiry.get(key);
    if (seen !== undefined && seen > now) return 'replayed';
    if (seen !== undefined) this.#expiry.delete(key);
    else this.#dropOldest(now);
    if (this.#expiry.size >= this.maxEntries) this.#prune(now);
    if (this.#expiry.size >= this.maxEntries) return 'full';
    this.#expiry.set(key, expiresAt);
    return 'ok';
  }

  get size(): number {
    return this.#expiry.size;
  }

  /** Entries arrive roughly in expiry order: drop expired ones from the old end (cheap, amortised). */
  #dropOldest(now: number): void {
    for (const [key, expiry] of this.#expiry) {
      if (expiry > now) return;
      this.#expiry.delete(key);
    }
  }

  #prune(now: number): void {
    for (const [key, expiry] of this.#expiry) if (expiry <= now) this.#expiry.delete(key);
  }
}
