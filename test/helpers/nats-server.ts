/**
 * Starts a real nats-server (JetStream on, loopback only) for tests, on free ports with a temp
 * store dir, in the style of nats.js `nst/src/launcher.ts`. `restart()` keeps the port and store so
 * clients reconnect to the same server. Only the process this helper spawned is ever signalled.
 */
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ServerProcess } from './server-process.ts';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Whether the process is up (started and not yet exited). */
  readonly running: boolean;
  /** SIGTERM, then wait for the exit (SIGKILL if it does not exit in time). */
  stop(): Promise<void>;
  /** Starts it again on the same port and store dir; waits until it is ready. */
  restart(): Promise<void>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** Kills the process if it runs and removes the temp dir. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

/** The nats-server binary on PATH; throws a clear error (a failing test, never a skip) if absent. */
export function findNatsServer(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this dir
    }
  }
  throw new Error('nats-server not found on PATH (install it: apt-get install -y nats-server)');
}

export interface NatsServerOptions {
  /** Extra nats-server config text (e.g. an `authorization` block); listen/store flags still apply. */
  config?: string;
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = findNatsServer();
  const port = await freePort();
  const monitorPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'vantage-nats-'));
  const storeDir = join(root, 'js');
  const args = ['-a', HOST, '-p', String(port), '-m', String(monitorPort), '-js', '-sd', storeDir];
  if (opts.config !== undefined) {
    const file = join(root, 'server.conf');
    writeFileSync(file, opts.config);
    args.unshift('-c', file);
  }

  const server = new ServerProcess({ name: 'nats-server', binary, args, waitReady: () => waitHealthy(monitorPort) });
  await server.start();
  let cleaned = false;
  return {
    url: `nats://${HOST}:${port}`,
    port,
    storeDir,
    get running() {
      return server.running;
    },
    stop: () => server.stop('SIGTERM', STOP_TIMEOUT_MS),
    kill: () => server.stop('SIGKILL'),
    async restart() {
      await server.stop('SIGTERM', STOP_TIMEOUT_MS);
      await server.start();
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await server.stop('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Polls the monitoring /healthz (JetStream included) until it answers 200, or fails in time. */
async function waitHealthy(monitorPort: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://${HOST}:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1000) });
      const body = await res.text();
      if (res.status === 200) return;
      last = `${res.status} ${body}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server not ready within ${READY_TIMEOUT_MS} ms (last /healthz: ${last})`);
}
