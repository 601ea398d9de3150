/**
 * What every `vantage` sub-command does with its arguments and config: strict option parsing
 * with --help, usage errors and config errors printed the same way, exit code 2 for both.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type ProbeConfig } from '../config/config.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true }>>['values'];

/** Exit codes of every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * Parses `argv` for `command` (e.g. "vantage probe"); -h/--help is added. Returns the values, or
 * the exit code when the command should end here (help printed, or a usage error reported).
 */
export function parseCommandLine<T extends Options>(command: string, argv: string[], options: T, help: string): Values<T> | number {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (err) {
    return usageError(command, (err as Error).message, help);
  }
  if (values.help === true) {
    process.stdout.write(`${help}\n`);
    return EXIT.ok;
  }
  return values as unknown as Values<T>;
}

/** Reports a usage problem with the help text; returns the usage exit code. */
export function usageError(command: string, message: string, help?: string): number {
  process.stderr.write(`${command}: ${message}\n${help ? `\n${help}\n` : ''}`);
  return EXIT.usage;
}

/** Loads a probe config; on a ConfigError prints it and returns the usage exit code. */
export function loadConfigOrExit(command: string, file: string): ProbeConfig | number {
  try {
    return loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return usageError(command, err.message);
    throw err;
  }
}

/**
 * Resolves at the first SIGTERM/SIGINT. A second one calls `onSecond` (e.g. stop waiting for
 * checks); without `onSecond` the handlers are removed, so a second signal ends the process.
 */
export function untilSignal(onSecond: (() => void) | null, log: { info(msg: string): void }): Promise<void> {
  return new Promise((resolve) => {
    let count = 0;
    const handler = (signal: NodeJS.Signals) => {
      count++;
      if (count === 1) {
        log.info(`${signal}: ${onSecond ? 'draining' : 'stopping'}`);
        if (!onSecond) {
          process.off('SIGTERM', handler);
          process.off('SIGINT', handler);
        }
        resolve();
      } else {
        log.info(`${signal} again: ending running checks`);
        onSecond?.();
      }
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
