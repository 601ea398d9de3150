/**
 * HTTP/HTTPS test servers on a loopback IP (port 0 unless told) with scripted routes: status,
 * headers, body (given or generated), redirects, and known delays before the headers and between
 * the headers and the body, so timing phases can be checked. Every request is logged with the
 * Host header and the TLS SNI it came with.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { KeyPair } from './test-ca.ts';

export interface RouteResponse {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** A generated body of this many bytes, streamed (for caps and huge bodies). */
  bodyBytes?: number;
  /** Wait before sending the status line and headers. */
  headerDelayMs?: number;
  /** Wait between the headers and the body. */
  bodyDelayMs?: number;
  /** Sets Location; the status defaults to 302. */
  location?: string;
}
export type Route = RouteResponse | ((req: IncomingMessage) => RouteResponse);

export interface WebServerOptions {
  host?: string;
  port?: number;
  tls?: KeyPair;
  /** By path without the query; other paths get 404. */
  routes: Record<string, Route>;
}

export interface SeenRequest {
  method: string;
  path: string;
  host: string | null;
  /** The SNI of the TLS connection (null for plain HTTP or none sent). */
  servername: string | null;
  headers: IncomingMessage['headers'];
}

export interface WebServer {
  host: string;
  port: number;
  /** "http(s)://host:port" */
  url: string;
  requests: SeenRequest[];
  /** Open connections right now (to check that clients closed theirs). */
  connections(): Promise<number>;
  close(): Promise<void>;
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1';
  const requests: SeenRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => (timers.delete(t), fn()), ms);
    timers.add(t);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '/',
      host: req.headers.host ?? null,
      servername: ((req.socket as TLSSocket).servername as string | false | undefined) || null,
      headers: req.headers,
    });
    const route = opts.routes[path];
    const spec: RouteResponse = route === undefined ? { status: 404, body: 'not found' } : typeof route === 'function' ? route(req) : route;
    const body = spec.body === undefined ? null : Buffer.from(spec.body);
    const length = body ? body.length : spec.bodyBytes ?? 0;
    later(spec.headerDelayMs ?? 0, () => {
      if (res.destroyed) return;
      res.statusCode = spec.status ?? (spec.location ? 302 : 200);
      if (spec.location) res.setHeader('location', spec.location);
      res.setHeader('content-length', length);
      for (const [name, value] of Object.entries(spec.headers ?? {})) res.setHeader(name, value);
      res.flushHeaders();
      later(spec.bodyDelayMs ?? 0, () => {
        if (res.destroyed) return;
        if (body) res.end(req.method === 'HEAD' ? undefined : body);
        else streamBytes(res, req.method === 'HEAD' ? 0 : length);
      });
    });
  };

  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handle) : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => (server.off('error', reject), resolve()));
  });
  const port = (server.address() as { port: number }).port;
  const hostPart = isIP(host) === 6 ? `[${host}]` : host;
  return {
    host,
    port,
    url: `${opts.tls ? 'https' : 'http'}://${hostPart}:${port}`,
    requests,
    connections: () => new Promise((resolve) => server.getConnections((_err, n) => resolve(n ?? 0))),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes `total` bytes of "a" with backpressure, stopping if the client goes away. */
function streamBytes(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let left = total;
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      if (!res.write(part)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}
