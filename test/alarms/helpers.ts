/**
 * Shared pieces of the alarm service and notifier tests: a nats-server, a migrated ClickHouse
 * (chDB in a temp dir, or the clickhouse-server 18.16 helper), a NATS transport, and reading the
 * alarms stream back. Everything is cleaned up by cleanupAll() (test/collector/helpers.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, type ClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import { migrate } from '../../collector/src/store/migrate.ts';
import { NatsTransport } from '../../collector/src/transport/nats-transport.ts';
import { startClickHouseServer, TEST_PASSWORD, TEST_USER } from '../helpers/clickhouse-server.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { natsClient, onCleanup, streamPayloads, waitFor, within as withinTime } from '../collector/helpers.ts';
import { ALARMS_STREAM, type AlarmEvent } from '../../analyzer/src/alarms/event.ts';

export { cleanupAll, onCleanup, waitFor, within, sleep, tempDir, natsClient, rows } from '../collector/helpers.ts';

export async function nats(): Promise<NatsServer> {
  const server = await startNatsServer();
  onCleanup(() => server.cleanup());
  return server;
}

/** chDB in a temp dir (one per process), migrated. */
export async function chdb(): Promise<ClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-alarms-chdb-'));
  const ch = await openClickHouse({ engine: 'chdb', path: dir });
  onCleanup(async () => {
    await ch.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await migrate(ch.client);
  return ch;
}

/** clickhouse-server 18.16 on free ports, migrated; `env` points a child process at it. */
export async function clickhouseServer(): Promise<{ ch: ClickHouse; env: NodeJS.ProcessEnv }> {
  const server = await startClickHouseServer();
  onCleanup(() => server.cleanup());
  const ch = await openClickHouse({ engine: 'server', url: server.url, username: TEST_USER, password: TEST_PASSWORD, requestTimeoutMs: 10_000 });
  onCleanup(() => ch.close());
  await migrate(ch.client);
  return { ch, env: { CLICKHOUSE_URL: server.url, CLICKHOUSE_USER: TEST_USER, CLICKHOUSE_PASSWORD: TEST_PASSWORD } };
}

/** A started NATS transport, connected. */
export async function transport(url: string): Promise<NatsTransport> {
  const t = new NatsTransport({ url, credentials: null, nkeySeedFile: null, user: null, password: null, token: null }, { retryDelayMs: 250 });
  t.start();
  onCleanup(() => t.close());
  await waitFor('the NATS transport connected', () => t.state === 'connected', { timeoutMs: 10_000 });
  return t;
}

/** Every alarm event in the stream, in order. */
export async function streamEvents(natsUrl: string): Promise<AlarmEvent[]> {
  const nc = await natsClient(natsUrl);
  const messages = await streamPayloads(nc, ALARMS_STREAM).catch((err: Error) => (/stream not found/i.test(err.message) ? [] : Promise.reject(err)));
  await nc.close();
  return messages.map((m) => JSON.parse(m.data) as AlarmEvent);
}

// --- vantage child processes ---------------------------------------------------------------------


const VANTAGE = new URL('../../bin/vantage.mjs', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface VantageChild {
  readonly pid: number;
  readonly running: boolean;
  logs(): string;
  /** The JSON log line whose msg is `msg`, or null. */
  logLine(msg: string): Record<string, unknown> | null;
  kill(): Promise<void>;
  stop(limitMs?: number): Promise<number | null>;
}

/** `vantage <args>` as a child process, with our environment minus NATS_/CLICKHOUSE_ settings, plus `env`. */
export function spawnVantage(args: string[], env: NodeJS.ProcessEnv = {}): VantageChild {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) if (/^(NATS_|CLICKHOUSE_)/.test(key)) delete base[key];
  const child = spawn(process.execPath, [VANTAGE, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-262_144);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    children.delete(child);
    resolve(code);
  }));
  const running = () => child.exitCode === null && child.signalCode === null;
  onCleanup(async () => {
    if (running()) child.kill('SIGKILL');
    await withinTime('child exit', exited, 10_000).catch(() => undefined);
  });
  return {
    pid: child.pid!,
    get running() {
      return running();
    },
    logs: () => log,
    logLine(msg: string) {
      const line = log.split('\n').find((l) => l.includes(`"msg":${JSON.stringify(msg)}`));
      return line ? (JSON.parse(line) as Record<string, unknown>) : null;
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await withinTime(`exit of pid ${child.pid} after SIGKILL`, exited, 10_000);
    },
    async stop(limitMs = 20_000) {
      if (running()) child.kill('SIGTERM');
      return withinTime(`exit of pid ${child.pid} after SIGTERM`, exited, limitMs);
    },
  };
}
