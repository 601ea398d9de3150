/**
 * The production bundle (`npm run build` → dist/vantage.mjs, what the systemd unit runs) builds
 * and runs the probe with plain node, without the TypeScript loader.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { validateRecord } from '../probe/src/contract/validate.ts';

const ROOT = new URL('..', import.meta.url).pathname;

const bundle = suite('dist/vantage.mjs');

bundle('builds, and runs a probe round with plain node', async () => {
  execFileSync(process.execPath, [join(ROOT, 'bin/build.mjs')], { stdio: 'inherit' });
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'vantage-build-'));
  try {
    const config = join(dir, 'probe.yaml');
    writeFileSync(config, `probe: { id: bundled, region: r, isp: i }\ntasks:\n  - { id: t, kind: tcp, target: "127.0.0.1:${port}" }\n`);
    const run = spawnSync(process.execPath, ['--max-semi-space-size=2', join(ROOT, 'dist/vantage.mjs'), 'probe', '--config', config, '--once'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.is(run.status, 0, run.stderr);
    const record = validateRecord(JSON.parse(run.stdout));
    assert.is(record.probe_id, 'bundled');
    assert.is(record.failure, null);
    assert.is(record.probe_version, JSON.parse(readFileSync(join(ROOT, 'probe/package.json'), 'utf8')).version);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

bundle.run();
