/**
 * The ResultStore on ClickHouse (server or chDB, single node or cluster). Rows are sent as
 * JSONEachRow, so values never enter SQL text; only the stored-id lookup builds SQL, through sql.ts.
 *
 * Duplicates: `insertResults` drops records already stored (a primary-key lookup, skipped on a first
 * attempt for records the stream's dedup window covers) and repeats within the batch before inserting, so the rollup views see each record once (and rebuilds the rollup
 * buckets of already-stored records that an interrupted insert left short); raw reads dedup by id with
 * FINAL as well (see collector/README.md). A record inserted twice concurrently by two replicas can
 * still reach the rollups twice — the consumer's ack wait must exceed an insert's duration.
 */
import { DEDUP_WINDOW_MS, type Heartbeat, type ResultRecord } from '@vantage/probe';
import { openClickHouse, toStoreError, type ClickHouse, type ClickHouseSettings } from './clickhouse-client.ts';
import { DATABASE, type SchemaOptions } from './ddl.ts';
import { migrate } from './migrate.ts';
import type { RejectedMessage, ResultStore } from './result-store.ts';
import { applyRetention, DEFAULT_RETENTION, type Partition, type RetentionPolicy } from './retention.ts';
import { repairRollups } from './rollup-repair.ts';
import { heartbeatRow, rejectedRow, resultRow, type ResultRow } from './rows.ts';
import { sqlDateTime, sqlString, sqlTuple, sqlUuid } from './sql.ts';
import { PROBE_HEARTBEATS, REJECTED_RECORDS, RESULTS } from './tables.ts';

export interface ClickHouseStoreOptions extends SchemaOptions {
  /** Clock for inserted_at / received_at (ms since the epoch). */
  now?: () => number;
}

/**
 * Characters of id and task literals per stored-id lookup: keeps the query text well under 18.16's
 * max_query_size (256 KiB). About 2,000 ids per query.
 */
const LOOKUP_BUDGET = 96 * 1024;

/**
 * Records younger than this (by their start) cannot repeat on the stream: JetStream drops a repeat
 * of a message id within DEDUP_WINDOW_MS of the first, and a record is first published after it
 * started. Ten minutes of margin for clocks that disagree.
 */
const UNDEDUPLICATED_AGE_MS = DEDUP_WINDOW_MS - 10 * 60_000;

export class ClickHouseStore implements ResultStore {
  private readonly now: () => number;

  constructor(
    readonly ch: ClickHouse,
    private readonly opts: ClickHouseStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async insertResults(records: readonly ResultRecord[], hints: { firstAttempt: boolean } = { firstAttempt: false }): Promise<void> {
    if (records.length === 0) return;
    const insertedAt = this.now();
    const rows = new Map<string, ResultRow>();
    for (const record of records) if (!rows.has(record.id)) rows.set(record.id, resultRow(record, insertedAt));
    // On a first attempt only records older than the stream's dedup window can be stored already
    // (a probe's spool replayed after a long outage): JetStream dropped every younger repeat.
    const canRepeat = hints.firstAttempt ? (row: ResultRow) => row.started_at_ms < insertedAt - UNDEDUPLICATED_AGE_MS : () => true;
    const stored = await this.lookup([...rows.values()].filter(canRepeat));
    const fresh = [...rows.values()].filter((row) => !stored.has(row.id));
    await this.insert(RESULTS.name, fresh);
    // Records stored before: a retry or a replay. A failed earlier insert may have left their
    // rollups short (see rollup-repair.ts).
    if (stored.size > 0) await repairRollups(this.ch.client, [...rows.values()].filter((row) => stored.has(row.id)), this.opts);
  }

  async storedIds(records: readonly ResultRecord[]): Promise<Set<string>> {
    return this.lookup(records.map((record) => resultRow(record, 0)));
  }

  async insertRejected(rows: readonly RejectedMessage[]): Promise<void> {
    const now = this.now();
    await this.insert(REJECTED_RECORDS.name, rows.map((row) => rejectedRow(row, now)));
  }

  async insertHeartbeats(rows: readonly Heartbeat[]): Promise<void> {
    const now = this.now();
    await this.insert(PROBE_HEARTBEATS.name, rows.map((row) => heartbeatRow(row, now)));
  }

  /** Drops partitions past retention from every retained table (run it periodically, e.g. hourly). */
  async applyRetention(policy: RetentionPolicy = DEFAULT_RETENTION): Promise<Partition[]> {
    return applyRetention(this.ch.client, policy, { ...this.opts, nowMs: this.now() });
  }

  async close(): Promise<void> {
    await this.ch.close();
  }

  /**
   * Ids of these rows that are stored with the same full primary key (task, probe, start, id).
   * The query lists ids and tasks only: a list of single literals costs the server a fraction of
   * what a 4-tuple per row costs to parse (18.16 spent ~80 µs per tuple). The time range and task
   * list prune partitions and index ranges; the rest of the key is compared here.
   */
  private async lookup(rows: readonly ResultRow[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const chunk of lookupChunks(rows)) {
      const wanted = new Set(chunk.map((row) => keyOf(row.task_id, row.probe_id, Math.floor(row.started_at_ms / 1000), row.id)));
      const startedMs = chunk.map((row) => row.started_at_ms);
      const tasks = [...new Set(chunk.map((row) => row.task_id))];
      const query = `SELECT DISTINCT toString(id) AS id, task_id, probe_id, toUInt32(started_at) AS started FROM ${DATABASE}.${RESULTS.name}
WHERE started_at >= ${sqlDateTime(Math.min(...startedMs))} AND started_at <= ${sqlDateTime(Math.max(...startedMs))}
  AND task_id IN ${sqlTuple(tasks.map(sqlString))}
  AND toString(id) IN ${sqlTuple(chunk.map((row) => sqlUuid(row.id)))}`;
      try {
        const result = await this.ch.client.query({ query, format: 'JSONEachRow' });
        for (const row of await result.json<{ id: string; task_id: string; probe_id: string; started: number | string }>()) {
          if (wanted.has(keyOf(row.task_id, row.probe_id, Number(row.started), row.id))) found.add(row.id);
        }
      } catch (err) {
        throw toStoreError(err, 'looking up stored ids');
      }
    }
    return found;
  }

  private async insert(table: string, values: readonly object[]): Promise<void> {
    if (values.length === 0) return;
    try {
      await this.ch.client.insert({
        table: `${DATABASE}.${table}`,
        values: values as object[],
        format: 'JSONEachRow',
        // On a cluster: acknowledged only once the shards hold the rows, not just a local queue.
        ...(this.opts.cluster !== undefined ? { clickhouse_settings: { insert_distributed_sync: 1 } } : {}),
      });
    } catch (err) {
      throw toStoreError(err, `inserting ${values.length} rows into ${table}`);
    }
  }
}

/** A row's full primary key as one string (ids compared lowercase, as toString(id) prints them). */
function keyOf(taskId: string, probeId: string, startedSeconds: number, id: string): string {
  return JSON.stringify([taskId, probeId, startedSeconds, id.toLowerCase()]);
}

/** Characters an id takes in the lookup's list: `'<36>', `. */
const ID_LITERAL_CHARS = 40;

/** Consecutive slices of `rows` whose id and task literals stay within LOOKUP_BUDGET characters. */
function* lookupChunks(rows: readonly ResultRow[]): Generator<ResultRow[]> {
  let chunk: ResultRow[] = [];
  let tasks = new Set<string>();
  let size = 0;
  for (const row of rows) {
    const taskChars = sqlString(row.task_id).length + 2;
    const cost = () => ID_LITERAL_CHARS + (tasks.has(row.task_id) ? 0 : taskChars);
    if (chunk.length > 0 && size + cost() > LOOKUP_BUDGET) {
      yield chunk;
      chunk = [];
      tasks = new Set();
      size = 0;
    }
    size += cost();
    tasks.add(row.task_id);
    chunk.push(row);
  }
  if (chunk.length > 0) yield chunk;
}

/** Opens the engine, applies pending migrations, and returns the store (which owns the connection). */
export async function openClickHouseStore(settings: ClickHouseSettings, opts: ClickHouseStoreOptions = {}): Promise<ClickHouseStore> {
  const ch = await openClickHouse(settings);
  try {
    await migrate(ch.client, opts);
  } catch (err) {
    await ch.close().catch(() => undefined);
    throw err;
  }
  return new ClickHouseStore(ch, opts);
}
