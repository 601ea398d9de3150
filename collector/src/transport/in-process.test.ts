/**
 * The in-process streams of `vantage up` keep the JetStream semantics the consumers rely on: dedup
 * by message id, explicit ack, nak (at once or after a delay), term, working(), redelivery after
 * the ack wait with a delivery count, settlements of an old delivery ignored, independent durable
 * consumers, and settled messages dropped. Then the real collector runs on them into chDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEARTBEATS_STREAM, HEARTBEAT_SUBJECTS, RESULTS_STREAM, RESULTS_SUBJECTS, resultSubject } from '@vantage/probe';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rows } from '../../../test/helpers/clickhouse-engines.ts';
import { makeRecord } from '../../../test/helpers/records.ts';
import { waitFor } from '../../../test/helpers/wait.ts';
import { Collector } from '../consume/collector.ts';
import { CollectorMetrics } from '../run/metrics.ts';
import { openClickHouseStore } from '../store/clickhouse-store.ts';
import { InProcessStreams } from './in-process.ts';
import type { PullConsumer, StreamMessage } from './transport.ts';

const text = (s: string) => new TextEncoder().encode(s);
const SPECS = [
  { name: RESULTS_STREAM, subjects: [RESULTS_SUBJECTS] },
  { name: HEARTBEATS_STREAM, subjects: [HEARTBEAT_SUBJECTS] },
];

/** A clock the test moves by hand. */
function manualClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function take(consumer: PullConsumer, max = 10, expires = 0): Promise<StreamMessage[]> {
  const out: StreamMessage[] = [];
  for await (const msg of await consumer.fetch({ max_messages: max, expires })) out.push(msg);
  return out;
}

const bodies = (msgs: StreamMessage[]) => msgs.map((m) => new TextDecoder().decode(m.data));

const test = suite('in-process streams');

test('publish: stored in the stream its subject belongs to; repeats of an id dropped; unknown subject rejected', async () => {
  const streams = new InProcessStreams(SPECS);
  await streams.publish('vantage.results.v1.dns.p1', text('a'), 'id-a');
  await streams.publish('vantage.results.v1.dns.p1', text('a again'), 'id-a');
  await streams.publish('vantage.heartbeat.v1.p1', text('hb'), 'id-h');
  const refused = await streams.publish('other.subject', text('x'), 'id-x').then(() => null, (err: Error) => err.message);
  assert.is(refused, 'no stream stores subject other.subject');
  const results = await streams.consumerSource({ stream: RESULTS_STREAM, name: 'c', ackWaitMs: 1000, maxAckPending: 100 }).get(() => false);
  const got = await take(results!);
  assert.equal(bodies(got), ['a']);
  assert.equal(got[0]!.info, { deliveryCount: 1, streamSequence: 1 });
  assert.is(got[0]!.subject, 'vantage.results.v1.dns.p1');
});

test('ack, term, nak, working and the ack wait behave like JetStream', async () => {
  const clock = manualClock();
  const streams = new InProcessStreams(SPECS, clock.now);
  for (const id of ['1', '2', '3', '4']) await streams.publish(`vantage.results.v1.dns.p${id}`, text(id), id);
  const consumer = (await streams.consumerSource({ stream: RESULTS_STREAM, name: 'c', ackWaitMs: 1000, maxAckPending: 100 }).get(() => false))!;
  const [m1, m2, m3, m4] = await take(consumer);
  m1!.ack();
  m2!.term();
  m3!.nak();
  m4!.working();
  assert.equal(bodies(await take(consumer)), ['3'], 'a nak is redelivered at once');
  clock.advance(600);
  m4!.working(); // extends the wait again
  clock.advance(600);
  const third = await take(consumer);
  assert.equal(bodies(third), ['3'], 'not acked within the ack wait: redelivered; 4 kept by working()');
  assert.is(third[0]!.info.deliveryCount, 3);
  clock.advance(500);
  const [m4b] = await take(consumer);
  assert.equal([bodies([m4b!]), m4b!.info.deliveryCount], [['4'], 2]);
  m4!.ack(); // the old delivery of 4 may no longer settle it
  clock.advance(1001);
  assert.equal(bodies(await take(consumer)), ['3', '4']);
  assert.equal(await streams.consumerLag(RESULTS_STREAM, 'c'), { pending: 0, ackPending: 2, redelivered: 5 });
});

test('nak with a delay; fetch waits for a publish and returns what came', async () => {
  const streams = new InProcessStreams(SPECS);
  const consumer = (await streams.consumerSource({ stream: RESULTS_STREAM, name: 'c', ackWaitMs: 60_000, maxAckPending: 100 }).get(() => false))!;
  const waiting = take(consumer, 10, 5000);
  setTimeout(() => void streams.publish('vantage.results.v1.dns.p1', text('late'), 'late'), 50);
  const [late] = await waiting;
  assert.equal(bodies([late!]), ['late']);
  late!.nak(150);
  assert.equal(bodies(await take(consumer, 10, 0)), [], 'not before its delay');
  const started = performance.now();
  assert.equal(bodies(await take(consumer, 10, 5000)), ['late']);
  assert.ok(performance.now() - started >= 100, 'the delayed redelivery waited');
});

test('durable consumers are independent; messages settled by all are dropped', async () => {
  const streams = new InProcessStreams(SPECS);
  const spec = (name: string) => ({ stream: RESULTS_STREAM, name, ackWaitMs: 60_000, maxAckPending: 10_000 });
  const a = (await streams.consumerSource(spec('a')).get(() => false))!;
  const b = (await streams.consumerSource(spec('b')).get(() => false))!;
  for (let i = 0; i < 3000; i++) await streams.publish(`vantage.results.v1.dns.p`, text(String(i)), String(i));
  for (const msg of await take(a, 3000)) msg.ack();
  assert.equal(await streams.consumerLag(RESULTS_STREAM, 'a'), { pending: 0, ackPending: 0, redelivered: 0 });
  const fromB = await take(b, 5000);
  assert.is(fromB.length, 3000, 'b still gets every message a settled');
  for (const msg of fromB) msg.ack();
  await streams.publish('vantage.results.v1.dns.p', text('next'), 'next');
  const c = (await streams.consumerSource(spec('c')).get(() => false))!;
  assert.equal(bodies(await take(c, 5000)), ['next'], 'a consumer created later starts at what is still kept');
});

test('the collector runs on in-process streams: every record stored in chDB once, duplicates dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-inproc-'));
  const store = await openClickHouseStore({ engine: 'chdb', path: dir });
  const streams = new InProcessStreams(SPECS);
  const collector = new Collector({
    transport: streams, store, batchSize: 50, batchMs: 50, fetchExpiresMs: 1000, ackWaitMs: 5000, lagPollMs: 100,
    metrics: new CollectorMetrics({ processMetrics: false }),
  });
  try {
    collector.start();
    const records = Array.from({ length: 300 }, (_, i) => makeRecord(`p${i % 3}`, 'inproc', i));
    for (const r of [...records, ...records.slice(0, 40)]) await streams.publish(resultSubject(r.kind, r.probe_id), text(JSON.stringify(r)), r.id);
    await streams.publish(resultSubject('http', 'p0'), text('{not json'), 'garbage');
    await waitFor('all records stored', async () => {
      const [row] = await rows<{ n: number }>(store.ch, "SELECT count() AS n FROM vantage.results WHERE task_id = 'inproc'");
      return Number(row!.n) === 300;
    }, { timeoutMs: 15_000 });
    await waitFor('the bad message rejected', async () => (await rows(store.ch, 'SELECT reason FROM vantage.rejected_records')).length === 1, { timeoutMs: 5000 });
    await waitFor('nothing left unacked', async () => (await streams.consumerLag(RESULTS_STREAM, 'collector'))?.ackPending === 0, { timeoutMs: 5000 });
    assert.is(collector.health().healthy, true);
  } finally {
    await collector.stop(2000);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
