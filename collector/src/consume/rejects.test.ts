/**
 * Invalid payloads on the results stream: each is kept in the rejected table with its reason and
 * terminated (never redelivered), while every valid record around them is stored.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COLLECTOR_CONSUMER, RESULTS_STREAM, resultSubject } from '@vantage/probe';
import { makeRecord } from '../../../test/helpers/records.ts';
import { consumerInfo, publishRaw, publishRecords, setUp, sleep, startCollector, tearDown, waitFor, type TestContext } from './testing/harness.ts';
import { MemoryStore } from './testing/memory-store.ts';

const test = suite<TestContext>('rejects');
test.before.each(setUp);
test.after.each(tearDown);

test('invalid payloads are rejected with reasons and not redelivered; valid records around them all arrive', async (ctx) => {
  const store = new MemoryStore();
  const collector = startCollector(ctx, store, { ackWaitMs: 1000, maxRecordBytes: 8192 });
  const subject = resultSubject('tcp', 'probe-a');
  const good = Array.from({ length: 12 }, (_, i) => makeRecord('probe-a', 't1', i));
  const bad: Array<{ seq: number; expect: RegExp }> = [];
  const send = async (payload: string | Uint8Array, expect: RegExp, on = subject) => bad.push({ seq: await publishRaw(ctx.nc, on, payload), expect });

  await publishRecords(ctx.nc, good.slice(0, 2));
  await send('{"schema":1,"id":', /^not_json: not JSON: /);
  await send('', /^not_json: /);
  await send(new Uint8Array([0xff, 0xfe, 0x00, 0x7b]), /^not_json: /);
  await publishRecords(ctx.nc, good.slice(2, 4));
  const huge = { ...makeRecord('probe-a', 't1', 100), failure_detail: 'x'.repeat(10_000) };
  await send(JSON.stringify(huge), /^too_large: \d+ bytes, more than 8192$/);
  await send(JSON.stringify({ ...makeRecord('probe-a', 't1', 101), duration_ms: 'fast', ok: 'yes' }), /^invalid: duration_ms: expected a number.*; ok: /);
  await send(JSON.stringify({ ...makeRecord('probe-a', 't1', 102), id: 42 }), /^invalid: id: expected a string/);
  await publishRecords(ctx.nc, good.slice(4, 8));
  await send(JSON.stringify({ ...makeRecord('probe-a', 't1', 103), schema: 2 }), /^unknown_schema: schema 2 \(this collector reads 1\)/);
  await send(JSON.stringify(makeRecord('probe-b', 't1', 104)), /^subject_mismatch: a tcp record of probe probe-b belongs on vantage\.results\.v1\.tcp\.probe-b/);
  await send('[1,2,3]', /^invalid: \(top level\): /);
  await publishRecords(ctx.nc, good.slice(8));

  await waitFor('12 stored and 9 rejected', () => store.uniqueIds === 12 && store.rejected.length === bad.length);
  assert.ok(good.every((r) => store.records.has(r.id)), 'every valid record stored');
  const bySeq = new Map(store.rejected.map((row) => [row.streamSeq, row]));
  for (const { seq, expect } of bad) {
    const row = bySeq.get(seq);
    assert.ok(row, `stream seq ${seq} kept`);
    assert.match(row!.reason, expect);
    assert.is(row!.subject, subject);
    assert.ok(row!.receivedAtMs > Date.now() - 60_000);
  }
  assert.is(bySeq.get(bad[3].seq)!.payload.length, JSON.stringify(huge).length, 'the raw payload is kept');

  await sleep(1600); // past ack_wait: a message that was not terminated would be back
  const info = await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER);
  assert.is(info.num_ack_pending, 0);
  assert.is(info.num_pending, 0);
  assert.is(info.num_redelivered, 0);
  assert.is(store.rejected.length, bad.length, 'each rejected once');
  assert.is(store.storedIdsCalls.length, 0, 'nothing redelivered');
  const text = await collector.metrics.registry.metrics();
  const count = (reason: string) => Number(new RegExp(`vantage_collector_rejected_total\\{consumer="collector",reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  assert.equal(
    { not_json: count('not_json'), too_large: count('too_large'), invalid: count('invalid'), unknown_schema: count('unknown_schema'), subject_mismatch: count('subject_mismatch') },
    { not_json: 3, too_large: 1, invalid: 3, unknown_schema: 1, subject_mismatch: 1 },
  );
});

test.run();
