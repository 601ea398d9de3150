/**
 * `vantage api` as a process: keys create / list / revoke on a keys file, `tasks import` from a
 * probe config, and the server on a fresh data dir (embedded chDB) answering /healthz and a signed
 * request with the created key; SIGTERM stops it with exit code 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VantageClient } from '../../analyzer/src/api/client.ts';
import { waitFor } from '../helpers/wait.ts';

const VANTAGE = new URL('../../bin/vantage.mjs', import.meta.url).pathname;
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [VANTAGE, ...args], { encoding: 'utf8', env: { ...process.env, CLICKHOUSE_URL: '', ...env }, timeout: 60_000 });

const test = suite<{ dir: string }>('vantage api (command)');
test.before((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'vantage-api-cli-'));
});
test.after((ctx) => rmSync(ctx.dir, { recursive: true, force: true }));

test('--help, and usage errors exit 2 with a message', () => {
  const help = run(['api', '--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, /vantage api keys create --tenant NAME/);
  const bad = run(['api', '--listen', 'nowhere']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--listen "nowhere" is not host:port/);
  const noTenant = run(['api', 'keys', 'create', '--keys', '/tmp/never-written.json']);
  assert.is(noTenant.status, 2);
  assert.match(noTenant.stderr, /--tenant NAME is required/);
  const badScope = run(['api', 'keys', 'create', '--tenant', 'a', '--scope', 'admin', '--keys', '/tmp/never-written.json']);
  assert.is(badScope.status, 2);
});

test('keys create / list / revoke: a 0600 file, the secret printed once', ({ dir }) => {
  const file = join(dir, 'keys.json');
  const created = run(['api', 'keys', 'create', '--tenant', 'acme', '--scope', 'write', '--name', 'ci', '--keys', file]);
  assert.is(created.status, 0, created.stderr);
  const key = JSON.parse(created.stdout);
  assert.match(key.id, /^vk_[0-9a-f]{16}$/);
  assert.is(key.bearer, `${key.id}.${key.secret}`);
  assert.is(statSync(file).mode & 0o777, 0o600);
  const listed = run(['api', 'keys', 'list', '--keys', file]);
  assert.not.match(listed.stdout, new RegExp(key.secret), 'list never shows secrets');
  assert.match(listed.stdout, /"tenant":"acme","scope":"write","name":"ci"/);
  const other = JSON.parse(run(['api', 'keys', 'create', '--tenant', 'acme', '--keys', file]).stdout);
  assert.is(run(['api', 'keys', 'revoke', other.id, '--keys', file]).status, 0);
  assert.match(run(['api', 'keys', 'list', '--keys', file]).stdout, new RegExp(`"id":"${other.id}".*"revoked_at":"20`));
  assert.is(run(['api', 'keys', 'revoke', 'vk_0000000000000000', '--keys', file]).status, 2);
});

test('tasks import, then the server on a fresh data dir answers; SIGTERM exits 0', async ({ dir }) => {
  const data = join(dir, 'data');
  const file = join(dir, 'keys.json');
  const config = join(dir, 'probe.yaml');
  writeFileSync(config, 'probe: { id: p1, region: r1, isp: i1, resolvers: ["127.0.0.1"] }\ntasks:\n  - { id: cli-web, kind: http, target: "https://cli.test/" }\n  - { id: cli-dns, kind: dns, target: cli.test }\n');
  const imported = run(['api', 'tasks', 'import', '--tenant', 'acme', '--config', config, '--data', data]);
  assert.is(imported.status, 0, imported.stderr);
  assert.equal(JSON.parse(imported.stdout), { imported: ['cli-web', 'cli-dns'], unchanged: [], refused: [] });
  const key = JSON.parse(run(['api', 'keys', 'create', '--tenant', 'acme', '--keys', file]).stdout);

  const child = spawn(process.execPath, [VANTAGE, 'api', '--listen', '127.0.0.1:0', '--data', data, '--keys', file], { env: { ...process.env, CLICKHOUSE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const url = await waitFor('the API prints where it listens', () => /vantage api: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], { timeoutMs: 30_000, detail: () => err });
    assert.is((await fetch(`${url}/healthz`)).status, 200);
    const client = new VantageClient({ baseUrl: url, keyId: key.id, secret: key.secret });
    const tasks = await client.get('/v1/tasks');
    assert.is(tasks.status, 200, JSON.stringify(tasks.body));
    assert.equal(tasks.body.tasks.map((t: { id: string }) => t.id), ['cli-dns', 'cli-web']);
    assert.is((await fetch(`${url}/dashboard/`)).status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, err);
  assert.match(err, /"msg":"api stopped"/);
});

test.run();
