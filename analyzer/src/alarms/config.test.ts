/**
 * The alarm config: every invalid fixture (test/alarms/testdata/invalid) fails with exactly the
 * errors in its `# error:` lines, naming the file and the key; the example config loads with the
 * documented defaults; channel secrets come from the environment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveChannel, secretVariables } from '../notify/channel-config.ts';
import jsYaml from 'js-yaml';
import { AlarmConfigError, loadAlarmConfig, parseAlarmConfig } from './config.ts';

const TESTDATA = new URL('../../../test/alarms/testdata/', import.meta.url).pathname;
const INVALID = join(TESTDATA, 'invalid');

const invalid = suite('loadAlarmConfig: invalid fixtures');

for (const name of readdirSync(INVALID).sort()) {
  const file = join(INVALID, name);
  invalid(`${name} fails with its exact errors`, () => {
    const expected = [...readFileSync(file, 'utf8').matchAll(/^# error: (.*)$/gm)].map((m) => m[1]);
    assert.ok(expected.length > 0, 'the fixture says what error it expects');
    try {
      loadAlarmConfig(file);
      assert.unreachable('loaded an invalid config');
    } catch (err) {
      assert.instance(err, AlarmConfigError);
      assert.is((err as Error).message, `invalid alarm config ${file}:\n${expected.map((e) => `  ${e}`).join('\n')}`);
    }
  });
}

invalid('a missing file is an AlarmConfigError naming it', () => {
  const file = join(TESTDATA, 'no-such-file.yaml');
  assert.throws(() => loadAlarmConfig(file), (err: Error) => err instanceof AlarmConfigError && err.message.startsWith(`invalid alarm config ${file}:\n  cannot read the file: ENOENT`));
});

invalid.run();

// ---

const example = suite('loadAlarmConfig: the example');

example('every rule kind, with defaults filled in', () => {
  const config = loadAlarmConfig(join(TESTDATA, 'alarms.yaml'));
  assert.equal(config.rules.map((r) => [r.id, r.kind, r.scope, r.severity]), [
    ['web-down', 'availability', 'region_isp', 'critical'],
    ['web-outage', 'availability', 'fleet', 'critical'],
    ['web-slow', 'latency', 'region_isp', 'warning'],
    ['dns-hijack', 'hijack', 'region_isp', 'critical'],
    ['dns-isp-cache', 'hijack', 'region_isp', 'info'],
    ['probe-offline', 'probe_offline', 'probe', 'warning'],
  ]);
  const [down, outage, slow, hijack, cache, offline] = config.rules;
  assert.equal(down!.channels, ['ops-webhook', 'pagerduty']);
  assert.equal(outage!.channels, ['ops-webhook'], 'defaults.channels');
  assert.equal(down!.labels, { team: 'sre' });
  assert.is(down!.windowMs, 300_000);
  assert.is(down!.staleAfterMs, 900_000, '3 windows');
  assert.is(down!.repeatIntervalMs, 4 * 3_600_000);
  assert.is(slow!.kind === 'latency' && slow!.aboveMs, 800);
  assert.is(slow!.forMs, 120_000);
  assert.is(hijack!.kind === 'hijack' && hijack!.minProbes, 2);
  assert.is(cache!.repeatIntervalMs, 0);
  assert.ok(offline!.kind === 'probe_offline' && offline!.fleetPercent === 30 && offline!.fleetCount === null && offline!.resolveAfter === 1);
  assert.equal(config.maintenance.map((m) => m.when), [
    { type: 'once', startMs: Date.UTC(2025, 2, 1, 14), endMs: Date.UTC(2025, 2, 1, 18) },
    { type: 'every', days: [0], atMinute: 180, durationMs: 7_200_000, timezone: 'Asia/Shanghai' },
  ]);
  assert.equal(Object.keys(config.channels), ['ops-webhook', 'slack', 'dingtalk', 'wecom', 'feishu', 'pagerduty', 'alertmanager']);
  assert.equal(config.channels.dingtalk!.rateLimit, { count: 20, perMs: 60_000 }, 'DingTalk robots take 20 a minute');
  assert.equal(config.channels.slack!.rateLimit, { count: 1, perMs: 1000 });
  assert.is(config.channels.pagerduty!.url, 'https://events.pagerduty.com/v2/enqueue');
  assert.equal(config.notifier, { externalUrl: 'https://vantage.example.com', maxAttempts: 10, backoff: { initialMs: 2000, maxMs: 600_000 } });
});

example('secrets are read from the environment when a channel is used, naming what is missing', () => {
  const config = loadAlarmConfig(join(TESTDATA, 'alarms.yaml'));
  assert.equal(secretVariables(config.channels), ['DINGTALK_SECRET', 'FEISHU_SECRET', 'PAGERDUTY_ROUTING_KEY', 'VANTAGE_WEBHOOK_SECRET', 'VANTAGE_WEBHOOK_SECRET_OLD']);
  const hook = resolveChannel(config.channels['ops-webhook']!, { VANTAGE_WEBHOOK_SECRET: 'new', VANTAGE_WEBHOOK_SECRET_OLD: 'old' });
  assert.equal(hook.secretValues, ['new', 'old']);
  assert.throws(() => resolveChannel(config.channels['ops-webhook']!, { VANTAGE_WEBHOOK_SECRET: 'new' }), /^channels\.ops-webhook: environment variable VANTAGE_WEBHOOK_SECRET_OLD is not set$/);
  assert.equal(resolveChannel(config.channels.slack!, {}).secretValues, []);
});

example('the example in analyzer/README.md ("Alarms and webhooks") is valid', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Alarms and webhooks'));
  const yaml = /```yaml\n([^]*?)```/.exec(section)?.[1];
  assert.ok(yaml, 'the section has a yaml block');
  const config = parseAlarmConfig(jsYaml.load(yaml!), 'README.md');
  assert.equal(config.rules.map((r) => r.kind), ['availability', 'availability', 'latency', 'hijack', 'hijack', 'probe_offline']);
  assert.equal(Object.keys(config.channels), ['ops', 'pager']);
});

example.run();
