/**
 * API keys: a JSON file (mode 0600) that every API replica reads, provisioned with
 * `vantage api keys create|list|revoke`. A key belongs to one tenant and has a scope (read, or
 * write which includes read). The secret serves as a bearer token (`Authorization: Bearer
 * <id>.<secret>`) and as the HMAC key of signed requests, so the server must hold it: it lives in
 * this file, not in ClickHouse, where dashboards and scripts read the schema.
 *
 * The running API re-reads the file when it changes (checked at most once a second), so keys are
 * added and revoked without a restart; a file that stops parsing keeps the last good key set.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { ID_PATTERN } from '@vantage/probe';
import { array, nullable, object, oneOf, string, text } from '../../../probe/src/contract/shape.ts';

export const SCOPES = ['read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  secret: string;
  tenant: string;
  scope: Scope;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

export class KeysFileError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid keys file ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'KeysFileError';
  }
}

export const KEY_ID_PATTERN = /^vk_[0-9a-f]{16}$/;
export const TENANT_PATTERN = ID_PATTERN;

const keyShape = object(
  {
    id: string({ pattern: KEY_ID_PATTERN, hint: 'vk_ and 16 hex digits' }),
    secret: string({ pattern: /^[A-Za-z0-9_-]{32,128}$/, hint: '32 to 128 characters of A-Z a-z 0-9 _ -' }),
    tenant: string({ pattern: TENANT_PATTERN, hint: 'letters, digits, "-" and "_", at most 64' }),
    scope: oneOf(SCOPES),
    name: text,
    created_at: text,
    revoked_at: nullable(text),
  },
  { strict: true },
);
const fileShape = object({ version: oneOf([1] as const), keys: array(keyShape) }, { strict: true });

export function parseKeys(source: string, file: string): ApiKey[] {
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch (err) {
    throw new KeysFileError(file, [`not JSON: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  const parsed = fileShape(raw, '', problems);
  if (problems.length === 0) {
    const seen = new Set<string>();
    parsed.keys.forEach((k, i) => {
      if (seen.has(k.id)) problems.push(`keys[${i}].id: ${k.id} appears twice`);
      seen.add(k.id);
    });
  }
  if (problems.length > 0) throw new KeysFileError(file, problems);
  return parsed.keys as ApiKey[];
}

/** The keys in `file`; a missing file holds none. */
export function readKeys(file: string): ApiKey[] {
  if (!existsSync(file)) return [];
  return parseKeys(readFileSync(file, 'utf8'), file);
}

/** Writes the keys atomically (temp file + rename), readable by the owner only. */
export function writeKeys(file: string, keys: readonly ApiKey[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export interface NewKey {
  tenant: string;
  scope: Scope;
  name?: string;
}

/** Adds a key to the file and returns it (the only time its secret is shown). */
export function createKey(file: string, opts: NewKey, now: () => number = Date.now): ApiKey {
  if (!TENANT_PATTERN.test(opts.tenant)) throw new KeysFileError(file, [`tenant: ${JSON.stringify(opts.tenant)} is not valid (letters, digits, "-" and "_", at most 64)`]);
  const keys = readKeys(file);
  const key: ApiKey = {
    id: `vk_${randomBytes(8).toString('hex')}`,
    secret: randomBytes(32).toString('base64url'),
    tenant: opts.tenant,
    scope: opts.scope,
    name: opts.name ?? '',
    created_at: new Date(now()).toISOString(),
    revoked_at: null,
  };
  writeKeys(file, [...keys, key]);
  return key;
}

/** Marks a key revoked (kept in the file for the record). False when there is no such key. */
export function revokeKey(file: string, id: string, now: () => number = Date.now): boolean {
  const keys = readKeys(file);
  const key = keys.find((k) => k.id === id);
  if (!key) return false;
  if (key.revoked_at === null) key.revoked_at = new Date(now()).toISOString();
  writeKeys(file, keys);
  return true;
}

/** Looks keys up for the server; re-reads the file when it changed. */
export class KeyRing {
  #keys = new Map<string, ApiKey>();
  #stamp = '';
  #checkedAt = -Infinity;

  private constructor(
    private readonly file: string | null,
    private readonly opts: { now: () => number; checkEveryMs: number; onReloadError?: (err: Error) => void },
  ) {}

  /** Keys from a file (throws KeysFileError when it exists and is invalid). */
  static fromFile(file: string, opts: { now?: () => number; checkEveryMs?: number; onReloadError?: (err: Error) => void } = {}): KeyRing {
    const ring = new KeyRing(file, { now: opts.now ?? Date.now, checkEveryMs: opts.checkEveryMs ?? 1000, onReloadError: opts.onReloadError });
    ring.#load();
    return ring;
  }

  /** A fixed set of keys (embedding, tests). */
  static fromKeys(keys: readonly ApiKey[]): KeyRing {
    const ring = new KeyRing(null, { now: Date.now, checkEveryMs: Infinity });
    ring.#keys = new Map(keys.map((k) => [k.id, k]));
    return ring;
  }

  /** The live (not revoked) key with this id, or null. */
  find(id: string): ApiKey | null {
    this.#maybeReload();
    const key = this.#keys.get(id);
    return key && key.revoked_at === null ? key : null;
  }

  get size(): number {
    this.#maybeReload();
    return [...this.#keys.values()].filter((k) => k.revoked_at === null).length;
  }

  #maybeReload(): void {
    if (this.file === null) return;
    const now = this.opts.now();
    if (now - this.#checkedAt < this.opts.checkEveryMs) return;
    this.#checkedAt = now;
    try {
      this.#load();
    } catch (err) {
      this.opts.onReloadError?.(err as Error);
    }
  }

  #load(): void {
    const file = this.file!;
    let stamp = 'missing';
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      // missing: no keys
    }
    if (stamp === this.#stamp) return;
    const keys = readKeys(file);
    this.#keys = new Map(keys.map((k) => [k.id, k]));
    this.#stamp = stamp;
  }
}
