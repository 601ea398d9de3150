/**
 * The probe's JetStream publisher against a real nats-server (started per test on free loopback
 * ports): records arrive exactly once and in order per task, through server outages, publisher
 * restarts and a publisher killed with SIGKILL; the streams get the contract's dedup window.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { heartbeat as validateHeartbeat, type Heartbeat } from '../../probe/src/contract/heartbeat.ts';
import type { ResultRecord } from '../../probe/src/contract/record.ts';
import {
  DEDUP_WINDOW_MS, HEARTBEATS_MAX_AGE_MS, HEARTBEATS_STREAM, RESULTS_MAX_AGE_MS, RESULTS_STREAM, resultSubject,
} from '../../probe/src/contract/subjects.ts';
import { parseRecord } from '../../probe/src/contract/validate.ts';
import { JetStreamPublisher, type PublisherOptions } from '../../probe/src/publish/publisher.ts';
import { ensureStreams } from '../../probe/src/publish/streams.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { makeRecord } from '../helpers/records.ts';
import { sleep, waitFor, within } from '../helpers/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const PUBLISHER_PATH = new URL('../../probe/src/publish/publisher.ts', import.meta.url).pathname;
const WAIT_MS = 15_000;

// --- records ---------------------------------------------------------------------------------

const seqOf = (r: ResultRecord) => Number(r.probe_labels.seq);

function makeHeartbeat(probeId: string, depth: number): Heartbeat {
  const at = new Date().toISOString();
  return {
    schema: 1, probe_id: probeId, region: 'test-region', isp: 'loopback', asn: null, labels: {}, version: '0.0.0-test',
    sent_at: at, started_at: at, task_count: 2, spool_depth: depth, spool_dropped: 0, last_error: null,
  };
}

// --- reading back ----------------------------------------------------------------------------

interface Stored {
  record: ResultRecord;
  msgId: string;
  subject: string;
}

/** Every message of a stream, in stream order, read with an ordered JetStream consumer. */
async function readStream(url: string, stream: string, token?: string): Promise<{ stored: Stored[]; messages: number }> {
  const nc = await connect({ servers: url, token });
  try {
    const messages = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
    const consumer = await jetstream(nc).consumers.get(stream);
    const stored: Stored[] = [];
    const deadline = Date.now() + WAIT_MS;
    while (stored.length < messages && Date.now() < deadline) {
      const batch = await consumer.fetch({ max_messages: messages - stored.length, expires: 2000 });
      for await (const m of batch) {
        stored.push({ record: stream === RESULTS_STREAM ? parseRecord(m.data) : m.json(), msgId: m.headers?.get('Nats-Msg-Id') ?? '', subject: m.subject });
      }
    }
    assert.is(stored.length, messages, 'the consumer read every stored message');
    return { stored, messages };
  } finally {
    await nc.close();
  }
}

async function storedCount(url: string, token?: string): Promise<number> {
  const nc = await connect({ servers: url, token });
  try {
    return (await (await jetstreamManager(nc)).streams.info(RESULTS_STREAM)).state.messages;
  } catch {
    return 0;
  } finally {
    await nc.close();
  }
}

/** Exactly once (distinct Nats-Msg-Id = stored count), with the right subject and header, in order per task. */
function assertOncePerTaskInOrder(stored: Stored[], expectedIds: Set<string>, exact: boolean): void {
  const ids = new Set(stored.map((s) => s.msgId));
  assert.is(ids.size, stored.length, `${stored.length - ids.size} duplicate messages stored`);
  for (const s of stored) {
    assert.is(s.msgId, s.record.id, 'Nats-Msg-Id is the record id');
    assert.is(s.subject, resultSubject(s.record.kind, s.record.probe_id));
  }
  const missing = [...expectedIds].filter((id) => !ids.has(id));
  assert.is(missing.length, 0, `${missing.length} records never arrived`);
  if (exact) assert.is(stored.length, expectedIds.size, 'no record arrived that was not sent');
  const byTask = new Map<string, number[]>();
  for (const s of stored) byTask.set(s.record.task_id, [...(byTask.get(s.record.task_id) ?? []), seqOf(s.record)]);
  for (const [task, seqs] of byTask) {
    assert.equal(seqs, seqs.map((_, i) => i), `task ${task} arrived in order without gaps`);
  }
}

// --- per-test resources ----------------------------------------------------------------------

interface Ctx {
  server: NatsServer | null;
  cleanups: Array<() => Promise<unknown>>;
}

const FAST: PublisherOptions = { ackTimeoutMs: 1000, retryDelayMs: 100, link: { retryDelayMs: 100, connectTimeoutMs: 1000 } };

function tempDir(ctx: Ctx): string {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-pub-'));
  ctx.cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function newPublisher(ctx: Ctx, url: string, spoolDir: string, nats: { token?: string } = {}): JetStreamPublisher {
  const pub = new JetStreamPublisher(
    { nats: { url, credentials: null, nkeySeedFile: null, user: null, password: null, token: nats.token ?? null }, spool: { dir: spoolDir, maxBytes: 64 * 1024 * 1024 }, probe: { id: 'test' } },
    FAST,
  );
  ctx.cleanups.push(() => pub.close());
  return pub;
}

/** Runs `tasks` tasks concurrently, each publishing `perTask` records one after another. */
function runTasks(pub: JetStreamPublisher, probeId: string, tasks: string[], perTask: number, gapMs: number) {
  const sent = new Set<string>();
  const progress = { published: 0 };
  const done = Promise.all(
    tasks.map(async (task) => {
      for (let seq = 0; seq < perTask; seq++) {
        const record = makeRecord(probeId, task, seq);
        sent.add(record.id);
        await pub.publish(record);
        progress.published++;
        if (gapMs > 0) await sleep(gapMs);
      }
    }),
  );
  return { sent, progress, done };
}

const connected = (pub: JetStreamPublisher) => pub.stats().connection === 'connected';

const publish = suite<Ctx>('JetStreamPublisher', { server: null, cleanups: [] });

publish.before.each(async (ctx) => {
  ctx.cleanups = [];
  ctx.server = await startNatsServer();
  const server = ctx.server;
  ctx.cleanups.push(() => server.cleanup());
});

publish.after.each(async (ctx) => {
  for (const cleanup of ctx.cleanups.reverse()) {
    await within('cleanup', cleanup(), 10_000).catch((err: Error) => console.error(`cleanup failed: ${err.message}`));
  }
  ctx.cleanups = [];
});

publish('creates the streams with file storage, max age and the dedup window; JetStream dedups on the id', async (ctx) => {
  const nc = await connect({ servers: ctx.server!.url });
  ctx.cleanups.push(() => nc.close());
  assert.equal(await ensureStreams(nc), [
    { stream: RESULTS_STREAM, result: 'created' },
    { stream: HEARTBEATS_STREAM, result: 'created' },
  ]);
  const jsm = await jetstreamManager(nc);
  const results = (await jsm.streams.info(RESULTS_STREAM)).config;
  assert.is(results.storage, StorageType.File);
  assert.is(results.duplicate_window, nanos(DEDUP_WINDOW_MS));
  assert.is(results.max_age, nanos(RESULTS_MAX_AGE_MS));
  assert.equal(results.subjects, ['vantage.results.>']);
  const heartbeats = (await jsm.streams.info(HEARTBEATS_STREAM)).config;
  assert.is(heartbeats.duplicate_window, nanos(DEDUP_WINDOW_MS));
  assert.is(heartbeats.max_age, nanos(HEARTBEATS_MAX_AGE_MS));
  assert.equal(await ensureStreams(nc), [
    { stream: RESULTS_STREAM, result: 'exists' },
    { stream: HEARTBEATS_STREAM, result: 'exists' },
  ]);
  const js = jetstream(nc);
  const record = makeRecord('p1', 't1', 0);
  const first = await js.publish(resultSubject('tcp', 'p1'), JSON.stringify(record), { msgID: record.id });
  const again = await js.publish(resultSubject('tcp', 'p1'), JSON.stringify(record), { msgID: record.id });
  assert.is(first.duplicate, false);
  assert.is(again.duplicate, true);
  assert.is(again.seq, first.seq);
});

publish('ensureStreams reports permission errors and a short dedup window instead of throwing', async (ctx) => {
  await ctx.server!.cleanup();
  const config = `authorization {
    users = [
      { user: admin, password: admin }
      { user: probe, password: probe, permissions: {
          publish: { allow: ["vantage.>", "$JS.API.STREAM.INFO.>"] }, subscribe: { allow: ["_INBOX.>"] } } }
    ]
  }`;
  const server = await startNatsServer({ config });
  ctx.cleanups.push(() => server.cleanup());
  const admin = await connect({ servers: server.url, user: 'admin', pass: 'admin' });
  ctx.cleanups.push(() => admin.close());
  await (await jetstreamManager(admin)).streams.add({ name: RESULTS_STREAM, subjects: ['vantage.results.>'], duplicate_window: nanos(1000) });
  const probe = await connect({ servers: server.url, user: 'probe', pass: 'probe' });
  ctx.cleanups.push(() => probe.close());
  const outcomes = await within('ensureStreams', ensureStreams(probe, { timeoutMs: 2000 }));
  assert.is(outcomes[0]!.result, 'exists');
  assert.match(outcomes[0]!.mismatches?.[0] ?? '', /duplicate_window 1000 ms is shorter/);
  assert.is(outcomes[1]!.result, 'failed');
  assert.match(outcomes[1]!.error ?? '', /Permissions Violation for Publish to "\$JS\.API\.STREAM\.CREATE\.VANTAGE_HEARTBEATS"/);
});

publish('records arrive once each, in order per task; heartbeats reach their stream', async (ctx) => {
  const pub = newPublisher(ctx, ctx.server!.url, tempDir(ctx));
  const latencies: number[] = [];
  pub.onPublished = (ms) => latencies.push(ms);
  await waitFor('connected', () => connected(pub));
  const run = runTasks(pub, 'probe-a', ['t1', 't2', 't3'], 30, 0);
  await within('publishing', run.done);
  assert.is(latencies.length, 90, 'all 90 went straight to JetStream (acked)');
  assert.ok(latencies.every((ms) => ms >= 0));
  assert.is(pub.stats().spoolDepth, 0);
  const { stored } = await readStream(ctx.server!.url, RESULTS_STREAM);
  assertOncePerTaskInOrder(stored, run.sent, true);

  await pub.publishHeartbeat(makeHeartbeat('probe-a', 0));
  const beats = await readStream(ctx.server!.url, HEARTBEATS_STREAM);
  assert.is(beats.messages, 1);
  const problems: string[] = [];
  validateHeartbeat(beats.stored[0]!.record, '', problems);
  assert.equal(problems, []);
  assert.is(beats.stored[0]!.subject, 'vantage.heartbeat.v1.probe-a');
  // The publisher created the streams on connect, with the dedup window.
  const nc = await connect({ servers: ctx.server!.url });
  ctx.cleanups.push(() => nc.close());
  assert.is((await (await jetstreamManager(nc)).streams.info(RESULTS_STREAM)).config.duplicate_window, nanos(DEDUP_WINDOW_MS));
});

publish('server stopped (SIGTERM) and killed (SIGKILL) mid-run: records spool, replay, arrive exactly once in order', async (ctx) => {
  const server = ctx.server!;
  const pub = newPublisher(ctx, server.url, tempDir(ctx));
  await waitFor('connected', () => connected(pub));
  const run = runTasks(pub, 'probe-b', ['t1', 't2', 't3', 't4'], 100, 4);
  let maxDepth = 0;
  const watch = setInterval(() => (maxDepth = Math.max(maxDepth, pub.stats().spoolDepth)), 5);
  ctx.cleanups.push(async () => clearInterval(watch));

  await waitFor('40 published', () => run.progress.published >= 40);
  await server.stop();
  await waitFor('40 spooled while the server is down', () => pub.stats().spoolDepth >= 40);
  assert.is.not(pub.stats().connection, 'connected');
  await server.restart();
  await waitFor('160 published', () => run.progress.published >= 160);
  await server.kill();
  const before = run.progress.published;
  await waitFor('30 more published while killed', () => run.progress.published >= before + 30);
  await server.restart();
  await within('all tasks done', run.done);
  await waitFor('spool replayed', () => pub.stats().spoolDepth === 0);
  await waitFor('400 stored', async () => (await storedCount(server.url)) >= 400);
  await sleep(300); // a late duplicate would land now

  assert.ok(maxDepth >= 40, `the spool was used (max depth ${maxDepth})`);
  const { stored } = await readStream(server.url, RESULTS_STREAM);
  assertOncePerTaskInOrder(stored, run.sent, true);
  assert.is(stored.length, 400);
});

publish('a publisher closed with a non-empty spool hands it to the next one on the same dir', async (ctx) => {
  const server = ctx.server!;
  const dir = tempDir(ctx);
  const a = newPublisher(ctx, server.url, dir);
  await waitFor('connected', () => connected(a));
  const sent = new Set<string>();
  const send = async (pub: JetStreamPublisher, from: number, to: number) => {
    for (let seq = from; seq < to; seq++) {
      for (const task of ['t1', 't2']) {
        const record = makeRecord('probe-c', task, seq);
        sent.add(record.id);
        await within('publish', pub.publish(record));
      }
    }
  };
  await send(a, 0, 10);
  await server.stop();
  await send(a, 10, 25);
  assert.is(a.stats().spoolDepth, 30);
  await within('heartbeat while down', a.publishHeartbeat(makeHeartbeat('probe-c', 30)), 3000);
  assert.is(a.stats().spoolDepth, 30, 'heartbeats are never spooled');
  await within('close', a.close());

  await server.restart();
  const b = newPublisher(ctx, server.url, dir);
  await send(b, 25, 30); // these go behind the 30 spooled ones
  await waitFor('spool replayed', () => b.stats().spoolDepth === 0);
  await waitFor('60 stored', async () => (await storedCount(server.url)) >= 60);
  await sleep(300);
  const { stored } = await readStream(server.url, RESULTS_STREAM);
  assertOncePerTaskInOrder(stored, sent, true);
});

publish('a publisher killed with SIGKILL loses no record whose publish resolved', async (ctx) => {
  const server = ctx.server!;
  const dir = tempDir(ctx);
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript()], {
    cwd: ROOT,
    env: { ...process.env, NATS_URL: server.url, SPOOL_DIR: dir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve())); // after stdout is read
  ctx.cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const acked = new Set<string>();
  let out = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (let nl = out.indexOf('\n'); nl !== -1; nl = out.indexOf('\n')) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.startsWith('ok ')) acked.add(line.slice(3));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  child.stdin.on('error', () => undefined); // EPIPE: lines still queued when it is killed
  let next = 0;
  const feed = (rounds: number) => {
    for (let i = 0; i < rounds; i++, next++) {
      for (const task of ['t1', 't2']) child.stdin.write(`${JSON.stringify(makeRecord('probe-d', task, next))}\n`);
    }
  };
  const acks = async (n: number) => waitFor(`${n} acks from the child (stderr: ${errors.slice(-500)})`, () => acked.size >= n);

  feed(20);
  await acks(40);
  await server.stop();
  feed(30);
  await acks(100); // these were spooled: the server is down
  feed(1000);
  await acks(130);
  child.kill('SIGKILL'); // mid-stream: appends in flight
  await within('child exit', exited);
  assert.is(child.signalCode, 'SIGKILL');
  const resolved = new Set(acked);
  assert.ok(resolved.size < 2100, 'killed before it had processed everything');

  await server.restart();
  const b = newPublisher(ctx, server.url, dir);
  await waitFor('spool replayed', () => b.stats().spoolDepth === 0);
  // If records were lost this wait ends unmet, and the assertion below names how many.
  await waitFor('all acked stored', async () => (await storedCount(server.url)) >= resolved.size, 3000).catch(() => undefined);
  await sleep(300);
  const { stored } = await readStream(server.url, RESULTS_STREAM);
  assertOncePerTaskInOrder(stored, resolved, false);
  assert.ok(stored.length <= resolved.size + 1, `at most the one in-flight record beyond the acked ones (${stored.length} vs ${resolved.size})`);
});

publish('connects with a token; with a wrong one it never blocks: records spool until a good one takes them', async (ctx) => {
  await ctx.server!.cleanup();
  const server = await startNatsServer({ config: 'authorization { token: "s3cret" }' });
  ctx.cleanups.push(() => server.cleanup());
  const dir = tempDir(ctx);
  const sent = new Set<string>();
  const bad = newPublisher(ctx, server.url, dir, { token: 'wrong' });
  for (let seq = 0; seq < 5; seq++) {
    const record = makeRecord('probe-e', 't1', seq);
    sent.add(record.id);
    await within('publish without NATS', bad.publish(record), 3000);
  }
  await waitFor('an auth error', () => /authorization/i.test(bad.stats().lastError ?? ''), 5000);
  assert.is(bad.stats().spoolDepth, 5);
  assert.is.not(bad.stats().connection, 'connected');
  await within('close', bad.close());

  const good = newPublisher(ctx, server.url, dir, { token: 's3cret' });
  await waitFor('connected', () => connected(good));
  for (let seq = 5; seq < 10; seq++) {
    const record = makeRecord('probe-e', 't1', seq);
    sent.add(record.id);
    await within('publish', good.publish(record));
  }
  await waitFor('spool replayed', async () => good.stats().spoolDepth === 0 && (await storedCount(server.url, 's3cret')) >= 10);
  const { stored } = await readStream(server.url, RESULTS_STREAM, 's3cret');
  assertOncePerTaskInOrder(stored, sent, true);
});

publish.run();

/** A process that publishes each JSON record read from stdin and prints "ok <id>" once publish resolved. */
function childScript(): string {
  return `
import { createInterface } from 'node:readline';
import { JetStreamPublisher } from ${JSON.stringify(PUBLISHER_PATH)};
const pub = new JetStreamPublisher(
  { nats: { url: process.env.NATS_URL, credentials: null, nkeySeedFile: null, user: null, password: null, token: null }, spool: { dir: process.env.SPOOL_DIR, maxBytes: 64 * 1024 * 1024 }, probe: { id: 'child' } },
  ${JSON.stringify(FAST)},
);
for await (const line of createInterface({ input: process.stdin })) {
  const record = JSON.parse(line);
  await pub.publish(record);
  process.stdout.write('ok ' + record.id + '\\n');
}`;
}
