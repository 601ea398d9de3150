import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Task } from '../config/config.ts';
import { offsetFraction, Scheduler, startOffsetMs } from './scheduler.ts';

const task = (id: string, timeoutMs = 5000): Task => ({
  id, kind: 'tcp', target: '127.0.0.1:1', schedule: '* * * * *', timeoutMs, tcp: { tls: false, serverName: null, ipVersion: 'auto' },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---

const offsets = suite('startOffsetMs');

offsets('is stable per task and spread across tasks', () => {
  assert.is(offsetFraction('shop-dns'), offsetFraction('shop-dns'));
  const fractions = Array.from({ length: 10_000 }, (_, i) => offsetFraction(`task-${i}`));
  const buckets = new Array(10).fill(0);
  for (const f of fractions) buckets[Math.floor(f * 10)]++;
  // every tenth of the interval gets roughly a tenth of the tasks
  for (const b of buckets) assert.ok(b > 850 && b < 1150, `bucket of ${b}`);
});

offsets('leaves room for the timeout inside the interval', () => {
  for (let i = 0; i < 1000; i++) {
    const offset = startOffsetMs(task(`t${i}`, 5000), 60_000);
    assert.ok(offset >= 0 && offset + 5000 <= 60_000);
  }
  assert.is(startOffsetMs(task('t', 90_000), 60_000), 0);
});

offsets.run();

// ---

const slots = suite('Scheduler.fireSlot');

slots('bounds concurrency and skips a task that is still running', async () => {
  let running = 0;
  let peak = 0;
  const runs: string[] = [];
  const skipped: string[] = [];
  // timeout = interval, so every offset is 0: all tasks start at once
  const tasks = Array.from({ length: 6 }, (_, i) => task(`t${i}`, 1000));
  const scheduler = new Scheduler(tasks, {
    concurrency: 2,
    async run(t) {
      running++;
      peak = Math.max(peak, running);
      runs.push(t.id);
      await sleep(40);
      running--;
    },
    onSkip: (t) => skipped.push(t.id),
  });
  scheduler.fireSlot(tasks, Date.now(), 1000);
  await sleep(10);
  scheduler.fireSlot(tasks, Date.now(), 1000); // the previous slot is still busy: all skipped
  await sleep(200);
  assert.is(peak, 2);
  assert.equal(runs.sort(), tasks.map((t) => t.id).sort());
  assert.equal(skipped.sort(), tasks.map((t) => t.id).sort());
  await scheduler.stop();
});

slots('stop waits for running checks and drops queued ones', async () => {
  const finished: string[] = [];
  const tasks = [task('a', 1000), task('b', 1000), task('c', 1000)];
  const scheduler = new Scheduler(tasks, {
    concurrency: 1,
    async run(t) {
      await sleep(50);
      finished.push(t.id);
    },
  });
  scheduler.fireSlot(tasks, Date.now(), 1000);
  await sleep(10);
  await scheduler.stop();
  assert.is(finished.length, 1, 'the running check finished before stop returned');
  await sleep(100);
  assert.is(finished.length, 1, 'queued checks never started');
});

slots('start() runs tasks on a real cron schedule', async () => {
  const seen: number[] = [];
  const t = { ...task('every-second', 200), schedule: '* * * * * *' };
  const scheduler = new Scheduler([t], { concurrency: 1, run: async (_, slot) => void seen.push(slot) });
  scheduler.start();
  await sleep(2300);
  await scheduler.stop();
  assert.ok(seen.length >= 1 && seen.length <= 3, `ran ${seen.length} times`);
  for (const slot of seen) assert.is(slot % 1000, 0, 'slots are whole seconds');
});

slots.run();
