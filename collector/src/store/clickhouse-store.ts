/**
 * The ResultStore on ClickHouse (server or chDB, single node or cluster). Rows are sent as
 * JSONEachRow, so values never enter SQL text; only the stored-id lookup builds SQL, through sql.ts.
 *
 * Duplicates: `insertResults` drops records already stored (a primary-key lookup) and repeats within
 * the batch before inserting, so the rollup views see each record once; raw reads dedup by id with
 * FINAL as well (see collector/README.md). A record inserted twice concurrently by two replicas can
 * still reach the rollups twice — the consumer's ack wait must exceed an insert's duration.
 */
import type { Heartbeat, ResultRecord } from '@vantage/probe';
import { openClickHouse, toStoreError, type ClickHouse, type ClickHouseSettings } from './clickhouse-client.ts';
import { DATABASE, type SchemaOptions } from './ddl.ts';
import { migrate } from './migrate.ts';
import type { RejectedMessage, ResultStore } from './result-store.ts';
import { applyRetention, DEFAULT_RETENTION, type Partition, type RetentionPolicy } from './retention.ts';
import { heartbeatRow, rejectedRow, resultRow, type ResultRow } from './rows.ts';
import { sqlDateTime, sqlSeconds, sqlString, sqlTuple, sqlUuid } from './sql.ts';
import { PROBE_HEARTBEATS, REJECTED_RECORDS, RESULTS } from './tables.ts';

export interface ClickHouseStoreOptions extends SchemaOptions {
  /** Clock for inserted_at / received_at (ms since the epoch). */
  now?: () => number;
}

/** Tuples per stored-id lookup: keeps the query text well under 18.16's max_query_size (256 KiB). */
const LOOKUP_CHUNK = 200;

export class ClickHouseStore implements ResultStore {
  private readonly now: () => number;

  constructor(
    readonly ch: ClickHouse,
    private readonly opts: ClickHouseStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async insertResults(records: readonly ResultRecord[]): Promise<void> {
    if (records.length === 0) return;
    const insertedAt = this.now();
    const rows = new Map<string, ResultRow>();
    for (const record of records) if (!rows.has(record.id)) rows.set(record.id, resultRow(record, insertedAt));
    const stored = await this.lookup([...rows.values()]);
    const fresh = [...rows.values()].filter((row) => !stored.has(row.id));
    await this.insert(RESULTS.name, fresh);
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

  /** Whether the engine answers (for /healthz). */
  async ping(): Promise<boolean> {
    try {
      return (await this.ch.client.ping()).success;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.ch.close();
  }

  /** Ids of these rows that are stored, looked up by the full primary key (task, probe, start, id). */
  private async lookup(rows: readonly ResultRow[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < rows.length; i += LOOKUP_CHUNK) {
      const chunk = rows.slice(i, i + LOOKUP_CHUNK);
      const startedMs = chunk.map((row) => row.started_at_ms);
      const tasks = [...new Set(chunk.map((row) => row.task_id))];
      const keys = chunk.map((row) =>
        sqlTuple([sqlString(row.task_id), sqlString(row.probe_id), sqlSeconds(row.started_at_ms), sqlUuid(row.id)]),
      );
      // The time range and task list prune partitions and index ranges before the exact tuple test.
      const query = `SELECT DISTINCT toString(id) AS id FROM ${DATABASE}.${RESULTS.name}
WHERE started_at >= ${sqlDateTime(Math.min(...startedMs))} AND started_at <= ${sqlDateTime(Math.max(...startedMs))}
  AND task_id IN ${sqlTuple(tasks.map(sqlString))}
  AND (task_id, probe_id, started_at, id) IN (${keys.join(', ')})`;
      try {
        const result = await this.ch.client.query({ query, format: 'JSONEachRow' });
        for (const row of await result.json<{ id: string }>()) found.add(row.id);
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
