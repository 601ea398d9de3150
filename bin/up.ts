/**
 * `vantage up`: the pipeline on one machine with embedded defaults. Today it runs the probe role
 * with the tasks of <data>/probe.yaml and appends every record to <data>/results.jsonl; the
 * collector, analyzer and API join it as they are built (see the issues).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { untilSignal } from '@vantage/probe/cli';
import { loadConfigOrExit, parseCommandLine } from '../probe/src/run/command-line.ts';
import { JsonLinesSink } from '../probe/src/run/json-lines-sink.ts';
import { jsonLogger } from '../probe/src/run/log.ts';
import { ProbeWorker } from '../probe/src/run/probe-worker.ts';
import { PROBE_VERSION } from '../probe/src/version.ts';
import { UP_DEFAULT_CONFIG } from './up-default-config.ts';

const HELP = `Usage: vantage up [--data DIR] [--config FILE]

Runs Vantage on this machine with no external services. On first start it writes an example
config to DIR/probe.yaml (edit it: add your sites), runs every task once at start and then on
its schedule.

Options:
  -d, --data DIR      where config and data live (default: ./.vantage)
  -c, --config FILE   the probe config to run (default: DIR/probe.yaml)
  -h, --help          show this help

Records are appended to DIR/results.jsonl; /metrics and /healthz are served where the config's
metrics.listen says. SIGTERM or Ctrl-C stops it after running checks finish.`;

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
  const config = loadConfigOrExit(command, configFile);
  if (typeof config === 'number') return config;

  const log = jsonLogger('up');
  const resultsFile = join(dataDir, 'results.jsonl');
  const sink = new JsonLinesSink(resultsFile, { append: true });
  const worker = new ProbeWorker({ config, sink, version: PROBE_VERSION, log, runAtStart: true });
  await worker.start();
  const where = worker.metricsPort ? `http://${config.metrics!.host}:${worker.metricsPort}` : null;
  process.stdout.write(
    `vantage up: ${config.tasks.length} tasks running as probe ${config.probe.id}\n` +
      `  records:  ${resultsFile}\n` +
      (where ? `  metrics:  ${where}/metrics\n  health:   ${where}/healthz\n` : '') +
      'Ctrl-C stops.\n',
  );
  await untilSignal(() => worker.abortChecks(), log);
  await worker.stop();
  return 0;
}
