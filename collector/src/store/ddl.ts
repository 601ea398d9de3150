/**
 * Renders table and view definitions as DDL for a single node or for a cluster. The same
 * definitions serve both: on a cluster every table becomes a replicated `<name>_local` on each
 * node plus a Distributed `<name>` over them, so queries use the same names either way.
 */
import { sqlClusterName, sqlString } from './sql.ts';

export const DATABASE = 'vantage';

export interface SchemaOptions {
  /** Cluster name from config (`remote_servers`); absent for a single node or chDB. */
  cluster?: string;
}

export type TableEngine = 'MergeTree' | 'ReplacingMergeTree' | 'AggregatingMergeTree';

export interface TableDef {
  name: string;
  /** [column, type] in order. */
  columns: readonly (readonly [string, string])[];
  engine: TableEngine;
  /** Partition expression; retention drops these partitions. */
  partitionBy?: string;
  /** How a partition id reads as a date (for retention). */
  partitionUnit?: 'day' | 'month';
  orderBy: readonly string[];
  /** Distributed sharding key: rows that must dedup or merge together land on one shard. */
  shardingKey: string;
}

export interface ViewDef {
  name: string;
  /** The table the view writes to, and the one whose inserts it reads. */
  to: string;
  from: string;
  /** The SELECT, given the source table's qualified name. */
  select: (source: string) => string;
}

/** The table that holds rows on a node: `<name>_local` on a cluster, `<name>` otherwise. */
export function storageTable(name: string, opts: SchemaOptions): string {
  return opts.cluster === undefined ? name : `${name}_local`;
}

function onCluster(opts: SchemaOptions): string {
  return opts.cluster === undefined ? '' : ` ON CLUSTER ${sqlClusterName(opts.cluster)}`;
}

export function createDatabase(opts: SchemaOptions): string {
  return `CREATE DATABASE IF NOT EXISTS ${DATABASE}${onCluster(opts)}`;
}

export function createTable(def: TableDef, opts: SchemaOptions): string[] {
  const local = storageTable(def.name, opts);
  const engine =
    opts.cluster === undefined
      ? def.engine
      : `Replicated${def.engine}(${sqlString(`/clickhouse/tables/{shard}/${DATABASE}/${def.name}`)}, '{replica}')`;
  const columns = def.columns.map(([name, type]) => `    ${name} ${type}`).join(',\n');
  const clauses = [
    `ENGINE = ${engine}`,
    ...(def.partitionBy ? [`PARTITION BY ${def.partitionBy}`] : []),
    `ORDER BY (${def.orderBy.join(', ')})`,
  ];
  const statements = [`CREATE TABLE IF NOT EXISTS ${DATABASE}.${local}${onCluster(opts)}\n(\n${columns}\n)\n${clauses.join('\n')}`];
  if (opts.cluster !== undefined) {
    const args = [sqlString(opts.cluster), sqlString(DATABASE), sqlString(local), def.shardingKey].join(', ');
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${DATABASE}.${def.name}${onCluster(opts)} AS ${DATABASE}.${local}\nENGINE = Distributed(${args})`,
    );
  }
  return statements;
}

/** A materialized view on every node, from the node's storage table into the node's target table. */
export function createView(def: ViewDef, opts: SchemaOptions): string {
  const target = `${DATABASE}.${storageTable(def.to, opts)}`;
  const source = `${DATABASE}.${storageTable(def.from, opts)}`;
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${DATABASE}.${def.name}${onCluster(opts)} TO ${target}\nAS ${def.select(source)}`;
}

/** `ALTER TABLE … DROP PARTITION ID '…'` on the table holding the rows (every node on a cluster). */
export function dropPartition(table: string, partitionId: string, opts: SchemaOptions): string {
  return `ALTER TABLE ${DATABASE}.${storageTable(table, opts)}${onCluster(opts)} DROP PARTITION ID ${sqlString(partitionId)}`;
}

/** `ALTER TABLE … DELETE WHERE …` (a mutation) on the table holding the rows. */
export function deleteWhere(table: string, condition: string, opts: SchemaOptions): string {
  return `ALTER TABLE ${DATABASE}.${storageTable(table, opts)}${onCluster(opts)} DELETE WHERE ${condition}`;
}

/**
 * `ALTER TABLE … ADD COLUMN` (18.16 has no `IF NOT EXISTS` here; the migrator checks first). On a
 * cluster the Distributed table gets the column too.
 */
export function addColumn(table: string, column: string, type: string, opts: SchemaOptions): string[] {
  return columnTables(table, opts).map((name) => `ALTER TABLE ${DATABASE}.${name}${onCluster(opts)} ADD COLUMN ${column} ${type}`);
}

/** The tables a new column goes to, in the order addColumn() alters them: the storage table, then on a cluster the Distributed one. */
export function columnTables(table: string, opts: SchemaOptions): string[] {
  return opts.cluster === undefined ? [table] : [storageTable(table, opts), table];
}
