/**
 * A bounded on-disk FIFO of JSON records: what the probe keeps while NATS is unreachable.
 *
 * Layout in `dir`: segment files `seg-<16 digits>.jsonl` (one JSON record per line, appended
 * only) and `cursor.json`, the position of the first unpublished line. A process never appends
 * to a segment it did not create, so a torn last line left by a crash stays at the end of an old
 * segment, where it is skipped and counted (`corrupt`) instead of merging with a later record.
 *
 * Durability: `append` resolves only after the line is written (and fdatasync'ed unless
 * `fsync: false`), so kill -9 never loses a record whose append resolved. Appends that arrive
 * together share one write and one sync (group commit). The cursor is written after the fact
 * (write + rename), so a crash can only move it back: a few records are replayed, never lost.
 *
 * Bound: the pending bytes never exceed `maxBytes`; past it the OLDEST records are dropped and
 * counted (`dropped`). Disk use stays under `maxBytes + segmentBytes` (a partly consumed head
 * segment is deleted only when the cursor leaves it).
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface SpoolOptions {
  /** The bound on pending bytes; past it the oldest records are dropped. */
  maxBytes: number;
  /** A new segment starts once the current one holds this many bytes. */
  segmentBytes?: number;
  /** fdatasync each write (survives power loss, not only kill -9). Default true. */
  fsync?: boolean;
}

/** A place in the spool: a segment and a byte offset in it. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

/** One pending record as `peek` returns it; pass it to `commit` once it is published. */
export interface SpoolEntry<T> {
  readonly record: T;
  /** The record's place in the FIFO (counts up; drops and commits move the head past it). */
  readonly index: number;
  /** Where the next line starts. */
  readonly end: SpoolPosition;
}

interface Segment {
  seq: number;
  /** Bytes of complete lines (a torn tail after a crash is not counted and never read). */
  size: number;
}

interface Line {
  value: unknown;
  valid: boolean;
  bytes: number;
  end: SpoolPosition;
}

interface PendingAppend {
  line: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

const SEGMENT_RE = /^seg-(\d{16})\.jsonl$/;
const CURSOR_FILE = 'cursor.json';
const READ_CHUNK = 256 * 1024;
const NEWLINE = 0x0a;

export class Spool<T extends object> {
  private readonly segments: Segment[] = [];
  private active: { seg: Segment; fh: FileHandle } | null = null;
  private cursor: SpoolPosition;
  private nextSeq: number;
  private headIndex = 0;
  private tailIndex = 0;
  private droppedCount = 0;
  private corruptCount = 0;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly segmentBytes: number;
  private readonly fsync: boolean;

  private constructor(readonly dir: string, private readonly opts: SpoolOptions, cursor: SpoolPosition, nextSeq: number) {
    if (!(opts.maxBytes > 0)) throw new RangeError('spool maxBytes must be positive');
    this.cursor = cursor;
    this.nextSeq = nextSeq;
    this.segmentBytes = opts.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(64 * 1024, Math.floor(opts.maxBytes / 16)));
    this.fsync = opts.fsync ?? true;
  }

  /** Opens (or creates) the spool in `dir` and resumes after the last committed record. */
  static async open<T extends object>(dir: string, opts: SpoolOptions): Promise<Spool<T>> {
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    const seqs = names.flatMap((n) => SEGMENT_RE.exec(n)?.[1] ?? []).map(Number).sort((a, b) => a - b);
    const saved = await readCursor(join(dir, CURSOR_FILE));
    const first = seqs.find((s) => s >= (saved?.segment ?? 0));
    const cursor = saved && first === saved.segment ? saved : { segment: first ?? 0, offset: 0 };
    // Numbers only grow, also past a cursor whose segments are all gone: an old cursor can
    // never point into a segment written later.
    const spool = new Spool<T>(dir, opts, cursor, Math.max(seqs.at(-1) ?? 0, saved?.segment ?? 0) + 1);
    await rm(join(dir, `${CURSOR_FILE}.tmp`), { force: true });
    for (const seq of seqs) {
      if (seq < cursor.segment) await unlink(spool.segmentPath(seq)); // consumed before a crash
      else await spool.adopt(seq);
    }
    spool.skipRestIfEmpty();
    await spool.releaseConsumed();
    await spool.saveCursor();
    return spool;
  }

  /** Records waiting to be published. */
  get depth(): number {
    return this.tailIndex - this.headIndex;
  }
  /** Records dropped (oldest first) to stay within maxBytes, since this process opened the spool. */
  get dropped(): number {
    return this.droppedCount;
  }
  /** Unreadable lines skipped (e.g. a torn last line after a crash), since open. */
  get corrupt(): number {
    return this.corruptCount;
  }
  /** Pending bytes (what the bound applies to). */
  get bytes(): number {
    let total = 0;
    for (const seg of this.segments) {
      if (seg.seq > this.cursor.segment) total += seg.size;
      else if (seg.seq === this.cursor.segment) total += Math.max(0, seg.size - this.cursor.offset);
    }
    return total;
  }

  /** Adds a record at the tail; resolves once it is on disk. */
  append(record: T): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      void this.exclusive(async () => {
        this.flushScheduled = false;
        await this.writeBatch(this.queue.splice(0));
      });
    });
  }

  /** Up to `max` records from the head, oldest first, without removing them. */
  peek(max: number): Promise<SpoolEntry<T>[]> {
    return this.exclusive(async () => {
      const out: SpoolEntry<T>[] = [];
      if (max <= 0 || this.depth === 0) return out;
      let index = this.headIndex;
      for await (const line of this.linesFrom(this.cursor)) {
        if (!line.valid) continue; // counted when the spool was opened
        out.push({ record: line.value as T, index: index++, end: line.end });
        if (out.length >= max) break;
      }
      return out;
    });
  }

  /** Marks `entry` and everything before it as published. A no-op if it was dropped meanwhile. */
  commit(entry: SpoolEntry<T>): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) throw new Error('spool is closed');
      if (entry.index < this.headIndex) return;
      this.headIndex = Math.min(entry.index + 1, this.tailIndex);
      this.cursor = entry.end;
      this.skipRestIfEmpty();
      await this.releaseConsumed();
      await this.saveCursor();
    });
  }

  /** Finishes pending appends, then closes. What is pending stays for the next open. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.active?.fh.close();
      this.active = null;
      await this.saveCursor();
    });
  }

  // --- internals (each runs inside `exclusive`) ---------------------------------------------

  /** Runs operations one at a time, in call order. */
  private exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private segmentPath(seq: number): string {
    return join(this.dir, `seg-${String(seq).padStart(16, '0')}.jsonl`);
  }

  /** Scans an existing segment at open: counts its pending records and its unreadable lines. */
  private async adopt(seq: number): Promise<void> {
    const fileSize = (await stat(this.segmentPath(seq))).size;
    const from = seq === this.cursor.segment ? Math.min(this.cursor.offset, fileSize) : 0;
    if (seq === this.cursor.segment) this.cursor = { segment: seq, offset: from };
    const seg: Segment = { seq, size: fileSize };
    let end = from;
    let valid = 0;
    for await (const line of this.segmentLines(seg, from)) {
      end = line.end.offset;
      if (line.valid) valid++;
      else this.corruptCount++;
    }
    if (end < fileSize) this.corruptCount++; // a torn last line without its newline
    seg.size = end;
    this.tailIndex += valid;
    this.segments.push(seg);
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    if (batch.length === 0) return;
    if (this.closed) {
      for (const a of batch) a.reject(new Error('spool is closed'));
      return;
    }
    // A batch larger than the whole bound keeps only its newest records.
    let total = batch.reduce((n, a) => n + a.line.length, 0);
    let keep = 0;
    while (total > this.opts.maxBytes && keep < batch.length) {
      total -= batch[keep]!.line.length;
      this.droppedCount++;
      batch[keep]!.resolve();
      keep++;
    }
    const lines = batch.slice(keep);
    if (lines.length === 0) return;
    let done = 0;
    try {
      const excess = this.bytes + total - this.opts.maxBytes;
      if (excess > 0) await this.dropOldest(excess);
      while (done < lines.length) {
        // Fill the current segment, then start the next: segments stay near segmentBytes.
        const active = await this.writable();
        let room = this.segmentBytes - active.seg.size;
        let end = done;
        do room -= lines[end++]!.line.length;
        while (end < lines.length && room >= lines[end]!.line.length);
        const part = lines.slice(done, end);
        const buf = part.length === 1 ? part[0]!.line : Buffer.concat(part.map((a) => a.line));
        let written = 0;
        while (written < buf.length) {
          const { bytesWritten } = await active.fh.write(buf, written, buf.length - written, active.seg.size + written);
          written += bytesWritten;
        }
        if (this.fsync) await active.fh.datasync();
        active.seg.size += buf.length;
        this.tailIndex += part.length;
        for (const a of part) a.resolve();
        done = end;
      }
    } catch (err) {
      // Whatever part of the batch reached the file lies past the segment's size and is never
      // read; a fresh segment keeps later appends clear of it.
      await this.active?.fh.close().catch(() => undefined);
      this.active = null;
      for (const a of lines.slice(done)) a.reject(err as Error);
    }
  }

  /** The segment to append to, starting a new one when the current one is full. */
  private async writable(): Promise<{ seg: Segment; fh: FileHandle }> {
    if (this.active && this.active.seg.size < this.segmentBytes) return this.active;
    if (this.active) {
      await this.active.fh.close();
      this.active = null;
    }
    for (;;) {
      const seq = this.nextSeq++;
      try {
        // 'wx': never reuse a name, even if another process shares the dir by mistake.
        const fh = await open(this.segmentPath(seq), 'wx');
        if (this.fsync) await syncDir(this.dir);
        const seg: Segment = { seq, size: 0 };
        this.segments.push(seg);
        if (this.segments.length === 1) this.cursor = { segment: seq, offset: 0 };
        this.active = { seg, fh };
        return this.active;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /** Drops records from the head until at least `needBytes` are freed. */
  private async dropOldest(needBytes: number): Promise<void> {
    let freed = 0;
    for await (const line of this.linesFrom(this.cursor)) {
      freed += line.bytes;
      if (line.valid) {
        this.headIndex++;
        this.droppedCount++;
      }
      this.cursor = line.end;
      if (freed >= needBytes) break;
    }
    await this.releaseConsumed();
    await this.saveCursor();
  }

  /** With no record pending, whatever lines remain are unreadable: move past them all. */
  private skipRestIfEmpty(): void {
    const last = this.segments.at(-1);
    if (this.depth === 0 && last) this.cursor = { segment: last.seq, offset: last.size };
  }

  /** Deletes segments the cursor has left behind or fully consumed. */
  private async releaseConsumed(): Promise<void> {
    while (this.segments.length > 0) {
      const head = this.segments[0]!;
      const behind = head.seq < this.cursor.segment;
      const consumed = head.seq === this.cursor.segment && this.cursor.offset >= head.size;
      if (!behind && !consumed) break;
      if (this.active?.seg === head) {
        await this.active.fh.close();
        this.active = null;
      }
      await unlink(this.segmentPath(head.seq)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.segments.shift();
      if (head.seq >= this.cursor.segment) this.cursor = { segment: this.segments[0]?.seq ?? this.nextSeq, offset: 0 };
    }
  }

  private async saveCursor(): Promise<void> {
    const path = join(this.dir, CURSOR_FILE);
    await writeFile(`${path}.tmp`, JSON.stringify(this.cursor));
    await rename(`${path}.tmp`, path);
  }

  /** Complete lines from `from` on, across segments, oldest first. */
  private async *linesFrom(from: SpoolPosition): AsyncGenerator<Line> {
    for (const seg of [...this.segments]) {
      if (seg.seq < from.segment) continue;
      yield* this.segmentLines(seg, seg.seq === from.segment ? from.offset : 0);
    }
  }

  /** Complete lines of one segment from `offset` up to its size, read in chunks. */
  private async *segmentLines(seg: Segment, offset: number): AsyncGenerator<Line> {
    if (offset >= seg.size) return;
    const fh = await open(this.segmentPath(seg.seq), 'r');
    try {
      let carry = Buffer.alloc(0);
      let carryAt = offset; // file offset of carry's first byte
      let readAt = offset;
      while (readAt < seg.size) {
        const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, seg.size - readAt));
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, readAt);
        if (bytesRead === 0) break; // the file is shorter than we thought: nothing more to read
        readAt += bytesRead;
        const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
        let start = 0;
        for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, start)) {
          const value = parseLine(data.subarray(start, nl));
          yield { value, valid: value !== null, bytes: nl + 1 - start, end: { segment: seg.seq, offset: carryAt + nl + 1 } };
          start = nl + 1;
        }
        carry = data.subarray(start);
        carryAt += start;
      }
    } finally {
      await fh.close();
    }
  }
}

/** A JSON object, or null for anything else (torn, garbage, blank). */
function parseLine(bytes: Buffer): object | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

async function readCursor(path: string): Promise<SpoolPosition | null> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<SpoolPosition>;
    const ok = Number.isSafeInteger(value.segment) && Number.isSafeInteger(value.offset) && value.offset! >= 0;
    return ok ? { segment: value.segment!, offset: value.offset! } : null; // unreadable: replay everything
  } catch {
    return null;
  }
}

/** Makes a new file's directory entry durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
