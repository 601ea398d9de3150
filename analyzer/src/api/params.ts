/**
 * Query and path parameters, declared once: the same declaration validates a request (every
 * problem named by parameter, unknown and repeated parameters refused) and documents the
 * parameter in the OpenAPI file.
 */
import { badRequest } from './errors.ts';
import { isTimeZone } from './time-zone.ts';

export interface ParamSpec<T> {
  description: string;
  required: boolean;
  /** JSON Schema of the parameter (OpenAPI 3.1). */
  schema: Record<string, unknown>;
  /** Parses a present value; pushes "name: problem" and returns undefined when invalid. */
  parse(value: string, name: string, problems: string[]): T | undefined;
  fallback?: T;
}

type Opt = { description: string };

function spec<T>(o: Opt, schema: Record<string, unknown>, parse: ParamSpec<T>['parse']): ParamSpec<T> {
  return { description: o.description, required: false, schema, parse };
}

/** The parameter must be given. */
export function required<T>(p: ParamSpec<T>): ParamSpec<T> & { required: true } {
  return { ...p, required: true };
}

/** The parameter may be left out: `value` is used then (and documented as the default). */
export function withDefault<T>(p: ParamSpec<T>, value: T): ParamSpec<T> & { fallback: T } {
  return { ...p, schema: { ...p.schema, default: value }, fallback: value };
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** Text without control characters, at most `maxLength` characters. */
export function text(o: Opt & { maxLength?: number; pattern?: RegExp; hint?: string }): ParamSpec<string> {
  const maxLength = o.maxLength ?? 256;
  return spec(o, { type: 'string', minLength: 1, maxLength, ...(o.pattern ? { pattern: o.pattern.source } : {}) }, (value, name, problems) => {
    if (value.length === 0) return void problems.push(`${name}: must not be empty`);
    if (value.length > maxLength) return void problems.push(`${name}: must be at most ${maxLength} characters`);
    if (/[\x00-\x1f\x7f]/.test(value)) return void problems.push(`${name}: must not contain control characters`);
    if (o.pattern && !o.pattern.test(value)) return void problems.push(`${name}: ${show(value)} is not valid${o.hint ? ` (${o.hint})` : ''}`);
    return value;
  });
}

export function oneOf<const T extends string>(choices: readonly T[], o: Opt): ParamSpec<T> {
  return spec(o, { type: 'string', enum: [...choices] }, (value, name, problems) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    problems.push(`${name}: ${show(value)} is not one of ${choices.join(', ')}`);
    return undefined;
  });
}

/** A comma-separated list of choices. */
export function listOf<const T extends string>(choices: readonly T[], o: Opt): ParamSpec<T[]> {
  return spec(o, { type: 'string', description: `comma-separated: ${choices.join(', ')}` }, (value, name, problems) => {
    const items = value.split(',');
    const bad = items.filter((v) => !(choices as readonly string[]).includes(v));
    if (bad.length > 0) return void problems.push(`${name}: ${bad.map(show).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not one of ${choices.join(', ')}`);
    return [...new Set(items)] as T[];
  });
}

export function integer(o: Opt & { min: number; max: number }): ParamSpec<number> {
  return spec(o, { type: 'integer', minimum: o.min, maximum: o.max }, (value, name, problems) => {
    if (!/^-?\d{1,15}$/.test(value)) return void problems.push(`${name}: ${show(value)} is not a whole number`);
    const n = Number(value);
    if (n < o.min || n > o.max) return void problems.push(`${name}: must be between ${o.min} and ${o.max}, got ${n}`);
    return n;
  });
}

export function flag(o: Opt): ParamSpec<boolean> {
  return spec(o, { type: 'boolean' }, (value, name, problems) => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    return void problems.push(`${name}: ${show(value)} is not true or false`);
  });
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** Latest instant a DateTime column holds; earliest accepted is 2000-01-01. */
const MAX_SECONDS = 0xffffffff - 2 * 86_400 * 400;
const MIN_SECONDS = 946_684_800;

/** An RFC 3339 instant ("2024-05-01T00:00:00Z", "2024-05-01T08:00:00+08:00") → Unix seconds (floored). */
export function instant(o: Opt): ParamSpec<number> {
  return spec(o, { type: 'string', format: 'date-time' }, (value, name, problems) => parseInstant(value, name, problems));
}

export function parseInstant(value: string, name: string, problems: string[]): number | undefined {
  const m = RFC3339.exec(value);
  const ms = m ? Date.parse(value) : NaN;
  // Date.parse rolls 2024-02-30 over to March: refuse dates whose fields do not survive the trip.
  const valid = m !== null && Number.isFinite(ms) && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) <= daysIn(Number(m[1]), Number(m[2])) && Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6] ?? 0) < 60;
  if (!valid) return void problems.push(`${name}: ${show(value)} is not an RFC 3339 time (e.g. 2024-05-01T00:00:00Z or 2024-05-01T08:00:00+08:00)`);
  const s = Math.floor(ms / 1000);
  if (s < MIN_SECONDS || s > MAX_SECONDS) return void problems.push(`${name}: must be between 2000-01-01 and 2100-01-01`);
  return s;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function zone(o: Opt): ParamSpec<string> {
  return spec(o, { type: 'string', examples: ['UTC', 'Asia/Shanghai'] }, (value, name, problems) => {
    if (isTimeZone(value)) return value;
    return void problems.push(`${name}: ${show(value)} is not an IANA time zone name (e.g. UTC, Asia/Shanghai, America/New_York)`);
  });
}

const DURATION = /^(\d{1,6})(m|h|d)$/;
const UNIT_SECONDS = { m: 60, h: 3600, d: 86_400 } as const;

/** "90m", "24h", "7d" → seconds. */
export function duration(o: Opt & { max: number }): ParamSpec<number> {
  return spec(o, { type: 'string', pattern: DURATION.source, examples: ['15m', '24h', '7d'] }, (value, name, problems) => {
    const m = DURATION.exec(value);
    if (!m) return void problems.push(`${name}: ${show(value)} is not a duration (a number and m, h or d, e.g. 24h)`);
    const s = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
    if (s === 0 || s > o.max) return void problems.push(`${name}: must be more than 0 and at most ${o.max / 86_400} days`);
    return s;
  });
}

export type ParamSpecs = Record<string, ParamSpec<any>>;
/** A parameter's parsed type: always there when required or defaulted, else possibly undefined. */
export type ParamValue<P> = P extends ParamSpec<infer T> ? (P extends { required: true } | { fallback: unknown } ? T : T | undefined) : never;
export type Params<S extends ParamSpecs> = { [K in keyof S]: ParamValue<S[K]> };

/**
 * Validates raw parameters (a value is a string, or an array when repeated) against `specs`.
 * Returns the parsed values; throws a 400 naming every problem.
 */
export function parseParams<S extends ParamSpecs>(specs: S, raw: Record<string, unknown>, where = 'query'): Params<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!(key in specs)) {
      const known = Object.keys(specs);
      problems.push(`${key.length > 40 ? `${key.slice(0, 40)}…` : key}: unknown ${where} parameter${known.length > 0 ? ` (known: ${known.join(', ')})` : ' (none are accepted)'}`);
    }
  }
  for (const [name, p] of Object.entries(specs)) {
    const value = raw[name];
    if (Array.isArray(value)) {
      problems.push(`${name}: given more than once`);
      continue;
    }
    if (value === undefined) {
      if (p.required) problems.push(`${name}: is required`);
      else out[name] = p.fallback;
      continue;
    }
    out[name] = p.parse(String(value), name, problems);
  }
  if (problems.length > 0) throw badRequest(problems);
  return out as Params<S>;
}

/** OpenAPI parameter objects for `specs`. */
export function openApiParameters(specs: ParamSpecs, where: 'query' | 'path'): Record<string, unknown>[] {
  return Object.entries(specs).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' ? true : p.required,
    description: p.description,
    schema: p.schema,
  }));
}
