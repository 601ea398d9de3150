/**
 * One real server process for tests (nats-server, clickhouse-server): start it and wait until it
 * is ready (failing with its output if it exits first), stop it with a signal (SIGKILL after a
 * time limit), start it again with the same arguments. Only the process started here is ever
 * signalled, and it is killed when the test process exits, even after a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerProcessOptions {
  /** Used in error messages. */
  name: string;
  binary: string;
  args: string[];
  cwd?: string;
  /** Resolves once the server answers; polled while the process runs. */
  waitReady(): Promise<void>;
  /** More text for a "exited before it was ready" error (e.g. the server's own log file). */
  extraLog?(): string;
}

export class ServerProcess {
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #output = '';

  constructor(private readonly opts: ServerProcessOptions) {}

  get running(): boolean {
    const child = this.#child;
    return child !== null && child.exitCode === null && child.signalCode === null;
  }

  async start(): Promise<void> {
    const { name, binary, args, cwd } = this.opts;
    this.#output = '';
    const proc = spawn(binary, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = proc;
    // Killed with the test process, even after a crash; the hook goes once the server exited.
    const killAtExit = () => proc.kill('SIGKILL');
    process.on('exit', killAtExit);
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-8192);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    let earlyExit: ((reason: Error) => void) | null = null;
    this.#exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        process.off('exit', killAtExit);
        earlyExit?.(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready:\n${this.#output}\n${this.opts.extraLog?.() ?? ''}`));
        resolve();
      });
      proc.once('error', (err) => {
        process.off('exit', killAtExit);
        earlyExit?.(new Error(`cannot start ${name}: ${err.message}`));
        resolve();
      });
    });
    const failed = new Promise<never>((_, reject) => {
      earlyExit = reject;
    });
    try {
      await Promise.race([this.opts.waitReady(), failed]);
    } catch (err) {
      await this.stop('SIGKILL');
      throw err;
    } finally {
      earlyExit = null;
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILL if it has not exited after `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs = 10_000): Promise<void> {
    const proc = this.#child;
    if (!proc || !this.running) return;
    proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.#exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      proc.kill('SIGKILL');
      await this.#exited;
    }
  }
}
