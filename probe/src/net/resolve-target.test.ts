import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { a, aaaa, startDnsServer, type DnsHandler, type DnsTestServer } from '../../../test/helpers/dns-server.ts';
import type { CheckContext } from '../checks/check.ts';
import type { DnsServer } from '../config/endpoints.ts';
import { RESOLVER_BUDGET_MS, resolveTarget } from './resolve-target.ts';

/** The "good" resolver knows every name; the "bad" one fails in the way the name says. */
const good: DnsHandler = (q) => {
  const { name, type } = q.questions![0];
  if (name.startsWith('v4only.')) return type === 'A' ? { answers: [a(name, '127.0.0.4')] } : {};
  if (name.startsWith('v6only.')) return type === 'AAAA' ? { answers: [aaaa(name, '::1')] } : {};
  if (name.startsWith('nx.')) return { rcode: 'NXDOMAIN' };
  return { answers: type === 'A' ? [a(name, '127.0.0.2'), a(name, '127.0.0.3')] : [aaaa(name, '::1')] };
};
const bad: DnsHandler = (q) => {
  const { name } = q.questions![0];
  if (name.startsWith('silent.')) return null;
  if (name.startsWith('nx.')) return { rcode: 'NXDOMAIN' };
  return { rcode: 'SERVFAIL' };
};

const servers = { good: null as unknown as DnsTestServer, bad: null as unknown as DnsTestServer };
const asServer = (s: DnsTestServer): DnsServer => ({ transport: 'udp', host: '127.0.0.1', port: s.port, label: s.address });
const context = (resolvers: DnsServer[], timeoutMs = 3000): CheckContext => ({
  signal: AbortSignal.timeout(timeoutMs),
  now: () => performance.now(),
  probe: { id: 'test-probe', region: 'lab', isp: 'loopback', asn: null, labels: {} },
  resolvers,
  extraCaPem: null,
});
const asked = (s: DnsTestServer, name: string) => s.queries.filter((q) => q.packet.questions?.[0]?.name === name).map((q) => q.packet.questions![0].type);

const ResolveTarget = suite('resolveTarget');

ResolveTarget.before(async () => {
  servers.good = await startDnsServer(good);
  servers.bad = await startDnsServer(bad);
});
ResolveTarget.after(async () => {
  await Promise.all([servers.good?.close(), servers.bad?.close()]);
});

ResolveTarget('an IP literal needs no lookup', async () => {
  const ctx = context([asServer(servers.good)]);
  for (const [host, ip] of [['127.0.0.9', '127.0.0.9'], ['::1', '::1'], ['[::1]', '::1']]) {
    const r = await resolveTarget(host, 'auto', ctx);
    assert.equal(r, { resolver: null, resolvedIps: [ip], ip, failure: null, failureDetail: null, resolveMs: null });
  }
  assert.is(servers.good.queries.length, 0);
});

ResolveTarget('ipVersion 4 asks A, 6 asks AAAA; ip is the first address', async () => {
  const ctx = context([asServer(servers.good)]);
  const four = await resolveTarget('four.test', '4', ctx);
  assert.equal([four.ip, four.resolvedIps, four.resolver, four.failure], ['127.0.0.2', ['127.0.0.2', '127.0.0.3'], servers.good.address, null]);
  assert.ok(four.resolveMs !== null && four.resolveMs >= 0);
  assert.equal(asked(servers.good, 'four.test'), ['A']);
  const six = await resolveTarget('six.test', '6', ctx);
  assert.equal([six.ip, six.resolvedIps], ['::1', ['::1']]);
  assert.equal(asked(servers.good, 'six.test'), ['AAAA']);
});

ResolveTarget('auto: A first, AAAA only when there is no A', async () => {
  const ctx = context([asServer(servers.good)]);
  const v4 = await resolveTarget('v4only.test', 'auto', ctx);
  assert.is(v4.ip, '127.0.0.4');
  assert.equal(asked(servers.good, 'v4only.test'), ['A']);
  const v6 = await resolveTarget('v6only.test', 'auto', ctx);
  assert.is(v6.ip, '::1');
  assert.equal(asked(servers.good, 'v6only.test'), ['A', 'AAAA']);
  const none = await resolveTarget('v4only.test', '6', ctx);
  assert.is(none.failure, 'dns_no_answer');
  assert.is(none.ip, null);
});

ResolveTarget('fails over to the next resolver when one fails', async () => {
  const ctx = context([asServer(servers.bad), asServer(servers.good)]);
  const r = await resolveTarget('failover.test', '4', ctx);
  assert.is(r.failure, null);
  assert.is(r.resolver, servers.good.address);
  assert.equal(asked(servers.bad, 'failover.test'), ['A']);
});

ResolveTarget('fails over when a resolver does not answer within its budget', async () => {
  const ctx = context([asServer(servers.bad), asServer(servers.good)], RESOLVER_BUDGET_MS + 2000);
  const r = await resolveTarget('silent.test', 'auto', ctx);
  assert.is(r.failure, null, r.failureDetail ?? '');
  assert.is(r.resolver, servers.good.address);
  assert.ok(r.resolveMs! >= RESOLVER_BUDGET_MS - 50, 'waited for the first resolver');
  assert.equal(asked(servers.bad, 'silent.test'), ['A', 'A'], 'one query plus its retransmission, no AAAA after a timeout');
});

ResolveTarget('every resolver failing: the failure of the last one tried', async () => {
  const ctx = context([asServer(servers.good), asServer(servers.bad)]);
  const r = await resolveTarget('nx.bad-last.test', 'auto', ctx);
  assert.is(r.failure, 'dns_nxdomain');
  assert.is(r.resolver, servers.bad.address);
  assert.ok(r.failureDetail?.startsWith(servers.bad.address));
  assert.equal([r.ip, r.resolvedIps], [null, []]);
  const silent = await resolveTarget('silent.alone.test', '4', context([asServer(servers.bad)], 300));
  assert.is(silent.failure, 'timeout', 'the only resolver gets the whole time left');
});

ResolveTarget('no resolvers: dns_no_resolver', async () => {
  const r = await resolveTarget('any.test', 'auto', context([]));
  assert.is(r.failure, 'dns_no_resolver');
  assert.is(r.ip, null);
});

ResolveTarget.run();
