/**
 * Runs tasks on their cron schedules. Tasks that share an expression share one node-cron job; at
 * each slot every task starts after its own stable offset (a hash of its id spread over the
 * interval) so thousands of tasks do not fire in the same millisecond. A task never overlaps
 * itself (a slot that finds it still running or queued is skipped and counted), and at most
 * `concurrency` checks run at once; the rest wait in FIFO order.
 */
import { createHash } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type { Task } from '../config/config.ts';

export interface SchedulerOptions {
  concurrency: number;
  /** Runs one check for the slot and delivers its record; the scheduler awaits it. */
  run(task: Task, scheduledAtMs: number): Promise<void>;
  /** A slot was skipped because the previous run of the task had not finished. */
  onSkip?(task: Task): void;
}

/** Where in [0, 1) of its interval a task starts: stable per id, spread evenly across ids. */
export function offsetFraction(taskId: string): number {
  return createHash('sha256').update(taskId).digest().readUInt32BE(0) / 2 ** 32;
}

/** The delay from the slot to the task's start: spread over what is left after its timeout. */
export function startOffsetMs(task: Task, intervalMs: number): number {
  const room = Math.max(0, Math.min(intervalMs, 3_600_000) - task.timeoutMs);
  return Math.floor(offsetFraction(task.id) * room);
}

export class Scheduler {
  #jobs: ScheduledTask[] = [];
  #busy = new Set<string>(); // queued or running
  #queue: (() => void)[] = [];
  #running = 0;
  #inFlight = new Set<Promise<void>>();
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(private readonly tasks: readonly Task[], private readonly opts: SchedulerOptions) {}

  start(): void {
    const bySchedule = new Map<string, Task[]>();
    for (const task of this.tasks) bySchedule.set(task.schedule, [...(bySchedule.get(task.schedule) ?? []), task]);
    for (const [expression, group] of bySchedule) {
      const job: ScheduledTask = cron.schedule(expression, (context) => {
        const slot = context.date.getTime();
        const next = job.getNextRun()?.getTime() ?? slot + 60_000;
        this.fireSlot(group, slot, Math.max(1000, next - slot));
      });
      this.#jobs.push(job);
    }
  }

  /** Starts every task of one slot after its offset. Public so tests can drive slots directly. */
  fireSlot(group: readonly Task[], slotMs: number, intervalMs: number): void {
    for (const task of group) {
      if (this.#stopped) return;
      if (this.#busy.has(task.id)) {
        this.opts.onSkip?.(task);
        continue;
      }
      this.#busy.add(task.id);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#enqueue(task, slotMs);
      }, startOffsetMs(task, intervalMs));
      this.#timers.add(timer);
    }
  }

  /** Stops scheduling; checks not yet started are dropped, running ones finish (and deliver). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const job of this.#jobs) await job.destroy();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#queue.length = 0;
    await Promise.allSettled([...this.#inFlight]);
  }

  get running(): number {
    return this.#running;
  }

  #enqueue(task: Task, slotMs: number): void {
    const start = () => {
      this.#running++;
      const done = this.opts
        .run(task, slotMs)
        .catch(() => {}) // run() reports its own errors; a rejection must not stop the scheduler
        .finally(() => {
          this.#running--;
          this.#busy.delete(task.id);
          this.#inFlight.delete(done);
          if (!this.#stopped) this.#queue.shift()?.();
        });
      this.#inFlight.add(done);
    };
    if (this.#stopped) return;
    if (this.#running < this.opts.concurrency) start();
    else this.#queue.push(start);
  }
}
