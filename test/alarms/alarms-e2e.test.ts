/**
 * Alarms end to end, as deployed: a `vantage probe` process checks a local web server every second
 * and publishes to nats-server; `vantage analyzer --alarms` evaluates the rules on the results
 * stream and publishes alarm events; `vantage notifier` delivers them to a local receiver that
 * verifies every channel's signature and format (generic webhook, Slack, DingTalk, WeCom, Feishu,
 * PagerDuty, Alertmanager). The test breaks the web server (503) and repairs it: each channel gets
 * the firing and the resolved message exactly once, in that order, and ClickHouse (clickhouse-server
 * 18.16) holds both events and one delivery per channel and event.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startWebServer } from '../helpers/web-server.ts';
import { cleanupAll, clickhouseServer, nats, onCleanup, rows, sleep, spawnVantage, tempDir, waitFor, type VantageChild } from './helpers.ts';
import { channelsYaml, startReceiver, type ChannelPath } from './receiver.ts';

const CHANNELS: ChannelPath[] = ['webhook', 'slack', 'dingtalk', 'wecom', 'feishu', 'pagerduty', 'alertmanager'];

const test = suite('alarms end to end');
test.after(cleanupAll);

async function started(child: VantageChild, msg: string): Promise<VantageChild> {
  return waitFor(`"${msg}"`, () => {
    if (!child.running) throw new Error(`exited early:\n${child.logs()}`);
    return child.logLine(msg) ? child : null;
  }, { timeoutMs: 60_000, intervalMs: 100, detail: () => child.logs() });
}

/** What a received message says: firing or resolved, per channel's format. */
function kindOf(channel: ChannelPath, body: Record<string, unknown>): string {
  switch (channel) {
    case 'webhook':
    case 'alertmanager':
      return String(body.status);
    case 'pagerduty':
      return body.event_action === 'resolve' ? 'resolved' : 'firing';
    case 'slack':
      return /^\[RESOLVED\]/.test(String(body.text)) ? 'resolved' : 'firing';
    case 'dingtalk':
      return /^\*\*\[RESOLVED\]/.test((body.markdown as { text: string }).text) ? 'resolved' : 'firing';
    case 'wecom':
      return /^\*\*\[RESOLVED\]/.test((body.markdown as { content: string }).content) ? 'resolved' : 'firing';
    case 'feishu':
      return /^\[RESOLVED\]/.test((body.content as { post: { zh_cn: { title: string } } }).post.zh_cn.title) ? 'resolved' : 'firing';
  }
}

test('break and repair a web server: firing and resolved reach every channel exactly once', async () => {
  const server = await nats();
  const { ch, env } = await clickhouseServer();
  const r = await startReceiver();
  onCleanup(() => r.close());
  let broken = false;
  const web = await startWebServer({ routes: { '/health': () => (broken ? { status: 503, body: 'down for maintenance' } : { status: 200, body: 'ok' }) } });
  onCleanup(() => web.close());

  const dir = tempDir('alarms-e2e');
  const alarms = join(dir, 'alarms.yaml');
  writeFileSync(alarms, `${channelsYaml(r, { timeout: '2s' })}
rules:
  - id: shop-down
    kind: availability
    select: { tasks: [shop-http] }
    scope: region_isp
    window: 30s
    consecutive_failed_rounds: 3
    resolve_after: 2
    channels: [${CHANNELS.join(', ')}]
notifier: { external_url: "https://vantage.example.com", backoff: { initial: 200ms, max: 1s } }
`);
  const probeConfig = join(dir, 'probe.yaml');
  writeFileSync(probeConfig, `
probe: { id: e2e-probe, region: cn-east, isp: telecom, resolvers: ["127.0.0.1:53"] }
nats: { url: ${server.url} }
spool: ./spool
metrics: { listen: 127.0.0.1:0 }
tasks:
  - { id: shop-http, kind: http, target: "${web.url}/health", schedule: "* * * * * *", timeout: 800ms, http: { expect_status: [200] } }
`);

  const common = ['--nats-url', server.url, '--metrics-listen', '127.0.0.1:0', '--data', dir];
  const analyzer = await started(spawnVantage(['analyzer', '--alarms', alarms, ...common], env), 'analyzer started');
  const notifier = await started(spawnVantage(['notifier', '--config', alarms, ...common], env), 'notifier started');
  const probe = spawnVantage(['probe', '--config', probeConfig]);

  await sleep(3000); // healthy rounds first
  assert.equal(r.received, [], 'no alarm while the site is up');
  broken = true;
  await waitFor('the firing message on every channel', () => CHANNELS.every((c) => r.received.some((m) => m.channel === c)), {
    timeoutMs: 30_000, detail: () => `${analyzer.logs().slice(-3000)}\n${notifier.logs().slice(-3000)}\nrefused: ${JSON.stringify(r.refused)}`,
  });
  broken = false;
  await waitFor('the resolved message on every channel', () => CHANNELS.every((c) => r.received.filter((m) => m.channel === c).length >= 2), {
    timeoutMs: 30_000, detail: () => `${analyzer.logs().slice(-3000)}\n${notifier.logs().slice(-3000)}\nrefused: ${JSON.stringify(r.refused)}`,
  });
  await sleep(3000); // a duplicate would arrive by now
  assert.equal(r.refused, [], 'every signature and format checked out');
  for (const channel of CHANNELS) {
    const got = r.received.filter((m) => m.channel === channel).map((m) => kindOf(channel, m.body));
    assert.equal(got, ['firing', 'resolved'], `${channel}: firing then resolved, once each`);
  }
  const hook = r.received.filter((m) => m.channel === 'webhook').map((m) => m.body.event as Record<string, unknown>);
  assert.equal(hook.map((e) => [e.kind, e.rule_id, e.scope, e.region, e.isp, e.task_id, e.seq]), [
    ['firing', 'shop-down', 'region_isp', 'cn-east', 'telecom', 'shop-http', 1],
    ['resolved', 'shop-down', 'region_isp', 'cn-east', 'telecom', 'shop-http', 2],
  ]);
  assert.match(String(hook[0]!.summary), /last 3 rounds failed .*http_status ×3/);
  assert.ok(Number(hook[1]!.duration_ms) >= 1000, 'the resolve says how long it lasted');

  await waitFor('the events and deliveries in ClickHouse', async () => {
    const events = await rows<{ n: number }>(ch, 'SELECT count() AS n FROM vantage.alarm_events FINAL');
    const delivered = await rows<{ n: number }>(ch, "SELECT count() AS n FROM vantage.alarm_deliveries WHERE outcome = 'delivered'");
    return Number(events[0]!.n) === 2 && Number(delivered[0]!.n) === 2 * CHANNELS.length;
  }, { timeoutMs: 20_000 });
  const perChannel = await rows<{ channel: string; n: number }>(ch, "SELECT channel, count() AS n FROM vantage.alarm_deliveries WHERE outcome = 'delivered' GROUP BY channel ORDER BY channel");
  assert.equal(perChannel.map((p) => [p.channel, Number(p.n)]), [...CHANNELS].sort().map((c) => [c, 2]));

  assert.is(await probe.stop(), 0, probe.logs());
  assert.is(await notifier.stop(), 0, notifier.logs());
  assert.is(await analyzer.stop(), 0, analyzer.logs());
});

test.run();
