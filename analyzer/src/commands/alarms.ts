/**
 * `vantage alarms`: check an alarm config, or send a test message to one channel so an operator
 * can see that the URL, the secret and the format are right. Exit codes: 0 ok, 1 the channel did
 * not accept the test, 2 bad usage or config.
 */
import { EXIT, parseCommandLine, usageError } from '../../../probe/src/run/command-line.ts';
import { PROBE_VERSION } from '../../../probe/src/version.ts';
import { AlarmConfigError, loadAlarmConfig } from '../alarms/config.ts';
import type { AlarmConfig } from '../alarms/rules.ts';
import { MissingSecretError, resolveChannel, secretVariables } from '../notify/channel-config.ts';
import { loggableUrl } from '../notify/delivery-log.ts';
import { sendOnce } from '../notify/send.ts';
import { testEvent } from '../notify/test-event.ts';

export const DEFAULT_ALARM_CONFIG = '.vantage/alarms.yaml';

export const ALARMS_HELP = `Usage: vantage alarms check FILE
       vantage alarms test --channel NAME [--config FILE] [--resolved]

check   validates an alarm config (rules, maintenance windows, channels, notifier settings) and
        prints what it defines; every problem is printed with the file and the key.
test    sends one test message to a channel of the config (default config ${DEFAULT_ALARM_CONFIG}),
        signed like a real one, and prints the channel's answer. --resolved sends a "resolved"
        message (5 minutes long) instead of a "firing" one.

Options:
  -c, --config FILE     the alarm config (test)
      --channel NAME    the channel to test
      --resolved        send a resolved message
  -h, --help            show this help

Exit codes: 0 ok (test: the channel accepted it), 1 the channel did not accept it, 2 bad usage or config.`;

export async function alarmsCommand(argv: string[], deps: { env?: NodeJS.ProcessEnv; out?: (s: string) => void } = {}): Promise<number> {
  const command = 'vantage alarms';
  const out = deps.out ?? ((s: string) => process.stdout.write(s));
  const [action, ...rest] = argv;
  if (action === '-h' || action === '--help' || action === 'help') {
    out(`${ALARMS_HELP}\n`);
    return EXIT.ok;
  }
  if (action === 'check') return check(rest, out);
  if (action === 'test') return test(rest, deps.env ?? process.env, out);
  return usageError(command, action === undefined ? 'say check or test' : `unknown action ${JSON.stringify(action)}: check or test`, ALARMS_HELP);
}

function load(command: string, file: string): AlarmConfig | number {
  try {
    return loadAlarmConfig(file);
  } catch (err) {
    if (err instanceof AlarmConfigError) return usageError(command, err.message);
    throw err;
  }
}

function check(argv: string[], out: (s: string) => void): number {
  const command = 'vantage alarms check';
  if (argv.includes('-h') || argv.includes('--help')) {
    out(`${ALARMS_HELP}\n`);
    return EXIT.ok;
  }
  if (argv.length !== 1 || argv[0]!.startsWith('-')) return usageError(command, 'give one config file', ALARMS_HELP);
  const config = load(command, argv[0]!);
  if (typeof config === 'number') return config;
  const byKind = new Map<string, number>();
  for (const r of config.rules) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
  const kinds = [...byKind].map(([k, n]) => `${k} ${n}`).join(', ');
  const channels = Object.values(config.channels).map((c) => `${c.name} (${c.type})`).join(', ');
  const variables = secretVariables(config.channels);
  out(
    `${config.file}: ok\n` +
      `  rules: ${config.rules.length}${kinds ? ` (${kinds})` : ''}\n` +
      `  maintenance windows: ${config.maintenance.length}\n` +
      `  channels: ${channels || 'none'}\n` +
      (variables.length > 0 ? `  secrets read from the environment by the notifier: ${variables.join(', ')}\n` : ''),
  );
  return EXIT.ok;
}

async function test(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  const command = 'vantage alarms test';
  const args = parseCommandLine(command, argv, {
    config: { type: 'string', short: 'c' },
    channel: { type: 'string' },
    resolved: { type: 'boolean' },
  }, ALARMS_HELP);
  if (typeof args === 'number') return args;
  if (!args.channel) return usageError(command, '--channel NAME is required', ALARMS_HELP);
  const config = load(command, args.config ?? DEFAULT_ALARM_CONFIG);
  if (typeof config === 'number') return config;
  const configured = config.channels[args.channel];
  if (!configured) return usageError(command, `no channel "${args.channel}" in ${config.file} (known: ${Object.keys(config.channels).join(', ') || 'none'})`);
  let channel;
  try {
    channel = resolveChannel(configured, env);
  } catch (err) {
    if (err instanceof MissingSecretError) return usageError(command, err.message);
    throw err;
  }
  const event = testEvent(channel.name, args.resolved ? 'resolved' : 'firing', Date.now());
  const { acceptance, answer } = await sendOnce(event, channel, { nowMs: Date.now(), externalUrl: config.notifier.externalUrl, userAgent: `vantage-notifier/${PROBE_VERSION}` });
  const where = `${channel.name} (${channel.type}, ${loggableUrl(channel.url)})`;
  if (acceptance.ok) {
    out(`sent a ${event.kind} test message to ${where}: accepted — ${acceptance.detail}\n`);
    return EXIT.ok;
  }
  process.stderr.write(`${command}: ${where} did not accept the test message: ${acceptance.detail}${answer ? '' : ' (no answer)'}\n`);
  return EXIT.failure;
}
