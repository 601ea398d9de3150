/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core)
 * against a running API over data the real pipeline produced (chDB, as `vantage up` uses): the
 * region × ISP matrix shows the right numbers, the latency chart is drawn, the verdict matrix and
 * the alarms and fleet panels are filled, and the page logs no console error. Screenshots go to
 * test/artifacts/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALARM_EVENTS, DATABASE, openClickHouse, type ClickHouse } from '@vantage/collector';
import type { ResultRecord } from '@vantage/probe';
import { importTasks } from '../../analyzer/src/api/import-tasks.ts';
import { alarmRow, fixtureVerdicts, makeAlarmEvent, PROBES, produceFixture, storeFixture, workerHeartbeat, type Fixture } from './fixture.ts';
import { KEYS, startTestApi, type TestApi } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
const RANGE = 'from=2024-05-01T00:00:00Z&to=2024-05-03T00:00:00Z&tz=UTC';

interface Ctx {
  dir: string;
  ch: ClickHouse;
  t: TestApi;
  fixture: Fixture;
  browser: BrowserContext;
  errors: string[];
}

const test = suite<Ctx>('dashboard in headless Chromium');

test.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'vantage-dashboard-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  ctx.fixture = await produceFixture();
  ctx.ch = await openClickHouse({ engine: 'chdb', path: join(ctx.dir, 'chdb') });
  ctx.t = await startTestApi(ctx.ch);
  const verdicts = fixtureVerdicts(ctx.fixture.records, (r) => (r.probe_id === 'bj-cm-1' && r.started_at >= '2024-05-01T23' ? 'isp_cache' : 'consistent'));
  const heartbeats = await Promise.all(PROBES.map((p, i) => workerHeartbeat(p, Date.now() - (i === 3 ? 900_000 : 2_000))));
  await storeFixture(ctx.ch, { records: ctx.fixture.records, heartbeats, verdicts });
  await importTasks(ctx.ch, 'acme', Object.values(ctx.fixture.tasks));
  const alarm = makeAlarmEvent({
    fingerprint: 'd1d1d1d1d1d1d1d1', kind: 'firing', seq: 1, started_at: '2024-05-02T00:10:00.000Z', at: '2024-05-02T00:10:00.000Z',
    task_id: 'web-flaky', target: ctx.fixture.flakyTarget, region: 'cn-north', isp: 'China Mobile', summary: 'availability 0% < 99% over 5m',
  });
  await ctx.ch.client.insert({ table: `${DATABASE}.${ALARM_EVENTS.name}`, values: [alarmRow(alarm, 1)], format: 'JSONEachRow' });
  ctx.browser = await chromium.launchPersistentContext(join(ctx.dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1100 },
  });
  ctx.errors = [];
});

test.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.t?.close();
  await ctx.ch?.close();
  await ctx.fixture?.close();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

/** A page that records console errors, page errors and failed requests into ctx.errors. */
async function open(ctx: Ctx, url: string): Promise<Page> {
  ctx.errors = [];
  const page = await ctx.browser.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') ctx.errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => ctx.errors.push(`page: ${err.message}`));
  page.on('requestfailed', (req) => ctx.errors.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) ctx.errors.push(`HTTP ${res.status()} ${res.url()}`);
  });
  await page.goto(url);
  return page;
}

async function loaded(page: Page): Promise<void> {
  await page.waitForSelector('body[data-loaded]', { timeout: 20_000 }).catch(async (err: Error) => {
    throw new Error(`dashboard did not finish loading: ${err.message}; status: ${await page.textContent('#status')}`);
  });
}

function expectedCells(records: readonly ResultRecord[], target: string) {
  const cells = new Map<string, { checks: number; failures: number }>();
  for (const r of records.filter((x) => x.target === target)) {
    const key = `${r.probe_region}|${r.probe_isp}`;
    const c = cells.get(key) ?? { checks: 0, failures: 0 };
    c.checks++;
    if (r.failure !== null) c.failures++;
    cells.set(key, c);
  }
  return cells;
}

test('the availability matrix shows each region × ISP cell with the right numbers; chart, alarms, fleet; no console errors', async (ctx) => {
  const target = ctx.fixture.flakyTarget;
  const page = await open(ctx, `${ctx.t.api.url}/dashboard/?${RANGE}&target=${encodeURIComponent(target)}#key=${KEYS.acme.id}.${KEYS.acme.secret}`);
  await loaded(page);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-availability.png'), fullPage: true });
  assert.not.match(page.url(), /#key=/, 'the key left the address bar');

  const cells = await page.$$eval('#availability-matrix td.cell', (tds) =>
    tds.map((td) => ({
      region: td.getAttribute('data-region'),
      isp: td.getAttribute('data-isp'),
      checks: Number(td.getAttribute('data-checks')),
      failures: Number(td.getAttribute('data-failures')),
      ratio: td.querySelector('.ratio')?.textContent ?? '',
      cls: td.className,
    })),
  );
  const expected = expectedCells(ctx.fixture.records, target);
  assert.is(cells.length, 2 * 3, 'regions × ISPs (cn-east, cn-north × China Mobile, China Telecom, China Unicom)');
  for (const cell of cells) {
    const want = expected.get(`${cell.region}|${cell.isp}`);
    if (!want) {
      assert.is(cell.checks, 0, `${cell.region} × ${cell.isp} has no probe`);
      assert.is(cell.ratio, '—');
      assert.match(cell.cls, /\bnone\b/);
      continue;
    }
    assert.equal({ checks: cell.checks, failures: cell.failures }, want, `${cell.region} × ${cell.isp}`);
    assert.is(cell.ratio, `${(((want.checks - want.failures) / want.checks) * 100).toFixed(2)} %`, `${cell.region} × ${cell.isp}`);
    assert.match(cell.cls, want.failures === 0 ? /\bgood\b/ : /\bbad\b/);
  }
  assert.is(await page.getAttribute('#latency-chart', 'data-points'), '48', 'hourly points over two days');
  // http to an IP address: no resolve phase, no TLS.
  assert.is(await page.getAttribute('#latency-chart', 'data-phases'), 'total,connect,processing,transfer');
  assert.ok(await page.$('#latency-chart canvas'), 'uPlot drew a canvas');
  const alarms = await page.textContent('#alarms');
  assert.match(alarms ?? '', /firing.*critical.*web-availability/s);
  assert.match(alarms ?? '', /availability 0% < 99% over 5m/);
  const fleet = await page.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)));
  assert.equal(fleet.map(([id, status]) => `${id}:${status}`).sort(), ['bj-cm-1:offline', 'bj-ct-1:online', 'sh-ct-1:online', 'sh-cu-1:online']);
  assert.match((await page.textContent('#who')) ?? '', /tenant acme/);
  assert.equal(ctx.errors, []);
  await page.close();
});

test('a DNS target: verdict classes on the same matrix, the worst class per cell', async (ctx) => {
  const page = await open(ctx, `${ctx.t.api.url}/dashboard/?${RANGE}&target=shop.test#key=${KEYS.acmeRead.id}.${KEYS.acmeRead.secret}`);
  await loaded(page);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-verdicts.png'), fullPage: true });
  const cells = await page.$$eval('#verdict-matrix td.cell', (tds) =>
    tds.map((td) => ({ at: `${td.getAttribute('data-region')}|${td.getAttribute('data-isp')}`, worst: td.getAttribute('data-worst'), total: Number(td.getAttribute('data-total')), text: td.textContent })),
  );
  const byCell = Object.fromEntries(cells.map((c) => [c.at, c]));
  assert.is(byCell['cn-north|China Mobile']!.worst, 'isp_cache');
  assert.match(byCell['cn-north|China Mobile']!.text ?? '', /isp_cache 3/);
  assert.is(byCell['cn-east|China Telecom']!.worst, 'consistent');
  assert.is(byCell['cn-east|China Telecom']!.total, 6);
  assert.is(byCell['cn-east|China Mobile']!.total, 0);
  const ratios = await page.$$eval('#availability-matrix td.cell .ratio', (spans) => spans.map((s) => s.textContent));
  assert.ok(ratios.filter((r) => r === '100.00 %').length === 4, `four probed cells at 100 %: ${ratios}`);
  assert.equal(ctx.errors, []);
  await page.close();
});

test('without a key the page asks for one; a key typed in loads the panels', async (ctx) => {
  const page = await open(ctx, `${ctx.t.api.url}/dashboard/?${RANGE}`);
  await page.waitForSelector('#login:not([hidden])');
  assert.ok(await page.isHidden('#panels'));
  await page.fill('#key', `${KEYS.acme.id}.${KEYS.acme.secret}`);
  await page.click('#login button');
  await loaded(page);
  assert.ok(await page.isVisible('#availability-matrix'));
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-login.png') });
  assert.equal(ctx.errors, []);
  await page.close();
});

test.run();
