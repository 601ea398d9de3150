/**
 * Opens a TCP connection to one IP (and optionally a TLS session with SNI) while timing the
 * `connect` and `tls` phases. Certificates are not enforced here: the handshake completes, the
 * verification verdict is recorded, and the caller decides (a hijack check must see a bad cert).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { TlsInfo } from '../contract/record.ts';
import { tlsInfoOf, trustedCas } from './tls-info.ts';

export interface DialOptions {
  ip: string;
  port: number;
  /** Set for TLS: the name sent as SNI and verified against the certificate. */
  tls?: { serverName: string; extraCaPem: string | null; alpn?: string[] };
  signal: AbortSignal;
  now: () => number;
}

export interface Dialed {
  socket: Socket | TLSSocket;
  connectMs: number;
  tlsMs: number | null;
  tls: TlsInfo | null;
}

/** Resolves with the open socket; rejects with the socket error (classify it with classifyError). */
export async function dial(opts: DialOptions): Promise<Dialed> {
  opts.signal.throwIfAborted();
  const start = opts.now();
  const raw = tcpConnect({ host: opts.ip, port: opts.port, noDelay: true });
  const connectMs = await settle(raw, 'connect', opts.signal).then(() => opts.now() - start);
  if (!opts.tls) return { socket: raw, connectMs, tlsMs: null, tls: null };

  const tlsStart = opts.now();
  const secure = tlsConnect({
    socket: raw,
    // `host` is the name the certificate is verified against (an IP literal is checked against
    // the certificate's IP SANs); SNI is only sent for names.
    host: opts.tls.serverName,
    servername: isIpLiteral(opts.tls.serverName) ? undefined : opts.tls.serverName,
    ca: trustedCas(opts.tls.extraCaPem),
    rejectUnauthorized: false,
    ALPNProtocols: opts.tls.alpn,
  });
  await settle(secure, 'secureConnect', opts.signal);
  const tlsMs = opts.now() - tlsStart;
  const info = tlsInfoOf(secure);
  return { socket: secure, connectMs, tlsMs, tls: info };
}

function isIpLiteral(name: string): boolean {
  return /^[\d.]+$/.test(name) || name.includes(':');
}

/** Waits for `event` on a socket; on error or abort the socket is destroyed and the promise rejects. */
function settle(socket: Socket, event: 'connect' | 'secureConnect', signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => fail(signal.reason ?? new DOMException('aborted', 'AbortError'));
    const fail = (err: unknown) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const ok = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      socket.off(event, ok);
      socket.off('error', fail);
      signal.removeEventListener('abort', onAbort);
    };
    socket.once(event, ok);
    socket.once('error', fail);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
