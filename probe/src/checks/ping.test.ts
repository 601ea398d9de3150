import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PingTask } from '../config/config.ts';
import type { CheckContext } from './check.ts';
import { checkPing, parsePingSummary } from './ping.ts';

const context = (timeoutMs: number): CheckContext => ({
  signal: AbortSignal.timeout(timeoutMs),
  now: () => performance.now(),
  probe: { id: 'p1', region: 'r', isp: 'i', asn: null, labels: {} },
  resolvers: [],
  extraCaPem: null,
});

const task = (target: string, count = 3): PingTask => ({
  id: 'ping', kind: 'ping', target, schedule: '* * * * *', timeoutMs: 5000,
  ping: { count, intervalMs: 200, ipVersion: 'auto' },
});

// ---

const real = suite('checkPing (real ICMP through the system ping)');

for (const target of ['127.0.0.1', '::1']) {
  real(`echoes ${target}: sent, received, loss and rtt as numbers`, async () => {
    const outcome = await checkPing(task(target), context(5000));
    assert.is(outcome.failure, null, outcome.failureDetail ?? '');
    const k = outcome.keys;
    assert.is(k.dialed_ip, target);
    assert.is(k.sent, 3);
    assert.is(k.received, 3);
    assert.is(k.loss_pct, 0);
    for (const rtt of [k.rtt_min_ms, k.rtt_avg_ms, k.rtt_max_ms, k.rtt_stddev_ms]) assert.type(rtt, 'number');
    assert.ok(k.rtt_min_ms! <= k.rtt_avg_ms! && k.rtt_avg_ms! <= k.rtt_max_ms!);
  });
}

real.run();

// ---

const summary = suite('parsePingSummary');

summary('reads partial loss', () => {
  const out = '--- 10.0.0.1 ping statistics ---\n4 packets transmitted, 3 received, 25% packet loss, time 3004ms\nrtt min/avg/max/mdev = 1.100/2.200/3.300/0.400 ms\n';
  assert.equal(parsePingSummary(out), {
    sent: 4, received: 3, loss_pct: 25, rtt_min_ms: 1.1, rtt_avg_ms: 2.2, rtt_max_ms: 3.3, rtt_stddev_ms: 0.4,
  });
});

summary('total loss has no rtt line', () => {
  const out = '5 packets transmitted, 0 received, 100% packet loss, time 4090ms\n';
  assert.equal(parsePingSummary(out), {
    sent: 5, received: 0, loss_pct: 100, rtt_min_ms: null, rtt_avg_ms: null, rtt_max_ms: null, rtt_stddev_ms: null,
  });
});

summary('no summary at all', () => {
  assert.is(parsePingSummary('ping: connect: Network is unreachable\n'), null);
});

summary.run();
