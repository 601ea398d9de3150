/**
 * `vantage up`: the whole pipeline on one machine with no external services — probes (one per
 * identity of the config), collector, analyzer (with the alarm service), notifier and the API with
 * its dashboard, in one process. In-process streams stand in for NATS and embedded chDB for a
 * ClickHouse server; NATS_URL / CLICKHOUSE_URL switch to the real ones with the same code.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ClickHouseStore, InProcessStreams, NatsTransport, TransportSink, clickHouseSettingsFromEnv, migrate, openClickHouse,
  type ClickHouse, type NatsSettings, type Transport,
} from '@vantage/collector';
import { HEARTBEAT_SUBJECTS, HEARTBEATS_STREAM, RESULTS_STREAM, RESULTS_SUBJECTS } from '@vantage/probe';
import { Collector } from '../collector/src/consume/collector.ts';
import { collectorSettings } from '../collector/src/run/settings.ts';
import { EXIT, parseCommandLine, untilSignal, usageError } from '../probe/src/run/command-line.ts';
import { jsonLogger, type Logger } from '../probe/src/run/log.ts';
import { ProbeWorker } from '../probe/src/run/probe-worker.ts';
import { JetStreamPublisher, type RecordSink } from '../probe/src/publish/publisher.ts';
import { PROBE_VERSION } from '../probe/src/version.ts';
import { ALARMS_IN_PROCESS } from '../analyzer/src/alarms/bus.ts';
import { AlarmService } from '../analyzer/src/alarms/service.ts';
import { Notifier } from '../analyzer/src/notify/notifier.ts';
import { createKey, KeyRing, readKeys } from '../analyzer/src/api/keys.ts';
import { importTasks } from '../analyzer/src/api/import-tasks.ts';
import { startApi } from '../analyzer/src/api/server.ts';
import { AnalyzerService } from '../analyzer/src/service/analyzer-service.ts';
import { loadUpConfig, type UpConfig } from './up-config.ts';
import { UP_DEFAULT_CONFIG } from './up-default-config.ts';

const HELP = `Usage: vantage up [--data DIR] [--config FILE]

Runs all of Vantage on this machine with no external services: the probes of the config, the
collector, the analyzer (hijack verdicts, alarms), the notifier and the API with its dashboard.
Records flow through in-process streams into embedded ClickHouse (chDB) under DIR. On first start
it writes an example config to DIR/probe.yaml (edit it: add your sites) and an API key for tenant
"default"; it prints where the dashboard is.

Options:
  -d, --data DIR      where config and data live (default: ./.vantage)
  -c, --config FILE   the config to run (default: DIR/probe.yaml). A probe config (probe/README.md)
                      with optional sections: probes (several identities), analyzer, alarms, api
  -h, --help          show this help

Environment: NATS_URL (use a NATS JetStream server instead of in-process streams; with NATS_CREDS,
NATS_NKEY, NATS_USER/NATS_PASSWORD, NATS_TOKEN), CLICKHOUSE_URL (a ClickHouse server instead of
chDB; CLICKHOUSE_USER, CLICKHOUSE_PASSWORD).
SIGTERM or Ctrl-C stops it after running checks finish and what is in flight is stored.`;

/** Something started that must be stopped, newest first. */
type Stop = () => Promise<void>;

export async function upCommand(argv: string[]): Promise<number> {
  const command = 'vantage up';
  const args = parseCommandLine(command, argv, {
    data: { type: 'string', short: 'd', default: '.vantage' },
    config: { type: 'string', short: 'c' },
  }, HELP);
  if (typeof args === 'number') return args;
  const dataDir = resolve(args.data ?? '.vantage');
  mkdirSync(dataDir, { recursive: true });
  const configFile = args.config ?? join(dataDir, 'probe.yaml');
  if (!args.config && !existsSync(configFile)) {
    writeFileSync(configFile, UP_DEFAULT_CONFIG);
    process.stdout.write(`wrote an example config to ${configFile}: edit it to add your sites\n`);
  }
  let config: UpConfig;
  try {
    config = loadUpConfig(configFile);
  } catch (err) {
    process.stderr.write(`${command}: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  // NATS_URL (and its credentials) as the other commands read them; unset = in-process streams.
  const settings = collectorSettings({}, process.env);
  if (typeof settings === 'string') return usageError(command, settings, HELP);
  const nats = process.env.NATS_URL?.trim() ? settings.nats : null;

  const log = jsonLogger('up');
  const stops: Stop[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => log.warn('stopping failed', { error: err.message }));
  };
  try {
    const running = await startPipeline(config, dataDir, nats, log, stops);
    process.stdout.write(
      `vantage up: ${config.probes.length} probe${config.probes.length === 1 ? '' : 's'} × ${config.probes[0]!.tasks.length} tasks\n` +
        `  dashboard: ${running.dashboard}\n` +
        `  api:       ${running.apiUrl}/openapi.json (key in ${running.keysFile})\n` +
        `  streams:   ${running.streams}\n  store:     ${running.store}\n` +
        'Ctrl-C stops.\n',
    );
    await untilSignal(() => running.abortChecks(), log);
  } catch (err) {
    log.error('cannot start', { error: (err as Error).message });
    await stopAll();
    return EXIT.failure;
  }
  await stopAll();
  log.info('stopped');
  return EXIT.ok;
}

interface Running {
  dashboard: string;
  apiUrl: string;
  keysFile: string;
  streams: string;
  store: string;
  abortChecks(): void;
}

async function startPipeline(config: UpConfig, dataDir: string, nats: NatsSettings | null, log: Logger, stops: Stop[]): Promise<Running> {
  const env = process.env;
  const chSettings = clickHouseSettingsFromEnv(env, join(dataDir, 'chdb'));
  const ch: ClickHouse = await openClickHouse(chSettings);
  stops.push(() => ch.close());
  await migrate(ch.client);

  // One set of in-process streams for every role, or a NATS connection per role.
  const streams = nats ? null : new InProcessStreams([
    { name: RESULTS_STREAM, subjects: [RESULTS_SUBJECTS] },
    { name: HEARTBEATS_STREAM, subjects: [HEARTBEAT_SUBJECTS] },
    ALARMS_IN_PROCESS,
  ]);
  const transport = (role: string): Transport => streams ?? new NatsTransport(nats!, { name: `vantage-up-${role}` });

  const collector = new Collector({ transport: transport('collector'), store: new ClickHouseStore(ch), log });
  collector.start();
  stops.push(() => collector.stop());

  const analyzerTransport = transport('analyzer');
  const alarms = config.alarms ? new AlarmService({ config: config.alarms, transport: analyzerTransport, ch, log }) : null;
  const analyzer = new AnalyzerService({
    transport: analyzerTransport, ch, settings: config.analyzer, expectations: config.expectations, observer: alarms, log,
  });
  if (alarms) {
    await alarms.start();
    stops.push(() => alarms.stop());
  }
  await analyzer.start();
  stops.push(async () => {
    await analyzer.stop();
    if (!streams) await analyzerTransport.close();
  });
  if (config.alarms) {
    const notifier = new Notifier({ config: config.alarms, transport: transport('notifier'), ch, env, log });
    notifier.start();
    stops.push(() => notifier.stop());
  }

  const keysFile = join(dataDir, 'api-keys.json');
  const key = readKeys(keysFile).find((k) => k.tenant === 'default' && k.scope === 'write' && k.revoked_at === null)
    ?? createKey(keysFile, { tenant: 'default', scope: 'write', name: 'vantage up' });
  const imported = await importTasks(ch, 'default', config.rawTasks);
  for (const refused of imported.refused) log.warn('task not registered with the API', refused);
  const api = await startApi({ ch, keys: KeyRing.fromFile(keysFile), host: config.api.host, port: config.api.port, log });
  stops.push(() => api.close());

  const workers = config.probes.map((probeConfig, i) => {
    const sink: RecordSink = streams
      ? new TransportSink(streams)
      : new JetStreamPublisher({ ...probeConfig, nats: nats!, spool: { ...probeConfig.spool, dir: join(dataDir, 'spool', probeConfig.probe.id) } }, { log });
    // One metrics server: the first probe's (the others would want the same port).
    return new ProbeWorker({ config: probeConfig, sink, version: PROBE_VERSION, log, runAtStart: true, serveMetrics: i === 0 });
  });
  for (const worker of workers) {
    await worker.start();
    stops.push(() => worker.stop());
  }

  return {
    dashboard: `${api.url}/#key=${key.id}.${key.secret}`,
    apiUrl: api.url,
    keysFile,
    streams: nats ? `NATS ${nats.url}` : 'in-process',
    store: chSettings.engine === 'server' ? chSettings.url : `chDB in ${chSettings.path}`,
    abortChecks: () => workers.forEach((w) => w.abortChecks()),
  };
}
