/**
 * The alarm service and the notifier on the in-process streams of `vantage up` (no NATS): events
 * reach the channel, and a channel that fails for a while still gets firing before resolved (the
 * in-process consumer lets later messages past one waiting for its retry; the worker holds them back).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALARMS_IN_PROCESS } from '../../analyzer/src/alarms/bus.ts';
import type { AlarmEvent } from '../../analyzer/src/alarms/event.ts';
import { AlarmService } from '../../analyzer/src/alarms/service.ts';
import { Notifier } from '../../analyzer/src/notify/notifier.ts';
import { InProcessStreams } from '../../collector/src/transport/in-process.ts';
import { config, result } from './build.ts';
import { chdb, cleanupAll, rows, sleep, waitFor } from './helpers.ts';
import { channelsYaml, startReceiver } from './receiver.ts';

const test = suite('alarms on in-process streams');
test.after(cleanupAll);

test('firing and resolved delivered in order through a failing channel; events stored', async () => {
  const ch = await chdb();
  const r = await startReceiver();
  try {
    const transport = new InProcessStreams([ALARMS_IN_PROCESS]);
    const cfg = config(`${channelsYaml(r, { timeout: '300ms' })}
rules:
  - { id: web-down, kind: availability, scope: fleet, min_failing_probes: 1, resolve_after: 1, channels: [webhook] }
`);
    const service = new AlarmService({ config: cfg, transport, ch, tickMs: 100 });
    assert.is(await service.start(), true);
    const notifier = new Notifier({ config: cfg, transport, ch, channels: ['webhook'], ackWaitMs: 2000, fetchExpiresMs: 1000, backoff: { initialMs: 100, maxMs: 300 } });
    notifier.start();
    r.mode = { webhook: 'error500' };
    const p = { id: 'p1' };
    service.observeResult(result(p, { atMs: Date.now(), roundMs: Date.now(), ok: false }));
    service.observeResult(result(p, { atMs: Date.now() + 1, roundMs: Date.now() + 60_000, ok: true }));
    await service.flush();
    await waitFor('a few failed attempts', () => r.faulted.length >= 3, { timeoutMs: 10_000 });
    r.mode = {};
    await waitFor('both delivered', () => r.received.length >= 2, { timeoutMs: 10_000 });
    await sleep(500);
    assert.equal(r.received.map((m) => (m.body.event as AlarmEvent).kind), ['firing', 'resolved']);
    await waitFor('both events in alarm_events', async () => Number((await rows<{ n: number }>(ch, 'SELECT count() AS n FROM vantage.alarm_events FINAL'))[0]!.n) === 2);
    const attempts = await rows<{ event_kind: string; attempt: number; outcome: string }>(ch, 'SELECT event_kind, attempt, outcome FROM vantage.alarm_deliveries ORDER BY attempted_at_ms');
    assert.equal(attempts.filter((a) => a.event_kind === 'resolved').map((a) => [Number(a.attempt), a.outcome]), [[1, 'delivered']], 'the resolve was held back, not retried');
    const firing = attempts.filter((a) => a.event_kind === 'firing');
    assert.ok(firing.length >= 4, `the failed attempts and the delivery are logged: ${JSON.stringify(firing)}`);
    assert.is(firing[firing.length - 1]!.outcome, 'delivered');
    assert.ok(firing.every((a, i) => Number(a.attempt) === i + 1), 'held-back deliveries do not count as attempts');
    await notifier.stop();
    await service.stop();
  } finally {
    await r.close();
  }
});

test.run();
