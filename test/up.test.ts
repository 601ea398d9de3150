/**
 * The README's main command, `vantage up`, for real: on a fresh data dir with the shipped example
 * config (its metrics port moved to a free one), records flow into results.jsonl at once, the
 * health endpoint answers, and SIGTERM stops it cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UP_DEFAULT_CONFIG } from '../bin/up-default-config.ts';
import { validateRecord } from '../probe/src/contract/validate.ts';
import { freePort } from './helpers/nats-server.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const up = suite('vantage up');

up('runs the example config: records flow and /healthz answers; SIGTERM exits 0', async () => {
  const data = mkdtempSync(join(tmpdir(), 'vantage-up-'));
  const port = await freePort();
  writeFileSync(join(data, 'probe.yaml'), UP_DEFAULT_CONFIG.replaceAll('9464', String(port)));
  const child = spawn(process.execPath, [join(ROOT, 'bin/vantage.mjs'), 'up', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const deadline = Date.now() + 20_000;
    let records: ReturnType<typeof validateRecord>[] = [];
    while (Date.now() < deadline) {
      const text = (() => {
        try {
          return readFileSync(join(data, 'results.jsonl'), 'utf8');
        } catch {
          return '';
        }
      })();
      records = text.split('\n').filter(Boolean).map((line) => validateRecord(JSON.parse(line)));
      if (new Set(records.map((r) => r.task_id)).size === 3) break;
      await sleep(100);
    }
    assert.equal([...new Set(records.map((r) => r.task_id))].sort(), ['loopback-ping', 'self-http', 'self-tcp'], stderr);
    for (const r of records) assert.is(r.failure, null, `${r.task_id}: ${r.failure_detail}`);
    assert.match(stdout, new RegExp(`health: +http://127.0.0.1:${port}/healthz`));
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
    assert.is(health.status, 'ok');
    child.kill('SIGTERM');
    assert.is(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
});

up.run();
