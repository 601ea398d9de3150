/**
 * Bounded waiting for tests: uvu has no per-test timeout, so every wait goes through these and a
 * hang becomes a failure that says what it was waiting for.
 */
import * as assert from 'uvu/assert';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Extra text for the failure message (e.g. what the system looked like). */
  detail?: () => string | Promise<string>;
}

/**
 * Polls `check` until it returns something other than null/undefined/false (errors count as "not
 * yet") and returns it; fails after the timeout with `what`, the last error and `detail()`.
 * A number as third argument is the timeout.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  options: WaitOptions | number = {},
): Promise<T> {
  const opts = typeof options === 'number' ? { timeoutMs: options } : options;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      const detail = opts.detail ? await Promise.resolve(opts.detail()).catch((e: Error) => e.message) : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${lastError ? `\nlast error: ${lastError}` : ''}${detail ? `\n${detail}` : ''}`);
    }
    await sleep(opts.intervalMs ?? 20);
  }
}

/** `promise`, or an error naming `what` after `timeoutMs`. */
export function within<T>(what: string, promise: Promise<T>, timeoutMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** A measured phase took about as long as the server's delay: never less, and not much more. */
export function assertNear(measured: number | undefined, delay: number, what: string): void {
  assert.ok(measured !== undefined, `${what} was not measured`);
  assert.ok(measured >= delay - 25 && measured <= delay + 150, `${what} ${measured.toFixed(1)} ms, expected ≈ ${delay} ms`);
}
