import { createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { a, startDnsServer, type DnsTestServer } from '../../../test/helpers/dns-server.ts';
import { createTestCa, issueUntrusted } from '../../../test/helpers/test-ca.ts';
import type { TcpTask } from '../config/config.ts';
import { parseDnsServer, type DnsServer } from '../config/endpoints.ts';
import type { CheckContext } from './check.ts';
import { checkTcp } from './tcp.ts';

const ca = createTestCa();
const trusted = ca.issue(['shop.test']);
const untrusted = issueUntrusted(['shop.test']);

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

const context = (resolvers: DnsServer[] = []): CheckContext => ({
  signal: AbortSignal.timeout(3000),
  now: () => performance.now(),
  probe: { id: 'p1', region: 'r', isp: 'i', asn: null, labels: {} },
  resolvers,
  extraCaPem: ca.caPem,
});

const task = (target: string, tls = false, serverName: string | null = null): TcpTask => ({
  id: 'tcp', kind: 'tcp', target, schedule: '* * * * *', timeoutMs: 3000,
  tcp: { tls, serverName, ipVersion: 'auto' },
});

const servers: Server[] = [];
let dns: DnsTestServer;
let plainPort = 0;
let tlsPort = 0;
let badTlsPort = 0;

const tcp = suite('checkTcp');

tcp.before(async () => {
  const plain = createTcpServer((s) => s.end());
  const good = createTlsServer(trusted, (s) => s.end());
  const bad = createTlsServer(untrusted, (s) => s.end());
  servers.push(plain, good, bad);
  [plainPort, tlsPort, badTlsPort] = await Promise.all([listen(plain), listen(good), listen(bad)]);
  dns = await startDnsServer((q) => ({ answers: q.questions![0].type === 'A' ? [a('shop.test', '127.0.0.1')] : [] }));
});

tcp.after(async () => {
  for (const s of servers) s.close();
  await dns.close();
});

tcp('connects to an IP literal and times the connect phase', async () => {
  const outcome = await checkTcp(task(`127.0.0.1:${plainPort}`), context());
  assert.is(outcome.failure, null);
  assert.is(outcome.keys.dialed_ip, '127.0.0.1');
  assert.is(outcome.keys.resolver, null);
  assert.type(outcome.timings.connect, 'number');
  assert.is(outcome.timings.resolve, undefined);
});

tcp('resolves a name through the local resolver and says which IP it dialed', async () => {
  const outcome = await checkTcp(task(`shop.test:${plainPort}`), context([parseDnsServer(dns.address)!]));
  assert.is(outcome.failure, null, outcome.failureDetail ?? '');
  assert.is(outcome.keys.resolver, dns.address);
  assert.equal(outcome.keys.resolved_ips, ['127.0.0.1']);
  assert.is(outcome.keys.dialed_ip, '127.0.0.1');
  assert.type(outcome.timings.resolve, 'number');
});

tcp('a closed port is connection_refused', async () => {
  const closed = createTcpServer();
  const port = await listen(closed);
  await new Promise((r) => closed.close(r));
  const outcome = await checkTcp(task(`127.0.0.1:${port}`), context());
  assert.is(outcome.failure, 'connection_refused');
});

tcp('TLS handshake with a trusted certificate records the TLS facts', async () => {
  const outcome = await checkTcp(task(`shop.test:${tlsPort}`, true), context([parseDnsServer(dns.address)!]));
  assert.is(outcome.failure, null, outcome.failureDetail ?? '');
  assert.is(outcome.keys.tls?.verified, true);
  assert.is(outcome.keys.tls?.subject, 'shop.test');
  assert.equal(outcome.keys.tls?.san, ['shop.test']);
  assert.type(outcome.timings.tls, 'number');
});

tcp('TLS with an untrusted certificate is tls_cert_invalid, with the certificate recorded', async () => {
  const outcome = await checkTcp(task(`127.0.0.1:${badTlsPort}`, true, 'shop.test'), context());
  assert.is(outcome.failure, 'tls_cert_invalid');
  assert.is(outcome.keys.tls?.verified, false);
  assert.is(outcome.keys.tls?.issuer, 'Untrusted Injector CA');
});

tcp('TLS to a server name the certificate does not cover fails', async () => {
  const outcome = await checkTcp(task(`127.0.0.1:${tlsPort}`, true, 'other.test'), context());
  assert.is(outcome.failure, 'tls_cert_invalid');
  assert.is(outcome.keys.tls?.error, 'ERR_TLS_CERT_ALTNAME_INVALID');
});

tcp('TLS to a plain TCP server is a handshake failure, not a crash', async () => {
  const outcome = await checkTcp(task(`127.0.0.1:${plainPort}`, true, 'shop.test'), context());
  assert.ok(outcome.failure === 'tls_handshake_failed' || outcome.failure === 'connection_reset', String(outcome.failure));
});

tcp.run();
