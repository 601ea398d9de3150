/**
 * Tiny runtime validators shared by the config loader and the record validator. A validator
 * returns the (typed) value and appends every problem it finds as "path: what is wrong", so a
 * user sees all mistakes at once and each names its key.
 */
export type Validator<T> = (value: unknown, path: string, problems: string[]) => T;

/** Marks an object field as optional; `fallback` is used when the key is absent or null. */
export interface Optional<T> {
  optional: true;
  validator: Validator<T>;
  fallback: T;
}
type Field = Validator<unknown> | Optional<unknown>;
type FieldValue<F> = F extends Optional<infer T> ? T : F extends Validator<infer T> ? T : never;

export function optional<T>(validator: Validator<T>, fallback: T): Optional<T>;
export function optional<T>(validator: Validator<T>): Optional<T | undefined>;
export function optional<T>(validator: Validator<T>, fallback?: T): Optional<T | undefined> {
  return { optional: true, validator, fallback };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

function fail<T>(problems: string[], path: string, message: string): T {
  problems.push(`${path || '(top level)'}: ${message}`);
  return undefined as T;
}

export function string(opts: { pattern?: RegExp; hint?: string; maxLength?: number } = {}): Validator<string> {
  return (value, path, problems) => {
    if (typeof value !== 'string') return fail(problems, path, `expected a string, got ${describe(value)}`);
    if (value.length === 0) return fail(problems, path, 'must not be empty');
    if (opts.maxLength !== undefined && value.length > opts.maxLength) {
      return fail(problems, path, `must be at most ${opts.maxLength} characters`);
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      return fail(problems, path, `${describe(value)} is not valid${opts.hint ? ` (${opts.hint})` : ''}`);
    }
    return value;
  };
}

/** Any string, empty allowed (for free text carried in records). */
export const text: Validator<string> = (value, path, problems) =>
  typeof value === 'string' ? value : fail(problems, path, `expected a string, got ${describe(value)}`);

export function number(opts: { min?: number; max?: number; integer?: boolean } = {}): Validator<number> {
  return (value, path, problems) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return fail(problems, path, `expected a number, got ${describe(value)}`);
    }
    if (opts.integer && !Number.isInteger(value)) return fail(problems, path, `expected a whole number, got ${value}`);
    if (opts.min !== undefined && value < opts.min) return fail(problems, path, `must be at least ${opts.min}, got ${value}`);
    if (opts.max !== undefined && value > opts.max) return fail(problems, path, `must be at most ${opts.max}, got ${value}`);
    return value;
  };
}

export const boolean: Validator<boolean> = (value, path, problems) =>
  typeof value === 'boolean' ? value : fail(problems, path, `expected true or false, got ${describe(value)}`);

export function oneOf<const T extends string | number>(choices: readonly T[]): Validator<T> {
  return (value, path, problems) =>
    (choices as readonly unknown[]).includes(value)
      ? (value as T)
      : fail(problems, path, `${describe(value)} is not one of ${choices.join(', ')}`);
}

export function nullable<T>(validator: Validator<T>): Validator<T | null> {
  return (value, path, problems) => (value === null ? null : validator(value, path, problems));
}

export function array<T>(item: Validator<T>, opts: { min?: number; max?: number } = {}): Validator<T[]> {
  return (value, path, problems) => {
    if (!Array.isArray(value)) return fail(problems, path, `expected a list, got ${describe(value)}`);
    if (opts.min !== undefined && value.length < opts.min) {
      return fail(problems, path, `must have at least ${opts.min} item${opts.min === 1 ? '' : 's'}`);
    }
    if (opts.max !== undefined && value.length > opts.max) return fail(problems, path, `must have at most ${opts.max} items`);
    // Copy only when a value changed (a fallback applied): validating a record allocates nothing.
    let out: T[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const result = item(value[i], `${path}[${i}]`, problems);
      if (out === null && result !== value[i]) out = value.slice(0, i) as T[];
      if (out !== null) out.push(result);
    }
    return out ?? (value as T[]);
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A mapping of free keys to values of one kind (labels). */
export function dictionary<T>(item: Validator<T>, opts: { key?: RegExp } = {}): Validator<Record<string, T>> {
  return (value, path, problems) => {
    if (!isPlainObject(value)) return fail(problems, path, `expected a mapping, got ${describe(value)}`);
    let out: Record<string, T> | null = null;
    const entries = Object.entries(value);
    for (const [i, [k, v]] of entries.entries()) {
      if (opts.key && !opts.key.test(k)) fail(problems, `${path}.${k}`, 'is not a valid key');
      const result = item(v, `${path}.${k}`, problems);
      if (out === null && result !== v) out = Object.fromEntries(entries.slice(0, i)) as Record<string, T>;
      if (out !== null) out[k] = result;
    }
    return out ?? (value as Record<string, T>);
  };
}

/**
 * A mapping with known keys. `strict` rejects unknown keys (config: catches typos); records are
 * read leniently so a newer minor version with extra fields still validates.
 */
export function object<S extends Record<string, Field>>(
  fields: S,
  opts: { strict?: boolean } = {},
): Validator<{ [K in keyof S]: FieldValue<S[K]> }> {
  const entries = Object.entries(fields);
  return (value, path, problems) => {
    if (!isPlainObject(value)) return fail(problems, path, `expected a mapping, got ${describe(value)}`);
    // The input itself is returned unless a value changed (a fallback applied): then a copy of the
    // known keys. Validating a record allocates nothing.
    let out: Record<string, unknown> | null = null;
    for (const [i, [key, field]] of entries.entries()) {
      const at = path ? `${path}.${key}` : key;
      const given = value[key];
      let result: unknown;
      if ('optional' in field) {
        result = given !== undefined && given !== null ? field.validator(given, at, problems) : field.fallback;
      } else if (given === undefined) {
        fail(problems, at, 'is required');
      } else {
        result = field(given, at, problems);
      }
      if (out === null && result !== given) out = Object.fromEntries(entries.slice(0, i).map(([k]) => [k, value[k]]));
      if (out !== null) out[key] = result;
    }
    if (opts.strict) {
      for (const key of Object.keys(value)) {
        if (!(key in fields)) fail(problems, path ? `${path}.${key}` : key, `unknown key (known: ${Object.keys(fields).join(', ')})`);
      }
    }
    return (out ?? value) as { [K in keyof S]: FieldValue<S[K]> };
  };
}
