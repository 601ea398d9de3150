/**
 * Every channel's payload and signature, sent for real to a local receiver that checks them the way
 * the service does (test/alarms/receiver.ts): firing and resolved of a hijack alarm, the resolved
 * one saying how long it lasted; secret rotation for the generic webhook; refusals that retrying
 * cannot fix are told apart from ones it can.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AlarmEngine } from '../../analyzer/src/alarms/engine.ts';
import type { AlarmEvent } from '../../analyzer/src/alarms/event.ts';
import { resolveChannel } from '../../analyzer/src/notify/channel-config.ts';
import { sendOnce } from '../../analyzer/src/notify/send.ts';
import { verifyWebhookSignature } from '../../analyzer/src/notify/channels/webhook.ts';
import { Clock, config, T0, verdict } from './build.ts';
import { channelsYaml, SECRETS, startReceiver, type ChannelPath, type Receiver } from './receiver.ts';

const EXTERNAL = 'https://vantage.example.com';

/** A firing hijack alarm from the engine itself, and its resolve five minutes later. */
function hijackEvents(): [AlarmEvent, AlarmEvent] {
  const clock = new Clock(T0);
  const engine = new AlarmEngine(config(`
rules:
  - { id: dns-hijack, kind: hijack, classes: [ad_hijack], min_probes: 2, labels: { team: web }, channels: [ops] }
`), { now: clock.now });
  const probe = (id: string) => ({ id, region: 'cn-north', isp: 'unicom' });
  engine.observeVerdict(verdict(probe('h1'), { cls: 'ad_hijack', atMs: T0 }));
  const [firing] = engine.observeVerdict(verdict(probe('h2'), { cls: 'ad_hijack', atMs: T0 }));
  for (let k = 6; k <= 7; k++) {
    clock.ms = T0 + k * 60_000;
    const events = engine.observeVerdict(verdict(probe('h1'), { cls: 'consistent', atMs: clock.ms }));
    if (events.length > 0) return [firing!, events[0]!];
  }
  throw new Error('the hijack alarm did not resolve');
}

const [FIRING, RESOLVED] = hijackEvents();

const test = suite<{ r: Receiver }>('channels');
test.before(async (ctx) => {
  ctx.r = await startReceiver();
});
test.after(async (ctx) => {
  await ctx.r?.close();
});
test.before.each(({ r }) => {
  r.received.length = 0;
  r.refused.length = 0;
  r.webhookSecrets = [...SECRETS.webhook];
});

function channel(r: Receiver, name: ChannelPath, extra = '') {
  const yaml = channelsYaml(r).replace(new RegExp(`(  ${name}: \\{[^\\n]*?)( \\})\\n`), `$1${extra}$2\n`);
  const cfg = config(yaml);
  return resolveChannel(cfg.channels[name]!, {});
}

async function send(r: Receiver, name: ChannelPath, event: AlarmEvent, extra = '') {
  const result = await sendOnce(event, channel(r, name, extra), { nowMs: Date.now(), externalUrl: EXTERNAL, userAgent: 'vantage-test' });
  return result;
}

async function both(r: Receiver, name: ChannelPath, extra = '') {
  for (const event of [FIRING, RESOLVED]) {
    const { acceptance } = await send(r, name, event, extra);
    assert.ok(acceptance.ok, `${name} ${event.kind}: ${acceptance.detail} / refused: ${JSON.stringify(r.refused)}`);
  }
  assert.equal(r.refused, []);
  assert.is(r.received.length, 2);
  return r.received.map((m) => m.body);
}

test('the events say what a person needs: class, hijacked IPs, resolver, probes, evidence, duration', () => {
  assert.is(FIRING.kind, 'firing');
  assert.is(RESOLVED.kind, 'resolved');
  assert.is(RESOLVED.duration_ms, 7 * 60_000);
  assert.equal((FIRING.details as { hijacked_ips: string[] }).hijacked_ips, ['198.51.100.66']);
});

test('webhook: JSON body, t=/v1= HMAC over "t.body" (one v1 per secret), Idempotency-Key = event id', async ({ r }) => {
  const [firing, resolved] = await both(r, 'webhook');
  const m = r.received[0]!;
  const header = String(m.headers['x-vantage-signature']);
  assert.match(header, /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
  assert.ok(verifyWebhookSignature(header, m.raw, ['whsec-previous'], Math.floor(Date.now() / 1000)), 'the helper receivers can use agrees');
  assert.not.ok(verifyWebhookSignature(header, `${m.raw} `, SECRETS.webhook, Math.floor(Date.now() / 1000)), 'a changed body fails');
  assert.not.ok(verifyWebhookSignature(header, m.raw, SECRETS.webhook, Math.floor(Date.now() / 1000) + 3600), 'an old delivery fails');
  assert.is(m.headers['idempotency-key'], FIRING.event_id);
  assert.is(m.headers['x-vantage-event-kind'], 'firing');
  assert.is((firing!.event as AlarmEvent).fingerprint, FIRING.fingerprint);
  assert.equal((firing!.event as AlarmEvent).links[0], `${EXTERNAL}${FIRING.links[0]}`, 'evidence links are absolute');
  assert.is(resolved!.status, 'resolved');
  assert.match(String(resolved!.title), /^\[RESOLVED\] dns-hijack: shop-dns from cn-north \/ unicom after 7m$/);
});

test('webhook: a receiver that knows only the previous secret accepts (rotation); one that knows neither refuses for good', async ({ r }) => {
  r.webhookSecrets = ['whsec-previous'];
  assert.ok((await send(r, 'webhook', FIRING)).acceptance.ok);
  r.webhookSecrets = ['whsec-other'];
  const { acceptance, answer } = await send(r, 'webhook', FIRING);
  assert.equal([acceptance.ok, acceptance.retry, answer?.status], [false, false, 401]);
});

test('slack: text plus header and section blocks; the resolve says how long it lasted', async ({ r }) => {
  const [firing, resolved] = await both(r, 'slack');
  assert.match(String(firing!.text), /^\[FIRING\] dns-hijack: shop-dns from cn-north \/ unicom$/);
  const section = (firing!.blocks as Array<{ text: { text: string } }>)[1]!.text.text;
  assert.match(section, /\*Hijacked IPs:\* 198\.51\.100\.66/);
  assert.match(section, /\*Resolver:\* 10\.0\.0\.53:53/);
  assert.match(section, /\*Probes:\* h1, h2/);
  assert.match(section, /\*Evidence:\* https:\/\/vantage\.example\.com\/v1\/verdicts\//);
  assert.match(String(resolved!.text), /after 7m$/);
  assert.match((resolved!.blocks as Array<{ text: { text: string } }>)[1]!.text.text, /\*Resolved:\* .* — lasted 7m/);
});

test('dingtalk: markdown with timestamp + HMAC sign in the URL, errcode 0; a wrong secret is errcode 310000, final', async ({ r }) => {
  const [firing] = await both(r, 'dingtalk');
  const url = new URL(r.received[0]!.url, 'http://x');
  assert.ok(url.searchParams.get('timestamp') && url.searchParams.get('sign'));
  assert.match(String((firing!.markdown as { text: string }).text), /\*\*Hijacked IPs:\*\* 198\.51\.100\.66/);
  const wrong = resolveChannel({ ...config(channelsYaml(r)).channels.dingtalk!, secrets: [{ value: 'SECwrong' }] }, {});
  const result = await sendOnce(FIRING, wrong, { nowMs: Date.now(), externalUrl: null, userAgent: 't' });
  assert.equal([result.acceptance.ok, result.acceptance.retry], [false, false]);
  assert.match(result.acceptance.detail, /errcode 310000: sign not match/);
});

test('wecom: markdown under 4096 bytes; with people to mention, text with mentioned_list', async ({ r }) => {
  const [firing] = await both(r, 'wecom');
  assert.is(firing!.msgtype, 'markdown');
  r.received.length = 0;
  assert.ok((await send(r, 'wecom', FIRING, ', mentioned_list: ["zhangsan", "@all"]')).acceptance.ok);
  const text = r.received[0]!.body.text as { content: string; mentioned_list: string[] };
  assert.equal(text.mentioned_list, ['zhangsan', '@all']);
  assert.match(text.content, /^\[FIRING\] dns-hijack/);
});

test('feishu: post message with timestamp + sign in the body, code 0', async ({ r }) => {
  const [firing, resolved] = await both(r, 'feishu');
  assert.match(String(firing!.timestamp), /^\d{10}$/);
  const title = (resolved!.content as { post: { zh_cn: { title: string } } }).post.zh_cn.title;
  assert.match(title, /^\[RESOLVED\] .* after 7m$/);
});

test('pagerduty: trigger then resolve with dedup_key = fingerprint; 202', async ({ r }) => {
  const [trigger, resolve] = await both(r, 'pagerduty');
  assert.equal([trigger!.event_action, trigger!.dedup_key], ['trigger', FIRING.fingerprint]);
  assert.equal([resolve!.event_action, resolve!.dedup_key], ['resolve', FIRING.fingerprint]);
  const payload = trigger!.payload as Record<string, unknown>;
  assert.equal([payload.severity, payload.source, payload.class], ['critical', 'cn-north/unicom', 'hijack']);
  assert.equal((trigger!.links as Array<{ href: string }>)[0]!.href.startsWith(`${EXTERNAL}/v1/verdicts/`), true);
});

test('alertmanager: version 4, one alert with labels, annotations, startsAt/endsAt and the fingerprint', async ({ r }) => {
  const [firing, resolved] = await both(r, 'alertmanager');
  const a = (firing!.alerts as Array<Record<string, unknown>>)[0]!;
  assert.equal(a.labels, { team: 'web', alertname: 'dns-hijack', severity: 'critical', rule_kind: 'hijack', scope: 'region_isp', task_id: 'shop-dns', target: 'shop.test', region: 'cn-north', isp: 'unicom' });
  assert.equal([firing!.status, a.fingerprint, a.startsAt, a.endsAt], ['firing', FIRING.fingerprint, FIRING.started_at, '0001-01-01T00:00:00Z']);
  const b = (resolved!.alerts as Array<Record<string, unknown>>)[0]!;
  assert.equal([resolved!.status, b.endsAt, firing!.receiver], ['resolved', RESOLVED.at, 'vantage-test']);
});

test.run();
