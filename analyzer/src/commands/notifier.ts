/**
 * `vantage notifier`: delivers alarm events from the alarms stream to the channels of an alarm
 * config. Exit codes: 0 ok, 1 runtime failure (e.g. ClickHouse cannot be opened), 2 bad usage or
 * config.
 */
import { join } from 'node:path';
import { clickHouseSettingsFromEnv, migrate, openClickHouse, type ClickHouse } from '@vantage/collector';
import { collectorSettings, CONNECTION_OPTIONS } from '../../../collector/src/run/settings.ts';
import { NatsTransport } from '../../../collector/src/transport/nats-transport.ts';
import { serveMetrics } from '../../../probe/src/run/metrics.ts';
import { EXIT, parseCommandLine, untilSignal, usageError } from '../../../probe/src/run/command-line.ts';
import { jsonLogger, type Logger } from '../../../probe/src/run/log.ts';
import { AlarmConfigError, loadAlarmConfig } from '../alarms/config.ts';
import { duration } from '../alarms/duration.ts';
import { Notifier } from '../notify/notifier.ts';

export const NOTIFIER_HELP = `Usage: vantage notifier --config FILE [options]

Delivers alarm events (stream VANTAGE_ALARMS) to the channels of an alarm config: generic signed
webhook, Slack, DingTalk, WeCom, Feishu/Lark, PagerDuty, Alertmanager-compatible receivers. Each
channel has its own durable consumer ("notifier-<channel>") and gets its events one at a time, in
order. An event is acked only after the channel accepted it; failures are retried with exponential
backoff and jitter, then dead-lettered (vantage.alarm_dead_letters). Every attempt is logged in
vantage.alarm_deliveries. Run as many as you like: they share the consumers.

Options:
  -c, --config FILE           the alarm config: channels and notifier settings (see analyzer/README.md)
      --channel NAME          deliver only to this channel (repeat for several; default: all of them)
      --ack-wait DURATION     how long a crashed notifier's delivery waits to be redelivered (default 30s;
                              applies when this notifier creates the consumers; above every channel timeout)
      --nats-url URL          NATS server(s), comma-separated (env NATS_URL; default nats://127.0.0.1:4222)
      --nats-creds FILE       a .creds file (env NATS_CREDS)
      --nats-nkey FILE        a file holding an nkey seed (env NATS_NKEY)
      --nats-user NAME        user for user/password login (env NATS_USER; password in NATS_PASSWORD)
  -d, --data DIR              where embedded chDB keeps its data when CLICKHOUSE_URL is unset (default .vantage)
      --metrics-listen H:P    where /metrics and /healthz are served (default 127.0.0.1:9467; :0 = any free port)
  -h, --help                  show this help

Secrets written as env:NAME in the config (webhook secrets, DingTalk and Feishu signing secrets,
PagerDuty routing keys) are read from the environment at start.
Environment: NATS_URL, NATS_CREDS, NATS_NKEY, NATS_USER, NATS_PASSWORD, NATS_TOKEN; CLICKHOUSE_URL,
CLICKHOUSE_USER, CLICKHOUSE_PASSWORD.
Signals: SIGTERM/SIGINT finish the delivery in hand, write the delivery log, exit. kill -9 loses
nothing: an event in delivery is delivered again after the ack wait, with the same idempotency key.`;

export interface NotifierCommandDeps {
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

export async function notifierCommand(argv: string[], deps: NotifierCommandDeps = {}): Promise<number> {
  const command = 'vantage notifier';
  const args = parseCommandLine(command, argv, {
    config: { type: 'string', short: 'c' },
    channel: { type: 'string', multiple: true },
    'ack-wait': { type: 'string' },
    ...CONNECTION_OPTIONS,
  }, NOTIFIER_HELP);
  if (typeof args === 'number') return args;
  if (!args.config) return usageError(command, '--config FILE is required', NOTIFIER_HELP);
  const env = deps.env ?? process.env;
  const settings = collectorSettings({
    'nats-url': args['nats-url'], 'nats-creds': args['nats-creds'], 'nats-nkey': args['nats-nkey'], 'nats-user': args['nats-user'],
    data: args.data, 'metrics-listen': args['metrics-listen'] ?? '127.0.0.1:9467',
  }, env);
  if (typeof settings === 'string') return usageError(command, settings, NOTIFIER_HELP);
  const problems: string[] = [];
  const ackWaitMs = args['ack-wait'] === undefined ? 30_000 : duration({ min: 1000, max: 3_600_000 })(args['ack-wait'], '--ack-wait', problems);
  if (problems.length > 0) return usageError(command, problems[0]!, NOTIFIER_HELP);

  let config;
  try {
    config = loadAlarmConfig(args.config);
  } catch (err) {
    if (err instanceof AlarmConfigError) return usageError(command, err.message);
    throw err;
  }
  if (Object.keys(config.channels).length === 0) return usageError(command, `${config.file} defines no channels`);

  const log = deps.log ?? jsonLogger('notifier');
  const chSettings = clickHouseSettingsFromEnv(env, join(settings.dataDir, 'chdb'));
  let ch: ClickHouse;
  try {
    ch = await openClickHouse(chSettings);
    await migrate(ch.client);
  } catch (err) {
    log.error('cannot open ClickHouse', { error: (err as Error).message, clickhouse: chSettings.engine === 'server' ? chSettings.url : `chdb in ${chSettings.path}` });
    return EXIT.failure;
  }

  const transport = new NatsTransport(settings.nats, { name: 'vantage-notifier' });
  let notifier: Notifier;
  try {
    notifier = new Notifier({ config, transport, ch, env, channels: args.channel, ackWaitMs, log });
  } catch (err) {
    await ch.close().catch(() => undefined);
    if (err instanceof Error) return usageError(command, err.message); // a missing secret or an unknown --channel
    throw err;
  }
  let metricsServer;
  try {
    metricsServer = await serveMetrics(notifier.metrics.registry, settings.metricsListen, () => notifier.health());
  } catch (err) {
    log.error('cannot serve metrics', { listen: settings.metricsListen, error: (err as Error).message });
    await ch.close().catch(() => undefined);
    return EXIT.failure;
  }
  transport.onChange((state, detail) => log[state === 'connected' ? 'info' : 'warn'](`nats ${state}`, detail));
  transport.start();
  notifier.start();
  log.info('notifier started', {
    channels: notifier.channels,
    nats: settings.nats.url,
    store: chSettings.engine === 'server' ? chSettings.url : `chdb in ${chSettings.path}`,
    metrics: `http://${settings.metricsListen.host || '0.0.0.0'}:${metricsServer.port}`,
  });

  await untilSignal(null, log); // a second signal ends the process
  await notifier.stop();
  await transport.close();
  await new Promise<void>((resolve) => metricsServer.server.close(() => resolve()));
  await ch.close().catch(() => undefined);
  log.info('notifier stopped');
  return EXIT.ok;
}
