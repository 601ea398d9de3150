/**
 * The query API as a fastify server over an already-opened ClickHouse handle (the caller owns the
 * handle and the schema: run `migrate` first). `buildApi` returns the app without listening
 * (tests use `app.inject`); `startApi` listens on host:port (port 0 = any free port).
 *
 * Every /v1 request: authenticate (bearer key or signature over the raw body) → scope → validate
 * query, path and body → handler. Errors are JSON `{error, message, problems?}`; bad input is
 * always a 4xx naming what is wrong; a 5xx means the storage or the server failed.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ClickHouse } from '@vantage/collector';
import { silentLogger, type Logger } from '../../../probe/src/run/log.ts';
import { authenticate, AuthError, requireScope, type AuthDeps, type Principal } from './auth.ts';
import { registerDashboard } from './dashboard-routes.ts';
import { ApiError, badRequest, notFound } from './errors.ts';
import type { KeyRing } from './keys.ts';
import { ApiMetrics } from './metrics.ts';
import { NonceCache } from './nonce-cache.ts';
import { openApiDocument } from './openapi.ts';
import { parseParams } from './params.ts';
import { StorageError } from './query.ts';
import type { ApiContext, RouteSpec } from './route.ts';
import { ALARM_ROUTES } from './routes-alarms.ts';
import { DATA_ROUTES } from './routes-data.ts';
import { TASK_ROUTES } from './routes-tasks.ts';
import { TaskStore } from './tasks.ts';

export interface ApiOptions {
  /** An open ClickHouse handle (chDB or server) whose schema is migrated. */
  ch: ClickHouse;
  keys: KeyRing;
  log?: Logger;
  now?: () => number;
  /** Allowed clock difference of signed requests (default 300 s). */
  skewSeconds?: number;
  /** A probe is offline when silent this long (default 45 s: three missed heartbeats). */
  offlineAfterS?: number;
  /** Routes added to the standard ones (documented in /openapi.json too). */
  extraRoutes?: readonly RouteSpec[];
  /** Serve the dashboard at / (default true). */
  dashboard?: boolean;
}

export interface Api {
  app: FastifyInstance;
  metrics: ApiMetrics;
  routes: readonly RouteSpec[];
}

export const DEFAULT_SKEW_SECONDS = 300;
const BODY_LIMIT = 64 * 1024;

/** The standard /v1 routes. */
export const ROUTES: readonly RouteSpec[] = [...DATA_ROUTES, ...ALARM_ROUTES, ...TASK_ROUTES];

export async function buildApi(opts: ApiOptions): Promise<Api> {
  const log = opts.log ?? silentLogger;
  const now = opts.now ?? Date.now;
  const nonces = new NonceCache();
  const metrics = new ApiMetrics({ nonces: () => nonces.size, keys: () => opts.keys.size });
  const auth: AuthDeps = { keys: opts.keys, nonces, now, skewSeconds: opts.skewSeconds ?? DEFAULT_SKEW_SECONDS };
  const api: ApiContext = { ch: opts.ch, tasks: new TaskStore(opts.ch, now), now, offlineAfterS: opts.offlineAfterS ?? 45 };
  const routes = [...ROUTES, ...(opts.extraRoutes ?? [])];

  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 512, querystringParser: parseQueryString },
    return503OnClosing: true,
  });
  // Bodies stay raw bytes until the caller is authenticated: a signature covers the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.duration.observe({ route }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((err, req, reply) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500) {
      log.error('request failed', { method: req.method, url: req.url.slice(0, 200), error: err instanceof StorageError ? err.detail : (err as Error).message });
    }
    void reply.code(apiError.status).header('content-type', 'application/json; charset=utf-8').send(apiError.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(notFound(`no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}; the API is described at /openapi.json`).toJSON());
  });

  for (const spec of routes) {
    app.route({
      method: spec.method,
      url: spec.path,
      handler: async (req, reply) => {
        const who = authorize(req, spec, auth, metrics);
        const query = parseParams(spec.query, req.query as Record<string, unknown>);
        const params = parseParams(spec.params, req.params as Record<string, unknown>, 'path');
        const body = readBody(req, spec);
        const result = await spec.handle({ query, params, body, who, api });
        void reply.code(result.status ?? 200);
        return result.body === undefined ? reply.send() : reply.send(result.body);
      },
    });
  }

  const document = openApiDocument(routes);
  app.get('/openapi.json', async () => document);
  app.get('/healthz', async (_req, reply) => {
    const ok = await opts.ch.client.ping().then((r) => r.success, () => false);
    void reply.code(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'degraded', clickhouse: ok ? 'ok' : 'unreachable', engine: opts.ch.engine, keys: opts.keys.size };
  });
  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  if (opts.dashboard !== false) registerDashboard(app);
  await app.ready();
  return { app, metrics, routes };
}

export interface RunningApi extends Api {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Builds the API and listens on host:port (0 = a free port). */
export async function startApi(opts: ApiOptions & { host: string; port: number }): Promise<RunningApi> {
  const built = await buildApi(opts);
  await built.app.listen({ host: opts.host, port: opts.port });
  const address = built.app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  return { ...built, url: `http://${host}:${port}`, port, close: () => built.app.close() };
}

function authorize(req: FastifyRequest, spec: RouteSpec, auth: AuthDeps, metrics: ApiMetrics): Principal {
  const url = req.raw.url ?? '/';
  const q = url.indexOf('?');
  try {
    const who = authenticate(
      {
        method: req.method,
        path: q < 0 ? url : url.slice(0, q),
        query: q < 0 ? '' : url.slice(q + 1),
        headers: req.headers,
        body: Buffer.isBuffer(req.body) ? req.body : null,
      },
      auth,
    );
    requireScope(who, spec.scope);
    return who;
  } catch (err) {
    metrics.authFailures.inc({ reason: err instanceof AuthError ? err.reason : 'forbidden' });
    throw err;
  }
}

function readBody(req: FastifyRequest, spec: RouteSpec): unknown {
  const raw = Buffer.isBuffer(req.body) ? req.body : null;
  if (!spec.body) {
    if (raw && raw.length > 0) throw badRequest(['body: this request takes no body']);
    return undefined;
  }
  if (!raw || raw.length === 0) throw badRequest(['body: a JSON object is required (Content-Type: application/json)']);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw badRequest([`body: not valid JSON (${(err as Error).message})`]);
  }
}

/** name → value, or an array of values when a name is repeated (params.ts refuses those). */
export function parseQueryString(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of new URLSearchParams(query)) {
    const seen = out[k];
    out[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
  }
  return out;
}

const FASTIFY_CODES: Record<number, ApiError['code']> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  414: 'bad_request',
  415: 'unsupported_media_type',
  431: 'bad_request',
};

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const status = (err as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = status === 413 ? `body: larger than ${BODY_LIMIT} bytes` : status === 415 ? 'body: send JSON with Content-Type: application/json' : (err as Error).message;
    return new ApiError(status, FASTIFY_CODES[status] ?? 'bad_request', message);
  }
  return new ApiError(500, 'internal', 'internal error');
}

