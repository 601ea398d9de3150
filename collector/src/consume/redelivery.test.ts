/**
 * kill -9 between insert and ack: a collector process stores a batch and is killed before it
 * acks. JetStream redelivers its messages to the next collector, which asks the store which are
 * stored, acks those without inserting them again, and inserts only the rest.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COLLECTOR_CONSUMER, RESULTS_STREAM } from '@vantage/probe';
import { makeRecord } from '../../../test/helpers/records.ts';
import { consumerInfo, publishRecords, setUp, spawnTsx, startCollector, tearDown, waitFor, within, type TestContext } from './testing/harness.ts';
import { MemoryStore } from './testing/memory-store.ts';

const CHILD = new URL('./testing/insert-then-hang.ts', import.meta.url).pathname;

const test = suite<TestContext>('redelivery');
test.before.each(setUp);
test.after.each(tearDown);

test('killed with SIGKILL after its insert and before its ack: the next collector does not insert those records again', async (ctx) => {
  const sent = Array.from({ length: 160 }, (_, i) => makeRecord('probe-k', `t${i % 4}`, i));
  await publishRecords(ctx.nc, sent);

  const { child, exited, stdout: out, stderr } = spawnTsx(ctx, [CHILD], { NATS_URL: ctx.server.url, ACK_WAIT_MS: '1000', BATCH_SIZE: '50' });
  // It writes two batches at once: both inserts land and hang.
  await waitFor("the child's two inserts", () => out().split('\n').length > 2, { timeoutMs: 20_000, detail: () => `stderr: ${stderr().slice(-500)}` });
  // Let it keep holding: working() must not stop the kill from handing the messages back.
  await waitFor('the child holds a full queue', async () => (await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER)).num_ack_pending === 150);
  child.kill('SIGKILL');
  await within('child exit', exited);
  const storedByChild: string[] = out().trim().split('\n').flatMap((line) => JSON.parse(line) as string[]);
  assert.is(storedByChild.length, 100);

  // The store the child wrote to, as the next collector sees it.
  const store = new MemoryStore({ storedIds: storedByChild });
  const collector = startCollector(ctx, store, { ackWaitMs: 1000 });
  await waitFor('every record stored', () => sent.every((r) => store.insertedTimes.has(r.id)));
  await waitFor('all acked', async () => {
    const info = await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
  assert.equal(store.duplicates(), [], 'no record inserted twice');
  const inserted = new Set(store.insertCalls.flat());
  assert.ok(storedByChild.every((id) => !inserted.has(id)), 'the 100 the child stored were not inserted again');
  assert.is(inserted.size, 60, 'the other 60 were inserted once each');
  const asked = new Set(store.storedIdsCalls.flat());
  assert.is(asked.size, 150, 'the store was asked about the 150 redelivered ones only');
  const text = await collector.metrics.registry.metrics();
  assert.match(text, /vantage_collector_duplicates_skipped_total\{consumer="collector"\} 100\b/);
});

test.run();
