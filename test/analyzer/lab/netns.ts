/**
 * Network namespaces for the lab, and the servers started inside them. Every namespace, veth and
 * process here is the lab's own: names carry this process's pid (`vlab<pid>-…`), processes are
 * ended by their pid, and `destroy()` — also run on process exit, even after a crash — kills what
 * is still running in the namespaces and deletes them. Namespaces left by a lab process that no
 * longer exists (a SIGKILLed run) are removed at the next start.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

const PREFIX = 'vlab';

export function sh(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `name` (`<prefix><pid>-…`) was made by another lab run whose process is gone. */
export function leftByDeadRun(name: string, prefix: string): boolean {
  const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
  return m !== null && Number(m[1]) !== process.pid && !isAlive(Number(m[1]));
}

function pidsIn(ns: string): number[] {
  try {
    return sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function removeNamespace(ns: string): void {
  for (const pid of pidsIn(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    sh('ip', ['netns', 'del', ns]);
  } catch {
    // already gone
  }
}

/** Removes namespaces of lab runs whose process is gone (only names this module makes). */
export function removeOrphanNamespaces(): void {
  const names = sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
  for (const ns of names) if (leftByDeadRun(ns, PREFIX)) removeNamespace(ns);
}

export interface NsProcess {
  name: string;
  ns: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

export class Namespaces {
  readonly #names: string[] = [];
  readonly #procs: NsProcess[] = [];
  #onExit = () => this.destroySync();

  constructor(readonly tag: string = `${PREFIX}${process.pid}`) {
    process.on('exit', this.#onExit);
  }

  /** Creates namespace `<tag>-<key>` with lo up; returns its name. */
  add(key: string): string {
    const ns = `${this.tag}-${key}`;
    sh('ip', ['netns', 'add', ns]);
    this.#names.push(ns);
    this.ip(ns, ['link', 'set', 'lo', 'up']);
    return ns;
  }

  ip(ns: string, args: string[]): string {
    return sh('ip', ['-n', ns, ...args]);
  }

  /** Runs a command inside `ns`. */
  exec(ns: string, cmd: string, args: string[], input?: string): string {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  addAddress(ns: string, ip: string, dev = 'lo'): void {
    this.ip(ns, ['addr', 'add', `${ip}/32`, 'dev', dev]);
  }

  /** A veth pair between two namespaces: `ifA` (ipA) in `nsA`, `ifB` (ipB) in `nsB`, a /30 link. */
  link(nsA: string, ifA: string, ipA: string, nsB: string, ifB: string, ipB: string): void {
    this.ip(nsA, ['link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    this.ip(nsA, ['addr', 'add', `${ipA}/30`, 'dev', ifA]);
    this.ip(nsB, ['addr', 'add', `${ipB}/30`, 'dev', ifB]);
    this.ip(nsA, ['link', 'set', ifA, 'up']);
    this.ip(nsB, ['link', 'set', ifB, 'up']);
  }

  /** Starts `cmd` in `ns`; stdout and stderr go to `log`. */
  spawn(name: string, ns: string, cmd: string, args: string[], log: string): NsProcess {
    const fd = openSync(log, 'a');
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const proc = { name, ns, child, log, exited };
    this.#procs.push(proc);
    return proc;
  }

  running(proc: NsProcess): boolean {
    return proc.child.exitCode === null && proc.child.signalCode === null;
  }

  /** Stops one process by its pid (SIGTERM, SIGKILL after `graceMs`). */
  async stop(proc: NsProcess, graceMs = 3000): Promise<void> {
    if (!this.running(proc)) return;
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
    await proc.exited;
    clearTimeout(timer);
  }

  /** Fails with the server's log when one of `procs` is no longer running. */
  assertRunning(procs: NsProcess[]): void {
    for (const p of procs) {
      if (!this.running(p)) throw new Error(`lab: ${p.name} exited (code ${p.child.exitCode}, signal ${p.child.signalCode}):\n${tail(p.log)}`);
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.#procs.map((p) => this.stop(p, 2000)));
    this.destroySync();
  }

  /** Synchronous teardown (also the process-exit hook): kill what is left, delete the namespaces. */
  destroySync(): void {
    for (const p of this.#procs) if (this.running(p)) p.child.kill('SIGKILL');
    for (const ns of this.#names.splice(0)) removeNamespace(ns);
    process.off('exit', this.#onExit);
  }
}

export function tail(path: string, bytes = 4000): string {
  try {
    return readFileSync(path, 'utf8').slice(-bytes);
  } catch {
    return '(no log)';
  }
}
