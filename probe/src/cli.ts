/**
 * `vantage probe`: the probe worker. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/config.ts';
import { JetStreamPublisher } from './publish/publisher.ts';
import { JsonLinesSink } from './run/json-lines-sink.ts';
import { jsonLogger } from './run/log.ts';
import { ProbeWorker } from './run/probe-worker.ts';
import { PROBE_VERSION } from './version.ts';

export const PROBE_HELP = `Usage: vantage probe --config FILE [--once] [--output FILE|-]

Runs the probe worker: every task of the config on its schedule (DNS, HTTP(S), TCP and PING
dial tests), publishing each result record to NATS JetStream. While NATS is unreachable, records
wait in the on-disk spool and are replayed in order when it is back.

Options:
  -c, --config FILE   the probe's YAML config (see probe/README.md)
      --once          run every task once, write the records as JSON lines and exit (no NATS)
  -o, --output FILE   with --once: where to write the records ("-" = standard output, the default)
  -h, --help          show this help

Signals: SIGTERM/SIGINT drain (running checks finish and are delivered, then exit); a second
signal ends running checks at once.
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid config.`;

export async function probeCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        once: { type: 'boolean', default: false },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`vantage probe: ${(err as Error).message}\n\n${PROBE_HELP}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${PROBE_HELP}\n`);
    return 0;
  }
  if (!args.config) {
    process.stderr.write(`vantage probe: --config is required\n\n${PROBE_HELP}\n`);
    return 2;
  }
  if (args.output && !args.once) {
    process.stderr.write('vantage probe: --output goes with --once\n');
    return 2;
  }

  let config;
  try {
    config = loadConfig(args.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vantage probe: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const log = jsonLogger('probe');
  if (args.once) {
    const worker = new ProbeWorker({ config, sink: new JsonLinesSink(args.output ?? '-'), version: PROBE_VERSION, log, serveMetrics: false });
    await worker.runOnce();
    await worker.stop();
    return 0;
  }

  const sink = new JetStreamPublisher(config, { log });
  const worker = new ProbeWorker({ config, sink, version: PROBE_VERSION, log });
  sink.onPublished = (ms) => worker.metrics.publishLatency.observe(ms / 1000);
  await worker.start();
  await untilSignal(() => worker.abortChecks(), log);
  await worker.stop();
  return 0;
}

/** Resolves at the first SIGTERM/SIGINT; a second one calls `onSecond` (stop waiting for checks). */
export function untilSignal(onSecond: () => void, log: { info(msg: string): void }): Promise<void> {
  return new Promise((resolve) => {
    let count = 0;
    const handler = (signal: NodeJS.Signals) => {
      count++;
      if (count === 1) {
        log.info(`${signal}: draining`);
        resolve();
      } else {
        log.info(`${signal} again: ending running checks`);
        onSecond();
      }
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
