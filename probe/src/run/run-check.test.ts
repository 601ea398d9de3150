import { createServer, type Server } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Task } from '../config/config.ts';
import { validateRecord } from '../contract/validate.ts';
import { runCheck, type RunEnvironment } from './run-check.ts';

const env = (over: Partial<RunEnvironment> = {}): RunEnvironment => ({
  probe: { id: 'bj-telecom-01', region: 'cn-beijing', isp: 'telecom', asn: 4134, labels: { tier: 'idc' } },
  resolvers: [],
  extraCaPem: null,
  probeVersion: '9.9.9',
  now: () => performance.now(),
  wallClock: Date.now,
  ...over,
});

let server: Server;
let port = 0;

const wrapper = suite('runCheck');

wrapper.before(async () => {
  // accepts and then never answers: an HTTP check against it hangs until its timeout
  server = createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});

wrapper.after(() => {
  server.close();
});

wrapper('builds a valid record with the envelope filled from the probe and the slot', async () => {
  const task: Task = { id: 'tcp-1', kind: 'tcp', target: `127.0.0.1:${port}`, schedule: '* * * * *', timeoutMs: 2000, tcp: { tls: false, serverName: null, ipVersion: 'auto' } };
  const slot = Date.UTC(2026, 10, 28, 10, 0, 0);
  const before = Date.now();
  const record = validateRecord(await runCheck(task, slot, env()));
  assert.is(record.kind, 'tcp');
  assert.is(record.task_id, 'tcp-1');
  assert.is(record.probe_id, 'bj-telecom-01');
  assert.is(record.probe_asn, 4134);
  assert.equal(record.probe_labels, { tier: 'idc' });
  assert.is(record.probe_version, '9.9.9');
  assert.is(record.scheduled_at, '2026-11-28T10:00:00.000Z');
  assert.ok(Date.parse(record.started_at) >= before);
  assert.ok(record.ok);
  assert.is(record.failure, null);
  // UUIDv7: the first 48 bits are the start time in ms
  assert.is(parseInt(record.id.replace(/-/g, '').slice(0, 12), 16), Date.parse(record.started_at));
});

wrapper('a check that runs past its timeout becomes a timeout record', async () => {
  const task: Task = {
    id: 'http-hang', kind: 'http', target: `http://127.0.0.1:${port}/`, schedule: '* * * * *', timeoutMs: 300,
    http: {
      method: 'GET', headers: {}, expectStatus: [], bodyRegexp: null, bodyNotRegexp: null, headerMatch: {},
      followRedirects: true, maxRedirects: 10, bodyLimitBytes: 1024, tlsSkipVerify: false, ipVersion: 'auto',
    },
  };
  const started = performance.now();
  const record = validateRecord(await runCheck(task, Date.now(), env()));
  assert.is(record.failure, 'timeout');
  assert.is(record.ok, false);
  assert.ok(performance.now() - started < 2000, 'ended near its timeout');
});

wrapper('the stop signal ends a running check', async () => {
  const stop = new AbortController();
  const task: Task = { id: 'ping-long', kind: 'ping', target: '127.0.0.1', schedule: '* * * * *', timeoutMs: 20_000, ping: { count: 10, intervalMs: 1000, ipVersion: 'auto' } };
  setTimeout(() => stop.abort(), 100);
  const record = validateRecord(await runCheck(task, Date.now(), env({ stopSignal: stop.signal })));
  assert.is(record.failure, 'timeout');
  assert.ok(record.duration_ms < 2000, `took ${record.duration_ms} ms`);
});

wrapper.run();
