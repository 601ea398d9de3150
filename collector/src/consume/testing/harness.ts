/**
 * Shared pieces of the consumer's tests: a fresh nats-server per test, publishing records the way
 * a probe does (Nats-Msg-Id = record id), reading a consumer's state, and bounded waits (uvu has
 * no timeouts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { jetstream, jetstreamManager, type ConsumerInfo } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { heartbeatSubject, resultSubject, type Heartbeat, type ResultRecord } from '@vantage/probe';
import { ensureStreams } from '../../../../probe/src/publish/streams.ts';
import { startNatsServer, type NatsServer } from '../../../../test/helpers/nats-server.ts';
import { Collector, type CollectorOptions } from '../collector.ts';
import { CollectorMetrics } from '../../run/metrics.ts';
import { sleep, waitFor, within } from '../../../../test/helpers/wait.ts';
import type { MemoryStore } from './memory-store.ts';

export { sleep, waitFor, within };

const ROOT = new URL('../../../..', import.meta.url).pathname;

export interface TestContext {
  server: NatsServer;
  nc: NatsConnection;
  cleanups: Array<() => Promise<void> | void>;
}

/** before.each: a nats-server with both streams, and a connection to publish with. */
export async function setUp(ctx: Partial<TestContext>): Promise<void> {
  ctx.cleanups = [];
  const server = await startNatsServer();
  ctx.server = server;
  ctx.cleanups.push(() => server.cleanup());
  const nc = await connect({ servers: server.url });
  ctx.nc = nc;
  ctx.cleanups.push(() => nc.close());
  await ensureStreams(nc);
}

/** after.each: runs the cleanups, newest first, each bounded. */
export async function tearDown(ctx: Partial<TestContext>): Promise<void> {
  for (const cleanup of (ctx.cleanups ?? []).reverse()) await within('cleanup', Promise.resolve(cleanup())).catch(() => undefined);
  ctx.cleanups = [];
}

/** Options that keep tests quick: small batches, short waits, silent. */
export function testOptions(ctx: TestContext, store: MemoryStore, opts: Partial<CollectorOptions> = {}): CollectorOptions {
  return {
    nats: { url: ctx.server.url, credentials: null, nkeySeedFile: null, user: null, password: null, token: null },
    store,
    batchSize: 100,
    batchMs: 200,
    fetchExpiresMs: 1000,
    ackWaitMs: 2000,
    lagPollMs: 200,
    backoff: { initialMs: 50, maxMs: 400 },
    metrics: new CollectorMetrics({ processMetrics: false }),
    ...opts,
  };
}

/** A started collector that the test's cleanup stops. */
export function startCollector(ctx: TestContext, store: MemoryStore, opts: Partial<CollectorOptions> = {}): Collector {
  const collector = new Collector(testOptions(ctx, store, opts));
  collector.start();
  ctx.cleanups.push(() => collector.stop(2000));
  return collector;
}

export interface TsxChild {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** `node --import tsx ARGS` from the repository root, with `env` added to ours; the test's cleanup kills it. */
export function spawnTsx(ctx: TestContext, args: string[], env: NodeJS.ProcessEnv): TsxChild {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  ctx.cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

export async function publishRecords(nc: NatsConnection, records: ResultRecord[]): Promise<void> {
  const js = jetstream(nc);
  await Promise.all(records.map((r) => js.publish(resultSubject(r.kind, r.probe_id), JSON.stringify(r), { msgID: r.id })));
}

export async function publishRaw(nc: NatsConnection, subject: string, payload: string | Uint8Array): Promise<number> {
  return (await jetstream(nc).publish(subject, payload)).seq;
}

export async function publishHeartbeats(nc: NatsConnection, beats: Heartbeat[]): Promise<void> {
  const js = jetstream(nc);
  await Promise.all(beats.map((b) => js.publish(heartbeatSubject(b.probe_id), JSON.stringify(b))));
}

export async function consumerInfo(nc: NatsConnection, stream: string, name: string): Promise<ConsumerInfo> {
  return (await jetstreamManager(nc)).consumers.info(stream, name);
}

export function makeHeartbeat(probeId: string): Heartbeat {
  const at = new Date().toISOString();
  return {
    schema: 1, probe_id: probeId, region: 'test-region', isp: 'loopback', asn: null, labels: {}, version: '0.0.0-test',
    sent_at: at, started_at: at, task_count: 2, spool_depth: 0, spool_dropped: 0, last_error: null,
  };
}
