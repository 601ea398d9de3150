/**
 * A small client of the query API that signs every request (or sends the key as a bearer
 * token): how to call the API from TypeScript, and what the tests use.
 *
 *   const api = new VantageClient({ baseUrl: 'http://127.0.0.1:8080', keyId, secret });
 *   const { status, body } = await api.get('/v1/availability', { target: 'shop.example', group_by: 'region_isp' });
 */
import { randomBytes } from 'node:crypto';
import { HEADERS, rfc3986, sign } from './signing.ts';

export type QueryValue = string | number | boolean | undefined | null;
export type Query = Record<string, QueryValue> | readonly (readonly [string, string])[];

export interface ClientOptions {
  baseUrl: string;
  keyId: string;
  secret: string;
  /** 'signature' (default) signs each request; 'bearer' sends the key as a bearer token. */
  auth?: 'signature' | 'bearer';
  /** Clock in ms (tests use it to send stale timestamps). */
  now?: () => number;
  /** Nonce source (tests use it to replay a nonce). */
  nonce?: () => string;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when it is not JSON, or null when empty. */
  body: T;
}

/** Name/value pairs of a query, in the order given (undefined and null values left out). */
export function queryPairs(query: Query | undefined): [string, string][] {
  if (!query) return [];
  if (Array.isArray(query)) return query.map(([k, v]) => [k, v]);
  return Object.entries(query as Record<string, QueryValue>)
    .filter((e): e is [string, string | number | boolean] => e[1] !== undefined && e[1] !== null)
    .map(([k, v]) => [k, String(v)]);
}

/** The headers that sign one request. */
export function signatureHeaders(o: {
  keyId: string;
  secret: string;
  method: string;
  path: string;
  query: readonly (readonly [string, string])[];
  body: string | null;
  timestamp: number;
  nonce: string;
}): Record<string, string> {
  const timestamp = String(o.timestamp);
  return {
    [HEADERS.key]: o.keyId,
    [HEADERS.timestamp]: timestamp,
    [HEADERS.nonce]: o.nonce,
    [HEADERS.signature]: sign(o.secret, { method: o.method, path: o.path, query: o.query, timestamp, nonce: o.nonce, body: o.body }),
  };
}

export class VantageClient {
  constructor(private readonly opts: ClientOptions) {}

  get<T = any>(path: string, query?: Query): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, { query });
  }

  post<T = any>(path: string, body: unknown): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { body });
  }

  put<T = any>(path: string, body: unknown): Promise<ApiResponse<T>> {
    return this.request<T>('PUT', path, { body });
  }

  delete<T = any>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('DELETE', path, {});
  }

  /**
   * One request. `path` is sent as given (percent-encode path segments yourself, e.g. a verdict id
   * with encodeURIComponent); `rawBody` sends exact bytes instead of JSON.stringify(body).
   */
  async request<T = any>(method: string, path: string, o: { query?: Query; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<ApiResponse<T>> {
    const pairs = queryPairs(o.query);
    const search = pairs.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
    const body = o.rawBody ?? (o.body === undefined ? null : JSON.stringify(o.body));
    const now = this.opts.now ?? Date.now;
    const auth =
      this.opts.auth === 'bearer'
        ? { authorization: `Bearer ${this.opts.keyId}.${this.opts.secret}` }
        : signatureHeaders({
            keyId: this.opts.keyId,
            secret: this.opts.secret,
            method,
            path,
            query: pairs,
            body,
            timestamp: Math.floor(now() / 1000),
            nonce: this.opts.nonce ? this.opts.nonce() : randomBytes(16).toString('base64url'),
          });
    const res = await fetch(`${this.opts.baseUrl.replace(/\/$/, '')}${path}${search ? `?${search}` : ''}`, {
      method,
      headers: { ...auth, ...(body !== null ? { 'content-type': 'application/json' } : {}), ...o.headers },
      ...(body !== null ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text.length === 0 ? null : text;
    if (text.length > 0 && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }
}
