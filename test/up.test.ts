/**
 * The README's main command, `vantage up`, for real: a fresh data dir, the shipped example config
 * (its ports moved to free ones, and its resolver pointed at a DNS server of this test, never this
 * machine's). Records flow through the in-process streams into chDB: the API's availability counts
 * equal the records' checks, the dns task has verdicts, the fleet shows the probe, the dashboard
 * page answers; a bad config is a clear error; SIGTERM stops it with exit code 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UP_DEFAULT_CONFIG } from '../bin/up-default-config.ts';
import { a, startDnsServer, type DnsTestServer } from './helpers/dns-server.ts';
import { freePort } from './helpers/nats-server.ts';
import { waitFor } from './helpers/wait.ts';

const ROOT = new URL('..', import.meta.url).pathname;

function runUp(data: string) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/vantage.mjs'), 'up', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve((code = c))));
  /** For waits: fails at once when the process has ended. */
  const alive = () => {
    if (code !== undefined) throw new Error(`vantage up exited (${code}):\n${stderr}`);
  };
  return { child, exited, alive, out: () => stdout, err: () => stderr };
}

const up = suite<{ dns: DnsTestServer }>('vantage up');
up.before(async (ctx) => {
  ctx.dns = await startDnsServer((q) => ({ answers: q.questions![0]!.type === 'A' ? [a(q.questions![0]!.name, '127.0.0.1')] : [] }));
});
up.after(async (ctx) => {
  await ctx.dns?.close();
});

up('the example config: records flow to the API and the dashboard; SIGTERM exits 0', async ({ dns }) => {
  const data = mkdtempSync(join(tmpdir(), 'vantage-up-'));
  const [metricsPort, apiPort] = [await freePort(), await freePort()];
  writeFileSync(join(data, 'probe.yaml'), UP_DEFAULT_CONFIG
    .replaceAll('9464', String(metricsPort))
    .replaceAll('8080', String(apiPort))
    .replace('# resolvers: [127.0.0.53]', `resolvers: ["${dns.address}"]`));
  const run = runUp(data);
  try {
    const dashboard = await waitFor('the dashboard address', () => {
      run.alive();
      return /dashboard: (http\S+#key=(\S+))/.exec(run.out());
    }, { timeoutMs: 60_000, detail: run.err });
    const key = dashboard[2]!;
    const api = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${apiPort}${path}`, { headers: { authorization: `Bearer ${key}` } });
      assert.is(res.status, 200, `${path}: ${await res.clone().text()}`);
      return res.json() as Promise<Record<string, any>>;
    };
    const tasks = ['api-http', 'api-tcp', 'loopback-ping', 'resolver-localhost'];
    for (const task of tasks) {
      const availability = await waitFor(`checks of ${task} through the API`, async () => {
        const body = await api(`/v1/availability?task=${task}&granularity=minute&from=${new Date(Date.now() - 600_000).toISOString()}&series=false&source=raw`);
        return body.total.checks >= 1 ? body : null;
      }, { timeoutMs: 60_000, detail: run.err });
      assert.is(availability.total.failures, 0, `${task} failed: ${JSON.stringify(availability)} ${run.err()}`);
      const rollup = await api(`/v1/availability?task=${task}&granularity=minute&from=${new Date(Date.now() - 600_000).toISOString()}&series=false`);
      assert.is(rollup.total.checks, availability.total.checks, `${task}: rollups and raw agree`);
    }
    const verdicts = await waitFor('a verdict for the dns task', async () => {
      const body = await api('/v1/verdicts?task=resolver-localhost');
      return (body.verdicts ?? body.items ?? []).length > 0 ? body : null;
    }, { timeoutMs: 30_000, detail: run.err });
    const first = (verdicts.verdicts ?? verdicts.items)[0];
    // A loopback answer is a bogon, expected by the task: consistent, not blocked.
    assert.equal([first.class, first.flags], ['consistent', ['bogon']], JSON.stringify(first));
    assert.equal(first.answer_ips, ['127.0.0.1']);
    assert.ok(dns.queries.length > 0, 'the probe asked the configured resolver');
    const fleet = await waitFor('the probe in the fleet', async () => {
      const body = await api('/v1/fleet');
      return (body.probes ?? []).some((p: { probe_id: string; status: string }) => p.probe_id === 'local-01' && p.status === 'online') ? body : null;
    }, { timeoutMs: 30_000, detail: run.err });
    const probe = fleet.probes.find((p: { probe_id: string }) => p.probe_id === 'local-01');
    assert.equal([probe.region, probe.isp], ['local', 'local'], 'the fleet shows the identity of the config');
    const page = await fetch(`http://127.0.0.1:${apiPort}/`, { redirect: 'follow' });
    assert.is(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const health = await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).json();
    assert.is(health.status, 'ok');
    run.child.kill('SIGTERM');
    assert.is(await run.exited, 0, run.err());
  } finally {
    run.child.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
});

up('a bad config is a clear error naming the key, exit code 2', async () => {
  const data = mkdtempSync(join(tmpdir(), 'vantage-up-bad-'));
  try {
    writeFileSync(join(data, 'probe.yaml'), `${UP_DEFAULT_CONFIG}\nprobes: 3\n`);
    const run = runUp(data);
    assert.is(await run.exited, 2);
    assert.match(run.err(), /probes: expected a list of probe identities/);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

up.run();
