/**
 * The per-cell hourly rollup (results_1h_cells) on both engines: for a range after its migration,
 * availability grouped by region × ISP (or region, ISP, nothing) reads it, and gives exactly what
 * the raw table gives — counts and latency percentiles; grouped by probe, or for a range from
 * before the migration, the per-probe rollup is read.
 */
import type { ResultRecord } from '@vantage/probe';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE_NAMES } from '../helpers/clickhouse-engines.ts';
import { makeHttpRecord } from '../helpers/kind-records.ts';
import { storeFixture } from './fixture.ts';
import { show, startEngineApis, stopEngineApis, type EnginesCtx } from './helpers.ts';

type Ctx = EnginesCtx;

const HOUR = 3_600_000;
const NOW = Date.now();
const START = Math.floor(NOW / HOUR) * HOUR - 5 * HOUR;
const CELLS = [['east', 'telecom'], ['east', 'unicom'], ['west', 'telecom']] as const;

/** Three probes per cell, one check every 10 minutes for 4 hours, every seventh failing. */
function records(): ResultRecord[] {
  const out: ResultRecord[] = [];
  for (const [c, [region, isp]] of CELLS.entries()) {
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < 24; i++) {
        const n = out.length;
        const r = makeHttpRecord({ probeId: `p-${c}-${p}`, taskId: 'cells-web', atMs: START + i * 600_000 + p * 1000, ok: n % 7 !== 0, durationMs: 10 + (n % 50) });
        out.push({ ...r, probe_region: region, probe_isp: isp });
      }
    }
  }
  return out;
}

const test = suite<Ctx>('per-cell hourly rollup');
test.before((ctx) => startEngineApis(ctx, async (t, ch) => {
  assert.is((await t.acme.post('/v1/tasks', { id: 'cells-web', kind: 'http', target: 'https://example.test/health' })).status, 201);
  await storeFixture(ch, { records: records() });
  // As if migration 5 had run two hours before the records (the migration ran just now here).
  await ch.client.insert({ table: 'vantage.schema_migrations', values: [{ version: 5, name: 'earlier', applied_at: Math.floor((START - 2 * HOUR) / 1000) }], format: 'JSONEachRow' });
}));

test.after(stopEngineApis);

const range = { from: new Date(START).toISOString(), to: new Date(START + 5 * HOUR).toISOString() };

for (const engine of ENGINE_NAMES) {
  test(`${engine}: grouped by region × ISP it reads the cells and agrees with the raw table`, async ({ apis }) => {
    for (const group_by of ['region_isp', 'region', 'none']) {
      const query = { task: 'cells-web', group_by, granularity: 'hour', ...range };
      const [cells, raw] = await Promise.all([apis[engine]!.acme.get('/v1/availability', query), apis[engine]!.acme.get('/v1/availability', { ...query, source: 'raw' })]);
      assert.is(cells.status, 200, show(cells));
      assert.is(cells.body.query.source, 'results_1h_cells', group_by);
      const pick = (body: { total: unknown; groups: { region?: string; isp?: string; checks: number; failures: number; latency_ms: unknown; series: { checks: number }[] }[] }) =>
        [body.total, body.groups.map((g) => [g.region, g.isp, g.checks, g.failures, g.series.map((p) => p.checks).join(',')])];
      assert.equal(pick(cells.body), pick(raw.body), group_by);
      assert.is(cells.body.total.checks, CELLS.length * 3 * 24);
    }
  });

  test(`${engine}: grouped by probe, or from before the migration, the per-probe rollup`, async ({ apis }) => {
    const byProbe = await apis[engine]!.acme.get('/v1/availability', { task: 'cells-web', group_by: 'probe', granularity: 'hour', series: false, ...range });
    assert.is(byProbe.body.query.source, 'results_1h', show(byProbe));
    assert.is(byProbe.body.groups.length, 9);
    const old = await apis[engine]!.acme.get('/v1/availability', {
      task: 'cells-web', group_by: 'region_isp', granularity: 'hour', from: new Date(START - 24 * HOUR).toISOString(), to: range.to,
    });
    assert.is(old.body.query.source, 'results_1h', 'the range starts before the cells rollup existed');
    assert.is(old.body.total.checks, CELLS.length * 3 * 24);
  });
}

test.run();
