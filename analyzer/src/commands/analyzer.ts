/**
 * `vantage analyzer`: the analyzer service on NATS JetStream and ClickHouse (see
 * service/analyzer-service.ts). Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config.
 */
import { join } from 'node:path';
import { CollectorMetrics, NatsTransport, clickHouseSettingsFromEnv, migrate, openClickHouse, serveMetrics, type ClickHouse } from '@vantage/collector';
import { EXIT, parseCommandLine, untilSignal, usageError } from '../../../probe/src/run/command-line.ts';
import { jsonLogger, type Logger } from '../../../probe/src/run/log.ts';
import { collectorSettings, CONNECTION_OPTIONS } from '../../../collector/src/run/settings.ts';
import { AlarmService } from '../alarms/service.ts';
import { loadAlarmConfig } from '../alarms/config.ts';
import type { AlarmConfig } from '../alarms/rules.ts';
import { Expectations } from '../classify/expectations.ts';
import type { AnalyzerSettings } from '../classify/settings.ts';
import { AnalyzerService } from '../service/analyzer-service.ts';
import { ownsTask, parseShard, type Shard } from '../service/shard.ts';
import { loadAnalyzeConfig } from './analyze.ts';

export const ANALYZER_HELP = `Usage: vantage analyzer [options]

Consumes probe results (stream VANTAGE_RESULTS, durable consumer "analyzer"), classifies every
DNS record (hijack verdicts: consistent, cdn_variance, isp_cache, ad_hijack, ad_injection,
nxdomain_rewrite, malicious, blocked, resolver_failure, suspicious) and stores the verdicts in
ClickHouse (vantage.verdicts). With --alarms it also evaluates the alarm rules on every result,
verdict and heartbeat and publishes alarm events to the alarms stream (for \`vantage notifier\`).
At start the ground truth is rebuilt from the DNS records ClickHouse holds.

Options:
  -c, --config FILE           task expectations and analyzer settings: a probe config (its dns
                              tasks' expect) with an \`analyzer:\` section (see analyzer/README.md)
      --alarms FILE           alarm rules, maintenance windows and channels (see analyzer/README.md)
      --shard I/N             judge only the tasks of shard I of N (run N replicas: 0/N … N-1/N)
      --nats-url URL          NATS server(s), comma-separated (env NATS_URL; default nats://127.0.0.1:4222)
      --nats-creds FILE       a .creds file (env NATS_CREDS)
      --nats-nkey FILE        a file holding an nkey seed (env NATS_NKEY)
      --nats-user NAME        user for user/password login (env NATS_USER; password in NATS_PASSWORD)
  -d, --data DIR              where embedded chDB keeps its data when CLICKHOUSE_URL is unset (default .vantage)
      --batch-size N          records judged per batch at most (default 1000)
      --batch-ms MS           a batch is judged at the latest this long after its first record (default 200)
      --metrics-listen H:P    where /metrics and /healthz are served (default 127.0.0.1:9466; :0 = any free port)
  -h, --help                  show this help

Environment: NATS_URL, NATS_CREDS, NATS_NKEY, NATS_USER, NATS_PASSWORD, NATS_TOKEN; CLICKHOUSE_URL
(unset = embedded chDB in --data), CLICKHOUSE_USER, CLICKHOUSE_PASSWORD.
Signals: SIGTERM/SIGINT finish the batch in hand, ack it and exit. kill -9 loses nothing:
unacked records are redelivered and judged again (their verdicts replace the stored ones).
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid config.`;

export async function analyzerCommand(argv: string[], deps: { env?: NodeJS.ProcessEnv; log?: Logger } = {}): Promise<number> {
  const command = 'vantage analyzer';
  const args = parseCommandLine(command, argv, {
    config: { type: 'string', short: 'c' },
    alarms: { type: 'string' },
    shard: { type: 'string' },
    ...CONNECTION_OPTIONS,
    'batch-size': { type: 'string' },
    'batch-ms': { type: 'string' },
  }, ANALYZER_HELP);
  if (typeof args === 'number') return args;
  const env = deps.env ?? process.env;
  const settings = collectorSettings(
    { ...args, 'batch-size': args['batch-size'] ?? '1000', 'batch-ms': args['batch-ms'] ?? '200', 'metrics-listen': args['metrics-listen'] ?? '127.0.0.1:9466' },
    env,
  );
  if (typeof settings === 'string') return usageError(command, settings, ANALYZER_HELP);
  let shard: Shard = { index: 0, count: 1 };
  if (args.shard !== undefined) {
    const parsed = parseShard(args.shard);
    if (typeof parsed === 'string') return usageError(command, parsed, ANALYZER_HELP);
    shard = parsed;
  }

  let expectations = new Expectations();
  let analyzerSettings: Partial<AnalyzerSettings> = {};
  let alarmConfig: AlarmConfig | null = null;
  try {
    if (args.config) ({ expectations, settings: analyzerSettings } = loadAnalyzeConfig(args.config));
    if (args.alarms) alarmConfig = loadAlarmConfig(args.alarms);
  } catch (err) {
    process.stderr.write(`${command}: ${(err as Error).message}\n`);
    return EXIT.usage;
  }

  const log = deps.log ?? jsonLogger('analyzer');
  let ch: ClickHouse;
  try {
    ch = await openClickHouse(clickHouseSettingsFromEnv(env, join(settings.dataDir, 'chdb')));
    await migrate(ch.client);
  } catch (err) {
    log.error('cannot open ClickHouse', { error: (err as Error).message });
    return EXIT.failure;
  }

  const transport = new NatsTransport(settings.nats, { name: 'vantage-analyzer' });
  transport.onChange((state, detail) => log[state === 'connected' ? 'info' : 'warn'](`nats ${state}`, detail));
  const metrics = new CollectorMetrics({ prefix: 'vantage_analyzer' });
  const alarms = alarmConfig
    ? new AlarmService({ config: alarmConfig, transport, ch, log, ownsTask: (taskId) => ownsTask(shard, taskId), probeRules: shard.index === 0 })
    : null;
  const service = new AnalyzerService({
    transport, ch, settings: analyzerSettings, expectations, shard, observer: alarms, metrics, log,
    batchSize: settings.batchSize, batchMs: settings.batchMs,
  });
  const health = () => {
    const own = service.health();
    const alarm = alarms?.health();
    return { healthy: own.healthy && (alarm?.healthy ?? true), body: { ...own.body, ...(alarm ? { alarms: alarm.body } : {}) } };
  };
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  try {
    metricsServer = await serveMetrics(metrics.registry, settings.metricsListen, health);
    transport.start();
    if (alarms) await alarms.start();
    const rebuilt = await service.start();
    log.info('analyzer started', {
      nats: settings.nats.url,
      store: settings.clickhouse?.url ?? `chdb in ${settings.dataDir}`,
      shard: `${shard.index}/${shard.count}`,
      ground_truth_records: rebuilt.records,
      alarms: alarmConfig ? alarmConfig.rules.length : 0,
      metrics: `http://${settings.metricsListen.host || '0.0.0.0'}:${metricsServer.port}`,
    });
  } catch (err) {
    log.error('cannot start the analyzer', { error: (err as Error).message });
    await transport.close().catch(() => undefined);
    await ch.close().catch(() => undefined);
    if (metricsServer) await closeServer(metricsServer.server);
    return EXIT.failure;
  }

  // A second signal: stop at once (held records are redelivered to the next analyzer).
  await untilSignal(() => void service.stop(0), log);
  await service.stop();
  await alarms?.stop();
  await transport.close();
  await closeServer(metricsServer.server);
  await ch.close().catch(() => undefined);
  log.info('analyzer stopped');
  return EXIT.ok;
}


function closeServer(server: { close(done: () => void): void }): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
