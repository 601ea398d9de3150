import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { a, startDnsServer, type DnsTestServer } from '../../../test/helpers/dns-server.ts';
import { freePort } from '../../../test/helpers/nats-server.ts';
import { createTestCa, issueSelfSigned, issueUntrusted } from '../../../test/helpers/test-ca.ts';
import { startWebServer, type Route, type WebServer } from '../../../test/helpers/web-server.ts';
import type { HttpTask } from '../config/config.ts';
import { httpKeys } from '../contract/record.ts';
import type { CheckContext, CheckOutcome } from './check.ts';
import { checkHttp } from './http.ts';
import { assertNear, within } from '../../../test/helpers/wait.ts';

const HEADER_DELAY = 200;
const BODY_DELAY = 300;
const HOP_DELAY = 100;

const ca = createTestCa();

function makeTask(target: string, http: Partial<HttpTask['http']> = {}): HttpTask {
  return {
    id: 'http-test', kind: 'http', target, schedule: '* * * * *', timeoutMs: 3000,
    http: {
      method: 'GET', headers: {}, expectStatus: [], bodyRegexp: null, bodyNotRegexp: null, headerMatch: {},
      followRedirects: true, maxRedirects: 10, bodyLimitBytes: 1024 * 1024, tlsSkipVerify: false, ipVersion: '4',
      ...http,
    },
  };
}

function makeCtx(extra: Partial<CheckContext> & { timeoutMs?: number } = {}): CheckContext {
  const { timeoutMs = 3000, ...rest } = extra;
  return {
    signal: AbortSignal.timeout(timeoutMs),
    now: () => performance.now(),
    probe: { id: 'probe-1', region: 'lab', isp: 'loopback', asn: null, labels: {} },
    resolvers: [],
    extraCaPem: ca.caPem,
    ...rest,
  };
}

/** Runs the check (bounded) and checks the keys against the wire contract. */
async function run(task: HttpTask, ctx: CheckContext = makeCtx()): Promise<CheckOutcome<'http'>> {
  const outcome = await within('the check', checkHttp(task, ctx));
  const problems: string[] = [];
  httpKeys(outcome.keys, 'keys', problems);
  assert.equal(problems, [], 'the keys do not match the record contract');
  return outcome;
}

interface Servers {
  main: WebServer;
  other: WebServer; // on 127.0.0.2: a redirect there is another host
  trusted: WebServer;
  wrongName: WebServer;
  untrusted: WebServer;
  selfSigned: WebServer;
  dns: DnsTestServer;
}
const s = {} as Servers;

const page = '<html><title>Shop</title><p>all ok</p></html>';
const routes: Record<string, Route> = {
  '/': { body: page, headers: { 'content-type': 'text/html; charset=utf-8', 'x-a': 'v2' } },
  '/slow': { body: page, headerDelayMs: HEADER_DELAY, bodyDelayMs: BODY_DELAY },
  '/r1': { location: '/r2', headerDelayMs: HOP_DELAY },
  '/r2': () => ({ status: 301, location: `http://127.0.0.2:${s.other.port}/r3`, headerDelayMs: HOP_DELAY }),
  '/loop': { location: '/loop' },
  '/post': { status: 303, location: '/' },
  '/status503': { status: 503, body: 'down' },
  '/error': { body: 'an Error happened' },
  '/huge': { bodyBytes: 5 * 1024 * 1024 },
  '/stall': { body: page, bodyDelayMs: 10_000 },
  '/to-cdn': () => ({ location: `https://cdn.test:${s.trusted.port}/` }),
  '/to-ftp': { location: 'ftp://files.example/x' },
};
const otherRoutes: Record<string, Route> = {
  '/r3': { body: 'hop three', headerDelayMs: HOP_DELAY },
};

const url = (server: WebServer, path: string) => `${server.url}${path}`;

// ---

const http = suite('checkHttp');

http.before(async () => {
  s.main = await startWebServer({ routes });
  s.other = await startWebServer({ host: '127.0.0.2', routes: otherRoutes });
  s.trusted = await startWebServer({ routes, tls: ca.issue(['127.0.0.1', 'shop.test', 'cdn.test']) });
  s.wrongName = await startWebServer({ routes, tls: ca.issue(['other.example']) });
  s.untrusted = await startWebServer({ routes, tls: issueUntrusted(['127.0.0.1']) });
  s.selfSigned = await startWebServer({ routes, tls: issueSelfSigned(['127.0.0.1']) });
  s.dns = await startDnsServer((query) => {
    const q = query.questions?.[0];
    if (!q) return null;
    if (q.name !== 'shop.test' && q.name !== 'cdn.test') return { rcode: 'NXDOMAIN' };
    return q.type === 'A' ? { answers: [a(q.name, '127.0.0.1')] } : {};
  });
});
http.after(async () => {
  for (const server of Object.values(s)) await server?.close();
});

http('measures processing as the header delay and transfer as the body delay (http)', async () => {
  const { failure, timings, keys } = await run(makeTask(url(s.main, '/slow')));
  assert.is(failure, null);
  assert.is(keys.status, 200);
  assert.is(keys.http_version, '1.1');
  assert.is(keys.final_url, url(s.main, '/slow'));
  assert.is(keys.body_bytes, Buffer.byteLength(page));
  assert.is(keys.sha256, createHash('sha256').update(page).digest('hex'));
  assert.equal([keys.resolver, keys.resolved_ips, keys.dialed_ip], [null, ['127.0.0.1'], '127.0.0.1']);
  assert.is(timings.resolve, undefined, 'an IP literal needs no resolution');
  assert.ok(timings.connect !== undefined && timings.connect < HEADER_DELAY);
  assertNear(timings.processing, HEADER_DELAY, 'processing');
  assertNear(timings.transfer, BODY_DELAY, 'transfer');
});

http('measures the same phases over https, with tls, and reports certificate expiry', async () => {
  const { failure, timings, keys } = await run(makeTask(url(s.trusted, '/slow')));
  assert.is(failure, null);
  assert.ok(keys.tls?.verified);
  assert.is(keys.tls?.version, 'TLSv1.3');
  assert.ok(keys.cert_expires_in_days !== null && keys.cert_expires_in_days > 29 && keys.cert_expires_in_days <= 30.01);
  assert.ok(timings.tls !== undefined && timings.tls > 0);
  assertNear(timings.processing, HEADER_DELAY, 'processing');
  assertNear(timings.transfer, BODY_DELAY, 'transfer');
});

http('resolves a name through the probe resolvers and sends it as Host and SNI', async () => {
  const before = s.trusted.requests.length;
  const ctx = makeCtx({ resolvers: [{ transport: 'udp', host: '127.0.0.1', port: s.dns.port, label: s.dns.address }] });
  const { failure, timings, keys } = await run(makeTask(`https://shop.test:${s.trusted.port}/`), ctx);
  assert.is(failure, null);
  assert.equal([keys.resolver, keys.resolved_ips, keys.dialed_ip], [s.dns.address, ['127.0.0.1'], '127.0.0.1']);
  assert.ok(timings.resolve !== undefined && timings.resolve >= 0);
  assert.ok(keys.tls?.verified);
  const seen = s.trusted.requests[before];
  assert.equal([seen.host, seen.servername], [`shop.test:${s.trusted.port}`, 'shop.test']);
});

http('resolves the host of an off-host redirect again', async () => {
  const ctx = makeCtx({ resolvers: [{ transport: 'udp', host: '127.0.0.1', port: s.dns.port, label: s.dns.address }] });
  const asked = () => s.dns.queries.map((q) => q.packet.questions?.[0]?.name);
  const before = asked().filter((n) => n === 'cdn.test').length;
  const { failure, keys } = await run(makeTask(`https://shop.test:${s.trusted.port}/to-cdn`), ctx);
  assert.is(failure, null);
  assert.is(keys.final_url, `https://cdn.test:${s.trusted.port}/`);
  assert.ok(asked().filter((n) => n === 'cdn.test').length > before, 'cdn.test was not resolved');
});

http('gives the resolver failure when the name does not resolve', async () => {
  const ctx = makeCtx({ resolvers: [{ transport: 'udp', host: '127.0.0.1', port: s.dns.port, label: s.dns.address }] });
  const { failure, keys } = await run(makeTask(`http://missing.test:${s.main.port}/`), ctx);
  assert.is(failure, 'dns_nxdomain');
  assert.is(keys.dialed_ip, null);
  assert.is(keys.status, null);
});

http('follows relative and off-host redirects, a fresh connection each, summing phases over hops', async () => {
  const { failure, timings, keys } = await run(makeTask(url(s.main, '/r1')));
  assert.is(failure, null);
  assert.equal(keys.redirects, [
    { status: 302, location: '/r2' },
    { status: 301, location: `http://127.0.0.2:${s.other.port}/r3` },
  ]);
  assert.is(keys.final_url, `http://127.0.0.2:${s.other.port}/r3`);
  assert.is(keys.dialed_ip, '127.0.0.2');
  assert.is(keys.body_bytes, 'hop three'.length);
  assertNear(timings.processing, 3 * HOP_DELAY, 'processing over three hops');
});

http('does not follow redirects when told not to', async () => {
  const { failure, keys } = await run(makeTask(url(s.main, '/r1'), { followRedirects: false }));
  assert.is(failure, null);
  assert.is(keys.status, 302);
  assert.equal(keys.redirects, [{ status: 302, location: '/r2' }]);
  assert.is(keys.final_url, url(s.main, '/r1'));
});

http('fails with http_protocol_error after max_redirects', async () => {
  const before = s.main.requests.filter((r) => r.path === '/loop').length;
  const { failure, failureDetail, keys } = await run(makeTask(url(s.main, '/loop'), { maxRedirects: 3 }));
  assert.is(failure, 'http_protocol_error');
  assert.match(failureDetail ?? '', 'more than 3 redirects');
  assert.is(keys.redirects.length, 4);
  assert.is(s.main.requests.filter((r) => r.path === '/loop').length - before, 4);
});

http('fails with http_protocol_error on a redirect to a non-http URL', async () => {
  const { failure } = await run(makeTask(url(s.main, '/to-ftp')));
  assert.is(failure, 'http_protocol_error');
});

http('turns a POST into a GET after 303, and drops credentials when the host changes', async () => {
  await run(makeTask(url(s.main, '/post'), { method: 'POST' }));
  const last = s.main.requests.at(-1);
  assert.equal([last?.method, last?.path], ['GET', '/']);

  const otherBefore = s.other.requests.length;
  const mainBefore = s.main.requests.length;
  await run(makeTask(url(s.main, '/r1'), { headers: { authorization: 'Bearer secret' } }));
  assert.is(s.main.requests[mainBefore + 1].headers.authorization, 'Bearer secret', 'a same-host hop keeps it');
  assert.is(s.other.requests[otherBefore].headers.authorization, undefined, 'another host must not get it');
});

http('names the failing status assertion', async () => {
  let outcome = await run(makeTask(url(s.main, '/status503'), { expectStatus: [200] }));
  assert.equal([outcome.failure, outcome.keys.failed_assertion], ['http_status', 'status 503 not in [200]']);
  assert.is(outcome.keys.status, 503);
  outcome = await run(makeTask(url(s.main, '/nowhere')));
  assert.equal([outcome.failure, outcome.keys.failed_assertion], ['http_status', 'status 404 not in [200-399]']);
  outcome = await run(makeTask(url(s.main, '/status503'), { expectStatus: [500, 503] }));
  assert.is(outcome.failure, null);
});

http('names the failing body_regexp, body_not_regexp and header assertions', async () => {
  let outcome = await run(makeTask(url(s.main, '/'), { bodyRegexp: /checkout/ }));
  assert.equal([outcome.failure, outcome.keys.failed_assertion], ['http_assertion', 'body_regexp /checkout/']);
  outcome = await run(makeTask(url(s.main, '/error'), { bodyNotRegexp: /error/i }));
  assert.equal([outcome.failure, outcome.keys.failed_assertion], ['http_assertion', 'body_not_regexp /error/i']);
  outcome = await run(makeTask(url(s.main, '/'), { headerMatch: { 'X-A': /v1/ } }));
  assert.equal([outcome.failure, outcome.keys.failed_assertion], ['http_assertion', 'header X-A /v1/']);
  outcome = await run(makeTask(url(s.main, '/'), { headerMatch: { 'x-missing': /./ } }));
  assert.equal([outcome.failure, outcome.keys.failed_assertion], ['http_assertion', 'header x-missing /./']);
});

http('passes when every assertion holds', async () => {
  const { failure, keys } = await run(makeTask(url(s.main, '/'), {
    expectStatus: [200], bodyRegexp: /all ok/, bodyNotRegexp: /error/, headerMatch: { 'x-a': /^v2$/, 'content-type': /html/ },
  }));
  assert.is(failure, null);
  assert.is(keys.failed_assertion, null);
  assert.is(keys.content_type, 'text/html; charset=utf-8');
});

http('caps a huge body and hashes the bytes read', async () => {
  const limit = 64 * 1024;
  const { failure, keys } = await run(makeTask(url(s.main, '/huge'), { bodyLimitBytes: limit }));
  assert.is(failure, null);
  assert.equal([keys.body_bytes, keys.body_truncated], [limit, true]);
  assert.is(keys.sha256, createHash('sha256').update(Buffer.alloc(limit, 'a')).digest('hex'));
});

http('gives body_too_large when a body regexp meets a truncated body', async () => {
  const { failure, keys } = await run(makeTask(url(s.main, '/huge'), { bodyLimitBytes: 64 * 1024, bodyRegexp: /end/ }));
  assert.equal([failure, keys.failed_assertion], ['body_too_large', 'body_regexp /end/']);
});

http('gives timeout when a slow body outlasts the task timeout', async () => {
  const started = performance.now();
  const { failure, keys } = await run(makeTask(url(s.main, '/stall')), makeCtx({ timeoutMs: 400 }));
  assert.is(failure, 'timeout');
  assert.is(keys.status, 200);
  assert.ok(performance.now() - started < 2000, 'the check outlived its timeout');
});

http('gives connection_refused for a closed port', async () => {
  const port = await freePort();
  const { failure, keys } = await run(makeTask(`http://127.0.0.1:${port}/`));
  assert.is(failure, 'connection_refused');
  assert.equal([keys.status, keys.dialed_ip], [null, '127.0.0.1']);
});

// TLS: a bad certificate fails before any request is sent, and its facts are still recorded.
const badCerts: [string, keyof Servers, string, string][] = [
  ['a certificate for another name', 'wrongName', 'ERR_TLS_CERT_ALTNAME_INVALID', 'other.example'],
  ['a certificate from an untrusted CA', 'untrusted', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', '127.0.0.1'],
  ['a self-signed certificate', 'selfSigned', 'DEPTH_ZERO_SELF_SIGNED_CERT', '127.0.0.1'],
];
for (const [what, name, code, subject] of badCerts) {
  http(`gives tls_cert_invalid for ${what}, without sending the request`, async () => {
    const server = s[name] as WebServer;
    const before = server.requests.length;
    const { failure, failureDetail, timings, keys } = await run(makeTask(url(server, '/')));
    assert.is(failure, 'tls_cert_invalid');
    assert.match(failureDetail ?? '', code);
    assert.equal([keys.tls?.verified, keys.tls?.error, keys.tls?.subject], [false, code, subject]);
    assert.ok(keys.cert_expires_in_days !== null);
    assert.ok(timings.tls !== undefined);
    assert.is(keys.status, null);
    assert.is(server.requests.length, before, 'the request was sent over an unverified connection');
  });
}

http('fetches through a bad certificate with tls_skip_verify, still recording the verdict', async () => {
  const { failure, keys } = await run(makeTask(url(s.selfSigned, '/'), { tlsSkipVerify: true }));
  assert.is(failure, null);
  assert.is(keys.status, 200);
  assert.equal([keys.tls?.verified, keys.tls?.error], [false, 'DEPTH_ZERO_SELF_SIGNED_CERT']);
});

http.run();
