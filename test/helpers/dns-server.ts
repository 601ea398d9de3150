/**
 * Real DNS servers for tests, on loopback and an ephemeral port: UDP and TCP on the same port
 * (startDnsServer), and DoH over HTTPS (startDohServer). A handler sees each decoded query and
 * says what to send back — a normal answer, an rcode, garbage, silence, a delay, a foreign id,
 * a different question, TC set — so hostile servers are one line each.
 */
import { createSocket } from 'node:dgram';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Socket } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Question } from 'dns-packet';

export type Transport = 'udp' | 'tcp' | 'doh';

const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** What to send for one query. Every field is optional: `{}` is an empty NOERROR answer. */
export interface Reply {
  answers?: Answer[];
  authorities?: Answer[];
  rcode?: keyof typeof RCODES | number;
  /** Set the AA bit. */
  authoritative?: boolean;
  /** Set TC (the client should retry over TCP). */
  truncated?: boolean;
  /** Replace the echoed id (a foreign id) or question (an answer to another question). */
  id?: number;
  questions?: Question[];
  /** Send these bytes as they are instead of a packet (no TCP framing is added). */
  raw?: Uint8Array;
  /** Wait this long before sending. */
  delayMs?: number;
  /** TCP: write the framed reply in pieces of this many bytes, so the client sees partial reads. */
  chunkBytes?: number;
  /** TCP: close the connection after writing. */
  close?: boolean;
  /** DoH: the HTTP status (default 200). */
  httpStatus?: number;
}

/** Nothing (null/undefined) is silence; an array sends several replies in order. */
export type HandlerResult = Reply | Reply[] | null | undefined;
export type DnsHandler = (query: DecodedPacket, transport: Transport) => HandlerResult | Promise<HandlerResult>;

export interface SeenQuery {
  transport: Transport;
  packet: DecodedPacket;
}

export interface DnsTestServer {
  port: number;
  /** "127.0.0.1:<port>", as a DnsServer label / config string. */
  address: string;
  queries: SeenQuery[];
  close(): Promise<void>;
}

export interface DohTestServer {
  port: number;
  url: string;
  queries: SeenQuery[];
  close(): Promise<void>;
}

// --- records ---------------------------------------------------------------------------------

export const a = (name: string, ip: string, ttl = 300): Answer => ({ type: 'A', name, ttl, data: ip });
export const aaaa = (name: string, ip: string, ttl = 300): Answer => ({ type: 'AAAA', name, ttl, data: ip });
export const cname = (name: string, target: string, ttl = 300): Answer => ({ type: 'CNAME', name, ttl, data: target });
export const txt = (name: string, text: string, ttl = 300): Answer => ({ type: 'TXT', name, ttl, data: text });
export const mx = (name: string, exchange: string, preference = 10, ttl = 300): Answer => ({
  type: 'MX', name, ttl, data: { preference, exchange },
});

/** The reply as bytes: id and question echoed unless overridden; rcode in the low 4 flag bits. */
export function encodeReply(query: DecodedPacket, reply: Reply): Buffer {
  if (reply.raw) return Buffer.from(reply.raw);
  const rcode = typeof reply.rcode === 'number' ? reply.rcode : RCODES[reply.rcode ?? 'NOERROR'];
  let flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (rcode & 0xf);
  if (reply.authoritative) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
  if (reply.truncated) flags |= dnsPacket.TRUNCATED_RESPONSE;
  return dnsPacket.encode({
    type: 'response',
    id: reply.id ?? query.id,
    flags,
    questions: reply.questions ?? query.questions,
    answers: reply.answers ?? [],
    authorities: reply.authorities ?? [],
  });
}

function frame(bytes: Buffer): Buffer {
  const out = Buffer.alloc(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

// --- servers ---------------------------------------------------------------------------------

/** Calls the handler, normalising its result; a throwing handler is reported and stays silent. */
async function replies(handler: DnsHandler, query: DecodedPacket, transport: Transport): Promise<Reply[]> {
  try {
    const result = await handler(query, transport);
    return result == null ? [] : Array.isArray(result) ? result : [result];
  } catch (err) {
    console.error('dns test handler threw:', err);
    return [];
  }
}

/** Timers that close() must clear, so a delayed reply never outlives the server. */
function timerSet() {
  const timers = new Set<NodeJS.Timeout>();
  return {
    wait(ms: number) {
      return new Promise<boolean>((resolve) => {
        if (ms <= 0) return resolve(true);
        const t = setTimeout(() => {
          timers.delete(t);
          resolve(true);
        }, ms);
        timers.add(t);
      });
    },
    clear() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

export async function startDnsServer(handler: DnsHandler): Promise<DnsTestServer> {
  const queries: SeenQuery[] = [];
  const timers = timerSet();
  const connections = new Set<Socket>();
  let closed = false;

  const makeUdp = () => {
    const socket = createSocket('udp4');
    socket.on('message', async (msg, rinfo) => {
      let query: DecodedPacket;
      try {
        query = dnsPacket.decode(msg);
      } catch {
        return;
      }
      queries.push({ transport: 'udp', packet: query });
      for (const reply of await replies(handler, query, 'udp')) {
        await timers.wait(reply.delayMs ?? 0);
        if (closed) return;
        socket.send(encodeReply(query, reply), rinfo.port, rinfo.address);
      }
    });
    return socket;
  };

  const tcp = createTcpServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', async (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        let query: DecodedPacket;
        try {
          query = dnsPacket.decode(message);
        } catch {
          continue;
        }
        queries.push({ transport: 'tcp', packet: query });
        for (const reply of await replies(handler, query, 'tcp')) {
          await timers.wait(reply.delayMs ?? 0);
          const bytes = reply.raw ? Buffer.from(reply.raw) : frame(encodeReply(query, reply));
          const step = reply.chunkBytes ?? bytes.length;
          for (let at = 0; at < bytes.length && !socket.destroyed; at += step) {
            socket.write(bytes.subarray(at, at + step));
            if (step < bytes.length) await timers.wait(2);
          }
          if (reply.close) socket.end();
        }
      }
    });
  });

  // UDP takes an ephemeral port first; TCP then binds the same number (retry if it is taken).
  let udp = makeUdp();
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve());
    });
    const port = udp.address().port;
    const listening = await new Promise<boolean>((resolve) => {
      const onError = () => resolve(false);
      tcp.once('error', onError);
      tcp.listen(port, '127.0.0.1', () => {
        tcp.off('error', onError);
        resolve(true);
      });
    });
    if (listening) break;
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (attempt >= 20) throw new Error('no port free for both UDP and TCP');
    udp = makeUdp();
  }

  const port = udp.address().port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    queries,
    async close() {
      if (closed) return;
      closed = true;
      timers.clear();
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/** An RFC 8484 server (POST application/dns-message) on https://127.0.0.1:<port>/dns-query. */
export async function startDohServer(handler: DnsHandler, tls: { key: string; cert: string }): Promise<DohTestServer> {
  const queries: SeenQuery[] = [];
  const timers = timerSet();
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(Buffer.concat(chunks));
    } catch {
      res.writeHead(400).end();
      return;
    }
    queries.push({ transport: 'doh', packet: query });
    const [reply] = await replies(handler, query, 'doh');
    if (!reply) return; // silence: the client's signal ends the request
    await timers.wait(reply.delayMs ?? 0);
    res.writeHead(reply.httpStatus ?? 200, { 'content-type': 'application/dns-message' });
    res.end(encodeReply(query, reply));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `https://127.0.0.1:${port}/dns-query`,
    queries,
    async close() {
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
