/**
 * The notifier against a receiver that misbehaves, on real servers (nats-server, clickhouse-server
 * 18.16 for the delivery log): answers 500, then hangs past the timeout, then recovers — each event
 * arrives once it recovers, exactly once, firing before resolved; a refusal retrying cannot fix,
 * and running out of attempts, end in a dead letter without blocking the events behind; the
 * channel's rate limit holds; silenced events and other channels' events are not sent.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureAlarmStream, publishAlarmEvent } from '../../analyzer/src/alarms/bus.ts';
import { silentLogger } from '../../probe/src/run/log.ts';
import type { AlarmEvent } from '../../analyzer/src/alarms/event.ts';
import { Notifier } from '../../analyzer/src/notify/notifier.ts';
import type { ClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import type { NatsTransport } from '../../collector/src/transport/nats-transport.ts';
import { config, event } from './build.ts';
import { cleanupAll, clickhouseServer, nats, rows, sleep, transport, waitFor } from './helpers.ts';
import { channelsYaml, startReceiver, type Receiver } from './receiver.ts';

interface Ctx {
  ch: ClickHouse;
  r: Receiver;
  t: NatsTransport;
}

const test = suite<Ctx>('notifier faults');
test.before(async (ctx) => {
  ctx.ch = (await clickhouseServer()).ch;
  ctx.r = await startReceiver();
});
test.before.each(async (ctx) => {
  ctx.t = await transport((await nats()).url);
  await ensureAlarmStream(ctx.t, silentLogger);
  ctx.r.mode = {};
  ctx.r.delayMs = 0;
  ctx.r.received.length = 0;
  ctx.r.refused.length = 0;
  ctx.r.faulted.length = 0;
});
test.after(async (ctx) => {
  await ctx.r?.close();
  await cleanupAll();
});

function notifier(ctx: Ctx, channels: string[], edit: (yaml: string) => string = (y) => y): Notifier {
  const n = new Notifier({
    config: config(edit(channelsYaml(ctx.r, { timeout: '300ms' }))),
    transport: ctx.t,
    ch: ctx.ch,
    channels,
    ackWaitMs: 3000,
    fetchExpiresMs: 1000,
    backoff: { initialMs: 100, maxMs: 400 },
  });
  n.start();
  return n;
}

const ids = (r: Receiver, channel = 'webhook') => r.received.filter((m) => m.channel === channel).map((m) => (m.body.event as AlarmEvent | undefined)?.event_id ?? String(m.headers['idempotency-key'] ?? m.body.dedup_key));

async function deliveries(ch: ClickHouse, eventId: string) {
  return rows<{ attempt: number; outcome: string; http_status: number | null; error: string; idempotency_key: string; url: string }>(
    ch,
    `SELECT attempt, outcome, http_status, error, idempotency_key, url FROM vantage.alarm_deliveries WHERE event_id = '${eventId}' ORDER BY attempted_at_ms, attempt`,
  );
}

test('500s, then timeouts, then recovery: firing and resolved each arrive once, in order; every attempt is logged', async (ctx) => {
  const { r, t, ch } = ctx;
  r.mode = { webhook: 'error500' };
  const n = notifier(ctx, ['webhook']);
  const firing = event(1, 'firing', { channels: ['webhook'] });
  const resolved = event(1, 'resolved', { channels: ['webhook'] });
  await publishAlarmEvent(t, firing);
  await publishAlarmEvent(t, resolved);
  await waitFor('three 500 answers', () => r.faulted.filter((f) => f.mode === 'error500').length >= 3, { timeoutMs: 10_000 });
  r.mode = { webhook: 'hang' };
  await waitFor('two hanging attempts', () => r.faulted.filter((f) => f.mode === 'hang').length >= 2, { timeoutMs: 10_000 });
  assert.equal(r.received, [], 'nothing accepted while it fails');
  r.mode = {};
  await waitFor('both events received', () => r.received.length >= 2, { timeoutMs: 15_000 });
  await sleep(1500); // anything sent twice would arrive by now
  assert.equal(ids(r), [firing.event_id, resolved.event_id], 'once each, firing first');
  assert.equal(r.received.map((m) => m.headers['idempotency-key']), [firing.event_id, resolved.event_id]);

  const log = await waitFor('the delivery log written', async () => {
    const d = await deliveries(ch, firing.event_id);
    return d.some((x) => x.outcome === 'delivered') ? d : null;
  });
  const failed = log.filter((d) => d.outcome === 'failed');
  assert.ok(failed.some((d) => Number(d.http_status) === 500), 'a 500 logged');
  assert.ok(failed.some((d) => d.http_status === null && /^timeout after 300 ms$/.test(d.error)), 'a timeout logged');
  assert.equal(log.map((d) => Number(d.attempt)), log.map((_, i) => i + 1), 'attempts counted 1, 2, 3 …');
  assert.equal(log.filter((d) => d.outcome === 'delivered').length, 1);
  assert.ok(log.every((d) => d.idempotency_key === firing.event_id && d.url === `${r.url}/webhook/hook`));
  const after = await deliveries(ch, resolved.event_id);
  assert.equal(after.map((d) => d.outcome), ['delivered'], 'the resolve waited its turn: one attempt');
  await n.stop();
});

test('a final refusal and running out of attempts end in dead letters; the events behind still go out', async (ctx) => {
  const { r, t, ch } = ctx;
  const n = notifier(ctx, ['webhook', 'pagerduty']);
  r.mode = { webhook: 'error500' };
  const doomed = event(2, 'firing', { channels: ['webhook'] });
  const next = event(3, 'firing', { channels: ['webhook', 'pagerduty'] });
  await publishAlarmEvent(t, doomed);
  await publishAlarmEvent(t, next);
  const dead = await waitFor('a dead letter for the webhook', async () => {
    const found = await rows<{ event_id: string; channel: string; attempts: number; reason: string; event: string }>(ch, `SELECT event_id, channel, attempts, reason, event FROM vantage.alarm_dead_letters WHERE event_id = '${doomed.event_id}'`);
    return found.length > 0 ? found : null;
  }, { timeoutMs: 20_000 });
  assert.equal(dead.map((d) => [d.channel, Number(d.attempts), d.reason]), [['webhook', 10, 'HTTP 500: internal error']], 'notifier.max_attempts (10)');
  assert.is((JSON.parse(dead[0]!.event) as AlarmEvent).event_id, doomed.event_id, 'kept whole for a replay');
  r.mode = {};
  await waitFor('the next event delivered to the webhook', () => ids(r).includes(next.event_id), { timeoutMs: 15_000 });
  assert.is(ids(r, 'pagerduty').length, 1, 'pagerduty got it, unaffected by the webhook');

  // PagerDuty answers 400 to a bad routing key: no retry can help, so one attempt and a dead letter.
  await n.stop();
  const bad = new Notifier({
    config: config(channelsYaml(r).replace(/routing_key: "\w+"/, 'routing_key: "wrong"')),
    transport: t, ch, channels: ['pagerduty'], ackWaitMs: 3000, fetchExpiresMs: 1000, backoff: { initialMs: 100, maxMs: 400 },
  });
  bad.start();
  const refused = event(4, 'firing', { channels: ['pagerduty'] });
  await publishAlarmEvent(t, refused);
  const row = await waitFor('a dead letter for pagerduty', async () => {
    const found = await rows<{ attempts: number; reason: string }>(ch, `SELECT attempts, reason FROM vantage.alarm_dead_letters WHERE event_id = '${refused.event_id}'`);
    return found[0] ?? null;
  }, { timeoutMs: 15_000 });
  assert.is(Number(row.attempts), 1);
  assert.match(row.reason, /^HTTP 400: .*routing_key is invalid/);
  await bad.stop();
});

test('rate limit: a DingTalk robot at 5/s gets 12 events no faster; silenced and other channels\' events are not sent', async (ctx) => {
  const { r, t } = ctx;
  const n = notifier(ctx, ['dingtalk'], (y) => y.replace(/(dingtalk: \{[^}]*?)( \})/, '$1, rate_limit: 5/s$2'));
  const sent: AlarmEvent[] = [];
  for (let i = 0; i < 12; i++) sent.push(event(100 + i, 'firing', { channels: ['dingtalk'] }));
  const silenced = event(200, 'firing', { channels: ['dingtalk'], notify: false });
  const elsewhere = event(201, 'firing', { channels: ['slack'] });
  for (const e of [sent[0]!, silenced, elsewhere, ...sent.slice(1)]) await publishAlarmEvent(t, e);
  await waitFor('12 DingTalk messages', () => r.received.length >= 12, { timeoutMs: 20_000 });
  await sleep(500);
  assert.is(r.received.length, 12, 'the silenced and the slack event were not sent');
  const times = r.received.map((m) => m.atMs);
  // A bucket of 5 refilled at 5/s: any run of messages from i to j fits in 5 + 5/s × its span (+1 for timer slack).
  for (let i = 0; i < times.length; i++) {
    for (let j = i + 1; j < times.length; j++) {
      const allowed = 5 + (5 * (times[j]! - times[i]!)) / 1000 + 1;
      assert.ok(j - i + 1 <= allowed, `messages ${i}…${j} (${j - i + 1}) within ${times[j]! - times[i]!} ms`);
    }
  }
  assert.ok(times.at(-1)! - times[0]! >= 1200, 'the last 7 waited for tokens');
  await n.stop();
});

test.run();
