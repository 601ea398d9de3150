/**
 * A token bucket per channel (DingTalk robots take 20 messages a minute, Slack about one a second):
 * `count` sends per `perMs`, refilled continuously, at most `count` at once. Pure: time comes in.
 */
import type { RateLimit } from './channels/channel.ts';

export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(private readonly limit: RateLimit, nowMs: number) {
    this.#tokens = limit.count;
    this.#at = nowMs;
  }

  /** Takes a token and returns 0, or returns how long to wait before one is there (taking nothing). */
  take(nowMs: number): number {
    const rate = this.limit.count / this.limit.perMs;
    this.#tokens = Math.min(this.limit.count, this.#tokens + Math.max(0, nowMs - this.#at) * rate);
    this.#at = Math.max(this.#at, nowMs);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.#tokens) / rate);
  }
}
