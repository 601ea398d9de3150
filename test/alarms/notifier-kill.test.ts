/**
 * kill -9 of `vantage notifier` mid-delivery (a child process, chDB for its delivery log, a slow
 * receiver so the kill lands between the receiver taking a message and the notifier reading the
 * answer): nothing is lost, at most one event arrives twice, its copies carry the same idempotency
 * key, and the order of first arrivals is the stream's order. A replacement process started with the
 * same consumer finishes the job; its SIGTERM exit is clean; the delivery log in chDB shows it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureAlarmStream, publishAlarmEvent } from '../../analyzer/src/alarms/bus.ts';
import type { AlarmEvent } from '../../analyzer/src/alarms/event.ts';
import { openClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import { silentLogger } from '../../probe/src/run/log.ts';
import { event } from './build.ts';
import { cleanupAll, nats, rows, spawnVantage, tempDir, transport, waitFor, type VantageChild } from './helpers.ts';
import { channelsYaml, startReceiver } from './receiver.ts';

const test = suite('notifier killed with SIGKILL');
test.after(cleanupAll);

test('kill -9 mid-delivery: every event arrives, at most one twice with the same key, in order', async () => {
  const server = await nats();
  const t = await transport(server.url);
  await ensureAlarmStream(t, silentLogger);
  const r = await startReceiver();
  try {
    const dir = tempDir('notifier-kill');
    const configFile = join(dir, 'alarms.yaml');
    writeFileSync(configFile, `${channelsYaml(r, { timeout: '2s' })}\nnotifier: { backoff: { initial: 100ms, max: 500ms } }\n`);
    const events: AlarmEvent[] = [];
    for (let i = 0; i < 10; i++) events.push(event(i + 1, 'firing', { channels: ['webhook'] }), event(i + 1, 'resolved', { channels: ['webhook'] }));
    for (const e of events) await publishAlarmEvent(t, e);

    const start = () => {
      const child = spawnVantage(['notifier', '--config', configFile, '--channel', 'webhook', '--nats-url', server.url, '--data', dir, '--ack-wait', '2s', '--metrics-listen', '127.0.0.1:0']);
      return waitFor('"notifier started"', () => {
        if (!child.running) throw new Error(`notifier exited:\n${child.logs()}`);
        return child.logLine('notifier started') ? child : null;
      }, { timeoutMs: 30_000, detail: () => child.logs() });
    };
    r.delayMs = 300; // the receiver takes a message, then answers 300 ms later
    let child: VantageChild = await start();
    await waitFor('5 events received', () => r.received.length >= 5, { timeoutMs: 20_000, detail: () => child.logs() });
    await child.kill(); // while the 5th answer is on its way
    const beforeKill = r.received.length;
    r.delayMs = 0;
    child = await start();
    const received = () => r.received.map((m) => (m.body.event as AlarmEvent).event_id);
    await waitFor('all 20 events received', () => new Set(received()).size === events.length, { timeoutMs: 30_000, detail: () => child.logs() });
    await new Promise((res) => setTimeout(res, 1000));

    const ids = received();
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.ok(twice.length <= 1 && twice.every(([, n]) => n === 2), `at most one duplicate: ${JSON.stringify(twice)}`);
    for (const m of r.received) assert.is(m.headers['idempotency-key'], (m.body.event as AlarmEvent).event_id, 'every copy carries the event id as its key');
    assert.equal([...counts.keys()], events.map((e) => e.event_id), 'first arrivals in stream order');
    assert.ok(beforeKill < events.length, 'the kill came mid-stream');
    assert.is(await child.stop(), 0, child.logs());

    // The delivery log (chDB in --data): one "delivered" row per event of the second process at
    // least, none failed or dead.
    const ch = await openClickHouse({ engine: 'chdb', path: join(dir, 'chdb') });
    try {
      const log = await rows<{ event_id: string; outcome: string }>(ch, 'SELECT event_id, outcome FROM vantage.alarm_deliveries ORDER BY attempted_at_ms');
      assert.ok(log.every((l) => l.outcome === 'delivered'), JSON.stringify(log.filter((l) => l.outcome !== 'delivered')));
      const logged = new Set(log.map((l) => l.event_id));
      const afterKill = new Set(ids.slice(beforeKill));
      for (const id of afterKill) assert.ok(logged.has(id), `delivery of ${id} logged`);
      assert.ok(log.length <= ids.length, 'no more rows than deliveries');
    } finally {
      await ch.close();
    }
  } finally {
    await r.close();
  }
});

test.run();
