/**
 * Signed requests (pure; shared by the server and the client helper). The pattern of Tencent
 * TC3-HMAC-SHA256 and Alibaba's SignatureNonce: the client signs method, path, sorted query,
 * timestamp, nonce and the body's hash with its secret; the server recomputes the signature,
 * refuses a timestamp outside the skew window and a nonce it has seen (nonce-cache.ts).
 *
 * String to sign (lines joined by "\n", no trailing newline):
 *   VANTAGE-HMAC-SHA256
 *   <METHOD>                     upper case
 *   <path>                       exactly as sent, without the query (percent-encoding kept)
 *   <canonical query>            pairs decoded, sorted by name then value, re-encoded (RFC 3986), joined by &
 *   <timestamp>                  Unix seconds, as in X-Vantage-Timestamp
 *   <nonce>                      as in X-Vantage-Nonce
 *   <hex SHA-256 of the body>    of the exact bytes sent (the empty string's hash without a body)
 * Signature: lowercase hex HMAC-SHA256(key = secret as UTF-8, message = string to sign).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNING_ALGORITHM = 'VANTAGE-HMAC-SHA256';
export const HEADERS = {
  key: 'x-vantage-key',
  timestamp: 'x-vantage-timestamp',
  nonce: 'x-vantage-nonce',
  signature: 'x-vantage-signature',
} as const;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** RFC 3986 encoding: encodeURIComponent plus the characters it leaves alone (!'()*). */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical form of a query: from the raw query string (without "?") or from pairs. */
export function canonicalQuery(query: string | readonly (readonly [string, string])[]): string {
  const pairs = typeof query === 'string' ? [...new URLSearchParams(query)] : [...query];
  return pairs
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export function bodyHash(body: string | Uint8Array | null | undefined): string {
  return createHash('sha256').update(body ?? '').digest('hex');
}

export interface SignedParts {
  method: string;
  /** The path as sent, without the query. */
  path: string;
  /** The raw query string (without "?") or name/value pairs. */
  query: string | readonly (readonly [string, string])[];
  timestamp: string;
  nonce: string;
  body: string | Uint8Array | null | undefined;
}

export function stringToSign(p: SignedParts): string {
  return [SIGNING_ALGORITHM, p.method.toUpperCase(), p.path, canonicalQuery(p.query), p.timestamp, p.nonce, bodyHash(p.body)].join('\n');
}

export function sign(secret: string, p: SignedParts): string {
  return createHmac('sha256', secret).update(stringToSign(p)).digest('hex');
}

/** Constant-time comparison of a presented signature with the expected one. */
export function signatureMatches(expected: string, presented: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(presented, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
