/**
 * Repairs rollups after a partial insert. ClickHouse writes an insert into `results` first and then
 * into each rollup view, one after the other: a server killed in between keeps the raw rows but
 * misses some rollup rows, and the retry (which skips stored records) would leave the rollups short
 * for good. So whenever a batch holds records that are already stored, the buckets those records fall
 * in are compared — rollup checks against `results FINAL` — and a bucket that disagrees is rebuilt:
 * its rollup rows are deleted (a mutation, which touches only parts that exist when it is issued) and
 * re-aggregated from the raw rows.
 *
 * The rebuild is not atomic against a second replica writing the same task and bucket at that very
 * moment; it runs only after a failed insert, on the few buckets of one batch.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { toStoreError } from './clickhouse-client.ts';
import { DATABASE, deleteWhere, storageTable, type SchemaOptions } from './ddl.ts';
import type { ResultRow } from './rows.ts';
import { sqlDateTime, sqlString, sqlTuple } from './sql.ts';
import { RESULTS, ROLLUPS, type Rollup } from './tables.ts';

/** How long to wait for the delete mutation before giving up (the batch is then retried). */
const MUTATION_WAIT_MS = 60_000;
const MUTATION_POLL_MS = 100;

export interface RepairResult {
  /** `<rollup table>:<task_id>@<bucket>` of every bucket rebuilt. */
  rebuilt: string[];
}

export async function repairRollups(client: ClickHouseClient, stored: readonly ResultRow[], opts: SchemaOptions = {}): Promise<RepairResult> {
  const rebuilt: string[] = [];
  if (stored.length === 0) return { rebuilt };
  for (const rollup of ROLLUPS) {
    const stale = await disagreeingBuckets(client, rollup, stored);
    if (stale.length === 0) continue;
    await rebuild(client, rollup, stale, opts);
    rebuilt.push(...stale.map((b) => `${rollup.table.name}:${b.taskId}@${b.bucket}`));
  }
  return { rebuilt };
}

interface Bucket {
  taskId: string;
  /** The bucket as ClickHouse prints it (`2024-05-01 10:07:00`, or `2024-05-01` for days). */
  bucket: string;
  /** Any second inside the bucket. */
  atMs: number;
}

/** The buckets of `rows` in this rollup whose check count differs from the raw rows'. */
/** The rollup's bucket expression for one instant (e.g. `toStartOfMinute(toDateTime(…))`). */
function bucketAt(rollup: Rollup, ms: number): string {
  return rollup.bucket.expr.replace('started_at', sqlDateTime(ms));
}

async function disagreeingBuckets(client: ClickHouseClient, rollup: Rollup, rows: readonly ResultRow[]): Promise<Bucket[]> {
  const { column, expr } = rollup.bucket;
  const at = (ms: number) => bucketAt(rollup, ms);
  const startedMs = rows.map((r) => r.started_at_ms);
  const [lo, hi] = [Math.min(...startedMs), Math.max(...startedMs)];
  const tasks = sqlTuple([...new Set(rows.map((r) => r.task_id))].map(sqlString));
  const ids = sqlTuple(rows.map((r) => sqlString(r.id.toLowerCase())));
  const count = async (sql: string) => {
    const counts = new Map<string, { n: number; atMs: number }>();
    for (const row of await select<{ task_id: string; bucket: string; n: number | string; at: number | string }>(client, sql)) {
      counts.set(JSON.stringify([row.task_id, row.bucket]), { n: Number(row.n), atMs: Number(row.at) * 1000 });
    }
    return counts;
  };
  const bucketRange = `${column} >= ${at(lo)} AND ${column} <= ${at(hi)}`;
  const [affected, raw, rolled] = await Promise.all([
    count(`SELECT task_id, toString(${expr}) AS bucket, 0 AS n, toUInt32(min(started_at)) AS at FROM ${DATABASE}.${RESULTS.name}
WHERE task_id IN ${tasks} AND toString(id) IN ${ids} GROUP BY task_id, bucket`),
    count(`SELECT task_id, toString(${expr}) AS bucket, count() AS n, 0 AS at FROM ${DATABASE}.${RESULTS.name} FINAL
WHERE task_id IN ${tasks} AND ${expr} >= ${at(lo)} AND ${expr} <= ${at(hi)} GROUP BY task_id, bucket`),
    count(`SELECT task_id, toString(${column}) AS bucket, countMerge(checks) AS n, 0 AS at FROM ${DATABASE}.${rollup.table.name}
WHERE task_id IN ${tasks} AND ${bucketRange} GROUP BY task_id, bucket`),
  ]);
  const stale: Bucket[] = [];
  for (const [key, { atMs }] of affected) {
    if ((raw.get(key)?.n ?? 0) === (rolled.get(key)?.n ?? 0)) continue;
    const [taskId, bucket] = JSON.parse(key) as [string, string];
    stale.push({ taskId, bucket, atMs });
  }
  return stale;
}

/** Deletes the buckets' rollup rows and aggregates them again from `results FINAL`. */
async function rebuild(client: ClickHouseClient, rollup: Rollup, buckets: readonly Bucket[], opts: SchemaOptions): Promise<void> {
  const { column, expr } = rollup.bucket;
  const where = (bucketSide: string) =>
    buckets.map((b) => `(task_id = ${sqlString(b.taskId)} AND ${bucketSide} = ${bucketAt(rollup, b.atMs)})`).join(' OR ');
  const table = rollup.table.name;
  await command(client, deleteWhere(table, where(column), opts), `deleting stale rows of ${table}`);
  const source = `(SELECT * FROM ${DATABASE}.${RESULTS.name} FINAL WHERE ${where(expr)})`;
  await command(client, `INSERT INTO ${DATABASE}.${table} ${rollup.view.select(source)}`, `rebuilding ${table}`);
  await waitForMutations(client, storageTable(table, opts));
}

async function waitForMutations(client: ClickHouseClient, table: string): Promise<void> {
  const deadline = Date.now() + MUTATION_WAIT_MS;
  for (;;) {
    const [row] = await select<{ n: number | string }>(
      client,
      `SELECT count() AS n FROM system.mutations WHERE database = ${sqlString(DATABASE)} AND table = ${sqlString(table)} AND is_done = 0`,
    );
    if (Number(row?.n ?? 0) === 0) return;
    if (Date.now() > deadline) throw toStoreError(new Error(`mutations on ${table} still running after ${MUTATION_WAIT_MS} ms`), 'repairing rollups');
    await new Promise((resolve) => setTimeout(resolve, MUTATION_POLL_MS));
  }
}

async function select<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  try {
    return await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
  } catch (err) {
    throw toStoreError(err, 'repairing rollups');
  }
}

async function command(client: ClickHouseClient, query: string, what: string): Promise<void> {
  try {
    await client.command({ query });
  } catch (err) {
    throw toStoreError(err, what);
  }
}
