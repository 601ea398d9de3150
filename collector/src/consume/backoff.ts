/**
 * Waits between retries of a failed store call: exponential, capped, with jitter so that many
 * replicas that failed together do not hammer a recovering ClickHouse in step.
 */
export interface BackoffPolicy {
  /** The first wait. */
  initialMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 30_000 };

/**
 * The wait before retry number `attempt` (0 = the first retry): initial × 2^attempt, capped, then
 * "equal jitter": a random point in the upper half, so it never collapses to zero.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
