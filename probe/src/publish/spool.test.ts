import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Spool, type SpoolEntry } from './spool.ts';

interface Item {
  seq: number;
  pad: string;
}

const item = (seq: number, padBytes = 0): Item => ({ seq, pad: 'x'.repeat(padBytes) });
const lineBytes = (i: Item) => Buffer.byteLength(`${JSON.stringify(i)}\n`);

/** Reads everything pending, committing as it goes, like the publisher's replay. */
async function drain(spool: Spool<Item>, batch = 7): Promise<number[]> {
  const seen: number[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const entries: SpoolEntry<Item>[] = await spool.peek(batch);
    if (entries.length === 0) return seen;
    seen.push(...entries.map((e) => e.record.seq));
    await spool.commit(entries.at(-1)!);
  }
  throw new Error('drain did not finish');
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('seg-')).sort();
const diskBytes = (dir: string) => segments(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-spool-'));
  dirs.push(dir);
  return dir;
}
const removeDirs = () => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));

// ---

const order = suite('Spool order');
order.after(removeDirs);

order('returns records in append order, across segments, and empties', async () => {
  const dir = tempDir();
  const spool = await Spool.open<Item>(dir, { maxBytes: 1 << 20, segmentBytes: 512 });
  // Appends issued together (one group commit) and one by one.
  await Promise.all(range(0, 300).map((i) => spool.append(item(i))));
  for (const i of range(300, 400)) await spool.append(item(i));
  assert.is(spool.depth, 400);
  assert.ok(segments(dir).length > 5, `expected several segments, got ${segments(dir).length}`);
  assert.equal(await drain(spool), range(0, 400));
  assert.is(spool.depth, 0);
  assert.is(spool.bytes, 0);
  assert.equal(segments(dir), [], 'consumed segments are deleted');
  await spool.append(item(400));
  assert.equal(await drain(spool), [400]);
  await spool.close();
});

order('peek does not remove; commit of a partial batch keeps the rest', async () => {
  const spool = await Spool.open<Item>(tempDir(), { maxBytes: 1 << 20 });
  for (const i of range(0, 10)) await spool.append(item(i));
  const first = await spool.peek(4);
  assert.equal((await spool.peek(4)).map((e) => e.record.seq), [0, 1, 2, 3]);
  await spool.commit(first[1]!);
  assert.is(spool.depth, 8);
  assert.equal(await drain(spool), range(2, 10));
  await spool.close();
});

order.run();

// ---

const bound = suite('Spool bound');
bound.after(removeDirs);

bound('drops the oldest records past maxBytes and counts them', async () => {
  const dir = tempDir();
  const size = lineBytes(item(100, 80));
  const maxBytes = size * 20 + size / 2; // room for 20 records
  const spool = await Spool.open<Item>(dir, { maxBytes, segmentBytes: size * 4 });
  for (const i of range(100, 150)) await spool.append(item(i, 80));
  assert.is(spool.depth, 20);
  assert.is(spool.dropped, 30);
  assert.ok(spool.bytes <= maxBytes, `${spool.bytes} pending bytes > bound ${maxBytes}`);
  assert.ok(diskBytes(dir) <= maxBytes + size * 4, `disk use ${diskBytes(dir)} beyond bound + one segment`);
  assert.equal(await drain(spool), range(130, 150), 'the newest 20 remain, in order');
  await spool.close();
});

bound('drops while a batch is being replayed: committing a dropped entry is a no-op', async () => {
  const size = lineBytes(item(10, 50)); // two-digit seqs: every line has this size
  const spool = await Spool.open<Item>(tempDir(), { maxBytes: size * 10, segmentBytes: size * 3 });
  for (const i of range(10, 20)) await spool.append(item(i, 50));
  const batch = await spool.peek(3); // 10, 11, 12 are "being published"
  for (const i of range(20, 25)) await spool.append(item(i, 50)); // drops 10..14
  assert.is(spool.dropped, 5);
  await spool.commit(batch[2]!);
  assert.is(spool.depth, 10, 'the commit did not remove any record still pending');
  assert.equal(await drain(spool), range(15, 25));
  await spool.close();
});

bound('a record larger than the whole bound is dropped, not kept', async () => {
  const spool = await Spool.open<Item>(tempDir(), { maxBytes: 200 });
  await spool.append(item(1));
  await spool.append(item(2, 500));
  assert.is(spool.dropped, 1);
  assert.equal(await drain(spool), [1]);
  await spool.close();
});

bound.run();

// ---

const restart = suite('Spool restart');
restart.after(removeDirs);

restart('a reopened spool resumes after the last commit (closed or abandoned)', async () => {
  const dir = tempDir();
  const a = await Spool.open<Item>(dir, { maxBytes: 1 << 20, segmentBytes: 256 });
  for (const i of range(0, 100)) await a.append(item(i));
  const batch = await a.peek(30);
  await a.commit(batch.at(-1)!);
  // Abandoned without close (a crash): every append resolved before is on disk.
  const b = await Spool.open<Item>(dir, { maxBytes: 1 << 20, segmentBytes: 256 });
  assert.is(b.depth, 70);
  assert.equal((await b.peek(1))[0]!.record.seq, 30);
  for (const i of range(100, 120)) await b.append(item(i));
  const more = await b.peek(10);
  await b.commit(more.at(-1)!);
  await b.close();
  await a.close(); // only now: `b` opened while `a` still held its files, as after a crash
  const c = await Spool.open<Item>(dir, { maxBytes: 1 << 20, segmentBytes: 256 });
  assert.is(c.depth, 80);
  assert.equal(await drain(c), range(40, 120));
  await c.close();
  const d = await Spool.open<Item>(dir, { maxBytes: 1 << 20 });
  assert.is(d.depth, 0);
  await d.close();
});

restart('a lost or unreadable cursor replays from the oldest record (duplicates, never loss)', async () => {
  const dir = tempDir();
  const a = await Spool.open<Item>(dir, { maxBytes: 1 << 20 });
  for (const i of range(0, 10)) await a.append(item(i));
  await a.commit((await a.peek(4)).at(-1)!);
  await a.close();
  writeFileSync(join(dir, 'cursor.json'), '{"segm');
  const b = await Spool.open<Item>(dir, { maxBytes: 1 << 20 });
  assert.equal(await drain(b), range(0, 10));
  await b.close();
});

restart.run();

// ---

const corrupt = suite('Spool corrupt lines');
corrupt.after(removeDirs);

corrupt('skips and counts a torn last line; later appends stay readable', async () => {
  const dir = tempDir();
  const a = await Spool.open<Item>(dir, { maxBytes: 1 << 20 });
  for (const i of range(0, 10)) await a.append(item(i));
  await a.close();
  const [last] = segments(dir).slice(-1);
  appendFileSync(join(dir, last!), '{"seq":10,"pad":"xx'); // a crash in the middle of a write
  const b = await Spool.open<Item>(dir, { maxBytes: 1 << 20 });
  assert.is(b.corrupt, 1);
  assert.is(b.depth, 10);
  await b.append(item(11));
  assert.equal(await drain(b), [...range(0, 10), 11]);
  await b.close();
  const c = await Spool.open<Item>(dir, { maxBytes: 1 << 20 });
  assert.is(c.depth, 0);
  assert.equal(segments(dir), [], 'the segment holding only the torn tail is gone');
  await c.close();
});

corrupt('skips and counts garbage lines in the middle', async () => {
  const dir = tempDir();
  const a = await Spool.open<Item>(dir, { maxBytes: 1 << 20 });
  for (const i of range(0, 3)) await a.append(item(i));
  await a.close();
  const [seg] = segments(dir);
  appendFileSync(join(dir, seg!), 'not json\n\n[1,2]\n\u0000\u0000\n');
  appendFileSync(join(dir, seg!), `${JSON.stringify(item(3))}\n`);
  const b = await Spool.open<Item>(dir, { maxBytes: 1 << 20 });
  assert.is(b.corrupt, 4);
  assert.is(b.depth, 4);
  assert.equal(await drain(b, 2), [0, 1, 2, 3]);
  await b.close();
});

corrupt.run();
