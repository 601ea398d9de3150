/**
 * One HTTP exchange with a URL over a pinned IP and port (undici Client whose connector is
 * dial.ts): Host and SNI come from the URL while the socket goes to the IP, which is what both the
 * http check (after its own resolution) and hijack evidence (through a suspect IP) need.
 * Phases are measured, not derived: connect and tls by the dial, processing from the moment the
 * request is written to the response headers, transfer from the headers to the end of the body
 * (or the cap). Never throws for network trouble: the result carries a failure code instead.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { Client, type Dispatcher } from 'undici';
import type { FailureCode } from '../contract/failure.ts';
import type { EvidenceFetch, HttpKeys, TlsInfo } from '../contract/record.ts';
import { classifyError, describeError } from './classify-error.ts';
import { dial } from './dial.ts';

export interface FetchPageRequest {
  url: URL;
  /** The address to connect to, and its port. */
  ip: string;
  port: number;
  method?: string;
  headers?: Record<string, string>;
  /** Body bytes read at most; the rest is not downloaded. */
  bodyLimitBytes: number;
  /** How many of the bytes read to keep as text (for HTML analysis or body assertions). */
  textLimitBytes: number;
  /** Refuse to send the request when the certificate does not verify for the URL's host. */
  requireVerifiedTls: boolean;
  extraCaPem: string | null;
  signal: AbortSignal;
  now: () => number;
}

export interface PageTimings {
  connect?: number;
  tls?: number;
  processing?: number;
  transfer?: number;
}

export interface FetchedPage {
  failure: FailureCode | null;
  failureDetail: string | null;
  status: number | null;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** "1.1" / "1.0" from the status line. */
  httpVersion: string | null;
  bodyBytes: number;
  bodyTruncated: boolean;
  /** Of the bytes read; null when no response arrived. */
  sha256: string | null;
  /** The first textLimitBytes bytes read, as UTF-8. */
  text: string;
  tls: TlsInfo | null;
  timings: PageTimings;
}

/** The response facts both the http check and hijack evidence record, in the records' field names. */
export function pageFacts(page: FetchedPage): Pick<HttpKeys & EvidenceFetch, 'status' | 'body_bytes' | 'body_truncated' | 'sha256' | 'content_type'> {
  return {
    status: page.status,
    body_bytes: page.bodyBytes,
    body_truncated: page.bodyTruncated,
    sha256: page.sha256,
    content_type: page.headers['content-type'] ?? null,
  };
}

export async function fetchPage(req: FetchPageRequest): Promise<FetchedPage> {
  const page: FetchedPage = {
    failure: null, failureDetail: null, status: null, headers: {}, httpVersion: null, bodyBytes: 0,
    bodyTruncated: false, sha256: null, text: '', tls: null, timings: {},
  };
  const isHttps = req.url.protocol === 'https:';
  const serverName = req.url.hostname.replace(/^\[|\]$/g, '');
  const sockets = new Set<Socket>();
  let certRefused = false;

  // undici calls this to open its connection; we ignore its target and dial the pinned IP.
  const connect = (_opts: unknown, callback: (...args: [null, Socket] | [Error, null]) => void) => {
    dial({
      ip: req.ip,
      port: req.port,
      tls: isHttps ? { serverName, extraCaPem: req.extraCaPem, alpn: ['http/1.1'] } : undefined,
      signal: req.signal,
      now: req.now,
    }).then(
      (dialed) => {
        sockets.add(dialed.socket);
        page.timings.connect = dialed.connectMs;
        if (dialed.tlsMs !== null) page.timings.tls = dialed.tlsMs;
        page.tls = dialed.tls;
        if (req.requireVerifiedTls && page.tls && !page.tls.verified) {
          certRefused = true;
          dialed.socket.destroy();
          callback(new Error(`certificate for ${serverName} not accepted: ${page.tls.error}`), null);
          return;
        }
        callback(null, dialed.socket);
      },
      (err: Error) => callback(err, null),
    );
  };

  let client: Client | null = null;
  try {
    req.signal.throwIfAborted();
    // The signal bounds the exchange, so undici's own timers are off; pipelining 0 = one request,
    // then "connection: close".
    client = new Client(req.url.origin, { connect, headersTimeout: 0, bodyTimeout: 0, pipelining: 0 });
    await exchange(client, req, page, sockets);
  } catch (err) {
    const cause = req.signal.aborted ? req.signal.reason : err;
    page.failure = certRefused ? 'tls_cert_invalid' : classifyError(cause);
    page.failureDetail = certRefused ? `${serverName}: ${page.tls?.error ?? 'not verified'}` : describeError(cause);
  } finally {
    await client?.destroy().catch(() => undefined);
    for (const socket of sockets) socket.destroy();
  }
  return page;
}

/** Sends the request and reads the response into `page`; rejects with the transport error. */
function exchange(client: Client, req: FetchPageRequest, page: FetchedPage, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let sentAt = 0;
    let headersAt: number | null = null;
    let controller: Dispatcher.DispatchController | null = null;
    let settled = false;

    // Before the request is written there is no controller yet: closing the client fails it.
    const onAbort = () => {
      if (controller) controller.abort(req.signal.reason);
      else client.destroy(req.signal.reason as Error).catch(() => undefined);
    };
    req.signal.addEventListener('abort', onAbort, { once: true });
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      req.signal.removeEventListener('abort', onAbort);
      if (headersAt !== null) {
        // Whatever was read counts, even when the body was cut short.
        page.timings.transfer = req.now() - headersAt;
        page.sha256 = hash.digest('hex');
        page.text = Buffer.concat(kept).toString('utf8');
      }
      if (err) reject(err);
      else resolve();
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        controller = ctrl;
        sentAt = req.now();
        // The status line is not exposed by undici; peek at the first bytes (undici keeps
        // reading in paused mode, so a 'data' listener only observes what it reads).
        for (const socket of sockets) {
          socket.once('data', (chunk: Buffer) => {
            const m = /^HTTP\/(\d(?:\.\d)?) /.exec(chunk.subarray(0, 16).toString('latin1'));
            if (m) page.httpVersion = m[1];
          });
        }
      },
      onResponseStart(_ctrl, status, headers) {
        if (status < 200) return; // 1xx informational: the real response follows
        headersAt = req.now();
        page.timings.processing = headersAt - sentAt;
        page.status = status;
        page.headers = flattenHeaders(headers);
      },
      onResponseData(ctrl, chunk) {
        if (settled) return;
        const room = req.bodyLimitBytes - page.bodyBytes;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        page.bodyBytes += part.length;
        hash.update(part);
        if (keptBytes < req.textLimitBytes) {
          const keep = part.subarray(0, req.textLimitBytes - keptBytes);
          kept.push(keep);
          keptBytes += keep.length;
        }
        if (chunk.length > room) {
          page.bodyTruncated = true;
          finish();
          ctrl.abort(new Error('body cap reached')); // stop downloading; the client is closed next
        }
      },
      onResponseEnd() {
        finish();
      },
      onResponseError(_ctrl, err) {
        finish(err);
      },
    };

    client.dispatch(
      {
        origin: req.url.origin,
        path: `${req.url.pathname}${req.url.search}`,
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: req.headers ?? {},
      },
      handler,
    );
  });
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
