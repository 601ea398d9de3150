import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestCa, issueUntrusted, type KeyPair } from '../../../test/helpers/test-ca.ts';
import { startWebServer, type Route, type WebServer } from '../../../test/helpers/web-server.ts';
import type { EvidenceSettings } from '../config/config.ts';
import { evidenceFetch, type EvidenceFetch } from '../contract/record.ts';
import type { CheckContext } from './check.ts';
import { gatherEvidence } from './dns-evidence.ts';
import { within } from '../../../test/helpers/wait.ts';

const HOST = 'shop.vantage.test';
const REFERENCE_IP = '127.0.0.1';
const WRONG_IP = '127.0.0.2';
const DEAD_IP = '127.0.0.3'; // nothing listens there
const DELAY = 300;

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const CLEAN = `<html><head><title>Vantage Shop</title><script src="/app.js"></script>
<script src="https://cdn.vantage.test/lib.js"></script></head>
<body><form action="/login"><input type="password" name="p"></form></body></html>`;
const INJECTED = CLEAN.replace('</head>', `<script src="https://ads.injector.example/x.js"></script>
<script>window.__ad = 1;</script></head>`);

const ca = createTestCa();
const arrivals: number[] = [];

function routesFor(body: string, httpsPort: () => number): Record<string, Route> {
  const page = { body, headers: { 'content-type': 'text/html; charset=utf-8' } };
  return {
    '/': page,
    '/hop': { location: '/' },
    '/canon': () => ({ status: 301, location: `https://${HOST}:${httpsPort()}/` }),
    '/offsite': { location: 'http://ads.landing.example/?from=shop' },
    '/loop': { location: '/loop' },
    '/big': { bodyBytes: 200_000 },
    '/stall': { ...page, headerDelayMs: 10_000 },
    '/timed': () => (arrivals.push(performance.now()), { ...page, headerDelayMs: DELAY }),
  };
}

interface Site {
  http: WebServer;
  https: WebServer;
}

/** Servers on the same port on two loopback IPs (the evidence settings name one port per scheme). */
async function startTwin(
  make: (ip: string, port: number) => Promise<WebServer>,
): Promise<[WebServer, WebServer]> {
  for (let attempt = 0; ; attempt++) {
    const first = await make(REFERENCE_IP, 0);
    try {
      return [first, await make(WRONG_IP, first.port)];
    } catch (err) {
      await first.close();
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= 10) throw err;
    }
  }
}

const servers = {} as { reference: Site; wrong: Site };
let settings: EvidenceSettings;

const ctx = (timeoutMs = 4000): CheckContext => ({
  signal: AbortSignal.timeout(timeoutMs),
  now: () => performance.now(),
  probe: { id: 'probe-1', region: 'lab', isp: 'loopback', asn: null, labels: {} },
  resolvers: [],
  extraCaPem: ca.caPem,
});

function valid(records: EvidenceFetch[]): EvidenceFetch[] {
  records.forEach((record, i) => {
    const problems: string[] = [];
    evidenceFetch(record, `evidence[${i}]`, problems);
    assert.equal(problems, [], 'a record does not match the contract');
  });
  return records;
}

const pick = (records: EvidenceFetch[], ip: string, scheme: 'http' | 'https') => {
  const found = records.find((r) => r.ip === ip && r.url.startsWith(`${scheme}:`));
  assert.ok(found, `no ${scheme} record for ${ip}`);
  return found as EvidenceFetch;
};

async function gather(path: string, opts: { reference?: boolean; unexpected?: string[]; timeoutMs?: number; bodyLimitBytes?: number } = {}) {
  return valid(await within('the check', gatherEvidence({
    host: HOST,
    unexpectedIps: opts.unexpected ?? [WRONG_IP],
    referenceIp: opts.reference === false ? null : REFERENCE_IP,
    settings: { ...settings, path, bodyLimitBytes: opts.bodyLimitBytes ?? settings.bodyLimitBytes },
    ctx: ctx(opts.timeoutMs),
  })));
}

// ---

const evidence = suite('gatherEvidence');

evidence.before(async () => {
  const referenceCert = ca.issue([HOST]);
  const injectorCert: KeyPair = issueUntrusted([HOST]);
  const httpsPort = () => servers.reference.https.port;
  const [refHttp, wrongHttp] = await startTwin((ip, port) =>
    startWebServer({ host: ip, port, routes: routesFor(ip === REFERENCE_IP ? CLEAN : INJECTED, httpsPort) }));
  const [refHttps, wrongHttps] = await startTwin((ip, port) =>
    startWebServer({ host: ip, port, tls: ip === REFERENCE_IP ? referenceCert : injectorCert, routes: routesFor(ip === REFERENCE_IP ? CLEAN : INJECTED, httpsPort) }));
  servers.reference = { http: refHttp, https: refHttps };
  servers.wrong = { http: wrongHttp, https: wrongHttps };
  settings = { path: '/', httpPort: refHttp.port, httpsPort: refHttps.port, bodyLimitBytes: 64 * 1024 };
});
evidence.after(async () => {
  for (const site of [servers.reference, servers.wrong]) {
    await site?.http.close();
    await site?.https.close();
  }
});

evidence('shows the injected script origin, both titles and hashes, and both TLS verdicts', async () => {
  const records = await gather('/');
  assert.is(records.length, 4);
  const wrongHttp = pick(records, WRONG_IP, 'http');
  const wrongHttps = pick(records, WRONG_IP, 'https');
  const refHttp = pick(records, REFERENCE_IP, 'http');
  const refHttps = pick(records, REFERENCE_IP, 'https');
  assert.equal([wrongHttp.role, wrongHttps.role, refHttp.role, refHttps.role], ['unexpected', 'unexpected', 'reference', 'reference']);
  assert.is(wrongHttp.url, `http://${HOST}:${settings.httpPort}/`);
  assert.is(wrongHttps.url, `https://${HOST}:${settings.httpsPort}/`);

  for (const r of records) {
    assert.is(r.failure, null, `${r.ip} ${r.url}: ${r.failure_detail}`);
    assert.is(r.status, 200);
    assert.is(r.title, 'Vantage Shop');
    assert.is(r.content_type, 'text/html; charset=utf-8');
    assert.ok(r.has_password_field);
    assert.equal(r.redirects, []);
  }
  for (const r of [wrongHttp, wrongHttps]) {
    assert.equal(r.script_origins, ['https://ads.injector.example', 'https://cdn.vantage.test']);
    assert.is(r.sha256, sha(INJECTED));
    assert.equal([r.body_bytes, r.content_length_header], [Buffer.byteLength(INJECTED), Buffer.byteLength(INJECTED)]);
    assert.equal(r.inline_script_sha256, [sha('window.__ad = 1;')]);
  }
  for (const r of [refHttp, refHttps]) {
    assert.equal(r.script_origins, ['https://cdn.vantage.test']);
    assert.is(r.sha256, sha(CLEAN));
    assert.equal(r.inline_script_sha256, []);
  }
  assert.equal(wrongHttp.form_action_origins, [`http://${HOST}:${settings.httpPort}`]);

  assert.is(wrongHttp.tls, null);
  assert.is(refHttp.tls, null);
  assert.equal([refHttps.tls?.verified, refHttps.tls?.error, refHttps.tls?.issuer], [true, null, 'Vantage Test CA']);
  assert.equal([wrongHttps.tls?.verified, wrongHttps.tls?.error, wrongHttps.tls?.issuer], [false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'Untrusted Injector CA']);
  assert.equal(wrongHttps.tls?.san, [HOST]);
  assert.is.not(wrongHttps.tls?.fingerprint256, refHttps.tls?.fingerprint256);

  // The wrong-IP server was asked for the domain: Host header and SNI.
  const seen = servers.wrong.https.requests.at(-1);
  assert.equal([seen?.host, seen?.servername], [`${HOST}:${settings.httpsPort}`, HOST]);
  assert.is(servers.wrong.http.requests.at(-1)?.host, `${HOST}:${settings.httpPort}`);
});

evidence('fetches every IP and scheme at the same moment', async () => {
  arrivals.length = 0;
  await gather('/timed');
  assert.is(arrivals.length, 4);
  // Every request arrived before the first response could have been sent.
  assert.ok(Math.max(...arrivals) - Math.min(...arrivals) < DELAY, `arrivals spread over ${Math.max(...arrivals) - Math.min(...arrivals)} ms`);
});

evidence('follows a same-host redirect through the same IP', async () => {
  const records = await gather('/hop', { reference: false });
  assert.is(records.length, 2);
  const r = pick(records, WRONG_IP, 'http');
  assert.equal(r.redirects, [{ status: 302, location: '/' }]);
  assert.equal([r.status, r.sha256], [200, sha(INJECTED)]);
  assert.equal(r.script_origins, ['https://ads.injector.example', 'https://cdn.vantage.test']);
});

evidence('follows an http → https redirect on the same host, keeping that handshake verdict', async () => {
  const r = pick(await gather('/canon', { reference: false }), WRONG_IP, 'http');
  assert.equal(r.redirects, [{ status: 301, location: `https://${HOST}:${settings.httpsPort}/` }]);
  assert.equal([r.status, r.sha256], [200, sha(INJECTED)]);
  assert.equal([r.tls?.verified, r.tls?.error], [false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
});

evidence('records an off-site redirect without following it', async () => {
  const r = pick(await gather('/offsite', { reference: false }), WRONG_IP, 'https');
  assert.equal(r.redirects, [{ status: 302, location: 'http://ads.landing.example/?from=shop' }]);
  assert.is(r.status, 302);
  assert.is(r.failure, null);
  assert.is(r.title, null);
});

evidence('stops following after 5 same-host redirects', async () => {
  const before = servers.wrong.http.requests.length;
  const r = pick(await gather('/loop', { reference: false }), WRONG_IP, 'http');
  assert.is(r.redirects.length, 6);
  assert.is(r.status, 302);
  assert.is(servers.wrong.http.requests.length - before, 6);
});

evidence('caps the body, keeping the Content-Length header for comparison', async () => {
  const r = pick(await gather('/big', { reference: false, bodyLimitBytes: 4096 }), WRONG_IP, 'http');
  assert.equal([r.body_bytes, r.body_truncated, r.content_length_header], [4096, true, 200_000]);
  assert.is(r.sha256, createHash('sha256').update(Buffer.alloc(4096, 'a')).digest('hex'));
});

evidence('gives a failure record for an IP that refuses, not an exception', async () => {
  const records = await gather('/', { unexpected: [DEAD_IP, WRONG_IP] });
  assert.is(records.length, 6);
  for (const scheme of ['http', 'https'] as const) {
    const dead = pick(records, DEAD_IP, scheme);
    assert.equal([dead.role, dead.failure, dead.status, dead.sha256], ['unexpected', 'connection_refused', null, null]);
    assert.is(pick(records, WRONG_IP, scheme).failure, null);
  }
});

evidence('ends every fetch when the check signal fires', async () => {
  const started = performance.now();
  const records = await gather('/stall', { timeoutMs: 300 });
  assert.is(records.length, 4);
  for (const r of records) assert.is(r.failure, 'timeout');
  assert.ok(performance.now() - started < 2000, 'the fetches outlived the signal');
});

evidence.run();
