/**
 * Every endpoint with hostile input, on chDB and clickhouse-server 18.16: bad, missing, repeated,
 * unknown, overlong and injection-shaped parameters, bodies that are not JSON, too large or of the
 * wrong type. Each answer is a 4xx whose message names what is wrong (or a normal answer for a
 * value that is merely unusual, e.g. a quote in a region name); never a 5xx; and the stored data
 * is intact afterwards.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ApiResponse, Query } from '../../analyzer/src/api/client.ts';
import { ENGINE_NAMES, rows } from '../helpers/clickhouse-engines.ts';
import { makeRecord } from '../helpers/records.ts';
import { storeFixture } from './fixture.ts';
import { KEYS, show, startEngineApis, stopEngineApis, type EnginesCtx } from './helpers.ts';

type Ctx = EnginesCtx;

const test = suite<Ctx>('hostile input');

test.before((ctx) => startEngineApis(ctx, async (t, ch) => {
  const created = await t.acme.post('/v1/tasks', { id: 'probe-me', kind: 'tcp', target: '127.0.0.1:9' });
  assert.is(created.status, 201, show(created));
  await storeFixture(ch, { records: Array.from({ length: 10 }, (_, i) => makeRecord(`p${i % 2}`, 'probe-me', i)) });
}));

test.after(stopEngineApis);

const INJECTIONS = ["' OR 1=1 --", "x'); DROP TABLE vantage.results; --", "\\' OR ''='", '`id`', 'a\\', "'; SELECT * FROM system.users --", '%27', '\u202e\u0000'.slice(0, 1) + 'rtl'];

/** [path, query, expected status, message pattern]: the cases every engine runs. */
const CASES: [string, Query, number, RegExp][] = [
  ['/v1/availability', {}, 400, /task, target: give exactly one of them/],
  ['/v1/availability', { task: 'probe-me', target: 'x' }, 400, /give exactly one/],
  ['/v1/availability', { task: 'probe-me', from: 'yesterday' }, 400, /from: "yesterday" is not an RFC 3339 time/],
  ['/v1/availability', { task: 'probe-me', from: '2024-02-30T00:00:00Z' }, 400, /from: "2024-02-30T00:00:00Z" is not an RFC 3339 time/],
  ['/v1/availability', { task: 'probe-me', from: '1969-12-31T00:00:00Z' }, 400, /from: must be between 2000-01-01 and 2100-01-01/],
  ['/v1/availability', { task: 'probe-me', from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' }, 400, /to: must be after from/],
  ['/v1/availability', { task: 'probe-me', from: '2020-01-01T00:00:00Z', to: '2024-01-01T00:00:00Z', granularity: 'day' }, 400, /at most 400 days/],
  ['/v1/availability', { task: 'probe-me', from: '2024-01-01T00:00:00Z', to: '2024-01-05T00:00:00Z', granularity: 'minute' }, 400, /at most 2 days/],
  ['/v1/availability', { task: 'probe-me', granularity: 'week' }, 400, /granularity: "week" is not one of minute, hour, day/],
  ['/v1/availability', { task: 'probe-me', tz: 'Mars/Olympus' }, 400, /tz: "Mars\/Olympus" is not an IANA time zone/],
  ['/v1/availability', { task: 'probe-me', tz: "UTC'); DROP TABLE x; --" }, 400, /tz: .* is not an IANA time zone/],
  ['/v1/availability', { task: 'probe-me', group_by: 'probe_id; --' }, 400, /group_by: .* is not one of none, region, isp, region_isp, probe/],
  ['/v1/availability', { task: 'probe-me', series: 'yes' }, 400, /series: "yes" is not true or false/],
  ['/v1/availability', { task: 'probe-me', source: 'results FINAL' }, 400, /source: .* is not one of rollup, raw/],
  ['/v1/availability', { task: 'probe-me', kind: 'smtp' }, 400, /kind: "smtp" is not one of dns, http, tcp, ping/],
  ['/v1/availability', { task: "probe-me' OR '1'='1" }, 400, /task: .* is not valid/],
  ['/v1/availability', { task: 'x'.repeat(65) }, 400, /task: must be at most 64 characters/],
  ['/v1/availability', { target: 'x'.repeat(3000) }, 400, /target: must be at most 2048 characters/],
  ['/v1/availability', { target: 'a\u0000b' }, 400, /target: must not contain control characters/],
  ['/v1/availability', { task: 'probe-me', color: 'red', 'a]b': '1' }, 400, /color: unknown query parameter \(known: task, target/],
  ['/v1/availability', [['task', 'probe-me'], ['task', 'probe-me']], 400, /task: given more than once/],
  ['/v1/availability', { task: '' }, 400, /task: must not be empty/],
  ['/v1/verdicts', { limit: '0' }, 400, /limit: must be between 1 and 1000, got 0/],
  ['/v1/verdicts', { limit: '1e9' }, 400, /limit: "1e9" is not a whole number/],
  ['/v1/verdicts', { limit: '-5' }, 400, /limit: must be between 1 and 1000/],
  ['/v1/verdicts', { cursor: 'not base64 !!' }, 400, /cursor: not a cursor from a previous page/],
  ['/v1/verdicts', { cursor: Buffer.from('{"a":1}').toString('base64url') }, 400, /cursor: not a cursor/],
  ['/v1/verdicts', { class: 'isp_cache,evil' }, 400, /class: "evil" is not one of/],
  ['/v1/verdicts', { probe: 'p1; DROP' }, 400, /probe: .* is not valid/],
  ['/v1/verdicts', { from: '2024-01-01T00:00:00Z', to: '2024-03-01T00:00:00Z' }, 400, /at most 31 days/],
  ['/v1/verdicts/matrix', { region: 'r'.repeat(300) }, 400, /region: must be at most 256 characters/],
  ['/v1/verdicts/not-an-id', {}, 400, /id: not a verdict id/],
  [`/v1/verdicts/${'9'.repeat(600)}`, {}, 414, /./],
  ['/v1/fleet', { seen_within: '0m' }, 400, /seen_within: must be more than 0 and at most 30 days/],
  ['/v1/fleet', { seen_within: '999d' }, 400, /seen_within: must be more than 0 and at most 30 days/],
  ['/v1/fleet', { seen_within: '1 DAY' }, 400, /seen_within: "1 DAY" is not a duration/],
  ['/v1/fleet', { status: 'dead' }, 400, /status: "dead" is not one of online, offline/],
  ['/v1/tasks', { kind: 'x' }, 400, /kind: "x" is not one of/],
  ['/v1/tasks/..%2F..%2Fetc%2Fpasswd', {}, 400, /id: .* is not valid/],
  ['/v1/whoami', { extra: '1' }, 400, /extra: unknown query parameter \(none are accepted\)/],
  ['/v1/nothing-here', {}, 404, /no route GET \/v1\/nothing-here; the API is described at \/openapi\.json/],
];

for (const engine of ENGINE_NAMES) {
  test(`${engine}: bad parameters on every endpoint: 4xx naming the problem`, async ({ apis }) => {
    const { acme } = apis[engine]!;
    for (const [path, query, status, message] of CASES) {
      const res = await acme.request('GET', path, { query });
      assert.is(res.status, status, `${path} ${JSON.stringify(query).slice(0, 100)} → ${show(res)}`);
      assert.match(String(res.body?.message ?? ''), message, `${path} ${JSON.stringify(query).slice(0, 100)}`);
    }
  });

  test(`${engine}: injection-shaped values are data, never SQL: normal answers, data intact`, async ({ apis, engines }) => {
    const { acme } = apis[engine]!;
    const answers: ApiResponse[] = [];
    for (const evil of INJECTIONS) {
      answers.push(await acme.get('/v1/availability', { target: evil }));
      answers.push(await acme.get('/v1/verdicts', { target: evil, region: evil, isp: evil }));
      answers.push(await acme.get('/v1/verdicts/matrix', { target: evil, isp: evil }));
      answers.push(await acme.get('/v1/tasks', { target: evil }));
      answers.push(await acme.get(`/v1/verdicts/${encodeURIComponent(`0190a000-0000-7000-8000-000000000000/${evil}`)}`));
      answers.push(await acme.get('/v1/verdicts', { cursor: Buffer.from(JSON.stringify([1_700_000_000_000, evil])).toString('base64url') }));
    }
    for (const res of answers) assert.ok([200, 400, 404].includes(res.status), show(res));
    assert.ok(answers.filter((r) => r.status === 200).length >= INJECTIONS.length * 4, 'most are ordinary answers');
    const [n] = await rows<{ n: number }>(engines.get(engine), "SELECT count() AS n FROM vantage.results WHERE task_id = 'probe-me'");
    assert.is(Number(n!.n), 10, 'the results are intact');
    const ok = await acme.get('/v1/availability', { task: 'probe-me', group_by: 'probe', series: false });
    assert.is(ok.body.total.checks, 10, show(ok));
  });

  test(`${engine}: bodies that are not a task: bad JSON, wrong type, too large, unexpected`, async ({ apis }) => {
    const { acme, api } = apis[engine]!;
    const cases: [string, string, Record<string, string>, number, RegExp][] = [
      ['POST', '{"id": "x",', { 'content-type': 'application/json' }, 400, /body: not valid JSON/],
      ['POST', '', { 'content-type': 'application/json' }, 400, /body: a JSON object is required/],
      ['POST', '"just a string"', { 'content-type': 'application/json' }, 400, /body: expected a JSON object/],
      ['POST', 'id=x', { 'content-type': 'application/x-www-form-urlencoded' }, 415, /Content-Type: application\/json/],
      ['POST', JSON.stringify({ id: 'big', kind: 'http', target: `https://a.test/${'a'.repeat(70_000)}` }), { 'content-type': 'application/json' }, 413, /larger than 65536 bytes/],
      ['POST', JSON.stringify({ id: 'proto', kind: 'tcp', target: 'a.test:1', __proto__: { admin: true }, constructor: {} }), { 'content-type': 'application/json' }, 400, /constructor: unknown key/],
    ];
    for (const [method, rawBody, headers, status, message] of cases) {
      const res = await acme.request(method, '/v1/tasks', { rawBody, headers });
      assert.is(res.status, status, `${rawBody.slice(0, 60)} → ${show(res)}`);
      assert.match(String(res.body?.message ?? ''), message);
    }
    const del = await acme.request('DELETE', '/v1/tasks/probe-me', { rawBody: '{"x":1}', headers: { 'content-type': 'application/json' } });
    assert.is(del.status, 400, show(del));
    assert.match(del.body.message, /this request takes no body/);
    // Headers from hell: huge, repeated, odd.
    const huge = await fetch(`${api.url}/v1/whoami`, { headers: { authorization: `Bearer ${KEYS.acme.id}.${'a'.repeat(5000)}` } });
    assert.is(huge.status, 401);
    const badNonce = await fetch(`${api.url}/v1/whoami`, { headers: { 'x-vantage-key': KEYS.acme.id, 'x-vantage-timestamp': '17e8', 'x-vantage-nonce': "'; --", 'x-vantage-signature': 'zz' } });
    assert.is(badNonce.status, 401);
    assert.equal((await badNonce.json()).problems.length, 3);
  });

  test(`${engine}: dashboard paths outside the page are 404; the API stays healthy`, async ({ apis }) => {
    const { api } = apis[engine]!;
    for (const path of ['/dashboard/../../package.json', '/dashboard/%2e%2e/%2e%2e/package.json', '/dashboard/vendor/../../../../etc/passwd', '/dashboard/nope.js']) {
      const res = await fetch(`${api.url}${path}`);
      assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
      assert.not.match(await res.text(), /"name": "vantage"|root:x:/);
    }
    const health = await fetch(`${api.url}/healthz`);
    assert.is(health.status, 200);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    assert.not.match(metrics, /vantage_api_requests_total\{[^}]*status="5\d\d"\}/, 'no 5xx answered');
  });
}

test.run();
