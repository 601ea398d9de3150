/**
 * Maintenance windows: one-off (start … end) or recurring (on some weekdays, from a local time
 * for a duration, in an IANA time zone). Inside a window alarms are still evaluated and their
 * events still recorded, but they are not sent to channels. Pure: time comes in as an argument.
 */
import type { MaintenanceWhen, MaintenanceWindow } from './rules.ts';
import { maintenanceMatches, type AlarmIdentity } from './select.ts';

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** Whether `timezone` is an IANA zone this runtime knows. */
export function isTimeZone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at instant `ms`, in ms (local = utc + offset). */
function offsetAt(ms: number, timezone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timezone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of local wall time `localMs` (a UTC-based number of the local date/time) in the zone. */
function localToInstant(localMs: number, timezone: string): number {
  let guess = localMs - offsetAt(localMs, timezone);
  // Around a DST change the offset at the guess may differ: one correction settles it.
  const again = localMs - offsetAt(guess, timezone);
  if (again !== guess) guess = again;
  return guess;
}

/** Whether the window's time rule covers instant `ms`. */
export function isWithin(when: MaintenanceWhen, ms: number): boolean {
  if (when.type === 'once') return ms >= when.startMs && ms < when.endMs;
  const localNow = ms + offsetAt(ms, when.timezone);
  const today = Math.floor(localNow / DAY_MS) * DAY_MS;
  // A window that started on an earlier day may still run now.
  const back = Math.ceil(when.durationMs / DAY_MS);
  for (let k = 0; k <= back; k++) {
    const day = today - k * DAY_MS;
    const weekday = new Date(day).getUTCDay();
    if (when.days.length > 0 && !when.days.includes(weekday)) continue;
    const start = localToInstant(day + when.atMinute * 60_000, when.timezone);
    if (ms >= start && ms < start + when.durationMs) return true;
  }
  return false;
}

/** The name of the first window that covers this alarm at `ms`, or null. */
export function activeMaintenance(windows: readonly MaintenanceWindow[], alarm: AlarmIdentity, ms: number): string | null {
  for (const w of windows) {
    if (maintenanceMatches(w.match, alarm) && isWithin(w.when, ms)) return w.name;
  }
  return null;
}
