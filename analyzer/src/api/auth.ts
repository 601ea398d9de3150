/**
 * Who is calling: an API key as a bearer token, or a request signed with the key's secret
 * (signing.ts). Pure apart from the nonce cache it records accepted nonces in.
 */
import { ApiError } from './errors.ts';
import { KEY_ID_PATTERN, type KeyRing, type Scope } from './keys.ts';
import type { NonceCache } from './nonce-cache.ts';
import { HEADERS, NONCE_PATTERN, sign, signatureMatches, stringToSign } from './signing.ts';
import { timingSafeEqual } from 'node:crypto';

export interface Principal {
  tenant: string;
  keyId: string;
  scope: Scope;
  via: 'bearer' | 'signature';
}

export interface AuthRequest {
  method: string;
  /** The path as sent, without the query. */
  path: string;
  /** The raw query string, without "?". */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body bytes (null without a body). */
  body: Uint8Array | null;
}

export interface AuthDeps {
  keys: KeyRing;
  nonces: NonceCache;
  now: () => number;
  /** Allowed distance between the request's timestamp and the server's clock. */
  skewSeconds: number;
}

/** Why a request was refused (a metrics label). */
export type AuthFailure = 'missing' | 'malformed' | 'unknown_key' | 'bad_secret' | 'bad_signature' | 'stale' | 'replayed' | 'busy';

export class AuthError extends ApiError {
  constructor(readonly reason: AuthFailure, status: number, message: string, problems: string[] = []) {
    super(status, status === 503 ? 'unavailable' : 'unauthorized', message, problems);
  }
}

function header(req: AuthRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function authenticate(req: AuthRequest, deps: AuthDeps): Principal {
  const authorization = header(req, 'authorization');
  const signed = Object.values(HEADERS).filter((h) => header(req, h) !== undefined);
  if (authorization !== undefined && signed.length > 0) {
    throw new AuthError('malformed', 401, 'send either an Authorization header or a signature (X-Vantage-*), not both');
  }
  if (authorization !== undefined) return bearer(authorization, deps);
  if (signed.length > 0) return signature(req, deps);
  throw new AuthError(
    'missing',
    401,
    'credentials required: "Authorization: Bearer <key id>.<secret>", or a signed request (X-Vantage-Key, X-Vantage-Timestamp, X-Vantage-Nonce, X-Vantage-Signature; see analyzer/README.md)',
  );
}

function bearer(value: string, deps: AuthDeps): Principal {
  const m = /^Bearer (vk_[0-9a-f]{16})\.([A-Za-z0-9_-]{1,256})$/.exec(value.trim());
  if (!m) throw new AuthError('malformed', 401, 'Authorization: expected "Bearer <key id>.<secret>"');
  const key = deps.keys.find(m[1]!);
  // The same answer for an unknown key and a wrong secret: nothing to learn from the difference.
  if (!key) throw new AuthError('unknown_key', 401, 'unknown, revoked or wrong API key');
  const a = Buffer.from(key.secret);
  const b = Buffer.from(m[2]!);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new AuthError('bad_secret', 401, 'unknown, revoked or wrong API key');
  return { tenant: key.tenant, keyId: key.id, scope: key.scope, via: 'bearer' };
}

function signature(req: AuthRequest, deps: AuthDeps): Principal {
  const missing = Object.values(HEADERS).filter((h) => header(req, h) === undefined);
  if (missing.length > 0) throw new AuthError('malformed', 401, `a signed request needs every X-Vantage-* header; missing: ${missing.join(', ')}`);
  const keyId = header(req, HEADERS.key)!;
  const timestamp = header(req, HEADERS.timestamp)!;
  const nonce = header(req, HEADERS.nonce)!;
  const presented = header(req, HEADERS.signature)!;
  const problems: string[] = [];
  if (!KEY_ID_PATTERN.test(keyId)) problems.push(`${HEADERS.key}: not a key id (vk_ and 16 hex digits)`);
  if (!/^\d{1,12}$/.test(timestamp)) problems.push(`${HEADERS.timestamp}: not Unix seconds`);
  if (!NONCE_PATTERN.test(nonce)) problems.push(`${HEADERS.nonce}: 16 to 64 characters of A-Z a-z 0-9 _ -`);
  if (!/^[0-9a-f]{64}$/.test(presented)) problems.push(`${HEADERS.signature}: 64 lowercase hex digits (HMAC-SHA256)`);
  if (problems.length > 0) throw new AuthError('malformed', 401, problems.join('; '), problems);

  const nowS = Math.floor(deps.now() / 1000);
  const skew = Number(timestamp) - nowS;
  if (Math.abs(skew) > deps.skewSeconds) {
    throw new AuthError('stale', 401, `${HEADERS.timestamp} ${timestamp} is ${Math.abs(skew)} s ${skew < 0 ? 'behind' : 'ahead of'} the server's clock (${nowS}); at most ${deps.skewSeconds} s allowed`);
  }
  const key = deps.keys.find(keyId);
  if (!key) throw new AuthError('unknown_key', 401, 'unknown, revoked or wrong API key');
  const parts = { method: req.method, path: req.path, query: req.query, timestamp, nonce, body: req.body };
  if (!signatureMatches(sign(key.secret, parts), presented)) {
    // The string the server signed helps a client find its mistake; it holds no secret.
    throw new AuthError('bad_signature', 401, 'signature does not match', [`the server signed: ${JSON.stringify(stringToSign(parts))}`]);
  }
  const remembered = deps.nonces.remember(`${key.id}:${nonce}`, (Number(timestamp) + deps.skewSeconds + 1) * 1000, deps.now());
  if (remembered === 'replayed') throw new AuthError('replayed', 401, `${HEADERS.nonce} ${nonce} was already used: a replayed request`);
  if (remembered === 'full') throw new AuthError('busy', 503, 'too many signed requests in the skew window; try again shortly');
  return { tenant: key.tenant, keyId: key.id, scope: key.scope, via: 'signature' };
}

/** 403 unless the principal's scope allows `needed` (write includes read). */
export function requireScope(p: Principal, needed: Scope): void {
  if (needed === 'write' && p.scope !== 'write') {
    throw new ApiError(403, 'forbidden', `key ${p.keyId} is read-only; this request needs a key with scope write`);
  }
}
