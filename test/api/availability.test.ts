/**
 * Availability over data the real pipeline produced (probe worker → collector store), on chDB and
 * on clickhouse-server 18.16: every number the API gives equals a count computed from the raw
 * records (in TypeScript from the records themselves, and with SQL over vantage.results FINAL),
 * for each grouping, in UTC and in other time zones, with every empty bucket present.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ResultRecord } from '@vantage/probe';
import { importTasks } from '../../analyzer/src/api/import-tasks.ts';
import { ENGINE_NAMES, rows } from '../helpers/clickhouse-engines.ts';
import { PROBES, flakyFails, produceFixture, storeFixture, ROUNDS, type Fixture } from './fixture.ts';
import { show, startEngineApis, stopEngineApis, type EnginesCtx } from './helpers.ts';

interface Ctx extends EnginesCtx {
  fixture: Fixture;
}

const test = suite<Ctx>('availability over pipeline data');

test.before(async (ctx) => {
  ctx.fixture = await produceFixture();
  await startEngineApis(ctx, async (_t, ch) => {
    await storeFixture(ch, ctx.fixture);
    const imported = await importTasks(ch, 'acme', Object.values(ctx.fixture.tasks));
    assert.is(imported.imported.length, 5);
  });
});

test.after(async (ctx) => {
  await stopEngineApis(ctx);
  await ctx.fixture?.close();
});

/** checks / failures of the records that pass `keep`, by `key`. */
function counts(records: readonly ResultRecord[], keep: (r: ResultRecord) => boolean, key: (r: ResultRecord) => string) {
  const out = new Map<string, { checks: number; failures: number }>();
  for (const r of records.filter(keep)) {
    const k = key(r);
    const c = out.get(k) ?? { checks: 0, failures: 0 };
    c.checks++;
    if (r.failure !== null) c.failures++;
    out.set(k, c);
  }
  return out;
}

const localDay = (r: ResultRecord, offsetH: number) => new Date(Date.parse(r.started_at) + offsetH * 3_600_000).toISOString().slice(0, 10);
const WHOLE = { from: '2024-05-01T00:00:00Z', to: '2024-05-03T00:00:00Z' };

test('the fixture is what the pipeline produced: real successes and failures from four probes', ({ fixture }) => {
  const flaky = fixture.records.filter((r) => r.task_id === 'web-flaky');
  assert.is(flaky.length, PROBES.length * ROUNDS.length);
  const expectedFailures = PROBES.flatMap((p) => ROUNDS.map((_, i) => flakyFails(p.id, i))).filter(Boolean).length;
  assert.is(flaky.filter((r) => r.failure !== null).length, expectedFailures);
  assert.ok(flaky.filter((r) => r.failure !== null).every((r) => r.failure === 'http_status'));
  assert.ok(fixture.records.filter((r) => r.task_id === 'tcp-closed').every((r) => r.failure === 'connection_refused'));
  assert.ok(fixture.records.filter((r) => r.task_id === 'web-shop').every((r) => r.failure === null));
});

for (const engine of ENGINE_NAMES) {
  test(`${engine}: by region × ISP, UTC days: numbers equal counts of the raw records`, async ({ apis, fixture, engines }) => {
    const res = await apis[engine]!.acme.get('/v1/availability', { task: 'web-flaky', group_by: 'region_isp', granularity: 'day', tz: 'UTC', ...WHOLE });
    assert.is(res.status, 200, show(res));
    assert.is(res.body.query.source, 'results_1d');
    const byCell = counts(fixture.records, (r) => r.task_id === 'web-flaky', (r) => `${r.probe_region}|${r.probe_isp}`);
    assert.is(res.body.groups.length, byCell.size);
    for (const g of res.body.groups) {
      const want = byCell.get(`${g.region}|${g.isp}`)!;
      assert.equal({ checks: g.checks, failures: g.failures }, want, `${g.region} × ${g.isp}`);
      assert.is(g.successes, want.checks - want.failures);
      assert.is(g.success_ratio, (want.checks - want.failures) / want.checks);
      assert.equal(g.series.map((p: { start: string }) => p.start), ['2024-05-01T00:00:00Z', '2024-05-02T00:00:00Z']);
      const byDay = counts(fixture.records, (r) => r.task_id === 'web-flaky' && r.probe_region === g.region && r.probe_isp === g.isp, (r) => localDay(r, 0));
      assert.equal(g.series.map((p: { checks: number; failures: number }) => ({ checks: p.checks, failures: p.failures })), ['2024-05-01', '2024-05-02'].map((d) => byDay.get(d)));
    }
    // The same totals counted by SQL over the raw table.
    const [raw] = await rows<{ n: number; failed: number }>(engines.get(engine), "SELECT count() AS n, countIf(ok = 0) AS failed FROM vantage.results FINAL WHERE task_id = 'web-flaky'");
    assert.equal({ checks: res.body.total.checks, failures: res.body.total.failures }, { checks: Number(raw!.n), failures: Number(raw!.failed) });
  });

  test(`${engine}: Asia/Shanghai days split the same rounds differently (from the hourly rollup)`, async ({ apis, fixture }) => {
    const res = await apis[engine]!.acme.get('/v1/availability', {
      task: 'web-flaky', group_by: 'none', granularity: 'day', tz: 'Asia/Shanghai', from: '2024-05-01T00:00:00+08:00', to: '2024-05-03T00:00:00+08:00',
    });
    assert.is(res.status, 200, show(res));
    assert.is(res.body.query.source, 'results_1h');
    const series = res.body.groups[0].series;
    assert.equal(series.map((p: { start: string }) => p.start), ['2024-05-01T00:00:00+08:00', '2024-05-02T00:00:00+08:00']);
    const byDay = counts(fixture.records, (r) => r.task_id === 'web-flaky', (r) => localDay(r, 8));
    assert.equal(series.map((p: { checks: number; failures: number }) => ({ checks: p.checks, failures: p.failures })), [byDay.get('2024-05-01'), byDay.get('2024-05-02')]);
    // Rounds 0–1 fall on the Shanghai 1st, 2–5 on the 2nd; in UTC it is 0–3 and 4–5.
    assert.is(series[0].checks, 2 * PROBES.length);
    assert.is(series[1].checks, 4 * PROBES.length);
  });

  test(`${engine}: hourly buckets: every hour present, empty ones with 0 checks and a null ratio`, async ({ apis }) => {
    const res = await apis[engine]!.acme.get('/v1/availability', { task: 'web-flaky', granularity: 'hour', from: '2024-05-01T15:00:00Z', to: '2024-05-02T01:00:00Z' });
    assert.is(res.status, 200, show(res));
    const series = res.body.groups[0].series as { start: string; checks: number; success_ratio: number | null; latency_ms: { total: unknown } }[];
    assert.is(series.length, 10);
    const filled = Object.fromEntries(series.filter((p) => p.checks > 0).map((p) => [p.start, p.checks]));
    assert.equal(filled, { '2024-05-01T15:00:00Z': 8, '2024-05-01T16:00:00Z': 4, '2024-05-01T23:00:00Z': 4, '2024-05-02T00:00:00Z': 8 });
    for (const gap of series.filter((p) => p.checks === 0)) {
      assert.is(gap.success_ratio, null);
      assert.is(gap.latency_ms.total, null);
    }
  });

  test(`${engine}: a target covers every task of the tenant with it; by probe`, async ({ apis, fixture }) => {
    const res = await apis[engine]!.acme.get('/v1/availability', { target: fixture.flakyTarget, group_by: 'probe', series: false, ...WHOLE });
    assert.is(res.status, 200, show(res));
    assert.equal(res.body.tasks, ['web-flaky', 'web-flaky-2']);
    const byProbe = counts(fixture.records, (r) => r.target === fixture.flakyTarget, (r) => r.probe_id);
    assert.equal(res.body.groups.map((g: { probe: string }) => g.probe).sort(), PROBES.map((p) => p.id).sort());
    for (const g of res.body.groups) {
      assert.equal({ checks: g.checks, failures: g.failures }, byProbe.get(g.probe), g.probe);
      assert.is(g.region, PROBES.find((p) => p.id === g.probe)!.region);
      assert.is(g.series, undefined);
    }
  });

  test(`${engine}: the raw table gives the same numbers as the rollups; latency per phase`, async ({ apis }) => {
    for (const task of ['web-flaky', 'web-shop', 'tcp-closed', 'dns-shop']) {
      const query = { task, group_by: 'region_isp', granularity: 'hour', tz: 'Asia/Shanghai', ...WHOLE };
      const [rollup, raw] = await Promise.all([apis[engine]!.acme.get('/v1/availability', query), apis[engine]!.acme.get('/v1/availability', { ...query, source: 'raw' })]);
      assert.is(raw.body.query.source, 'results', show(raw));
      const pick = (body: { groups: { region: string; isp: string; checks: number; failures: number; series: { checks: number; failures: number }[] }[] }) =>
        body.groups.map((g) => [g.region, g.isp, g.checks, g.failures, g.series.map((p) => `${p.checks}/${p.failures}`).join(',')]);
      assert.equal(pick(rollup.body), pick(raw.body), task);
    }
    const web = await apis[engine]!.acme.get('/v1/availability', { task: 'web-shop', series: false, ...WHOLE });
    const lat = web.body.total.latency_ms;
    for (const phase of ['total', 'connect', 'processing']) {
      assert.ok(lat[phase] && lat[phase].p50 > 0 && lat[phase].p50 <= lat[phase].p99, `${phase}: ${JSON.stringify(lat[phase])}`);
    }
    assert.is(lat.tls, null, 'plain http: no TLS phase');
    const totalOnly = await apis[engine]!.acme.get('/v1/availability', { task: 'web-shop', series: false, latency: 'total', group_by: 'region', ...WHOLE });
    assert.equal(Object.keys(totalOnly.body.groups[0].latency_ms), ['total']);
    assert.equal(totalOnly.body.total.latency_ms.total, lat.total, 'the same percentiles');
    const none = await apis[engine]!.acme.get('/v1/availability', { task: 'web-shop', latency: 'none', ...WHOLE });
    assert.equal(none.body.total.latency_ms, {});
    assert.is(none.body.total.checks, web.body.total.checks);
  });

  test(`${engine}: a quarter-hour zone and minute buckets read the minute rollup`, async ({ apis, fixture }) => {
    const ktm = await apis[engine]!.acme.get('/v1/availability', { task: 'dns-shop', granularity: 'hour', tz: 'Asia/Kathmandu', ...WHOLE });
    assert.is(ktm.status, 200, show(ktm));
    assert.is(ktm.body.query.source, 'results_1m');
    // Local hours are whole in Kathmandu (+05:45): they start at :15 UTC.
    assert.ok(ktm.body.groups[0].series.every((p: { start: string }) => p.start.endsWith(':00:00+05:45') && Date.parse(p.start) % 3_600_000 === 15 * 60_000));
    assert.is(ktm.body.total.checks, fixture.records.filter((r) => r.task_id === 'dns-shop').length);
    const minutes = await apis[engine]!.acme.get('/v1/availability', { task: 'dns-shop', granularity: 'minute', from: '2024-05-01T15:00:00Z', to: '2024-05-01T16:00:00Z' });
    const filled = minutes.body.groups[0].series.filter((p: { checks: number }) => p.checks > 0);
    assert.equal(filled.map((p: { start: string; checks: number }) => [p.start, p.checks]), [['2024-05-01T15:10:00Z', 4], ['2024-05-01T15:50:00Z', 4]]);
    assert.is(minutes.body.groups[0].series.length, 60);
  });

  test(`${engine}: another tenant sees none of it`, async ({ apis, fixture }) => {
    const byTask = await apis[engine]!.globex.get('/v1/availability', { task: 'web-flaky', ...WHOLE });
    assert.is(byTask.status, 404, show(byTask));
    assert.match(byTask.body.message, /no task "web-flaky"/);
    const byTarget = await apis[engine]!.globex.get('/v1/availability', { target: fixture.flakyTarget, ...WHOLE });
    assert.is(byTarget.status, 404, show(byTarget));
  });
}

test.run();
