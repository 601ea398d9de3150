/**
 * `vantage collector`: results and heartbeats from NATS JetStream into ClickHouse. Exit codes:
 * 0 ok, 1 runtime failure (e.g. the store cannot be opened), 2 bad usage.
 */
import { EXIT, parseCommandLine, usageError } from '../../probe/src/run/command-line.ts';
import { jsonLogger, type Logger } from '../../probe/src/run/log.ts';
import { Collector } from './consume/collector.ts';
import { openStore as defaultOpenStore, type OpenStore } from './open-store.ts';
import { serveMetrics } from './run/metrics.ts';
import { COLLECTOR_DEFAULTS, CONNECTION_OPTIONS, collectorSettings } from './run/settings.ts';

export const COLLECTOR_HELP = `Usage: vantage collector [options]

Consumes probe results (stream VANTAGE_RESULTS, durable consumer "collector") and heartbeats
(VANTAGE_HEARTBEATS, "collector-heartbeats") and stores them in ClickHouse, in batches. A message
is acked only after the insert holding it succeeded; invalid messages are kept in the rejected
table with the reason and terminated. Run as many replicas as needed: they share the consumers.

Options:
      --nats-url URL          NATS server(s), comma-separated (env NATS_URL; default ${COLLECTOR_DEFAULTS.natsUrl})
      --nats-creds FILE       a .creds file (user JWT + nkey) (env NATS_CREDS)
      --nats-nkey FILE        a file holding an nkey seed (env NATS_NKEY)
      --nats-user NAME        user for user/password login (env NATS_USER; password in NATS_PASSWORD)
  -d, --data DIR              where embedded chDB keeps its data when CLICKHOUSE_URL is unset (default ${COLLECTOR_DEFAULTS.dataDir})
      --batch-size N          messages per insert at most (default ${COLLECTOR_DEFAULTS.batchSize})
      --batch-ms MS           a batch is inserted at the latest this long after its first message (default ${COLLECTOR_DEFAULTS.batchMs})
      --max-ack-pending N     max_ack_pending of the consumers when this replica creates them (default 4 × batch size)
      --retention-days N      raw data kept this many days (default ${COLLECTOR_DEFAULTS.retentionDays})
      --metrics-listen H:P    where /metrics and /healthz are served (default ${COLLECTOR_DEFAULTS.metricsListen}; :0 = any free port)
      --cluster NAME          the ClickHouse cluster (remote_servers) to create tables ON
  -h, --help                  show this help

Environment: NATS_URL, NATS_CREDS, NATS_NKEY, NATS_USER, NATS_PASSWORD, NATS_TOKEN;
CLICKHOUSE_URL (e.g. http://127.0.0.1:8123; unset = embedded chDB in --data), CLICKHOUSE_USER,
CLICKHOUSE_PASSWORD. Flags win over the environment.

Signals: SIGTERM/SIGINT stop fetching, write and ack what is held, then exit; a second signal
hands what is held back to JetStream at once. kill -9 loses nothing either: unacked messages are
redelivered, and records already stored are not stored twice.
Exit codes: 0 ok, 1 runtime failure, 2 bad usage.`;

export interface CollectorCommandDeps {
  openStore?: OpenStore;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

export async function collectorCommand(argv: string[], deps: CollectorCommandDeps = {}): Promise<number> {
  const command = 'vantage collector';
  const args = parseCommandLine(command, argv, {
    ...CONNECTION_OPTIONS,
    'batch-size': { type: 'string' },
    'batch-ms': { type: 'string' },
    'max-ack-pending': { type: 'string' },
    'retention-days': { type: 'string' },
    cluster: { type: 'string' },
  }, COLLECTOR_HELP);
  if (typeof args === 'number') return args;
  const settings = collectorSettings(args, deps.env ?? process.env);
  if (typeof settings === 'string') return usageError(command, settings, COLLECTOR_HELP);

  const log = deps.log ?? jsonLogger('collector');
  let store;
  try {
    store = await (deps.openStore ?? defaultOpenStore)({
      server: settings.clickhouse,
      dataDir: settings.dataDir,
      retentionDays: settings.retentionDays,
      cluster: settings.cluster,
      log,
    });
  } catch (err) {
    log.error('cannot open the store', { error: (err as Error).message, clickhouse: settings.clickhouse?.url ?? `chdb in ${settings.dataDir}` });
    return EXIT.failure;
  }

  const collector = new Collector({
    nats: settings.nats,
    store,
    batchSize: settings.batchSize,
    batchMs: settings.batchMs,
    maxAckPending: settings.maxAckPending,
    log,
  });
  let metricsServer;
  try {
    metricsServer = await serveMetrics(collector.metrics.registry, settings.metricsListen, () => collector.health());
  } catch (err) {
    log.error('cannot serve metrics', { listen: settings.metricsListen, error: (err as Error).message });
    await store.close().catch(() => undefined);
    return EXIT.failure;
  }
  collector.start();
  log.info('collector started', {
    nats: settings.nats.url,
    store: settings.clickhouse?.url ?? `chdb in ${settings.dataDir}`,
    batch_size: settings.batchSize,
    batch_ms: settings.batchMs,
    metrics: `http://${settings.metricsListen.host || '0.0.0.0'}:${metricsServer.port}`,
  });

  await untilStopped(collector, log);
  await new Promise<void>((resolve) => metricsServer.server.close(() => resolve()));
  await store.close().catch((err: Error) => log.warn('closing the store failed', { error: err.message }));
  log.info('collector stopped');
  return EXIT.ok;
}

/** Time a stop may take to write and ack what is held before handing it back. */
const STOP_TIMEOUT_MS = 20_000;

/**
 * Waits for SIGTERM/SIGINT, then stops the collector; a second signal makes the stop in progress
 * hand everything back at once.
 */
function untilStopped(collector: Collector, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let count = 0;
    const handler = (signal: NodeJS.Signals) => {
      count++;
      if (count === 1) {
        log.info(`${signal}: stopping (writing and acking what is held)`);
        collector.stop(STOP_TIMEOUT_MS).then(done, done);
      } else {
        log.warn(`${signal} again: handing held messages back`);
        void collector.stop(0);
      }
    };
    const done = () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      resolve();
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
