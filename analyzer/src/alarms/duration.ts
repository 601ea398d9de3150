/** Durations in the alarm config: the probe's forms ("500ms", "30s", "5m", "2h") plus days ("1d"). */
import { parseDuration } from '../../../probe/src/config/duration.ts';
import type { Validator } from '../../../probe/src/contract/shape.ts';

const DAY_MS = 86_400_000;

/** A duration ("30s", "5m", "2h", or "1d"); `min` in ms. */
export function duration(opts: { min?: number; max?: number } = {}): Validator<number> {
  return (value, path, problems) => {
    const days = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*d$/.exec(value.trim()) : null;
    const parsed = days ? Number(days[1]) * DAY_MS : parseDuration(value);
    if (parsed === null) {
      problems.push(`${path}: ${JSON.stringify(value)} is not a duration (write e.g. 30s, 5m, 2h, 1d)`);
      return 0;
    }
    if (opts.min !== undefined && parsed < opts.min) problems.push(`${path}: must be at least ${describeMs(opts.min)}`);
    if (opts.max !== undefined && parsed > opts.max) problems.push(`${path}: must be at most ${describeMs(opts.max)}`);
    return parsed;
  };
}

function describeMs(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
