/**
 * Hijack verdicts and the fleet through the API, on chDB and clickhouse-server 18.16: verdicts
 * about the DNS records the real probe produced (filters, pages, the region × ISP matrix, one
 * verdict with evidence, tenants), and probes online or offline from the heartbeats their workers
 * sent.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Verdict } from '../../analyzer/src/classify/verdict.ts';
import { importTasks } from '../../analyzer/src/api/import-tasks.ts';
import { ENGINE_NAMES } from '../helpers/clickhouse-engines.ts';
import { fixtureVerdicts, PROBES, produceFixture, storeFixture, workerHeartbeat, type Fixture } from './fixture.ts';
import { show, startEngineApis, stopEngineApis, type EnginesCtx } from './helpers.ts';

interface Ctx extends EnginesCtx {
  fixture: Fixture;
  verdicts: Verdict[];
}

const test = suite<Ctx>('verdicts and fleet');
const RANGE = { from: '2024-05-01T00:00:00Z', to: '2024-05-03T00:00:00Z' };

test.before(async (ctx) => {
  ctx.fixture = await produceFixture();
  // The cn-north × China Mobile probe sees an ISP cache in its last rounds, one an ad hijack.
  ctx.verdicts = fixtureVerdicts(ctx.fixture.records, (r) =>
    r.probe_id === 'bj-cm-1' && Date.parse(r.started_at) >= Date.parse('2024-05-01T23:00:00Z') ? 'isp_cache' : r.probe_id === 'sh-cu-1' && r.started_at.startsWith('2024-05-02T00:35') ? 'ad_hijack' : 'consistent');
  const now = Date.now();
  const heartbeats = [await workerHeartbeat(PROBES[0], now - 5_000), await workerHeartbeat(PROBES[1], now - 600_000)];
  await startEngineApis(ctx, async (_t, ch) => {
    await storeFixture(ch, { records: ctx.fixture.records, heartbeats, verdicts: ctx.verdicts });
    await importTasks(ch, 'acme', Object.values(ctx.fixture.tasks));
  });
});

test.after(async (ctx) => {
  await stopEngineApis(ctx);
  await ctx.fixture?.close();
});

for (const engine of ENGINE_NAMES) {
  test(`${engine}: verdicts newest first, filtered by target, class, region, ISP and probe`, async ({ apis, verdicts }) => {
    const { acme } = apis[engine]!;
    const all = await acme.get('/v1/verdicts', { target: 'shop.test', limit: 1000, ...RANGE });
    assert.is(all.status, 200, show(all));
    assert.is(all.body.verdicts.length, verdicts.length);
    const times = all.body.verdicts.map((v: { started_at: string }) => Date.parse(v.started_at));
    assert.equal(times, [...times].sort((a, b) => b - a), 'newest first');
    assert.is(all.body.next_cursor, null);

    const cache = await acme.get('/v1/verdicts', { class: 'isp_cache,ad_hijack', ...RANGE });
    assert.equal(
      cache.body.verdicts.map((v: { class: string; probe_id: string }) => `${v.class}@${v.probe_id}`).sort(),
      verdicts.filter((v) => v.class !== 'consistent').map((v) => `${v.class}@${v.probe_id}`).sort(),
    );
    const north = await acme.get('/v1/verdicts', { region: 'cn-north', isp: 'China Mobile', ...RANGE });
    assert.ok(north.body.verdicts.length > 0 && north.body.verdicts.every((v: { region: string; isp: string }) => v.region === 'cn-north' && v.isp === 'China Mobile'));
    const probe = await acme.get('/v1/verdicts', { probe: 'sh-ct-1', task: 'dns-shop', ...RANGE });
    assert.is(probe.body.verdicts.length, verdicts.filter((v) => v.probe_id === 'sh-ct-1').length);
    const narrow = await acme.get('/v1/verdicts', { from: '2024-05-02T00:00:00Z', to: '2024-05-02T00:30:00Z' });
    assert.is(narrow.body.verdicts.length, PROBES.length, 'one round');
  });

  test(`${engine}: pages follow next_cursor without repeats or gaps`, async ({ apis, verdicts }) => {
    const { acme } = apis[engine]!;
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await acme.get('/v1/verdicts', { limit: 5, cursor, ...RANGE });
      assert.is(res.status, 200, show(res));
      seen.push(...res.body.verdicts.map((v: { id: string }) => v.id));
      cursor = res.body.next_cursor ?? undefined;
      if (!cursor) break;
    }
    assert.is(seen.length, verdicts.length);
    assert.is(new Set(seen).size, verdicts.length);
  });

  test(`${engine}: the region × ISP matrix: counts per class and the worst class per cell`, async ({ apis, verdicts }) => {
    const res = await apis[engine]!.acme.get('/v1/verdicts/matrix', { target: 'shop.test', ...RANGE });
    assert.is(res.status, 200, show(res));
    assert.is(res.body.cells.length, PROBES.length);
    for (const cell of res.body.cells) {
      const mine = verdicts.filter((v) => v.region === cell.region && v.isp === cell.isp);
      assert.is(cell.total, mine.length);
      const byClass: Record<string, number> = {};
      for (const v of mine) byClass[v.class] = (byClass[v.class] ?? 0) + 1;
      assert.equal(cell.classes, byClass, `${cell.region} × ${cell.isp}`);
    }
    const worst = Object.fromEntries(res.body.cells.map((c: { region: string; isp: string; worst: string }) => [`${c.region}|${c.isp}`, c.worst]));
    assert.equal(worst, { 'cn-east|China Telecom': 'consistent', 'cn-east|China Unicom': 'ad_hijack', 'cn-north|China Mobile': 'isp_cache', 'cn-north|China Telecom': 'consistent' });
  });

  test(`${engine}: one verdict with its evidence; not another tenant's; a malformed id is a 400`, async ({ apis, verdicts }) => {
    const v = verdicts.find((x) => x.class === 'ad_hijack')!;
    const one = await apis[engine]!.acme.get(`/v1/verdicts/${encodeURIComponent(v.id)}`);
    assert.is(one.status, 200, show(one));
    assert.is(one.body.id, v.id);
    assert.is(one.body.record_id, v.record_id);
    assert.equal(one.body.evidence, v.evidence);
    assert.is((await apis[engine]!.globex.get(`/v1/verdicts/${encodeURIComponent(v.id)}`)).status, 404);
    assert.equal((await apis[engine]!.globex.get('/v1/verdicts', RANGE)).body.verdicts, []);
    assert.equal((await apis[engine]!.globex.get('/v1/verdicts/matrix', RANGE)).body.cells, []);
    const bad = await apis[engine]!.acme.get(`/v1/verdicts/${encodeURIComponent("x' OR 1=1 --")}`);
    assert.is(bad.status, 400, show(bad));
    assert.match(bad.body.message, /not a verdict id/);
  });

  test(`${engine}: the fleet: a probe with a recent heartbeat is online, one silent for 10 minutes offline`, async ({ apis }) => {
    const { acmeRead } = apis[engine]!;
    const res = await acmeRead.get('/v1/fleet');
    assert.is(res.status, 200, show(res));
    const byId = Object.fromEntries(res.body.probes.map((p: { probe_id: string }) => [p.probe_id, p]));
    assert.equal(Object.keys(byId).sort(), [PROBES[0].id, PROBES[1].id].sort());
    assert.is(byId[PROBES[0].id].status, 'online');
    assert.is(byId[PROBES[0].id].region, PROBES[0].region);
    assert.is(byId[PROBES[0].id].spool_depth, 3);
    assert.is(byId[PROBES[0].id].version, '0.1.0-test');
    assert.is(byId[PROBES[1].id].status, 'offline');
    assert.ok(byId[PROBES[1].id].silent_for_s >= 590);
    const offline = await acmeRead.get('/v1/fleet', { status: 'offline' });
    assert.equal(offline.body.probes.map((p: { probe_id: string }) => p.probe_id), [PROBES[1].id]);
    const recent = await acmeRead.get('/v1/fleet', { seen_within: '5m' });
    assert.equal(recent.body.probes.map((p: { probe_id: string }) => p.probe_id), [PROBES[0].id]);
  });
}

test.run();
