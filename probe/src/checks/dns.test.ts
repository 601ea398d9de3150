import { createServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { a, aaaa, startDnsServer, txt, type DnsHandler, type DnsTestServer } from '../../../test/helpers/dns-server.ts';
import type { DnsTask, EvidenceSettings } from '../config/config.ts';
import type { DnsServer } from '../config/endpoints.ts';
import { dnsKeys, type DnsQuery } from '../contract/record.ts';
import type { CheckContext } from './check.ts';
import { checkDns, findUnexpected } from './dns.ts';

/** Names tell the servers what to do: "hijack." gets a different address locally than from the reference. */
const honest: DnsHandler = (q) => {
  const { name, type } = q.questions![0];
  if (name.startsWith('nx.')) return { rcode: 'NXDOMAIN' };
  if (name.startsWith('silent.')) return null;
  if (name.startsWith('v4only.') && type !== 'A') return {};
  if (type === 'TXT') return { answers: [txt(name, 'hello')] };
  return { answers: type === 'A' ? [a(name, '127.0.0.1')] : [aaaa(name, '::1')] };
};
const hijacking: DnsHandler = (q, t) => {
  const { name, type } = q.questions![0];
  if (name.startsWith('hijack.') && type === 'A') return { answers: [a(name, '127.0.0.2')] };
  return honest(q, t);
};

const servers = {
  local: null as unknown as DnsTestServer,
  local2: null as unknown as DnsTestServer,
  failing: null as unknown as DnsTestServer,
  reference: null as unknown as DnsTestServer,
};
let closedPort = 0;
const asServer = (s: DnsTestServer): DnsServer => ({ transport: 'udp', host: '127.0.0.1', port: s.port, label: s.address });
const context = (resolvers: DnsTestServer[], timeoutMs = 3000): CheckContext => ({
  signal: AbortSignal.timeout(timeoutMs),
  now: () => performance.now(),
  probe: { id: 'test-probe', region: 'lab', isp: 'loopback', asn: null, labels: {} },
  resolvers: resolvers.map(asServer),
  extraCaPem: null,
});
const evidenceSettings = (): EvidenceSettings => ({ path: '/', httpPort: closedPort, httpsPort: closedPort, bodyLimitBytes: 1024 * 1024 });
function task(target: string, dns: Partial<DnsTask['dns']> = {}): DnsTask {
  return {
    id: 'dns-test',
    kind: 'dns',
    target,
    schedule: '* * * * *',
    timeoutMs: 3000,
    dns: {
      types: ['A'],
      references: [asServer(servers.reference)],
      evidence: null,
      expect: { ips: [], cidrs: [], cnames: [], asns: [], script_origins: [] },
      ...dns,
    },
  };
}
function assertValidKeys(keys: unknown) {
  const problems: string[] = [];
  dnsKeys(keys, 'keys', problems);
  assert.equal(problems, [], 'keys match the contract');
}

const CheckDns = suite('checkDns');

CheckDns.before(async () => {
  servers.local = await startDnsServer(hijacking);
  servers.local2 = await startDnsServer(honest);
  servers.failing = await startDnsServer(() => ({ rcode: 'NXDOMAIN' }));
  servers.reference = await startDnsServer(honest);
  // A TCP port with nothing listening: evidence fetches (once implemented) fail fast on loopback.
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  closedPort = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
});
CheckDns.after(async () => {
  await Promise.all(Object.values(servers).map((s) => s?.close()));
});

CheckDns('every local resolver and every reference, for every type, in parallel', async () => {
  const out = await checkDns(task('both.test', { types: ['A', 'AAAA'] }), context([servers.local, servers.local2]));
  assert.is(out.failure, null);
  assert.is(out.failureDetail, null);
  assert.is(out.keys.name, 'both.test');
  const q = out.keys.queries;
  assert.equal(q.map((x) => [x.role, x.server, x.type]), [
    ['local', servers.local.address, 'A'], ['local', servers.local.address, 'AAAA'],
    ['local', servers.local2.address, 'A'], ['local', servers.local2.address, 'AAAA'],
    ['reference', servers.reference.address, 'A'], ['reference', servers.reference.address, 'AAAA'],
  ]);
  assert.ok(q.every((x) => x.failure === null));
  assert.is(out.keys.evidence, null, 'the task did not ask for evidence');
  assert.ok(typeof out.timings.resolve === 'number' && out.timings.resolve >= 0 && out.timings.resolve < 3000);
  assertValidKeys(out.keys);
});

CheckDns('one answered type is enough; non-address types count on-name answers', async () => {
  const v4 = await checkDns(task('v4only.test', { types: ['A', 'AAAA'] }), context([servers.local2]));
  assert.is(v4.failure, null);
  assert.is(v4.keys.queries[1].failure, 'dns_no_answer');
  const t = await checkDns(task('text.test', { types: ['TXT'] }), context([servers.local2]));
  assert.is(t.failure, null);
});

CheckDns('a failing local resolver: its first failure, naming the resolver', async () => {
  const out = await checkDns(task('ok.test'), context([servers.local2, servers.failing]));
  assert.is(out.failure, 'dns_nxdomain');
  assert.ok(out.failureDetail?.includes(servers.failing.address), out.failureDetail ?? '');
  const refs = out.keys.queries.filter((q) => q.role === 'reference');
  assert.ok(refs.length === 1 && refs[0].failure === null, 'references do not decide the outcome');
});

CheckDns('the first failing local resolver decides; a silent one times out', async () => {
  const out = await checkDns(task('silent.test'), context([servers.local2, servers.failing], 400));
  assert.is(out.failure, 'timeout');
  assert.ok(out.failureDetail?.includes(servers.local2.address), out.failureDetail ?? '');
  assert.ok(out.timings.resolve! >= 350, 'resolve lasts until the last local query ended');
});

CheckDns('no local resolver: dns_no_resolver', async () => {
  const out = await checkDns(task('ok.test'), context([]));
  assert.is(out.failure, 'dns_no_resolver');
  assert.equal(out.keys.queries.map((q) => q.role), ['reference']);
});

CheckDns('evidence: gathered only when asked; a shared IP is fetched when nothing is unexpected', async () => {
  const asked = await checkDns(task('hijack.test', { evidence: evidenceSettings() }), context([servers.local]));
  assert.is(asked.failure, null);
  assert.equal(asked.keys.queries[0].ips, ['127.0.0.2']);
  assert.ok(Array.isArray(asked.keys.evidence), 'asked: evidence is a list');
  for (const e of asked.keys.evidence ?? []) assert.ok(['127.0.0.2', '127.0.0.1'].includes(e.ip), e.ip);
  assertValidKeys(asked.keys);

  const notAsked = await checkDns(task('hijack.test'), context([servers.local]));
  assert.is(notAsked.keys.evidence, null);

  // Consistent DNS: the page is fetched through the answer IP the reference gave too (role
  // reference), over http and https, so HTTP-path tampering can be seen.
  const clean = await checkDns(task('clean.test', { evidence: evidenceSettings() }), context([servers.local]));
  assert.equal(clean.keys.evidence?.map((e) => [e.ip, e.role, e.url.split(':')[0], e.failure]), [
    ['127.0.0.1', 'reference', 'http', 'connection_refused'],
    ['127.0.0.1', 'reference', 'https', 'connection_refused'],
  ]);
  assertValidKeys(clean.keys);
  // Only expected IPs (none shared with the reference): nothing to fetch.
  const expected = await checkDns(
    task('hijack.test', { evidence: evidenceSettings(), expect: { ips: ['127.0.0.2'], cidrs: [], cnames: [], asns: [], script_origins: [] } }),
    context([servers.local]),
  );
  assert.equal(expected.keys.evidence, [], 'an expected IP is not unexpected');
});

CheckDns.run();

const FindUnexpected = suite('findUnexpected');
const query = (role: 'local' | 'reference', ips: string[]): DnsQuery => ({
  server: '127.0.0.1:53', role, transport: 'udp', type: 'A', rcode: 'NOERROR', failure: null, failure_detail: null,
  latency_ms: 1, truncated: false, authoritative: false, answers: [], cname_chain: [], ips, raw_b64: null,
});

const none = { ips: [], cidrs: [] };

FindUnexpected('local IPs that neither a reference nor the task expects, deduplicated', () => {
  const r = findUnexpected(
    [query('local', ['192.0.2.1', '198.51.100.7', '198.51.100.7']), query('local', ['203.0.113.9'])],
    [query('reference', ['192.0.2.1'])],
    { ips: ['203.0.113.9'], cidrs: [] },
  );
  assert.equal(r.unexpectedIps, ['198.51.100.7']);
  assert.is(r.referenceIp, '192.0.2.1');
});

FindUnexpected('IPv6 compares by address, not spelling', () => {
  const r = findUnexpected([query('local', ['2001:db8::1', '2001:db8::2'])], [query('reference', ['2001:DB8:0:0::1'])], { ips: ['2001:0db8::2'], cidrs: [] });
  assert.equal(r.unexpectedIps, []);
});

FindUnexpected('nothing unexpected: the reference IP is a local answer the references gave too, IPv4 first', () => {
  const refs = [query('reference', ['2001:db8::1', '192.0.2.1', '192.0.2.2'])];
  assert.equal(findUnexpected([query('local', ['2001:db8::1', '192.0.2.2'])], refs, none), { unexpectedIps: [], referenceIp: '192.0.2.2' });
  assert.equal(findUnexpected([query('local', ['2001:DB8::1'])], refs, none), { unexpectedIps: [], referenceIp: '2001:db8::1' });
  // Local IPs only expected by the task, or no local answer at all: none to fetch.
  assert.equal(findUnexpected([query('local', ['198.51.100.7'])], refs, { ips: ['198.51.100.7'], cidrs: [] }), { unexpectedIps: [], referenceIp: null });
  assert.equal(findUnexpected([query('local', [])], refs, none), { unexpectedIps: [], referenceIp: null });
});

FindUnexpected('IPs inside an expected CIDR are not unexpected', () => {
  const r = findUnexpected([query('local', ['203.0.113.9', '198.51.100.7'])], [], { ips: [], cidrs: ['203.0.113.0/24'] });
  assert.equal(r.unexpectedIps, ['198.51.100.7']);
});

FindUnexpected('the reference IP matches the family of the first unexpected IP, else any, else null', () => {
  const refs = [query('reference', ['192.0.2.1', '2001:db8::1'])];
  assert.is(findUnexpected([query('local', ['2001:db8::66'])], refs, none).referenceIp, '2001:db8::1');
  assert.is(findUnexpected([query('local', ['198.51.100.66'])], refs, none).referenceIp, '192.0.2.1');
  assert.is(findUnexpected([query('local', ['2001:db8::66'])], [query('reference', ['192.0.2.1'])], none).referenceIp, '192.0.2.1');
  assert.is(findUnexpected([query('local', ['198.51.100.66'])], [], none).referenceIp, null);
});

FindUnexpected.run();
