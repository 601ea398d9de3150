/**
 * The shared durable consumer on a real nats-server 2.9: created when missing, concurrent creators
 * both succeed, an existing one is used as it is (never rewritten), an unusable one is refused.
 */
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RESULTS_STREAM } from '@vantage/probe';
import { ensureDurable, UnusableConsumerError, type DurableSpec } from './durable-consumer.ts';
import { setUp, tearDown, type TestContext } from '../consume/testing/harness.ts';

const spec: DurableSpec = { stream: RESULTS_STREAM, name: 'collector', ackWaitMs: 30_000, maxAckPending: 20_000 };

const test = suite<TestContext>('durable consumer');
test.before.each(setUp);
test.after.each(tearDown);

test('created when missing: explicit ack, deliver all, bounded ack pending; concurrent creators both succeed', async (ctx) => {
  const jsm = await jetstreamManager(ctx.nc);
  const [a, b, c] = await Promise.all([ensureDurable(jsm, spec), ensureDurable(jsm, spec), ensureDurable(jsm, spec)]);
  assert.ok([a, b, c].some((r) => r.created), 'one of them created it');
  for (const r of [a, b, c]) assert.equal(r.differences, []);
  const { config } = await jsm.consumers.info(RESULTS_STREAM, 'collector');
  assert.is(config.ack_policy, AckPolicy.Explicit);
  assert.is(config.deliver_policy, 'all');
  assert.is(config.ack_wait, nanos(30_000));
  assert.is(config.max_ack_pending, 20_000);
  assert.is(config.deliver_subject, undefined, 'a pull consumer');
  assert.is((await jsm.consumers.list(RESULTS_STREAM).next()).length, 1);
});

test('an existing consumer is used as it is, its differences reported, never rewritten', async (ctx) => {
  const jsm = await jetstreamManager(ctx.nc);
  await ensureDurable(jsm, { ...spec, ackWaitMs: 60_000 });
  const second = await ensureDurable(jsm, spec);
  assert.not.ok(second.created);
  assert.equal(second.differences, ['ack_wait 60000 ms (asked 30000)']);
  assert.is((await jsm.consumers.info(RESULTS_STREAM, 'collector')).config.ack_wait, nanos(60_000));
});

test('a push consumer or one without explicit acks under the name is refused with a clear error', async (ctx) => {
  const jsm = await jetstreamManager(ctx.nc);
  await jsm.consumers.add(RESULTS_STREAM, { durable_name: 'collector', ack_policy: AckPolicy.None });
  try {
    await ensureDurable(jsm, spec);
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, UnusableConsumerError);
    assert.match((err as Error).message, /has ack_policy none, not explicit/);
  }
});

test.run();
