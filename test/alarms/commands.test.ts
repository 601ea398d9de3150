/**
 * The commands as an operator runs them: `vantage alarms check` (ok / the exact errors, exit 2),
 * `vantage alarms test --channel` against the verifying receiver (accepted → 0, refused → 1),
 * and `vantage notifier` usage errors (no config, a secret missing from the environment).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runVantage } from '../helpers/run-command.ts';
import { cleanupAll, tempDir } from './helpers.ts';
import { channelsYaml, SECRETS, startReceiver, type Receiver } from './receiver.ts';

const TESTDATA = new URL('./testdata/', import.meta.url).pathname;

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runVantage(args, { env });

const test = suite<{ r: Receiver }>('vantage alarms / notifier commands');
test.before(async (ctx) => {
  ctx.r = await startReceiver();
});
test.after(async (ctx) => {
  await ctx.r?.close();
  await cleanupAll();
});

test('alarms check: the example is ok and says what it defines', async () => {
  const { code, stdout } = await run(['alarms', 'check', join(TESTDATA, 'alarms.yaml')]);
  assert.is(code, 0);
  assert.match(stdout, /: ok\n  rules: 6 \(availability 2, latency 1, hijack 2, probe_offline 1\)\n  maintenance windows: 2\n/);
  assert.match(stdout, /secrets read from the environment by the notifier: DINGTALK_SECRET, FEISHU_SECRET, PAGERDUTY_ROUTING_KEY, VANTAGE_WEBHOOK_SECRET, VANTAGE_WEBHOOK_SECRET_OLD/);
});

test('alarms check: an invalid file exits 2 with every problem, naming the file and the key', async () => {
  const file = join(TESTDATA, 'invalid', 'ranges.yaml');
  const { code, stderr } = await run(['alarms', 'check', file]);
  assert.is(code, 2);
  assert.ok(stderr.startsWith(`vantage alarms check: invalid alarm config ${file}:\n  defaults.window: must be at least 1s\n`), stderr);
  assert.match(stderr, /  rules\[0\]\.success_ratio_below: must be at most 1, got 1\.5\n/);
});

test('alarms test: a channel that accepts → 0; one that refuses → 1 with its answer; an unknown channel → 2', async ({ r }) => {
  const dir = tempDir('alarms-cmd');
  const file = join(dir, 'alarms.yaml');
  writeFileSync(file, channelsYaml(r).replace(`secret: "${SECRETS.dingtalk}"`, 'secret: "env:DING_SECRET"'));
  const ok = await run(['alarms', 'test', '--config', file, '--channel', 'dingtalk'], { DING_SECRET: SECRETS.dingtalk });
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^sent a firing test message to dingtalk \(dingtalk, http:\/\/127\.0\.0\.1:\d+\/dingtalk\/robot\/send\): accepted — HTTP 200 errcode 0\n$/);
  const message = r.received.at(-1)!.body.markdown as { text: string };
  assert.match(message.text, /nothing is wrong/);
  const resolved = await run(['alarms', 'test', '--config', file, '--channel', 'pagerduty', '--resolved']);
  assert.is(resolved.code, 0, resolved.stderr);
  assert.is(r.received.at(-1)!.body.event_action, 'resolve');
  const refused = await run(['alarms', 'test', '--config', file, '--channel', 'dingtalk'], { DING_SECRET: 'SECwrong' });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /did not accept the test message: HTTP 200 errcode 310000: sign not match/);
  const missing = await run(['alarms', 'test', '--config', file, '--channel', 'dingtalk'], { DING_SECRET: '' });
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /channels\.dingtalk: environment variable DING_SECRET is not set/);
  const unknown = await run(['alarms', 'test', '--config', file, '--channel', 'teams']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /no channel "teams" in .*alarms\.yaml \(known: webhook, slack, dingtalk, wecom, feishu, pagerduty, alertmanager\)/);
});

test('notifier: --help, no config, a bad config, a missing secret: usage errors (exit 2) before connecting anywhere', async () => {
  const help = await run(['notifier', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /^Usage: vantage notifier --config FILE/);
  const none = await run(['notifier']);
  assert.is(none.code, 2);
  assert.match(none.stderr, /^vantage notifier: --config FILE is required/);
  const bad = await run(['notifier', '--config', join(TESTDATA, 'invalid', 'channels-bad.yaml')]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /channels\.pd\.routing_key: is required for a pagerduty channel/);
  const dir = tempDir('notifier-cmd');
  const secret = await run(['notifier', '--config', join(TESTDATA, 'alarms.yaml'), '--data', dir, '--channel', 'dingtalk', '--metrics-listen', '127.0.0.1:0']);
  assert.is(secret.code, 2);
  assert.match(secret.stderr, /channels\.dingtalk: environment variable DINGTALK_SECRET is not set/);
  const listed = await run(['help']);
  assert.match(listed.stdout, /\n  notifier  deliver alarm events/);
  assert.match(listed.stdout, /\n  alarms    check an alarm config/);
});

test.run();
