/**
 * An in-memory ResultStore for the consumer's tests (they check ack, retry and reject logic, not
 * storage). It counts every insert of every id, so a test sees a record inserted twice, and it
 * can be told to fail, to refuse some records for good, to be slow, or to hold inserts at a gate.
 */
import type { Heartbeat, ResultRecord } from '@vantage/probe';
import { StoreError, type RejectedMessage, type ResultStore } from '../../store/result-store.ts';

export class MemoryStore implements ResultStore {
  /** Every insertResults call, as the ids it carried. */
  readonly insertCalls: string[][] = [];
  /** How many times each id was inserted (more than 1 = a duplicate reached the store). */
  readonly insertedTimes = new Map<string, number>();
  readonly records = new Map<string, ResultRecord>();
  readonly rejected: RejectedMessage[] = [];
  readonly heartbeats: Heartbeat[] = [];
  readonly storedIdsCalls: string[][] = [];
  /** Failed insertResults calls. */
  failures = 0;

  /** The next N insertResults calls throw a transient StoreError (the records are not stored). */
  failNext = 0;
  /** Until this epoch ms, insertResults throws a transient StoreError. */
  failUntil = 0;
  /** Records for which insertResults throws a permanent StoreError (the whole call fails). */
  refuse: (record: ResultRecord) => boolean = () => false;
  /** Each insertResults takes this long. */
  delayMs = 0;
  /** When set, insertResults stores the records, then awaits this before resolving. */
  gate: Promise<void> | null = null;
  /** Called after the records of an insertResults call were stored. */
  onInserted: ((ids: string[]) => void) | null = null;

  constructor(opts: { storedIds?: Iterable<string> } = {}) {
    for (const id of opts.storedIds ?? []) this.insertedTimes.set(id, 1);
  }

  get uniqueIds(): number {
    return this.insertedTimes.size;
  }

  /** Ids inserted more than once. */
  duplicates(): string[] {
    return [...this.insertedTimes].filter(([, n]) => n > 1).map(([id]) => id);
  }

  async insertResults(records: readonly ResultRecord[]): Promise<void> {
    const ids = records.map((r) => r.id);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext > 0 || Date.now() < this.failUntil) {
      this.failNext = Math.max(0, this.failNext - 1);
      this.failures++;
      throw new StoreError('clickhouse unavailable (test)', true);
    }
    const refused = records.filter((r) => this.refuse(r));
    if (refused.length > 0) {
      this.failures++;
      throw new StoreError(`cannot store record ${refused[0].id}: value out of range (test)`, false);
    }
    this.insertCalls.push(ids);
    for (const record of records) {
      this.insertedTimes.set(record.id, (this.insertedTimes.get(record.id) ?? 0) + 1);
      this.records.set(record.id, record);
    }
    this.onInserted?.(ids);
    if (this.gate) await this.gate;
  }

  async storedIds(records: readonly ResultRecord[]): Promise<Set<string>> {
    this.storedIdsCalls.push(records.map((r) => r.id));
    return new Set(records.map((r) => r.id).filter((id) => this.insertedTimes.has(id)));
  }

  async insertRejected(rows: readonly RejectedMessage[]): Promise<void> {
    this.rejected.push(...rows);
  }

  async insertHeartbeats(rows: readonly Heartbeat[]): Promise<void> {
    this.heartbeats.push(...rows);
  }

  async close(): Promise<void> {}
}
