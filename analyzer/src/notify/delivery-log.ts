/**
 * The notifier's record in ClickHouse: every delivery attempt (`vantage.alarm_deliveries`, written
 * in the background in small batches, retried while ClickHouse is away — the log must never hold
 * up a delivery) and the dead letters (`vantage.alarm_dead_letters`, written before the message is
 * terminated: a dead letter is data, so the caller waits for it).
 */
import type { ClickHouse } from '../../../collector/src/store/clickhouse-client.ts';
import { toStoreError } from '../../../collector/src/store/clickhouse-client.ts';
import { DATABASE } from '../../../collector/src/store/ddl.ts';
import { wellFormed } from '../../../collector/src/store/sql.ts';
import { ALARM_DEAD_LETTERS, ALARM_DELIVERIES } from '../../../collector/src/store/tables-alarms.ts';
import { WakeSignal } from '../../../collector/src/transport/wake-signal.ts';
import type { Logger } from '../../../probe/src/run/log.ts';
import type { AlarmEvent } from '../alarms/event.ts';

export type Outcome = 'delivered' | 'failed' | 'dead_letter';

export interface Attempt {
  atMs: number;
  event: AlarmEvent | null;
  channel: string;
  channelType: string;
  url: string;
  attempt: number;
  outcome: Outcome;
  httpStatus: number | null;
  response: string;
  error: string;
  durationMs: number;
  notifier: string;
}

const RESPONSE_MAX = 1024;
const MAX_QUEUED = 100_000;
const seconds = (ms: number) => Math.floor(ms / 1000);

/** Where a request went, fit for a log: no query string, long path segments (tokens) shortened. */
export function loggableUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname.split('/').map((seg) => (seg.length > 16 ? `${seg.slice(0, 4)}…` : seg)).join('/');
    return `${u.origin}${path}`;
  } catch {
    return '';
  }
}

export function deliveryRow(a: Attempt) {
  return {
    attempted_at: seconds(a.atMs),
    attempted_at_ms: Math.floor(a.atMs),
    event_id: a.event?.event_id ?? '',
    event_kind: a.event?.kind ?? '',
    fingerprint: a.event?.fingerprint ?? '',
    rule_id: a.event?.rule_id ?? '',
    severity: a.event?.severity ?? '',
    channel: a.channel,
    channel_type: a.channelType,
    url: loggableUrl(a.url),
    attempt: a.attempt,
    outcome: a.outcome,
    http_status: a.httpStatus,
    response: wellFormed(a.response.slice(0, RESPONSE_MAX)),
    error: wellFormed(a.error),
    duration_ms: Math.round(a.durationMs * 1000) / 1000,
    idempotency_key: a.event?.event_id ?? '',
    notifier: a.notifier,
  };
}

export interface DeadLetter {
  atMs: number;
  event: AlarmEvent | null;
  channel: string;
  channelType: string;
  attempts: number;
  reason: string;
  /** The message as it came from the stream. */
  payload: string;
  streamSeq: number;
}

export function deadLetterRow(d: DeadLetter) {
  return {
    dead_at: seconds(d.atMs),
    dead_at_ms: Math.floor(d.atMs),
    event_id: d.event?.event_id ?? '',
    event_kind: d.event?.kind ?? '',
    fingerprint: d.event?.fingerprint ?? '',
    channel: d.channel,
    channel_type: d.channelType,
    attempts: d.attempts,
    reason: wellFormed(d.reason),
    event: wellFormed(d.payload),
    stream_seq: d.streamSeq,
  };
}

interface QueuedRow {
  row: ReturnType<typeof deliveryRow>;
  written: () => void;
}

export class DeliveryLog {
  #queue: QueuedRow[] = [];
  readonly #wake = new WakeSignal();
  #running: Promise<void> | null = null;
  #closing = false;
  #dropped = 0;
  failingSince: number | null = null;
  lastError: string | null = null;

  constructor(private readonly ch: ClickHouse, private readonly log: Logger) {}

  start(): void {
    this.#running ??= this.#loop();
  }

  /**
   * Queues the attempt's row; resolves once it is written, or after `waitMs` (it stays queued and
   * is written when ClickHouse takes it). The notifier waits before acking, so a crash loses at
   * most the row of the delivery in hand.
   */
  record(attempt: Attempt, waitMs = 2000): Promise<void> {
    if (this.#queue.length >= MAX_QUEUED) {
      this.#queue.shift()!.written();
      if (this.#dropped++ % 1000 === 0) this.log.warn('delivery log: ClickHouse is behind, dropping the oldest rows', { dropped: this.#dropped });
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.#queue.push({ row: deliveryRow(attempt), written: () => (clearTimeout(timer), resolve()) });
      this.#wake.notify();
    });
  }

  /** Writes a dead letter now; throws when ClickHouse does not take it (the caller keeps the message). */
  async deadLetter(d: DeadLetter): Promise<void> {
    try {
      await this.ch.client.insert({ table: `${DATABASE}.${ALARM_DEAD_LETTERS.name}`, values: [deadLetterRow(d)], format: 'JSONEachRow' });
    } catch (err) {
      throw toStoreError(err, `insert into ${ALARM_DEAD_LETTERS.name}`);
    }
  }

  /** Writes what is queued (trying until `timeoutMs`), then stops. */
  async close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#running && this.#queue.length > 0 && Date.now() < deadline) {
      this.#wake.notify(); // cuts a retry pause short
      await new Promise((r) => setTimeout(r, 50));
    }
    this.#closing = true;
    this.#wake.notify();
    await this.#running;
    if (this.#queue.length > 0) this.log.warn('delivery log: rows not written at stop', { rows: this.#queue.length });
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#closing) {
      if (this.#queue.length === 0) {
        await this.#wake.wait(1000);
        continue;
      }
      await new Promise((r) => setTimeout(r, 5)); // gather the rows of channels sending at once
      try {
        await this.#flush();
        failures = 0;
      } catch (err) {
        failures++;
        this.failingSince ??= Date.now();
        this.lastError = (err as Error).message;
        if (failures === 1 || failures % 30 === 0) this.log.warn('delivery log: cannot write to ClickHouse, retrying', { error: this.lastError, rows: this.#queue.length });
        await this.#wake.wait(Math.min(10_000, 200 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.slice(0, 1000);
    if (batch.length === 0) return;
    try {
      await this.ch.client.insert({ table: `${DATABASE}.${ALARM_DELIVERIES.name}`, values: batch.map((q) => q.row), format: 'JSONEachRow' });
    } catch (err) {
      throw toStoreError(err, `insert into ${ALARM_DELIVERIES.name}`);
    }
    this.#queue.splice(0, batch.length);
    for (const q of batch) q.written();
    this.failingSince = null;
  }
}
