/**
 * What the collector needs from storage. The ClickHouse implementation (clickhouse-store.ts) is
 * the real one; the consumer depends only on this interface.
 */
import type { Heartbeat, ResultRecord } from '@vantage/probe';

/** A message that is not a valid result record, kept with why (never silently dropped). */
export interface RejectedMessage {
  /** When the collector received it (ms since the epoch). */
  receivedAtMs: number;
  subject: string;
  /** JetStream stream sequence, to find the message again. */
  streamSeq: number;
  reason: string;
  /** The raw payload as text (invalid UTF-8 replaced), capped by the store. */
  payload: string;
  /** Size of the payload as received, in bytes (default: the UTF-8 size of `payload`). */
  payloadBytes?: number;
}

export interface ResultStore {
  /**
   * Inserts records in one batch. A record inserted twice must never be visible twice to queries.
   * `firstAttempt` (see BatchTarget.insert) lets the store skip its duplicate check for records
   * younger than the stream's dedup window.
   */
  insertResults(records: readonly ResultRecord[], hints?: { firstAttempt: boolean }): Promise<void>;
  /** Which of these records are stored already (used for redelivered messages only). */
  storedIds(records: readonly ResultRecord[]): Promise<Set<string>>;
  insertRejected(rows: readonly RejectedMessage[]): Promise<void>;
  insertHeartbeats(rows: readonly Heartbeat[]): Promise<void>;
  close(): Promise<void>;
}

/** A storage failure; `transient` says whether retrying the same call can succeed. */
export class StoreError extends Error {
  constructor(message: string, readonly transient: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
  }
}
