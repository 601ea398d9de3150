/**
 * The one escaping helper: every value that is built into SQL text goes through here. ClickHouse
 * server 18.16 has no server-side query parameters, so values are written as literals; inserts
 * never use this (they send JSONEachRow rows, values never enter SQL text).
 *
 * Strings become single-quoted literals in which `\` and `'` are backslash-escaped and every
 * control byte (0x00–0x1F, 0x7F) is written as `\xHH`; all other characters pass as UTF-8. A lone
 * UTF-16 surrogate cannot be encoded in UTF-8, so it becomes U+FFFD (what `String.toWellFormed`
 * does) — the same rule the store applies to every string it inserts.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NEEDS_ESCAPE = /[\\'\x00-\x1f\x7f]/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLUSTER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** DateTime covers [1970-01-01, 2106-02-07) in whole seconds. */
export const DATETIME_MAX_SECONDS = 0xffffffff;

/** Replaces lone surrogates with U+FFFD, so the string encodes to UTF-8 without loss elsewhere. */
export function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

/** A string literal: `'it\'s'`. */
export function sqlString(value: string): string {
  if (typeof value !== 'string') throw new TypeError(`sqlString: expected a string, got ${typeof value}`);
  return `'${wellFormed(value).replace(NEEDS_ESCAPE, escapeChar)}'`;
}

function escapeChar(ch: string): string {
  if (ch === '\\') return '\\\\';
  if (ch === "'") return "\\'";
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** A finite number literal; NaN and ±Infinity are refused (they have no safe literal on 18.16). */
export function sqlNumber(value: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`sqlNumber: not a finite number: ${String(value)}`);
  // Negative literals in parentheses so `a -1` can never become something else.
  return value < 0 ? `(${String(value)})` : String(value);
}

/** A whole-second DateTime: `toDateTime(1700000000)` (no time-zone parsing involved). */
export function sqlDateTime(ms: number): string {
  return `toDateTime(${sqlSeconds(ms)})`;
}

/** Whole seconds of `ms` as a number literal, for comparing with a DateTime column inside IN tuples. */
export function sqlSeconds(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > DATETIME_MAX_SECONDS) {
    throw new RangeError(`sqlDateTime: ${ms} ms is outside DateTime's range`);
  }
  return String(seconds);
}

/** A UUID as a string literal (ClickHouse converts it where it meets a UUID column). */
export function sqlUuid(value: string): string {
  if (!UUID.test(value)) throw new TypeError(`sqlUuid: not a UUID: ${JSON.stringify(value)}`);
  return `'${value.toLowerCase()}'`;
}

/** `[a, b]` from already-rendered literals. */
export function sqlArray(literals: readonly string[]): string {
  return `[${literals.join(', ')}]`;
}

/** `(a, b)` from already-rendered literals. */
export function sqlTuple(literals: readonly string[]): string {
  return `(${literals.join(', ')})`;
}

/** An identifier that must be on the caller's allow-list (never built from outside input). */
export function sqlIdentifier(name: string, allowed: ReadonlySet<string>): string {
  if (!allowed.has(name) || !IDENTIFIER.test(name)) throw new TypeError(`sqlIdentifier: ${JSON.stringify(name)} is not allowed`);
  return name;
}

/** A cluster name from config, for `ON CLUSTER` (back-quoted identifier) — validated strictly. */
export function sqlClusterName(name: string): string {
  if (!isClusterName(name)) throw new TypeError(`not a valid cluster name: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

export function isClusterName(name: string): boolean {
  return typeof name === 'string' && name.length <= 128 && CLUSTER_NAME.test(name);
}
