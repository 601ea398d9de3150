/** Runs a command to its end for a test: bounded in time (SIGKILL after `limitMs`), output captured. */
import { spawn } from 'node:child_process';

export interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Added to the test's own environment. */
  env?: NodeJS.ProcessEnv;
  limitMs?: number;
}

export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<CommandRun> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.limitMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const VANTAGE = new URL('../../bin/vantage.mjs', import.meta.url).pathname;

/** `vantage ARGS` run to its end. */
export function runVantage(args: string[], opts: RunOptions = {}): Promise<CommandRun> {
  return runCommand(process.execPath, [VANTAGE, ...args], opts);
}
