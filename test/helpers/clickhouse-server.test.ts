/**
 * The clickhouse-server test helper itself: it starts 18.16 on free loopback ports, only the
 * configured users get in, restart keeps ports and data, kill and stop really end the process,
 * cleanup removes the temp dir, and a missing binary is a clear error.
 */
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findClickHouseServer, startClickHouseServer, TEST_PASSWORD, TEST_USER, type ClickHouseServer } from './clickhouse-server.ts';

async function query(server: ClickHouseServer, sql: string, user = 'default', password = ''): Promise<{ status: number; body: string }> {
  const res = await fetch(`${server.url}/?user=${encodeURIComponent(user)}&password=${encodeURIComponent(password)}`, {
    method: 'POST',
    body: sql,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: (await res.text()).trim() };
}

const test = suite<{ server: ClickHouseServer }>('clickhouse-server helper');
test.before(async (ctx) => {
  ctx.server = await startClickHouseServer();
});
test.after(async (ctx) => {
  await ctx.server?.cleanup();
});

test('runs 18.16 on loopback ports; the test user needs its password', async ({ server }) => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.is.not(server.httpPort, server.tcpPort);
  assert.equal(await query(server, 'SELECT version()'), { status: 200, body: '18.16.1' });
  assert.equal(await query(server, "SELECT user FROM system.processes WHERE query LIKE '%whoami%'", TEST_USER, TEST_PASSWORD), { status: 200, body: TEST_USER });
  const wrong = await query(server, 'SELECT 1', TEST_USER, 'nope');
  assert.is.not(wrong.status, 200);
});

test('restart keeps the port and the data; kill ends the process at once', async ({ server }) => {
  const url = server.url;
  await query(server, 'CREATE TABLE default.kept (x UInt8) ENGINE = MergeTree ORDER BY x');
  await query(server, 'INSERT INTO default.kept VALUES (7)');
  await server.restart();
  assert.is(server.url, url);
  assert.equal(await query(server, 'SELECT sum(x) FROM default.kept'), { status: 200, body: '7' });
  await server.kill();
  assert.is(server.running, false);
  assert.is(await query(server, 'SELECT 1').then(() => 'answered', () => 'refused'), 'refused');
  await server.restart();
  assert.equal(await query(server, 'SELECT sum(x) FROM default.kept'), { status: 200, body: '7' });
});

test('stop ends the process; cleanup removes the temp dir and is safe twice', async () => {
  const other = await startClickHouseServer();
  assert.ok(existsSync(other.dataDir));
  await other.stop();
  assert.is(other.running, false);
  await other.cleanup();
  await other.cleanup();
  assert.not.ok(existsSync(other.dataDir));
});

test('a missing binary is a clear error, never a skip', () => {
  assert.throws(() => findClickHouseServer('/nonexistent/clickhouse-server'), /not found or not executable.*apt-get install -y clickhouse-server/);
});

test.run();
