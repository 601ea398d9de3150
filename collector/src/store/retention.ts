/**
 * Retention by dropping whole partitions (18.16 has no TTL clause). Partitions are found in
 * system.parts; a day partition goes once it is older than `days` full days, a month partition once
 * its whole month is. On a cluster the drop runs ON CLUSTER against every node's `_local` table.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { toStoreError } from './clickhouse-client.ts';
import { DATABASE, dropPartition, storageTable, type SchemaOptions } from './ddl.ts';
import { sqlString, sqlTuple } from './sql.ts';
import { RETENTION } from './tables.ts';

export interface RetentionPolicy {
  /** Raw results, per-minute rollups, rejected records and heartbeats. */
  days: number;
  /** Hourly and daily rollups. */
  rollupDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { days: 30, rollupDays: 400 };

export interface Partition {
  /** Logical table name (e.g. `results`). */
  table: string;
  /** system.parts partition_id, e.g. `20240501` or `202405`. */
  partitionId: string;
}

const DAY_MS = 86_400_000;

function yyyymmdd(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export function validatePolicy(policy: RetentionPolicy): void {
  for (const [key, value] of Object.entries(policy)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`retention ${key} must be a whole number ≥ 1, got ${value}`);
  }
}

/** Pure: which of these partitions are past retention at `nowMs`. Unknown tables and ids are kept. */
export function partitionsToDrop(parts: readonly Partition[], policy: RetentionPolicy, nowMs: number): Partition[] {
  validatePolicy(policy);
  return parts.filter(({ table, partitionId }) => {
    const rule = RETENTION.find((r) => r.table.name === table);
    if (!rule || !/^\d+$/.test(partitionId)) return false;
    const cutoff = yyyymmdd(nowMs - (rule.keep === 'raw' ? policy.days : policy.rollupDays) * DAY_MS);
    const id = Number(partitionId);
    if (rule.table.partitionUnit === 'month') return partitionId.length === 6 && id < Math.floor(cutoff / 100);
    return partitionId.length === 8 && id < cutoff;
  });
}

/** Finds the partitions of every retained table and drops those past retention; returns them. */
export async function applyRetention(
  client: ClickHouseClient,
  policy: RetentionPolicy,
  opts: SchemaOptions & { nowMs?: number } = {},
): Promise<Partition[]> {
  const byStorage = new Map(RETENTION.map((r) => [storageTable(r.table.name, opts), r.table.name]));
  let parts: Partition[];
  try {
    const result = await client.query({
      query: `SELECT DISTINCT table, partition_id FROM system.parts
WHERE database = ${sqlString(DATABASE)} AND active AND table IN ${sqlTuple([...byStorage.keys()].map(sqlString))}`,
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ table: string; partition_id: string }>();
    parts = rows.map((r) => ({ table: byStorage.get(r.table) ?? r.table, partitionId: String(r.partition_id) }));
  } catch (err) {
    throw toStoreError(err, 'retention: reading system.parts');
  }
  const doomed = partitionsToDrop(parts, policy, opts.nowMs ?? Date.now());
  for (const part of doomed) {
    try {
      await client.command({ query: dropPartition(part.table, part.partitionId, opts) });
    } catch (err) {
      throw toStoreError(err, `retention: dropping ${part.table} partition ${part.partitionId}`);
    }
  }
  return doomed;
}
