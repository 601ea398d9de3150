/**
 * `vantage probe`: the probe worker. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.
 */
import { JetStreamPublisher } from './publish/publisher.ts';
import { loadConfigOrExit, parseCommandLine, untilSignal, usageError } from './run/command-line.ts';
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
  const command = 'vantage probe';
  const args = parseCommandLine(command, argv, {
    config: { type: 'string', short: 'c' },
    once: { type: 'boolean', default: false },
    output: { type: 'string', short: 'o' },
  }, PROBE_HELP);
  if (typeof args === 'number') return args;
  if (!args.config) return usageError(command, '--config is required', PROBE_HELP);
  if (args.output && !args.once) return usageError(command, '--output goes with --once');
  const config = loadConfigOrExit(command, args.config);
  if (typeof config === 'number') return config;

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
