/**
 * Starts a real clickhouse-server (Debian's 18.16) for tests: loopback only, free ports, a temp dir
 * holding the config, data and logs. `restart()` keeps the ports and the data dir. Only the process
 * this helper spawned is ever signalled. A missing binary is an error (a failing test, never a skip).
 */
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nats-server.ts';
import { ServerProcess } from './server-process.ts';

const HOST = '127.0.0.1';
const BINARY = process.env.CLICKHOUSE_SERVER_BIN ?? '/usr/sbin/clickhouse-server';
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** A second user with a password, so tests exercise authenticated connections too. */
export const TEST_USER = 'vantage';
export const TEST_PASSWORD = "s3cret 'pw\"";

export interface ClickHouseServer {
  /** The HTTP interface, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly dataDir: string;
  readonly running: boolean;
  /**
   * SIGTERM, then wait for the exit (SIGKILL if it does not exit within `timeoutMs`, default 10 s;
   * under load 18.16 can take longer than that to shut down).
   */
  stop(timeoutMs?: number): Promise<void>;
  /** Starts it again on the same ports and data dir; waits until it answers /ping. */
  restart(): Promise<void>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** Kills the process if it runs and removes the temp dir. Safe to call twice. */
  cleanup(): Promise<void>;
  /** The tail of the server's error log (for failure messages). */
  errorLog(): string;
}

/** The server binary; throws a clear error (a failing test, never a skip) if it is not there. */
export function findClickHouseServer(path: string = BINARY): string {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    throw new Error(`${path} not found or not executable (install it: apt-get install -y clickhouse-server)`);
  }
}

function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function configXml(root: string, httpPort: number, tcpPort: number): string {
  const dir = (name: string) => xmlText(join(root, name) + '/');
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${xmlText(join(root, 'log', 'server.log'))}</log>
    <errorlog>${xmlText(join(root, 'log', 'server.err.log'))}</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>${HOST}</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir('data')}</path>
  <tmp_path>${dir('tmp')}</tmp_path>
  <user_files_path>${dir('user_files')}</user_files_path>
  <format_schema_path>${dir('format_schemas')}</format_schema_path>
  <users_config>${xmlText(join(root, 'users.xml'))}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mlock_executable>false</mlock_executable>
  <!-- Tests stop servers often: do not wait 5 s for idle keep-alive connections. -->
  <shutdown_wait_unfinished>1</shutdown_wait_unfinished>
  <keep_alive_timeout>2</keep_alive_timeout>
</yandex>
`;
}

function usersXml(): string {
  const user = (name: string, password: string) => `
    <${name}>
      <password>${xmlText(password)}</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${name}>`;
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>${user('default', '')}${user(TEST_USER, TEST_PASSWORD)}
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

export async function startClickHouseServer(): Promise<ClickHouseServer> {
  const binary = findClickHouseServer();
  const httpPort = await freePort();
  let tcpPort = await freePort();
  while (tcpPort === httpPort) tcpPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'vantage-ch-'));
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) mkdirSync(join(root, sub));
  const configFile = join(root, 'config.xml');
  writeFileSync(configFile, configXml(root, httpPort, tcpPort));
  writeFileSync(join(root, 'users.xml'), usersXml());
  const url = `http://${HOST}:${httpPort}`;

  // A test that crashes before its `after` hook still must not leave the data dir behind.
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  process.on('exit', removeRoot);
  const errorLog = () => {
    try {
      return readFileSync(join(root, 'log', 'server.err.log'), 'utf8').slice(-4096);
    } catch {
      return '';
    }
  };
  // cwd = root: the server writes a status/pid next to its data, never into the caller's cwd.
  const server = new ServerProcess({
    name: 'clickhouse-server',
    binary,
    args: [`--config-file=${configFile}`],
    cwd: root,
    waitReady: () => waitReady(url),
    extraLog: errorLog,
  });
  await server.start();
  let cleaned = false;
  return {
    url,
    httpPort,
    tcpPort,
    dataDir: join(root, 'data'),
    get running() {
      return server.running;
    },
    stop: (timeoutMs = STOP_TIMEOUT_MS) => server.stop('SIGTERM', timeoutMs),
    kill: () => server.stop('SIGKILL'),
    async restart() {
      await server.stop('SIGTERM', STOP_TIMEOUT_MS);
      await server.start();
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await server.stop('SIGKILL');
      process.off('exit', removeRoot);
      removeRoot();
    },
    errorLog,
  };
}

/** Polls GET /ping until it answers "Ok.", or fails in time. */
async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      const body = await res.text();
      if (res.status === 200 && body.startsWith('Ok')) return;
      last = `${res.status} ${body}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`clickhouse-server not ready within ${READY_TIMEOUT_MS} ms (last /ping: ${last})`);
}
