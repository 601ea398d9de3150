/**
 * One DNS question to one server: UDP (TCP when the answer is truncated) or DoH (RFC 8484 POST),
 * recorded in the wire contract's shape. Never throws: every failure, including a hostile or
 * broken response, is a failure code on the record.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect, isIPv6, type Socket } from 'node:net';
import dnsPacket, { type DecodedPacket, type RecordType } from 'dns-packet';
import { Agent, request } from 'undici';
import type { DnsServer } from '../config/endpoints.ts';
import type { FailureCode } from '../contract/failure.ts';
import type { DnsQuery } from '../contract/record.ts';
import { classifyError, describeError } from './classify-error.ts';
import { trustedCas } from './tls-info.ts';

export interface QueryOptions {
  role: 'local' | 'reference';
  signal: AbortSignal;
  now: () => number;
  extraCaPem: string | null;
}

/** No UDP answer after this long: send the query once more (same id, so a late answer still counts). */
const RETRANSMIT_MS = 1000;
/** The EDNS0 payload size recommended by DNS Flag Day 2020 (no IP fragmentation). */
const UDP_PAYLOAD_SIZE = 1232;
const MAX_ANSWERS = 100;
const MAX_CHAIN = 16;
const DOH_BODY_LIMIT = 64 * 1024;
/** A TCP server streaming foreign-id messages is not given the whole timeout. */
const MAX_FOREIGN_TCP_MESSAGES = 16;

type Answer = DnsQuery['answers'][number];
type Exchange =
  | { ok: true; packet: DecodedPacket; raw: Buffer }
  | { ok: false; failure: FailureCode; detail: string; raw: Buffer | null };

export async function queryDns(server: DnsServer, name: string, type: string, opts: QueryOptions): Promise<DnsQuery> {
  const record: DnsQuery = {
    server: server.label,
    role: opts.role,
    transport: server.transport === 'doh' ? 'doh' : 'udp',
    type,
    rcode: null,
    failure: null,
    failure_detail: null,
    latency_ms: null,
    truncated: false,
    authoritative: false,
    answers: [],
    cname_chain: [],
    ips: [],
    raw_b64: null,
  };
  const failed = (failure: FailureCode, detail: string) => ({ ...record, failure, failure_detail: detail });
  if (opts.signal.aborted) return failed('timeout', 'aborted before the query was sent');
  if (!isEncodableName(name)) return failed('unknown_failure', `${JSON.stringify(name)} is not a DNS name`);

  // RFC 8484 asks DoH clients for id 0 (cache friendly); over UDP the id is the spoofing defence.
  const id = server.transport === 'doh' ? 0 : randomInt(0, 0x10000);
  let query: Buffer;
  try {
    query = encodeQuery(name, type, id);
  } catch (err) {
    return failed('unknown_failure', `cannot encode the query: ${describeError(err)}`);
  }

  // Latency runs from the first send to the answer recorded (through a retransmission or TCP retry).
  const start = opts.now();
  let reply: Exchange;
  try {
    if (server.transport === 'doh') {
      reply = await exchangeDoh(server.url, query, opts.extraCaPem, opts.signal);
    } else {
      reply = await exchangeUdp(server.host, server.port, query, id, opts.signal);
      if (reply.ok && reply.packet.flag_tc) {
        record.transport = 'tcp';
        record.truncated = true;
        reply = await exchangeTcp(server.host, server.port, query, id, opts.signal);
      }
    }
  } catch (err) {
    reply = failure(err); // e.g. a bad port in a hand-made DnsServer: still a record, not a throw
  }
  if (!reply.ok) return { ...failed(reply.failure, reply.detail), raw_b64: reply.raw?.toString('base64') ?? null };

  const facts = interpret(reply.packet, name, type.toUpperCase());
  return {
    ...record,
    ...facts,
    latency_ms: opts.now() - start,
    raw_b64: reply.raw.toString('base64'),
  };
}

function encodeQuery(name: string, type: string, id: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type as RecordType, name, class: 'IN' }],
    additionals: [
      { type: 'OPT', name: '.', udpPayloadSize: UDP_PAYLOAD_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
    ],
  });
}

// --- reading a response ---------------------------------------------------------------------

/** Checks the response against the question and turns it into the record's fields. */
function interpret(packet: DecodedPacket, qname: string, qtype: string) {
  const rcode = rcodeOf(packet);
  const records = (packet.answers ?? []).filter((a) => a.type !== 'OPT').map(toAnswer);
  const cnameChain = followChain(qname, records);
  const onChain = new Set([norm(qname), ...cnameChain.map(norm)]);
  const addressTypes = qtype === 'A' || qtype === 'AAAA' ? [qtype] : ['A', 'AAAA'];
  const ips = records.filter((r) => addressTypes.includes(r.type) && onChain.has(norm(r.name))).map((r) => r.data);
  const facts = {
    rcode,
    authoritative: packet.flag_aa,
    answers: records.slice(0, MAX_ANSWERS),
    cname_chain: cnameChain,
    ips: [...new Set(ips)].slice(0, MAX_ANSWERS),
    failure: null as FailureCode | null,
    failure_detail: null as string | null,
  };
  const fail = (failure: FailureCode, detail: string) => ({ ...facts, failure, failure_detail: detail });

  const asked = `${qname} ${qtype}`;
  const q = packet.questions ?? [];
  // FORMERR/REFUSED answers may legally omit the question; a NOERROR one may not.
  if (q.length > 1 || (q.length === 0 && rcode === 'NOERROR')) return fail('dns_question_mismatch', `response carries ${q.length} questions`);
  if (q.length === 1 && (norm(q[0].name) !== norm(qname) || q[0].type !== qtype || (q[0].class ?? 'IN') !== 'IN')) {
    return fail('dns_question_mismatch', `asked ${asked}, response is for ${q[0].name} ${q[0].type} ${q[0].class ?? ''}`.trim());
  }
  const byRcode: Record<string, FailureCode> = { NXDOMAIN: 'dns_nxdomain', SERVFAIL: 'dns_servfail', REFUSED: 'dns_refused' };
  if (rcode !== 'NOERROR') return fail(byRcode[rcode] ?? 'dns_rcode', `${rcode} for ${asked}`);
  if (records.length > 0 && !records.some((r) => onChain.has(norm(r.name)))) {
    return fail('dns_bad_answer', `${records.length} answers, none for ${qname} or its CNAME chain (first: ${records[0].name})`);
  }
  if (addressTypes.length === 1 && facts.ips.length === 0) return fail('dns_no_answer', `NOERROR without an address for ${asked}`);
  return facts;
}

/** The rcode name, including the EDNS extended bits when a server sets them. */
function rcodeOf(packet: DecodedPacket): string {
  const low = (packet.flags ?? 0) & 0xf;
  const opt = (packet.additionals ?? []).find((a) => a.type === 'OPT') as { extendedRcode?: number } | undefined;
  const full = ((opt?.extendedRcode ?? 0) << 4) | low;
  if (full > 15) return full === 16 ? 'BADVERS' : `RCODE_${full}`;
  // @types/dns-packet lacks `rcode`, which decode sets.
  return (packet as DecodedPacket & { rcode?: string }).rcode ?? `RCODE_${low}`;
}

/** CNAME targets followed from the query name, case-insensitively, stopping at a loop. */
function followChain(qname: string, records: Answer[]): string[] {
  const chain: string[] = [];
  const seen = new Set([norm(qname)]);
  let current = norm(qname);
  while (chain.length < MAX_CHAIN) {
    const next = records.find((r) => r.type === 'CNAME' && norm(r.name) === current);
    if (!next || seen.has(norm(next.data))) break;
    chain.push(next.data);
    current = norm(next.data);
    seen.add(current);
  }
  return chain;
}

function toAnswer(a: dnsPacket.Answer): Answer {
  const { name, type, ttl, data } = a as { name: string; type: string; ttl?: number; data?: unknown };
  return { name, type, ttl: ttl ?? 0, data: dataText(type, data) };
}

/** Record data as text, close to zone-file presentation for the common types. */
function dataText(type: string, data: unknown): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('hex');
  const d = data as Record<string, unknown>;
  switch (type) {
    case 'TXT':
      return (Array.isArray(data) ? data : [data]).map((part) => Buffer.from(part as Buffer).toString('utf8')).join('');
    case 'MX':
      return `${d.preference ?? 0} ${d.exchange}`;
    case 'SOA':
      return [d.mname, d.rname, d.serial, d.refresh, d.retry, d.expire, d.minimum].join(' ');
    case 'SRV':
      return `${d.priority ?? 0} ${d.weight ?? 0} ${d.port} ${d.target}`;
    default:
      return JSON.stringify(data, (_k, v: unknown) => {
        const b = v as { type?: unknown; data?: unknown };
        return b && b.type === 'Buffer' && Array.isArray(b.data) ? Buffer.from(b.data as number[]).toString('hex') : v;
      }) ?? '';
  }
}

const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');

function isEncodableName(name: string): boolean {
  const n = name.replace(/^\.|\.$/g, '');
  return Buffer.byteLength(n) <= 253 && (n === '' || n.split('.').every((l) => l.length > 0 && Buffer.byteLength(l) <= 63));
}

/** Our response (decoded), a final failure, or null for a well-formed response with a foreign id. */
function accept(raw: Buffer, id: number): Exchange | null {
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(raw);
  } catch (err) {
    return { ok: false, failure: 'dns_malformed', detail: `undecodable response: ${(err as Error).message}`, raw };
  }
  if (packet.id !== id) return null;
  if (!packet.flag_qr) return { ok: false, failure: 'dns_malformed', detail: 'not a response (QR bit clear)', raw };
  return { ok: true, packet, raw };
}

const failure = (err: unknown): Exchange => ({ ok: false, failure: classifyError(err), detail: describeError(err), raw: null });
const noAnswer = (foreign: number, why: string): Exchange =>
  foreign > 0
    ? { ok: false, failure: 'dns_id_mismatch', detail: `${foreign} responses with a foreign id, none with ours`, raw: null }
    : { ok: false, failure: 'timeout', detail: why, raw: null };

// --- transports -----------------------------------------------------------------------------

function exchangeUdp(host: string, port: number, query: Buffer, id: number, signal: AbortSignal): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    let foreign = 0;
    let done = false;
    let retransmit: NodeJS.Timeout | undefined;
    const finish = (result: Exchange) => {
      if (done) return;
      done = true;
      clearTimeout(retransmit);
      signal.removeEventListener('abort', onAbort);
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve(result);
    };
    const onAbort = () => finish(noAnswer(foreign, 'no response over UDP'));
    const send = () => socket.send(query, (err) => err && finish(failure(err)));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish(failure(err)));
    socket.on('message', (msg) => {
      const result = accept(msg, id);
      if (result) finish(result);
      else foreign++;
    });
    // A connected socket only receives datagrams from the server's address, and gets ICMP errors.
    try {
      socket.connect(port, host, () => {
        if (done) return;
        send();
        retransmit = setTimeout(send, RETRANSMIT_MS);
      });
    } catch (err) {
      finish(failure(err));
    }
  });
}

function exchangeTcp(host: string, port: number, query: Buffer, id: number, signal: AbortSignal): Promise<Exchange> {
  return new Promise((resolve) => {
    let socket: Socket;
    try {
      socket = tcpConnect({ host, port, noDelay: true });
    } catch (err) {
      return resolve(failure(err));
    }
    let buffered = Buffer.alloc(0);
    let foreign = 0;
    let done = false;
    const finish = (result: Exchange) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish(noAnswer(foreign, 'no response over TCP'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => {
      const frame = Buffer.alloc(2 + query.length);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      socket.write(frame);
    });
    socket.on('data', (chunk: Buffer) => {
      // A 2-byte length caps a message at 65535 bytes; complete messages are taken out at once.
      buffered = Buffer.concat([buffered, chunk]);
      while (!done && buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        const message = Buffer.from(buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        const result = accept(message, id);
        if (result) return finish(result);
        if (++foreign >= MAX_FOREIGN_TCP_MESSAGES) return finish(noAnswer(foreign, ''));
      }
    });
    socket.on('error', (err) => finish(failure(err)));
    socket.on('close', () => {
      if (buffered.length > 0) finish({ ok: false, failure: 'dns_malformed', detail: 'TCP connection closed mid-message', raw: buffered });
      else if (foreign > 0) finish(noAnswer(foreign, ''));
      else finish({ ok: false, failure: 'connection_reset', detail: 'TCP connection closed without a response', raw: null });
    });
  });
}

async function exchangeDoh(url: string, query: Buffer, extraCaPem: string | null, signal: AbortSignal): Promise<Exchange> {
  const agent = new Agent({ connect: { ca: trustedCas(extraCaPem) } });
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      body: query,
      signal,
      dispatcher: agent,
    });
    res.body.on('error', () => undefined); // destroying the body early emits an abort error
    if (res.statusCode !== 200) {
      res.body.destroy();
      return { ok: false, failure: 'http_status', detail: `DoH answered HTTP ${res.statusCode}`, raw: null };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > DOH_BODY_LIMIT) {
        res.body.destroy();
        return { ok: false, failure: 'body_too_large', detail: `DoH body over ${DOH_BODY_LIMIT} bytes`, raw: null };
      }
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks);
    return accept(raw, 0) ?? noAnswer(1, '');
  } catch (err) {
    return failure(err);
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
