/**
 * `vantage collector`: settings from flags and environment, --help and usage errors, and the
 * command as a process (with an in-memory store) that serves /metrics and /healthz and stops
 * cleanly on SIGTERM with everything it took acked.
 */
import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COLLECTOR_CONSUMER, RESULTS_STREAM } from '@vantage/probe';
import { makeRecord } from '../../test/helpers/records.ts';
import { consumerInfo, publishRecords, setUp, spawnTsx, tearDown, waitFor, within, type TestContext } from './consume/testing/harness.ts';
import { collectorSettings, type CollectorSettings } from './run/settings.ts';

const VANTAGE = new URL('../../bin/vantage.mjs', import.meta.url).pathname;

const settings = suite('collector settings');

settings('defaults', () => {
  const s = collectorSettings({}, {}) as CollectorSettings;
  assert.is(s.nats.url, 'nats://127.0.0.1:4222');
  assert.equal([s.nats.credentials, s.nats.nkeySeedFile, s.nats.user, s.nats.password, s.nats.token], [null, null, null, null, null]);
  assert.is(s.clickhouse, null, 'embedded chDB');
  assert.is(s.dataDir, `${process.cwd()}/.vantage`);
  assert.equal([s.batchSize, s.batchMs, s.maxAckPending, s.retentionDays, s.cluster], [5000, 1000, 20_000, 30, null]);
  assert.equal(s.metricsListen, { host: '127.0.0.1', port: 9465 });
});

settings('environment, and flags winning over it; secrets only from the environment', () => {
  const env = {
    NATS_URL: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222', NATS_CREDS: '/etc/vantage/c.creds', NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TOKEN: 't',
    CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_USER: 'vantage', CLICKHOUSE_PASSWORD: 'pw',
  };
  const fromEnv = collectorSettings({}, env) as CollectorSettings;
  assert.equal(fromEnv.nats, { url: env.NATS_URL, credentials: '/etc/vantage/c.creds', nkeySeedFile: null, user: 'u', password: 'p', token: 't' });
  assert.equal(fromEnv.clickhouse, { url: 'http://ch:8123', user: 'vantage', password: 'pw' });
  const s = collectorSettings({
    'nats-url': 'nats://127.0.0.1:5222', 'nats-user': 'other', 'nats-nkey': '/k.nk', data: '/var/lib/vantage', 'batch-size': '200', 'batch-ms': '50',
    'retention-days': '7', 'metrics-listen': ':0', cluster: 'main',
  }, env) as CollectorSettings;
  assert.equal([s.nats.url, s.nats.user, s.nats.password, s.nats.nkeySeedFile], ['nats://127.0.0.1:5222', 'other', 'p', '/k.nk']);
  assert.equal([s.dataDir, s.batchSize, s.batchMs, s.maxAckPending, s.retentionDays, s.cluster], ['/var/lib/vantage', 200, 50, 800, 7, 'main']);
  assert.equal(s.metricsListen, { host: '', port: 0 });
});

settings('bad values are usage errors that name the flag', () => {
  assert.is(collectorSettings({ 'batch-size': '0' }, {}), '--batch-size must be a whole number from 1 to 100000, got "0"');
  assert.is(collectorSettings({ 'batch-ms': '1s' }, {}), '--batch-ms must be a whole number from 10 to 600000, got "1s"');
  assert.is(collectorSettings({ 'metrics-listen': 'localhost' }, {}), '--metrics-listen "localhost" is not host:port (e.g. 127.0.0.1:9465, or :0 for any free port)');
  assert.is(collectorSettings({}, { NATS_URL: 'http://x:1' }), 'NATS URL "http://x:1" is not nats://host:port');
  assert.is(collectorSettings({ 'nats-user': 'u' }, {}), 'the NATS user (--nats-user or NATS_USER) and NATS_PASSWORD go together');
  assert.is(collectorSettings({}, { CLICKHOUSE_URL: 'ch:8123' }), 'CLICKHOUSE_URL "ch:8123" is not an http(s):// URL');
});

settings.run();

const command = suite<TestContext>('vantage collector');
command.before.each(setUp);
command.after.each(tearDown);

command('--help, and usage errors exit 2', () => {
  const help = spawnSync(process.execPath, [VANTAGE, 'collector', '--help'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(help.status, 0);
  assert.match(help.stdout, /^Usage: vantage collector \[options\]/);
  assert.match(help.stdout, /--batch-size N/);
  const bad = spawnSync(process.execPath, [VANTAGE, 'collector', '--batch-ms', 'soon'], { encoding: 'utf8', timeout: 20_000 });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /^vantage collector: --batch-ms must be a whole number/);
  const top = spawnSync(process.execPath, [VANTAGE, 'help'], { encoding: 'utf8', timeout: 20_000 });
  assert.match(top.stdout, /\n {2}collector /);
});

command('runs as a process: stores, serves /metrics and /healthz, and on SIGTERM acks what it took and exits 0', async (ctx) => {
  const { child, exited, stdout, stderr: logs } = spawnTsx(ctx, ['--input-type=module', '-e', childScript()], { NATS_URL: ctx.server.url });
  await waitFor('started', () => /"msg":"collector started"/.test(logs()), 20_000);
  const started = JSON.parse(logs().split('\n').find((l) => l.includes('"collector started"'))!);
  const base = String(started.metrics).replace('0.0.0.0', '127.0.0.1');

  await publishRecords(ctx.nc, Array.from({ length: 40 }, (_, i) => makeRecord('probe-c', 't1', i)));
  const get = (path: string) => fetch(`${base}${path}`, { signal: AbortSignal.timeout(3000) });
  await waitFor('40 inserted', async () => /vantage_collector_inserted_total\{consumer="collector"\} 40\b/.test(await (await get('/metrics')).text()));
  const health = await get('/healthz');
  assert.is(health.status, 200);
  assert.is(((await health.json()) as { nats: string }).nats, 'connected');

  await publishRecords(ctx.nc, Array.from({ length: 40 }, (_, i) => makeRecord('probe-c', 't1', 40 + i)));
  child.kill('SIGTERM');
  assert.is(await within('exit after SIGTERM', exited), 0, logs().slice(-2000));
  assert.match(logs(), /"msg":"collector stopped"/);
  const stored = Number(/stored (\d+)/.exec(stdout())?.[1]);
  const info = await consumerInfo(ctx.nc, RESULTS_STREAM, COLLECTOR_CONSUMER);
  assert.is(info.num_ack_pending, 0, 'nothing left unacked');
  assert.is(info.num_pending, 80 - stored, 'what was not stored is still in the stream');
});

command.run();

/** Runs the real command with an in-memory store; prints how many records it stored when it returns. */
function childScript(): string {
  const cli = new URL('./cli.ts', import.meta.url).pathname;
  const memory = new URL('./consume/testing/memory-store.ts', import.meta.url).pathname;
  return `
import { collectorCommand } from ${JSON.stringify(cli)};
import { MemoryStore } from ${JSON.stringify(memory)};
const store = new MemoryStore();
const code = await collectorCommand(['--metrics-listen', '127.0.0.1:0', '--batch-size', '20', '--batch-ms', '100'], { openStore: async () => store });
process.stdout.write('stored ' + store.uniqueIds + '\\n');
process.exitCode = code;`;
}
