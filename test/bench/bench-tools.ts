/**
 * Small tools for the probe bench: a bounded-concurrency loop with CPU and wall measurement,
 * reference tools run under /usr/bin/time (their own CPU, exactly, from wait4's rusage), child
 * processes stopped by PID, and a plain-text table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Measured {
  count: number;
  /** This process's user+system CPU (all threads: JS, GC, libuv) over the run and the settle time, in µs. */
  cpuUs: number;
  /** From the first op to the last op's end (the settle time is not included). */
  wallMs: number;
}

export const perOp = (m: Measured) => m.cpuUs / m.count;
export const perSecond = (m: Measured) => m.count / (m.wallMs / 1000);

/**
 * Runs `op` `count` times with at most `concurrency` in flight, like the worker's queue. The CPU
 * is read `settleMs` after the last op ends, so work an op leaves behind (a timer that fires when
 * the check's timeout passes) is counted with it.
 */
export async function measure(count: number, concurrency: number, op: (i: number) => Promise<void>, settleMs = 0): Promise<Measured> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) await op(i);
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  const wallMs = performance.now() - start;
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  const used = process.cpuUsage(cpu);
  return { count, cpuUs: used.user + used.system, wallMs };
}

export interface TimedRun {
  stdout: string;
  stderr: string;
  code: number | null;
  /** The tool's own user+system CPU in µs (children included), from /usr/bin/time. */
  cpuUs: number;
  wallS: number;
}

/**
 * Runs a tool under `/usr/bin/time -o FILE -f "%e %U %S"`. In its own process group, so the
 * time limit can stop the tool with its wrapper by the group's id. `stdinFile`: the tool reads
 * that file as its standard input (else none).
 */
export function runTimed(cmd: string, args: string[], timeFile: string, limitMs: number, stdinFile?: string): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const stdin = stdinFile === undefined ? 'ignore' : openSync(stdinFile, 'r');
    const child = (() => {
      try {
        return spawn('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S', cmd, ...args], { stdio: [stdin, 'pipe', 'pipe'], detached: true });
      } finally {
        if (typeof stdin === 'number') closeSync(stdin); // the child has its own copy
      }
    })();
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, limitMs);
    child.once('error', (err) => (clearTimeout(timer), reject(err)));
    child.once('close', (code) => {
      clearTimeout(timer);
      try {
        const [wallS, userS, sysS] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        resolve({ stdout, stderr, code, cpuUs: (userS + sysS) * 1e6, wallS });
      } catch {
        reject(new Error(`${cmd} ended (code ${code}) without a time report:\n${stderr.slice(-2000)}`));
      }
    });
  });
}

/** A `node --import tsx` child whose first stdout line is JSON; the rest of its output is kept. */
export interface NodeChild<T> {
  child: ChildProcess;
  first: Promise<T>;
  stderr: () => string;
  /** SIGTERM by PID, SIGKILL if it has not exited after 5 s. */
  stop(): Promise<void>;
}

/** Stops `child`: SIGTERM by PID, SIGKILL if it has not exited after `killAfterMs`; resolves at its exit. */
export function pidStopper(child: ChildProcess, killAfterMs: number): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  return async () => {
    if (!running() || child.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => running() && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), killAfterMs);
    await exited;
    clearTimeout(timer);
  };
}

export function startNodeChild<T>(script: string, args: string[] = []): NodeChild<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
  const stopChild = pidStopper(child, 5000);
  const first = new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${script}: not JSON: ${line.slice(0, 500)}`));
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before reporting:\n${stderr}`)));
  });
  first.catch(() => undefined);
  return {
    child,
    first,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.end();
      await stopChild();
    },
  };
}

/** Left-aligned first column, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd())
    .join('\n');
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
export const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : 'n/a');

/**
 * A bench's temp dir and everything it starts, undone at the end, on SIGINT/SIGTERM, or when the
 * watchdog fires. Push an undo step for each process or file as it is made; call `finish()` last.
 */
export function benchWorkspace(name: string, watchdogMs: number): { root: string; undo: (() => Promise<void> | void)[]; finish(): Promise<void> } {
  const root = mkdtempSync(join(tmpdir(), `vantage-${name}-`));
  const undo: (() => Promise<void> | void)[] = [() => rmSync(root, { recursive: true, force: true })];
  let cleaning: Promise<void> | null = null;
  const cleanup = () => {
    cleaning ??= (async () => {
      for (const step of undo.reverse()) await Promise.resolve().then(step).catch((err: unknown) => console.error('cleanup:', err));
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().then(() => process.exit(130)));
  // Output piped into `head` that exits early must not end the bench before it cleaned up.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${watchdogMs / 1000} s: stopping`);
    void cleanup().then(() => process.exit(1));
  }, watchdogMs);
  return {
    root,
    undo,
    finish: () => {
      clearTimeout(watchdog);
      return cleanup();
    },
  };
}
