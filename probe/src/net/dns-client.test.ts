import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  a, aaaa, cname, mx, startDnsServer, startDohServer, txt,
  type DnsHandler, type DnsTestServer, type DohTestServer,
} from '../../../test/helpers/dns-server.ts';
import type { DnsServer } from '../config/endpoints.ts';
import { dnsQuery, type DnsQuery } from '../contract/record.ts';
import { queryDns, type QueryOptions } from './dns-client.ts';

/** Scenarios keyed by query name, so one server plays every part. */
const scenarios = new Map<string, DnsHandler>();
const on = (name: string, handler: DnsHandler) => scenarios.set(name, handler);
const dispatch: DnsHandler = (q, t) => scenarios.get(q.questions?.[0]?.name.toLowerCase() ?? '')?.(q, t);

const ctx = {
  dns: null as unknown as DnsTestServer,
  doh: null as unknown as DohTestServer,
  dohWrongName: null as unknown as DohTestServer,
  caPem: '',
  dir: '',
};
const udpServer = (): DnsServer => ({ transport: 'udp', host: '127.0.0.1', port: ctx.dns.port, label: ctx.dns.address });
const dohServer = (url = ctx.doh.url): DnsServer => ({ transport: 'doh', url, label: url });
const opts = (timeoutMs = 3000, extra: Partial<QueryOptions> = {}): QueryOptions => ({
  role: 'local',
  signal: AbortSignal.timeout(timeoutMs),
  now: () => performance.now(),
  extraCaPem: ctx.caPem,
  ...extra,
});
const ask = (name: string, type = 'A', timeoutMs = 3000) => queryDns(udpServer(), name, type, opts(timeoutMs));
const seen = (name: string) => ctx.dns.queries.filter((q) => q.packet.questions?.[0]?.name.toLowerCase() === name);

function assertValid(record: DnsQuery) {
  const problems: string[] = [];
  dnsQuery(record, 'query', problems);
  assert.equal(problems, [], 'record matches the contract');
}

/** A throwaway CA and two leaves (one for 127.0.0.1, one for another name), made with openssl. */
function makeCertificates(dir: string) {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Vantage Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  const leaf = (file: string, san: string) => {
    writeFileSync(join(dir, `${file}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    ossl('req', '-new', ...ec, '-keyout', `${file}.key`, '-out', `${file}.csr`, '-subj', '/CN=vantage-test');
    ossl('x509', '-req', '-in', `${file}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(Date.now()),
      '-days', '2', '-out', `${file}.pem`, '-extfile', `${file}.ext`);
    return { key: readFileSync(join(dir, `${file}.key`), 'utf8'), cert: readFileSync(join(dir, `${file}.pem`), 'utf8') };
  };
  return { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), ip: leaf('leaf-ip', 'IP:127.0.0.1'), other: leaf('leaf-other', 'DNS:doh.invalid') };
}

/** A UDP port with nothing listening (bound, then released). */
async function closedUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const QueryDns = suite('queryDns');

QueryDns.before(async () => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'vantage-dns-'));
  const certs = makeCertificates(ctx.dir);
  ctx.caPem = certs.caPem;
  ctx.dns = await startDnsServer(dispatch);
  ctx.doh = await startDohServer(dispatch, certs.ip);
  ctx.dohWrongName = await startDohServer(dispatch, certs.other);
});

QueryDns.after(async () => {
  await Promise.all([ctx.dns?.close(), ctx.doh?.close(), ctx.dohWrongName?.close()]);
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

QueryDns('a normal A answer: rcode, answers, ips, latency, raw bytes, server label', async () => {
  on('ok.test', (q) => ({ answers: [a(q.questions![0].name, '127.0.0.10', 60), a('ok.test', '127.0.0.11', 60)] }));
  const r = await ask('ok.test');
  assert.is(r.failure, null);
  assert.is(r.failure_detail, null);
  assert.is(r.rcode, 'NOERROR');
  assert.is(r.server, ctx.dns.address);
  assert.is(r.role, 'local');
  assert.is(r.transport, 'udp');
  assert.is(r.truncated, false);
  assert.is(r.authoritative, false);
  assert.equal(r.ips, ['127.0.0.10', '127.0.0.11']);
  assert.equal(r.answers[0], { name: 'ok.test', type: 'A', ttl: 60, data: '127.0.0.10' });
  assert.equal(r.cname_chain, []);
  assert.ok(r.latency_ms !== null && r.latency_ms >= 0 && r.latency_ms < 3000);
  const raw = dnsPacket.decode(Buffer.from(r.raw_b64!, 'base64'));
  assert.equal(raw.answers?.length, 2);
  assertValid(r);
});

QueryDns('the query has a random id, RD set, one question and EDNS0 with a 1232-byte payload', async () => {
  on('shape.test', (q) => ({ answers: [a(q.questions![0].name, '127.0.0.1')] }));
  await ask('shape.test');
  await ask('shape.test');
  const [first, second] = seen('shape.test').map((s) => s.packet);
  assert.ok(first.flag_rd);
  assert.equal(first.questions, [{ name: 'shape.test', type: 'A', class: 'IN' }]);
  const opt = first.additionals?.find((x) => x.type === 'OPT') as { udpPayloadSize: number } | undefined;
  assert.is(opt?.udpPayloadSize, 1232);
  assert.is.not(first.id, second.id, 'two queries, two ids (a 1 in 65536 chance of a false failure)');
});

QueryDns('AAAA answers and the AA bit', async () => {
  on('six.test', () => ({ authoritative: true, answers: [aaaa('six.test', '::1'), a('six.test', '127.0.0.1')] }));
  const r = await ask('six.test', 'AAAA');
  assert.is(r.failure, null);
  assert.is(r.authoritative, true);
  assert.equal(r.ips, ['::1'], 'only addresses of the asked family');
  assert.is(r.answers.length, 2);
});

QueryDns('rcodes: NXDOMAIN, SERVFAIL, REFUSED and other non-zero codes', async () => {
  on('nx.test', () => ({ rcode: 'NXDOMAIN' }));
  on('servfail.test', () => ({ rcode: 'SERVFAIL' }));
  on('refused.test', () => ({ rcode: 'REFUSED' }));
  on('notimp.test', () => ({ rcode: 'NOTIMP' }));
  const [nx, sf, rf, ni] = await Promise.all(['nx.test', 'servfail.test', 'refused.test', 'notimp.test'].map((n) => ask(n)));
  assert.equal([nx.failure, nx.rcode], ['dns_nxdomain', 'NXDOMAIN']);
  assert.equal([sf.failure, sf.rcode], ['dns_servfail', 'SERVFAIL']);
  assert.equal([rf.failure, rf.rcode], ['dns_refused', 'REFUSED']);
  assert.equal([ni.failure, ni.rcode], ['dns_rcode', 'NOTIMP']);
  assert.match(nx.failure_detail ?? '', /NXDOMAIN/);
  assert.ok(nx.latency_ms !== null, 'a valid response has a latency');
  for (const r of [nx, sf, rf, ni]) assertValid(r);
});

QueryDns('NOERROR without data: dns_no_answer for A, no failure for TXT', async () => {
  on('empty.test', () => ({}));
  const a4 = await ask('empty.test', 'A');
  const t = await ask('empty.test', 'TXT');
  assert.equal([a4.failure, a4.rcode], ['dns_no_answer', 'NOERROR']);
  assert.is(t.failure, null);
});

QueryDns('TXT and MX data as text', async () => {
  on('data.test', (q) => (q.questions![0].type === 'TXT'
    ? { answers: [txt('data.test', 'v=spf1 -all')] }
    : { answers: [mx('data.test', 'mail.data.test', 5)] }));
  const t = await ask('data.test', 'TXT');
  const m = await ask('data.test', 'MX');
  assert.is(t.answers[0].data, 'v=spf1 -all');
  assert.is(m.answers[0].data, '5 mail.data.test');
  assert.equal(m.ips, []);
});

QueryDns('truncated over UDP: retried over TCP, with partial reads', async () => {
  on('tc.test', (_q, transport) => (transport === 'udp'
    ? { truncated: true, answers: [a('tc.test', '127.0.0.99')] }
    : { answers: [a('tc.test', '127.0.0.20'), a('tc.test', '127.0.0.21')], chunkBytes: 3 }));
  const r = await ask('tc.test');
  assert.is(r.failure, null);
  assert.is(r.transport, 'tcp');
  assert.is(r.truncated, true);
  assert.equal(r.ips, ['127.0.0.20', '127.0.0.21'], 'the TCP answer is recorded');
  assert.equal(seen('tc.test').map((s) => s.transport), ['udp', 'tcp']);
  assertValid(r);
});

QueryDns('many answers: at most 100 stored (over TCP, as a real server would)', async () => {
  const many = (name: string): Answer[] => Array.from({ length: 150 }, (_, i) => a(name, `127.1.${i >> 8}.${i & 255}`));
  on('many.test', (_q, transport) => (transport === 'udp' ? { truncated: true } : { answers: many('many.test') }));
  const r = await ask('many.test');
  assert.is(r.failure, null);
  assert.is(r.answers.length, 100);
  assert.is(r.ips.length, 100);
  assert.is(dnsPacket.decode(Buffer.from(r.raw_b64!, 'base64')).answers?.length, 150, 'raw bytes keep everything');
});

QueryDns('garbage: dns_malformed with the raw bytes kept (UDP, and TCP after TC)', async () => {
  const junk = Buffer.from('this is not a DNS message at all');
  on('garbage.test', () => ({ raw: junk }));
  const tcpJunk = Buffer.concat([Buffer.from([0, junk.length]), junk]);
  on('tcp-garbage.test', (_q, transport) => (transport === 'udp' ? { truncated: true } : { raw: tcpJunk }));
  const u = await ask('garbage.test');
  assert.is(u.failure, 'dns_malformed');
  assert.is(u.raw_b64, junk.toString('base64'));
  assert.is(u.rcode, null);
  assertValid(u);
  const t = await ask('tcp-garbage.test');
  assert.is(t.failure, 'dns_malformed');
  assert.is(t.transport, 'tcp');
  assert.is(t.raw_b64, junk.toString('base64'));
});

QueryDns('TCP closed mid-message: dns_malformed; closed silently: connection_reset', async () => {
  on('tcp-cut.test', (_q, transport) => (transport === 'udp' ? { truncated: true } : { raw: Buffer.from([0, 200, 1, 2, 3]), close: true }));
  on('tcp-shut.test', (_q, transport) => (transport === 'udp' ? { truncated: true } : { raw: Buffer.alloc(0), close: true }));
  const cut = await ask('tcp-cut.test');
  assert.is(cut.failure, 'dns_malformed');
  const shut = await ask('tcp-shut.test');
  assert.is(shut.failure, 'connection_reset');
});

QueryDns('slow or silent: the signal ends it with timeout', async () => {
  on('slow.test', () => ({ delayMs: 5000, answers: [a('slow.test', '127.0.0.1')] }));
  on('silent.test', () => null);
  const started = performance.now();
  const [slow, silent] = await Promise.all([ask('slow.test', 'A', 300), ask('silent.test', 'A', 300)]);
  assert.is(slow.failure, 'timeout');
  assert.is(silent.failure, 'timeout');
  assert.is(slow.latency_ms, null);
  assert.ok(performance.now() - started < 2000, 'ended by the signal');
  assertValid(slow);
});

QueryDns('an aborted signal: timeout without sending', async () => {
  on('aborted.test', () => ({}));
  const r = await queryDns(udpServer(), 'aborted.test', 'A', opts(1000, { signal: AbortSignal.abort() }));
  assert.is(r.failure, 'timeout');
  assert.is(seen('aborted.test').length, 0);
});

QueryDns('one retransmission when the first datagram gets no answer', async () => {
  let count = 0;
  on('retry.test', () => (++count === 1 ? null : { answers: [a('retry.test', '127.0.0.5')] }));
  const r = await ask('retry.test', 'A', 4000);
  assert.is(r.failure, null);
  assert.equal(r.ips, ['127.0.0.5']);
  const ids = seen('retry.test').map((s) => s.packet.id);
  assert.is(ids.length, 2);
  assert.is(ids[0], ids[1], 'the retransmission repeats the query');
  assert.ok(r.latency_ms! >= 900, 'latency counts from the first send');
});

QueryDns('foreign ids are ignored; only foreign ids by the deadline: dns_id_mismatch', async () => {
  const foreign = (q: DecodedPacket) => ((q.id ?? 0) + 1) & 0xffff;
  on('spoof-then-real.test', (q) => [{ id: foreign(q), answers: [a('spoof-then-real.test', '127.0.0.66')] },
    { delayMs: 20, answers: [a('spoof-then-real.test', '127.0.0.7')] }]);
  on('spoof-only.test', (q) => ({ id: foreign(q), answers: [a('spoof-only.test', '127.0.0.66')] }));
  const real = await ask('spoof-then-real.test');
  assert.is(real.failure, null);
  assert.equal(real.ips, ['127.0.0.7']);
  const only = await ask('spoof-only.test', 'A', 400);
  assert.is(only.failure, 'dns_id_mismatch');
  assert.equal(only.ips, []);
});

QueryDns('question mismatch: another name, another type; names compare case-insensitively', async () => {
  on('wrong-name.test', () => ({ questions: [{ name: 'elsewhere.test', type: 'A', class: 'IN' }], answers: [a('elsewhere.test', '127.0.0.1')] }));
  on('wrong-type.test', () => ({ questions: [{ name: 'wrong-type.test', type: 'MX', class: 'IN' }] }));
  on('case.test', () => ({ questions: [{ name: 'CASE.Test', type: 'A', class: 'IN' }], answers: [a('Case.TEST', '127.0.0.8')] }));
  assert.is((await ask('wrong-name.test')).failure, 'dns_question_mismatch');
  assert.is((await ask('wrong-type.test')).failure, 'dns_question_mismatch');
  const c = await ask('case.test');
  assert.is(c.failure, null);
  assert.equal(c.ips, ['127.0.0.8']);
});

QueryDns('answers only for another name: dns_bad_answer, kept in answers, never in ips', async () => {
  on('bad.test', () => ({ answers: [a('victim.test', '127.0.0.66')] }));
  on('mixed.test', () => ({ answers: [a('mixed.test', '127.0.0.9'), a('victim.test', '127.0.0.66')] }));
  const bad = await ask('bad.test');
  assert.is(bad.failure, 'dns_bad_answer');
  assert.is(bad.answers.length, 1);
  assert.equal(bad.ips, []);
  const mixed = await ask('mixed.test');
  assert.is(mixed.failure, null);
  assert.equal(mixed.ips, ['127.0.0.9'], 'off-chain records are not addresses for the name');
});

QueryDns('CNAME chains: followed case-insensitively, loop-safe, at most 16 deep', async () => {
  on('www.chain.test', () => ({
    answers: [cname('www.chain.test', 'Edge.CDN.test'), cname('edge.cdn.test', 'node.cdn.test'), a('NODE.cdn.test', '127.0.0.30'), a('other.test', '127.0.0.66')],
  }));
  on('loop.test', () => ({ answers: [cname('loop.test', 'loop2.test'), cname('loop2.test', 'loop.test')] }));
  const deep = Array.from({ length: 20 }, (_, i) => cname(i === 0 ? 'deep.test' : `d${i}.test`, `d${i + 1}.test`));
  on('deep.test', () => ({ answers: [...deep, a('d20.test', '127.0.0.31')] }));

  const chain = await ask('www.chain.test');
  assert.is(chain.failure, null);
  assert.equal(chain.cname_chain, ['Edge.CDN.test', 'node.cdn.test']);
  assert.equal(chain.ips, ['127.0.0.30']);
  const loop = await ask('loop.test');
  assert.equal(loop.cname_chain, ['loop2.test']);
  assert.is(loop.failure, 'dns_no_answer');
  const d = await ask('deep.test');
  assert.is(d.cname_chain.length, 16);
  assert.equal(d.ips, [], 'the address past depth 16 is not followed');
});

QueryDns('nothing listening: connection_refused from the ICMP error', async () => {
  const port = await closedUdpPort();
  const r = await queryDns({ transport: 'udp', host: '127.0.0.1', port, label: `127.0.0.1:${port}` }, 'x.test', 'A', opts(2000));
  assert.is(r.failure, 'connection_refused');
});

QueryDns('DoH: POST application/dns-message with id 0, verified with the extra CA', async () => {
  on('doh.test', () => ({ answers: [a('doh.test', '127.0.0.40')] }));
  const r = await queryDns(dohServer(), 'doh.test', 'A', opts(3000, { role: 'reference' }));
  assert.is(r.failure, null, r.failure_detail ?? '');
  assert.is(r.transport, 'doh');
  assert.is(r.role, 'reference');
  assert.is(r.server, ctx.doh.url);
  assert.equal(r.ips, ['127.0.0.40']);
  const q = ctx.doh.queries.find((s) => s.packet.questions?.[0]?.name === 'doh.test');
  assert.is(q?.packet.id, 0);
  assertValid(r);
});

QueryDns('DoH failures: HTTP status, TLS verification, oversized body, garbage, silence', async () => {
  on('doh-500.test', () => ({ httpStatus: 500 }));
  on('doh-big.test', () => ({ raw: Buffer.alloc(70_000, 1) }));
  on('doh-junk.test', () => ({ raw: Buffer.from('<html>blocked</html>') }));
  on('doh-silent.test', () => null);
  on('doh-tls.test', () => ({ answers: [a('doh-tls.test', '127.0.0.1')] }));
  const status = await queryDns(dohServer(), 'doh-500.test', 'A', opts());
  assert.is(status.failure, 'http_status');
  assert.match(status.failure_detail ?? '', /500/);
  const unknownCa = await queryDns(dohServer(), 'doh-tls.test', 'A', opts(3000, { extraCaPem: null }));
  assert.is(unknownCa.failure, 'tls_cert_invalid', unknownCa.failure_detail ?? '');
  const wrongName = await queryDns(dohServer(ctx.dohWrongName.url), 'doh-tls.test', 'A', opts());
  assert.is(wrongName.failure, 'tls_cert_invalid', wrongName.failure_detail ?? '');
  const big = await queryDns(dohServer(), 'doh-big.test', 'A', opts());
  assert.is(big.failure, 'body_too_large');
  const junk = await queryDns(dohServer(), 'doh-junk.test', 'A', opts());
  assert.is(junk.failure, 'dns_malformed');
  assert.is(junk.raw_b64, Buffer.from('<html>blocked</html>').toString('base64'));
  const silent = await queryDns(dohServer(), 'doh-silent.test', 'A', opts(300));
  assert.is(silent.failure, 'timeout');
  for (const r of [status, unknownCa, big, junk, silent]) assertValid(r);
});

QueryDns('a name that cannot be encoded, or a bad server port, is a failure, not a throw', async () => {
  const r = await ask(`${'x'.repeat(64)}.test`);
  assert.is(r.failure, 'unknown_failure');
  const badPort = await queryDns({ transport: 'udp', host: '127.0.0.1', port: 0, label: '127.0.0.1:0' }, 'x.test', 'A', opts(1000));
  assert.ok(badPort.failure !== null);
});

QueryDns.run();
