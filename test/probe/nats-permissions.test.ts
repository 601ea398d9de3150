/**
 * Per-probe NATS permissions (probePermissions, as deploy/nats/nats-server.conf sets them) on a
 * real nats-server with nkey users: a probe publishes its own records through the JetStream
 * publisher, and cannot publish results or heartbeats as another probe.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { connect, nkeyAuthenticator } from '@nats-io/transport-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { heartbeatSubject, probePermissions, RESULTS_STREAM, resultSubject } from '../../probe/src/contract/subjects.ts';
import { JetStreamPublisher } from '../../probe/src/publish/publisher.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { makeRecord } from '../helpers/records.ts';

const decoder = new TextDecoder();
const user = () => {
  const kp = createUser();
  return { publicKey: kp.getPublicKey(), seed: decoder.decode(kp.getSeed()) };
};
const probeA = user();
const probeB = user();
const reader = user();

function authorization(): string {
  const entry = (publicKey: string, perms: { publish: string[]; subscribe: string[] }) =>
    `{ nkey: ${publicKey}, permissions: { publish: { allow: ${JSON.stringify(perms.publish)} }, subscribe: { allow: ${JSON.stringify(perms.subscribe)} } } }`;
  return `authorization { users = [
    ${entry(probeA.publicKey, probePermissions('probe-a'))}
    ${entry(probeB.publicKey, probePermissions('probe-b'))}
    { nkey: ${reader.publicKey} }
  ] }`;
}

let server: NatsServer;
let dir: string;

const perms = suite('per-probe NATS permissions');

perms.before(async () => {
  server = await startNatsServer({ config: authorization() });
  dir = mkdtempSync(join(tmpdir(), 'vantage-perms-'));
  writeFileSync(join(dir, 'probe-a.nk'), `${probeA.seed}\n`);
});

perms.after(async () => {
  await server.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

perms('a probe with an nkey seed file creates the streams and publishes its own records', async () => {
  const publisher = new JetStreamPublisher(
    {
      nats: { url: server.url, credentials: null, nkeySeedFile: join(dir, 'probe-a.nk'), user: null, password: null, token: null },
      spool: { dir: join(dir, 'spool'), maxBytes: 1 << 20 },
      probe: { id: 'probe-a' },
    },
    { ackTimeoutMs: 1000, retryDelayMs: 100, link: { retryDelayMs: 100 } },
  );
  try {
    for (let i = 0; i < 5; i++) await publisher.publish(makeRecord('probe-a', 'task', i));
    const deadline = Date.now() + 10_000;
    while (publisher.stats().spoolDepth > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.is(publisher.stats().spoolDepth, 0, `still spooled: ${publisher.stats().lastError}`);
  } finally {
    await publisher.close();
  }
  const nc = await connect({ servers: server.url, authenticator: nkeyAuthenticator(new TextEncoder().encode(reader.seed)) });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(RESULTS_STREAM);
    assert.is(info.state.messages, 5);
  } finally {
    await nc.close();
  }
});

perms('a probe cannot publish results or heartbeats as another probe', async () => {
  const nc = await connect({ servers: server.url, authenticator: nkeyAuthenticator(new TextEncoder().encode(probeA.seed)) });
  const violations: string[] = [];
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'error') violations.push(String(status.error));
  })();
  try {
    const js = jetstream(nc, { timeout: 1000 });
    const forged = makeRecord('probe-b', 'task', 0);
    const attempt = await js.publish(resultSubject('tcp', 'probe-b'), JSON.stringify(forged)).then(
      () => 'stored',
      (err: Error) => err.message,
    );
    assert.is.not(attempt, 'stored');
    nc.publish(heartbeatSubject('probe-b'), '{}');
    await nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(violations.some((v) => /Permissions Violation for Publish/i.test(v)), violations.join('\n'));
  } finally {
    await nc.close();
  }
  const reading = await connect({ servers: server.url, authenticator: nkeyAuthenticator(new TextEncoder().encode(reader.seed)) });
  try {
    const info = await (await jetstreamManager(reading)).streams.info(RESULTS_STREAM);
    assert.is(info.state.messages, 5, 'nothing forged was stored');
  } finally {
    await reading.close();
  }
});

perms.run();
