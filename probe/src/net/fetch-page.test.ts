import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../../../test/helpers/nats-server.ts';
import { createTestCa } from '../../../test/helpers/test-ca.ts';
import { startWebServer, type WebServer } from '../../../test/helpers/web-server.ts';
import { fetchPage, type FetchPageRequest } from './fetch-page.ts';
import { assertNear, within } from '../../../test/helpers/wait.ts';

const HEADER_DELAY = 200;
const BODY_DELAY = 300;
const now = () => performance.now();

/** A raw TCP server that answers every connection with `reply` and closes. */
async function rawServer(reply: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    socket.once('data', () => socket.end(reply));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const ca = createTestCa();
const page = '<html><title>Shop</title><p>ok</p></html>';
const routes = {
  '/slow': { body: page, headerDelayMs: HEADER_DELAY, bodyDelayMs: BODY_DELAY, headers: { 'content-type': 'text/html' } },
  '/huge': { bodyBytes: 5 * 1024 * 1024 },
  '/stall': { body: page, bodyDelayMs: 10_000 },
  '/echo': (req: import('node:http').IncomingMessage) => ({ body: `${req.method} ${req.headers['x-probe'] ?? ''}` }),
};

interface Ctx {
  http: WebServer;
  https: WebServer;
  localhostOnly: WebServer; // a certificate for "localhost" but not for 127.0.0.1
}
const servers = {} as Ctx;

function request(server: WebServer, path: string, extra: Partial<FetchPageRequest> = {}): FetchPageRequest {
  const scheme = server.url.startsWith('https') ? 'https' : 'http';
  return {
    url: new URL(`${scheme}://shop.test:${server.port}${path}`),
    ip: '127.0.0.1',
    port: server.port,
    bodyLimitBytes: 1024 * 1024,
    textLimitBytes: 1024,
    requireVerifiedTls: true,
    extraCaPem: ca.caPem,
    signal: AbortSignal.timeout(3000),
    now,
    ...extra,
  };
}

async function assertAllClosed(server: WebServer): Promise<void> {
  const deadline = performance.now() + 1000;
  while ((await server.connections()) > 0) {
    assert.ok(performance.now() < deadline, 'the server still has an open connection 1 s after the fetch');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---

const fetch = suite('fetchPage');

fetch.before(async () => {
  servers.http = await startWebServer({ routes });
  servers.https = await startWebServer({ routes, tls: ca.issue(['shop.test', '127.0.0.1']) });
  servers.localhostOnly = await startWebServer({ routes, tls: ca.issue(['localhost']) });
});
fetch.after(async () => {
  await servers.http?.close();
  await servers.https?.close();
  await servers.localhostOnly?.close();
});

fetch('times processing as the header delay and transfer as the body delay (http)', async () => {
  const result = await within('the check', fetchPage(request(servers.http, '/slow')));
  assert.is(result.failure, null);
  assert.is(result.status, 200);
  assert.is(result.httpVersion, '1.1');
  assert.is(result.text, page);
  assert.is(result.headers['content-type'], 'text/html');
  assert.is(result.tls, null);
  assert.is(result.timings.tls, undefined);
  assert.ok(result.timings.connect !== undefined && result.timings.connect < HEADER_DELAY);
  assertNear(result.timings.processing, HEADER_DELAY, 'processing');
  assertNear(result.timings.transfer, BODY_DELAY, 'transfer');
});

fetch('times the same phases over https, with Host and SNI from the URL and the socket to the IP', async () => {
  const before = servers.https.requests.length;
  const result = await within('the check', fetchPage(request(servers.https, '/slow')));
  assert.is(result.failure, null);
  assert.ok(result.tls?.verified, `not verified: ${result.tls?.error}`);
  assert.is(result.tls?.subject, 'shop.test');
  assert.ok(result.timings.tls !== undefined && result.timings.tls > 0);
  assertNear(result.timings.processing, HEADER_DELAY, 'processing');
  assertNear(result.timings.transfer, BODY_DELAY, 'transfer');
  const seen = servers.https.requests[before];
  assert.is(seen.host, `shop.test:${servers.https.port}`);
  assert.is(seen.servername, 'shop.test');
});

fetch('refuses to send the request when the certificate does not verify, but keeps the TLS facts', async () => {
  const before = servers.https.requests.length;
  const result = await within('the check', fetchPage({ ...request(servers.https, '/echo'), url: new URL(`https://other.test:${servers.https.port}/echo`) }));
  assert.is(result.failure, 'tls_cert_invalid');
  assert.match(result.failureDetail ?? '', 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.is(result.tls?.verified, false);
  assert.is(result.tls?.subject, 'shop.test');
  assert.is(result.status, null);
  assert.is(servers.https.requests.length, before, 'the request reached the server');
});

fetch('verifies an IP-literal URL against the IP, not against "localhost"', async () => {
  const byIp = (server: WebServer) => fetchPage({ ...request(server, '/echo'), url: new URL(`https://127.0.0.1:${server.port}/echo`) });
  const good = await within('the check', byIp(servers.https));
  assert.is(good.failure, null);
  assert.equal([good.tls?.verified, good.tls?.error], [true, null]);
  const bad = await within('the check', byIp(servers.localhostOnly));
  assert.is(bad.failure, 'tls_cert_invalid');
  assert.equal([bad.tls?.verified, bad.tls?.error], [false, 'ERR_TLS_CERT_ALTNAME_INVALID']);
});

fetch('fetches through an unverified certificate when not required to verify', async () => {
  const result = await within('the check', fetchPage({ ...request(servers.https, '/echo'), extraCaPem: null, requireVerifiedTls: false }));
  assert.is(result.failure, null);
  assert.is(result.tls?.verified, false);
  assert.is(result.tls?.error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.is(result.text, 'GET ');
});

fetch('sends the method and headers given', async () => {
  const result = await within('the check', fetchPage({ ...request(servers.http, '/echo'), method: 'POST', headers: { 'x-probe': 'v1' } }));
  assert.is(result.text, 'POST v1');
});

fetch('stops reading at the body cap, hashing exactly the bytes read, and closes the connection', async () => {
  const limit = 64 * 1024;
  const result = await within('the check', fetchPage(request(servers.http, '/huge', { bodyLimitBytes: limit, textLimitBytes: 100 })));
  assert.is(result.failure, null);
  assert.is(result.bodyBytes, limit);
  assert.ok(result.bodyTruncated);
  assert.is(result.sha256, createHash('sha256').update(Buffer.alloc(limit, 'a')).digest('hex'));
  assert.is(result.text, 'a'.repeat(100));
  await assertAllClosed(servers.http);
});

fetch('reads a body exactly at the cap as complete', async () => {
  const result = await within('the check', fetchPage(request(servers.http, '/slow', { bodyLimitBytes: Buffer.byteLength(page) })));
  assert.is(result.bodyTruncated, false);
  assert.is(result.bodyBytes, Buffer.byteLength(page));
});

fetch('gives timeout when the signal fires mid-body, keeping the status and what was read', async () => {
  const started = performance.now();
  const result = await within('the check', fetchPage(request(servers.http, '/stall', { signal: AbortSignal.timeout(300) })));
  assert.is(result.failure, 'timeout');
  assert.is(result.status, 200);
  assert.is(result.bodyBytes, 0);
  assert.ok(performance.now() - started < 2000, 'the abort did not end the exchange promptly');
  await assertAllClosed(servers.http);
});

fetch('gives connection_refused for a closed port', async () => {
  const port = await freePort();
  const result = await within('the check', fetchPage({ ...request(servers.http, '/'), url: new URL(`http://shop.test:${port}/`), port }));
  assert.is(result.failure, 'connection_refused');
  assert.is(result.status, null);
  assert.is(result.sha256, null);
});

fetch('reads the HTTP version from the status line', async () => {
  const old = await rawServer('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
  try {
    const result = await within('the check', fetchPage({ ...request(servers.http, '/'), url: new URL(`http://shop.test:${old.port}/`), port: old.port }));
    assert.is(result.failure, null);
    assert.is(result.httpVersion, '1.0');
    assert.is(result.text, 'ok');
  } finally {
    await old.close();
  }
});

fetch('gives http_protocol_error when the server does not speak HTTP', async () => {
  const ssh = await rawServer('SSH-2.0-OpenSSH_9.2\r\n');
  try {
    const result = await within('the check', fetchPage({ ...request(servers.http, '/'), url: new URL(`http://shop.test:${ssh.port}/`), port: ssh.port }));
    assert.is(result.failure, 'http_protocol_error');
  } finally {
    await ssh.close();
  }
});

fetch.run();
