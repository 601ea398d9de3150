/**
 * The `vantage` command. Each sub-command lives in its package and is imported only when used,
 * so a probe box never loads storage or web code.
 */
const HELP = `Usage: vantage <command> [options]

Vantage: dial testing (DNS, HTTP(S), TCP, PING) from many regions and ISPs, and DNS-hijack
detection. Run "vantage <command> --help" for a command's options.

Commands:
  probe     run the probe worker (checks on schedule → NATS JetStream), or --once to JSON lines
  collector consume results and heartbeats from NATS JetStream into ClickHouse
  analyzer  classify dns results from NATS JetStream continuously into verdicts in ClickHouse; alarms
  analyze   classify dns records (JSON lines) into hijack verdicts (JSON lines)
  api       the query API (availability, hijack verdicts, alarms, fleet, tasks) and dashboard; keys
  notifier  deliver alarm events to webhooks, Slack, DingTalk, WeCom, Feishu, PagerDuty, Alertmanager
  alarms    check an alarm config, or send a test message to a channel
  up        run the whole pipeline on this machine with embedded defaults
  help      show this help`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  probe: async () => (await import('@vantage/probe/cli')).probeCommand,
  collector: async () => (await import('@vantage/collector/cli')).collectorCommand,
  analyzer: async () => (await import('@vantage/analyzer/commands/analyzer')).analyzerCommand,
  analyze: async () => (await import('@vantage/analyzer/commands/analyze')).analyzeCommand,
  api: async () => (await import('@vantage/analyzer/commands/api')).apiCommand,
  notifier: async () => (await import('@vantage/analyzer/commands/notifier')).notifierCommand,
  alarms: async () => (await import('@vantage/analyzer/commands/alarms')).alarmsCommand,
  up: async () => (await import('./up.ts')).upCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`vantage: unknown command "${name}"\n\n${HELP}\n`);
    return 2;
  }
  return (await load())(rest);
}
