/**
 * Authentication over real HTTP against a running API: signed requests (valid, wrong signature,
 * tampered query or body, stale and future timestamps, replayed nonce), bearer keys, scopes,
 * tenants, and keys added and revoked in the keys file while the API runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { migrate, openClickHouse, type ClickHouse } from '@vantage/collector';
import { signatureHeaders, VantageClient } from '../../analyzer/src/api/client.ts';
import { createKey, KeyRing, revokeKey } from '../../analyzer/src/api/keys.ts';
import { startApi, type RunningApi } from '../../analyzer/src/api/server.ts';
import { canonicalQuery, stringToSign } from '../../analyzer/src/api/signing.ts';
import { KEYS, show, startTestApi, type TestApi } from './helpers.ts';

interface Ctx {
  dir: string;
  ch: ClickHouse;
  t: TestApi;
}

const test = suite<Ctx>('API authentication');

test.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'vantage-api-auth-'));
  ctx.ch = await openClickHouse({ engine: 'chdb', path: join(ctx.dir, 'chdb') });
  ctx.t = await startTestApi(ctx.ch);
  const created = await ctx.t.acme.post('/v1/tasks', { id: 'acme-web', kind: 'http', target: 'https://acme.test/' });
  assert.is(created.status, 201, show(created));
});

test.after(async (ctx) => {
  await ctx.t?.close();
  await ctx.ch?.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

test('canonical query: pairs decoded, sorted by name then value, RFC 3986 encoded', () => {
  assert.is(canonicalQuery('b=2&a=x%20y&a=%21&c=+'), 'a=%21&a=x%20y&b=2&c=%20');
  assert.is(canonicalQuery([['tz', 'Asia/Shanghai'], ['from', '2024-05-01T00:00:00+08:00']]), 'from=2024-05-01T00%3A00%3A00%2B08%3A00&tz=Asia%2FShanghai');
  const s = stringToSign({ method: 'get', path: '/v1/tasks', query: '', timestamp: '1700000000', nonce: 'n'.repeat(16), body: null });
  assert.is(s, ['VANTAGE-HMAC-SHA256', 'GET', '/v1/tasks', '', '1700000000', 'n'.repeat(16), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'].join('\n'));
});

test('a signed request and a bearer key are accepted; whoami names tenant, key and scope', async ({ t }) => {
  const signed = await t.acme.get('/v1/whoami');
  assert.is(signed.status, 200, show(signed));
  assert.equal(signed.body, { tenant: 'acme', key_id: KEYS.acme.id, scope: 'write', via: 'signature' });
  const bearer = await t.client(KEYS.acmeRead, { auth: 'bearer' }).get('/v1/whoami');
  assert.equal(bearer.body, { tenant: 'acme', key_id: KEYS.acmeRead.id, scope: 'read', via: 'bearer' });
  // A query with characters that need encoding, signed and sent in a different order.
  const q = await t.acme.get('/v1/tasks', [['target', 'https://acme.test/'], ['kind', 'http']]);
  assert.is(q.status, 200, show(q));
  assert.equal(q.body.tasks.map((x: { id: string }) => x.id), ['acme-web']);
});

test('no credentials, a wrong secret, or a wrong signature: 401 saying why', async ({ t }) => {
  const none = await fetch(`${t.api.url}/v1/whoami`);
  assert.is(none.status, 401);
  assert.match((await none.json()).message, /credentials required/);
  const wrongSecret = await new VantageClient({ baseUrl: t.api.url, keyId: KEYS.acme.id, secret: 'not-the-secret-0123456789abcdefghij', auth: 'bearer' }).get('/v1/whoami');
  assert.is(wrongSecret.status, 401);
  const wrongSig = await new VantageClient({ baseUrl: t.api.url, keyId: KEYS.acme.id, secret: 'not-the-secret-0123456789abcdefghij' }).get('/v1/whoami');
  assert.is(wrongSig.status, 401);
  assert.match(wrongSig.body.message, /signature does not match/);
  assert.match(wrongSig.body.problems[0], /the server signed: "VANTAGE-HMAC-SHA256\\nGET\\n\/v1\/whoami/);
  const unknown = await new VantageClient({ baseUrl: t.api.url, keyId: 'vk_ffffffffffffffff', secret: KEYS.acme.secret }).get('/v1/whoami');
  assert.is(unknown.status, 401);
  const malformed = await fetch(`${t.api.url}/v1/whoami`, { headers: { authorization: 'Basic YWxhZGRpbjpvcGVu' } });
  assert.is(malformed.status, 401);
  const partial = await fetch(`${t.api.url}/v1/whoami`, { headers: { 'x-vantage-key': KEYS.acme.id } });
  assert.is(partial.status, 401);
  assert.match((await partial.json()).message, /missing: x-vantage-timestamp, x-vantage-nonce, x-vantage-signature/);
});

test('a signature covers the query and the body: tampering with either is refused', async ({ t }) => {
  const now = Math.floor(Date.now() / 1000);
  const headers = signatureHeaders({ keyId: KEYS.acme.id, secret: KEYS.acme.secret, method: 'GET', path: '/v1/tasks', query: [['kind', 'http']], body: null, timestamp: now, nonce: 'tamper-query-000001' });
  const tamperedQuery = await fetch(`${t.api.url}/v1/tasks?kind=dns`, { headers });
  assert.is(tamperedQuery.status, 401);
  const body = JSON.stringify({ id: 'acme-tcp', kind: 'tcp', target: '127.0.0.1:9' });
  const signed = signatureHeaders({ keyId: KEYS.acme.id, secret: KEYS.acme.secret, method: 'POST', path: '/v1/tasks', query: [], body, timestamp: now, nonce: 'tamper-body-0000001' });
  const tamperedBody = await fetch(`${t.api.url}/v1/tasks`, { method: 'POST', headers: { ...signed, 'content-type': 'application/json' }, body: body.replace('127.0.0.1:9', '127.0.0.1:10') });
  assert.is(tamperedBody.status, 401);
  const otherMethod = await fetch(`${t.api.url}/v1/tasks`, { method: 'GET', headers: signatureHeaders({ keyId: KEYS.acme.id, secret: KEYS.acme.secret, method: 'DELETE', path: '/v1/tasks', query: [], body: null, timestamp: now, nonce: 'tamper-method-00001' }) });
  assert.is(otherMethod.status, 401);
  const missing = await t.acme.get('/v1/tasks/acme-tcp');
  assert.is(missing.status, 404, 'the tampered create did not happen');
});

test('timestamps outside the skew window are refused, both ways', async ({ t }) => {
  const stale = await t.client(KEYS.acme, { now: () => Date.now() - 301_000 }).get('/v1/whoami');
  assert.is(stale.status, 401, show(stale));
  assert.match(stale.body.message, /behind the server's clock.*at most 300 s allowed/);
  const future = await t.client(KEYS.acme, { now: () => Date.now() + 400_000 }).get('/v1/whoami');
  assert.is(future.status, 401);
  assert.match(future.body.message, /ahead of/);
  const slightlyOff = await t.client(KEYS.acme, { now: () => Date.now() - 200_000 }).get('/v1/whoami');
  assert.is(slightlyOff.status, 200, 'inside the window');
});

test('a replayed nonce is refused, even with a fresh signature; a new nonce passes', async ({ t }) => {
  const nonce = 'replay-me-0123456789';
  const client = t.client(KEYS.acme, { nonce: () => nonce });
  assert.is((await client.get('/v1/whoami')).status, 200);
  const again = await client.get('/v1/whoami');
  assert.is(again.status, 401);
  assert.match(again.body.message, /already used: a replayed request/);
  // The exact same bytes sent again (a captured request): refused too.
  const headers = signatureHeaders({ keyId: KEYS.acme.id, secret: KEYS.acme.secret, method: 'GET', path: '/v1/whoami', query: [], body: null, timestamp: Math.floor(Date.now() / 1000), nonce: 'captured-0123456789' });
  assert.is((await fetch(`${t.api.url}/v1/whoami`, { headers })).status, 200);
  assert.is((await fetch(`${t.api.url}/v1/whoami`, { headers })).status, 401);
  // The same nonce under another key is another nonce.
  assert.is((await t.client(KEYS.globex, { nonce: () => nonce }).get('/v1/whoami')).status, 200);
});

test('a read key cannot write (403); another tenant sees none of acme\'s tasks (404)', async ({ t }) => {
  const write = await t.acmeRead.post('/v1/tasks', { id: 'ro-try', kind: 'tcp', target: '127.0.0.1:9' });
  assert.is(write.status, 403, show(write));
  assert.match(write.body.message, /read-only/);
  assert.is((await t.acmeRead.delete('/v1/tasks/acme-web')).status, 403);
  const other = await t.globex.get('/v1/tasks/acme-web');
  assert.is(other.status, 404, show(other));
  assert.equal((await t.globex.get('/v1/tasks')).body.tasks, []);
  assert.is((await t.globex.delete('/v1/tasks/acme-web')).status, 404);
  assert.is((await t.globex.put('/v1/tasks/acme-web', { kind: 'tcp', target: '127.0.0.1:9' })).status, 409, 'the id belongs to acme');
  assert.is((await t.acme.get('/v1/tasks/acme-web')).body.target, 'https://acme.test/', 'unchanged');
});

test('keys file: a key created while the API runs works within a second; a revoked one stops', async ({ dir, ch }) => {
  const file = join(dir, 'keys.json');
  let now = Date.now();
  const api: RunningApi = await startApi({ ch, keys: KeyRing.fromFile(file, { now: () => now }), host: '127.0.0.1', port: 0 });
  try {
    await migrate(ch.client);
    const key = createKey(file, { tenant: 'initech', scope: 'read' });
    now += 1001;
    const client = new VantageClient({ baseUrl: api.url, keyId: key.id, secret: key.secret });
    const ok = await client.get('/v1/whoami');
    assert.is(ok.status, 200, show(ok));
    assert.is(ok.body.tenant, 'initech');
    assert.ok(revokeKey(file, key.id));
    now += 1001;
    assert.is((await client.get('/v1/whoami')).status, 401);
  } finally {
    await api.close();
  }
});

test('/healthz, /metrics and /openapi.json need no key; metrics count refusals by reason', async ({ t }) => {
  assert.is((await fetch(`${t.api.url}/healthz`)).status, 200);
  assert.is((await fetch(`${t.api.url}/openapi.json`)).status, 200);
  const metrics = await (await fetch(`${t.api.url}/metrics`)).text();
  assert.match(metrics, /vantage_api_auth_failures_total\{reason="replayed"\} [1-9]/);
  assert.match(metrics, /vantage_api_auth_failures_total\{reason="stale"\} [1-9]/);
  assert.match(metrics, /vantage_api_requests_total\{route="\/v1\/whoami",method="GET",status="200"\} [1-9]/);
});

test.run();
