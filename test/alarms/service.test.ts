/**
 * AlarmService on real servers (nats-server, chDB): events go to the alarms stream (one subject
 * per alarm, Nats-Msg-Id = event id) and into vantage.alarm_events; a restarted service resumes
 * from the stream, so it neither fires a firing alarm again nor forgets it; a rule removed while it
 * was down resolves its alarm.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import { AlarmService } from '../../analyzer/src/alarms/service.ts';
import { publishAlarmEvent } from '../../analyzer/src/alarms/bus.ts';
import { alarmSubject } from '../../analyzer/src/alarms/event.ts';
import { config, result } from './build.ts';
import { chdb, cleanupAll, nats, rows, streamEvents, transport, waitFor } from './helpers.ts';

const RULES = `
rules:
  - { id: web-down, kind: availability, scope: region_isp, min_failing_probes: 2, channels: [ops] }
  - { id: web-any, kind: availability, scope: fleet, success_ratio_below: 0.99, window: 10m, channels: [ops] }
`;

const test = suite<{ ch: ClickHouse }>('AlarmService');
test.before(async (ctx) => {
  ctx.ch = await chdb();
});
test.after(cleanupAll);

const probes = [{ id: 'a1' }, { id: 'a2' }];

async function storedEvents(ch: ClickHouse): Promise<Array<{ kind: string; seq: number; rule_id: string; fingerprint: string; stream_seq: number }>> {
  return (await rows<{ kind: string; seq: number; rule_id: string; fingerprint: string; stream_seq: number }>(ch, 'SELECT kind, seq, rule_id, fingerprint, stream_seq FROM vantage.alarm_events FINAL ORDER BY stream_seq'))
    .map((r) => ({ ...r, seq: Number(r.seq), stream_seq: Number(r.stream_seq) }));
}

test('fires once, survives a restart as firing, resolves after it; the stream and ClickHouse agree', async ({ ch }) => {
  const server = await nats();
  const t = await transport(server.url);
  let service = new AlarmService({ config: config(RULES), transport: t, ch, tickMs: 200 });
  assert.is(await service.start(), true);
  const feed = (ok: boolean) => {
    for (const p of probes) service.observeResult(result(p, { atMs: Date.now(), ok }));
  };
  feed(false);
  await service.flush();
  let events = await streamEvents(server.url);
  assert.equal(events.map((e) => [e.kind, e.rule_id, e.seq]).sort(), [['firing', 'web-any', 1], ['firing', 'web-down', 1]]);
  const down = events.find((e) => e.rule_id === 'web-down')!;
  await waitFor('both events in vantage.alarm_events', async () => (await storedEvents(ch)).length === 2);

  // A restart mid-incident: the new service resumes both alarms as firing.
  await service.stop();
  service = new AlarmService({ config: config(RULES), transport: t, ch, tickMs: 200 });
  assert.is(await service.start(), true);
  assert.equal(service.alarms().map((a) => [a.ruleId, a.status, a.seq]).sort(), [['web-any', 'firing', 1], ['web-down', 'firing', 1]]);
  feed(false);
  await service.flush();
  assert.is((await streamEvents(server.url)).length, 2, 'still failing after the restart: nothing fired twice');

  // Recovery: two clear rounds (results a minute apart) resolve web-down.
  for (const minute of [1, 2]) for (const p of probes) service.observeResult(result(p, { atMs: Date.now() + minute * 1000, roundMs: Date.now() + minute * 60_000, ok: true }));
  await service.flush();
  events = await streamEvents(server.url);
  const resolved = events.find((e) => e.kind === 'resolved')!;
  assert.ok(resolved, JSON.stringify(events.map((e) => [e.kind, e.rule_id])));
  assert.equal([resolved.rule_id, resolved.seq, resolved.fingerprint, resolved.started_at], ['web-down', 2, down.fingerprint, down.started_at]);
  await waitFor('the resolved event in vantage.alarm_events', async () => (await storedEvents(ch)).some((r) => r.kind === 'resolved'));
  const stored = await storedEvents(ch);
  assert.equal(stored.map((r) => [r.kind, r.rule_id, r.seq]), events.map((e) => [e.kind, e.rule_id, e.seq]));
  assert.equal(stored.map((r) => r.stream_seq), [1, 2, 3]);
  await service.stop();
});

test('a rule removed while the analyzer was down resolves its alarm; a republished event is stored once', async ({ ch }) => {
  await ch.client.command({ query: 'TRUNCATE TABLE vantage.alarm_events' });
  const server = await nats();
  const t = await transport(server.url);
  const first = new AlarmService({ config: config(RULES), transport: t, ch, tickMs: 200 });
  await first.start();
  for (const p of probes) first.observeResult(result(p, { atMs: Date.now(), ok: false }));
  await first.flush();
  await first.stop();
  const events = await streamEvents(server.url);
  assert.is(events.length, 2);

  // The same event again (a publish retried after its ack was lost): JetStream keeps one.
  await publishAlarmEvent(t, events[0]!);
  assert.is((await streamEvents(server.url)).length, 2);

  const second = new AlarmService({ config: config(RULES.split('\n').filter((l) => !l.includes('web-any')).join('\n')), transport: t, ch, tickMs: 100 });
  await second.start();
  await waitFor('the orphaned alarm resolved', async () => (await streamEvents(server.url)).length === 3, { timeoutMs: 5000 });
  const last = (await streamEvents(server.url))[2]!;
  assert.equal([last.kind, last.rule_id, last.resolve_reason, last.seq], ['resolved', 'web-any', 'rule_removed', 2]);
  assert.ok(last.fingerprint && alarmSubject(last.fingerprint).endsWith(last.fingerprint));
  assert.equal(second.alarms().map((a) => a.ruleId), ['web-down']);
  await second.stop();
});

test('start waits for NATS: a service started while the server is down resumes once it is up', async ({ ch }) => {
  const server = await nats();
  const t = await transport(server.url);
  await server.stop();
  const service = new AlarmService({ config: config(RULES), transport: t, ch, tickMs: 200 });
  let started = false;
  const starting = service.start().then((ok) => (started = ok));
  await new Promise((r) => setTimeout(r, 800));
  assert.is(started, false, 'no evaluation before the alarms are resumed');
  assert.is(service.health().healthy, false);
  await server.restart();
  await waitFor('the service started', () => started, { timeoutMs: 20_000 });
  await starting;
  assert.is(service.health().healthy, true, JSON.stringify(service.health().body));
  await service.stop();
});

test.run();
