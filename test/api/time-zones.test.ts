/**
 * Daylight-saving edges on both engines: the bucket keys the SQL computes (integer arithmetic with
 * the zone's offsets as a multiIf) agree with the buckets TypeScript lists — the repeated hour of a
 * fall-back night stays two hours, a spring-forward day is 23 hours, and a zone with a 30-minute
 * DST shift (Lord Howe) falls back to the minute rollup.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE_NAMES } from '../helpers/clickhouse-engines.ts';
import { makeHttpRecord } from '../helpers/kind-records.ts';
import { storeFixture } from './fixture.ts';
import { show, startEngineApis, stopEngineApis, type EnginesCtx } from './helpers.ts';

type Ctx = EnginesCtx;

const test = suite<Ctx>('time zones on both engines');
const AT = [
  '2024-11-03T05:30:00Z', // 01:30 EDT
  '2024-11-03T06:30:00Z', // 01:30 EST: the same wall hour again
  '2024-11-03T07:30:00Z', // 02:30 EST
  '2024-03-10T06:30:00Z', // 01:30 EST
  '2024-03-10T07:30:00Z', // 03:30 EDT (02:xx does not exist)
  '2024-04-06T14:50:00Z', // Lord Howe: 01:50 +11:00, before its 30-minute fall-back at 15:00Z
  '2024-04-06T15:20:00Z', // Lord Howe: 01:50 +10:30
];

test.before((ctx) => startEngineApis(ctx, async (t, ch) => {
  assert.is((await t.acme.post('/v1/tasks', { id: 'tz-web', kind: 'http', target: 'https://example.test/health' })).status, 201);
  await storeFixture(ch, { records: AT.map((iso, i) => makeHttpRecord({ probeId: 'tz-probe', taskId: 'tz-web', atMs: Date.parse(iso), ok: i % 2 === 0 })) });
}));

test.after(stopEngineApis);

const series = (body: { groups: { series: { start: string; end: string; checks: number }[] }[] }) =>
  body.groups[0]!.series.map((p) => [p.start, p.end, p.checks]);

for (const engine of ENGINE_NAMES) {
  test(`${engine}: New York fall-back night: hours 01:00 EDT and 01:00 EST are two buckets`, async ({ apis }) => {
    const res = await apis[engine]!.acme.get('/v1/availability', { task: 'tz-web', granularity: 'hour', tz: 'America/New_York', from: '2024-11-03T04:00:00Z', to: '2024-11-03T09:00:00Z' });
    assert.is(res.status, 200, show(res));
    assert.is(res.body.query.source, 'results_1h');
    assert.equal(series(res.body), [
      ['2024-11-03T00:00:00-04:00', '2024-11-03T01:00:00-04:00', 0],
      ['2024-11-03T01:00:00-04:00', '2024-11-03T01:00:00-05:00', 1],
      ['2024-11-03T01:00:00-05:00', '2024-11-03T02:00:00-05:00', 1],
      ['2024-11-03T02:00:00-05:00', '2024-11-03T03:00:00-05:00', 1],
      ['2024-11-03T03:00:00-05:00', '2024-11-03T04:00:00-05:00', 0],
    ]);
  });

  test(`${engine}: New York days: 25 hours in November, 23 in March`, async ({ apis }) => {
    const nov = await apis[engine]!.acme.get('/v1/availability', { task: 'tz-web', granularity: 'day', tz: 'America/New_York', from: '2024-11-03T00:00:00-04:00', to: '2024-11-04T00:00:00-05:00' });
    assert.equal(series(nov.body), [['2024-11-03T00:00:00-04:00', '2024-11-04T00:00:00-05:00', 3]]);
    const mar = await apis[engine]!.acme.get('/v1/availability', { task: 'tz-web', granularity: 'day', tz: 'America/New_York', from: '2024-03-10T00:00:00-05:00', to: '2024-03-11T00:00:00-04:00' });
    assert.equal(series(mar.body), [['2024-03-10T00:00:00-05:00', '2024-03-11T00:00:00-04:00', 2]]);
    assert.is(mar.body.total.failures, 1);
  });

  test(`${engine}: Lord Howe's 30-minute shift: minute rollup, both records on the local day, each in its own hour`, async ({ apis }) => {
    const day = await apis[engine]!.acme.get('/v1/availability', { task: 'tz-web', granularity: 'day', tz: 'Australia/Lord_Howe', from: '2024-04-06T13:00:00Z', to: '2024-04-07T13:30:00Z' });
    assert.is(day.status, 200, show(day));
    assert.is(day.body.query.source, 'results_1m');
    assert.equal(series(day.body), [['2024-04-07T00:00:00+11:00', '2024-04-08T00:00:00+10:30', 2]]);
    const hours = await apis[engine]!.acme.get('/v1/availability', { task: 'tz-web', granularity: 'hour', tz: 'Australia/Lord_Howe', from: '2024-04-06T14:00:00Z', to: '2024-04-06T16:00:00Z' });
    const filled = series(hours.body).filter((p) => p[2] !== 0);
    assert.equal(filled, [
      ['2024-04-07T01:00:00+11:00', '2024-04-07T01:30:00+10:30', 1],
      ['2024-04-07T01:30:00+10:30', '2024-04-07T02:00:00+10:30', 1],
    ]);
  });
}

test.run();
