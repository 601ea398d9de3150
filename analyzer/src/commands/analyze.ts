/**
 * `vantage analyze`: classify result records (JSON lines, as `vantage probe --once` writes them)
 * into hijack verdicts (JSON lines). Every record feeds the ground truth first, so every probe's
 * reference answers and pages count; then each dns record is judged per local resolver.
 * Exit codes: 0 ok, 1 some input line was invalid (the rest was still analyzed), 2 bad usage or
 * config.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConfigError, parseConfig, parseRecord, type ResultRecord } from '@vantage/probe';
import { readConfigYaml } from '../../../probe/src/config/config.ts';
import { EXIT, parseCommandLine, usageError } from '../../../probe/src/run/command-line.ts';
import { classifyRecords } from '../classify/classifier.ts';
import { Expectations } from '../classify/expectations.ts';
import { parseAnalyzerSettings, SettingsError, type AnalyzerSettings } from '../classify/settings.ts';

export const ANALYZE_HELP = `Usage: vantage analyze --input FILE|- [--config FILE]

Reads result records as JSON lines (as "vantage probe --once" writes them), builds the ground
truth from all of them (every probe's reference answers, pages and TLS verdicts), and writes one
hijack verdict per dns record and local resolver as a JSON line, sorted by task, target, round,
probe and resolver. Classes: consistent, cdn_variance, isp_cache, ad_hijack, ad_injection,
nxdomain_rewrite, malicious, blocked, resolver_failure, suspicious (see analyzer/README.md).

Options:
  -i, --input FILE    the records ("-" = standard input)
  -c, --config FILE   a probe config whose dns tasks' "expect" blocks are the customers'
                      expectations, plus an optional "analyzer:" section (ASN table, threat list,
                      blockpage fingerprints, windows); without it nothing is expected
  -h, --help          show this help

Invalid lines are reported on standard error with their line number and skipped; records of
other kinds are skipped and counted.
Exit codes: 0 ok, 1 some input line was invalid, 2 bad usage or invalid config.`;

const PLACEHOLDER_PROBE = { id: 'analyze', region: 'none', isp: 'none', resolvers: ['127.0.0.1'] };

/** Expectations and settings from a config file (a probe config plus an `analyzer:` section). */
export function loadAnalyzeConfig(file: string): { expectations: Expectations; settings: AnalyzerSettings } {
  const { path, raw } = readConfigYaml(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(path, ['(top level): expected a mapping']);
  const { analyzer, ...probePart } = raw as Record<string, unknown>;
  // A file written only for the analyzer needs no probe identity.
  if (probePart.probe === undefined) probePart.probe = PLACEHOLDER_PROBE;
  const config = parseConfig(probePart, path);
  const settings = parseAnalyzerSettings(analyzer, path, (p) => readFileSync(p, 'utf8'));
  return { expectations: Expectations.fromTasks(config.tasks), settings };
}

export async function analyzeCommand(argv: string[]): Promise<number> {
  const command = 'vantage analyze';
  const args = parseCommandLine(command, argv, {
    input: { type: 'string', short: 'i' },
    config: { type: 'string', short: 'c' },
  }, ANALYZE_HELP);
  if (typeof args === 'number') return args;
  if (!args.input) return usageError(command, '--input is required (a file, or - for standard input)', ANALYZE_HELP);

  let expectations: Expectations | undefined;
  let settings: Partial<AnalyzerSettings> = {};
  if (args.config) {
    try {
      ({ expectations, settings } = loadAnalyzeConfig(args.config));
    } catch (err) {
      if (err instanceof ConfigError || err instanceof SettingsError) return usageError(command, err.message);
      throw err;
    }
  }

  const input = args.input === '-' ? process.stdin : createReadStream(args.input);
  const opened = await new Promise<Error | null>((resolve) => {
    if (input === process.stdin) return resolve(null);
    input.once('open', () => resolve(null));
    input.once('error', (err: Error) => resolve(err));
  });
  if (opened) return usageError(command, `cannot read ${args.input}: ${opened.message}`);

  const records: ResultRecord[] = [];
  let invalid = 0;
  let otherKinds = 0;
  let lineNumber = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNumber++;
    if (line.trim() === '') continue;
    try {
      const record = parseRecord(line);
      if (record.kind === 'dns') records.push(record);
      else otherKinds++;
    } catch (err) {
      invalid++;
      process.stderr.write(`${command}: ${args.input === '-' ? 'stdin' : args.input}:${lineNumber}: ${(err as Error).message}\n`);
    }
  }

  const verdicts = classifyRecords(records, { settings, expectations });
  let out = '';
  for (const verdict of verdicts) {
    out += `${JSON.stringify(verdict)}\n`;
    if (out.length > 1 << 20) {
      await write(out);
      out = '';
    }
  }
  await write(out);
  process.stderr.write(
    `${command}: ${records.length} dns records → ${verdicts.length} verdicts` +
      `${otherKinds > 0 ? `; ${otherKinds} records of other kinds skipped` : ''}${invalid > 0 ? `; ${invalid} invalid lines skipped` : ''}\n`,
  );
  return invalid > 0 ? EXIT.failure : EXIT.ok;
}

function write(text: string): Promise<void> {
  if (text === '') return Promise.resolve();
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}
