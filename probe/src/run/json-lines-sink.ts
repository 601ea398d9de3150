/** A sink that writes each record as one JSON line (`vantage probe --once --output`). */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ResultRecord } from '../contract/record.ts';
import type { RecordSink } from '../publish/publisher.ts';

export class JsonLinesSink implements RecordSink {
  #out: Writable;
  #ownsStream: boolean;

  /** `target` is a file path, or "-" for standard output. */
  constructor(target: string, opts: { append?: boolean } = {}) {
    this.#ownsStream = target !== '-';
    this.#out = target === '-' ? process.stdout : createWriteStream(target, { flags: opts.append ? 'a' : 'w' });
  }

  publish(record: ResultRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#out.write(`${JSON.stringify(record)}\n`, (err) => (err ? reject(err) : resolve()));
    });
  }

  stats() {
    return { spoolDepth: 0, spoolDropped: 0, lastError: null };
  }

  close(): Promise<void> {
    if (!this.#ownsStream) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#out.once('error', reject);
      this.#out.end(() => resolve());
    });
  }
}
