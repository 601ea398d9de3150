/**
 * Applies the migrations the database has not recorded yet. Every step is idempotent and a
 * version is recorded only after all its steps ran, so running this twice, or from several
 * collectors at the same moment, is harmless: at worst two processes both run a step that
 * is a no-op the second time, and both record the version (reads use DISTINCT).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { clickHouseErrorCode, toStoreError } from './clickhouse-client.ts';
import { columnTables, DATABASE, type SchemaOptions } from './ddl.ts';
import { bootstrapStatements, MIGRATIONS, stepStatements, type Migration, type MigrationStep } from './schema.ts';
import { sqlString } from './sql.ts';
import { SCHEMA_MIGRATIONS } from './tables.ts';

export interface MigrateOptions extends SchemaOptions {
  /** Defaults to MIGRATIONS; tests pass their own to exercise upgrades. */
  migrations?: readonly Migration[];
  /** Clock for `applied_at` (ms since the epoch). */
  now?: () => number;
}

export interface MigrateResult {
  /** Versions this call applied (possibly also applied by a concurrent caller). */
  applied: number[];
  /** The highest version recorded now. */
  current: number;
}

/** Codes of a lost race with a concurrent identical CREATE (the retry then finds it exists). */
const RACE_CODES = new Set([57, 82, 473]);
const RACE_RETRIES = 5;

export async function migrate(client: ClickHouseClient, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = [...(opts.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const now = opts.now ?? Date.now;
  for (const sql of bootstrapStatements(opts)) await run(client, sql, 'bootstrap');

  const done = await appliedVersions(client);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    const what = `migration ${migration.version} (${migration.name})`;
    for (const step of migration.steps(opts)) await runStep(client, step, opts, what);
    try {
      await client.insert({
        table: `${DATABASE}.${SCHEMA_MIGRATIONS.name}`,
        values: [{ version: migration.version, name: migration.name, applied_at: Math.floor(now() / 1000) }],
        format: 'JSONEachRow',
        // On a cluster: written to the shard before the call returns, so the next reader sees it.
        ...(opts.cluster !== undefined ? { clickhouse_settings: { insert_distributed_sync: 1 } } : {}),
      });
    } catch (err) {
      throw toStoreError(err, `${what}: recording the version`);
    }
    done.add(migration.version);
    applied.push(migration.version);
  }
  return { applied, current: Math.max(0, ...done) };
}

/** Versions recorded in schema_migrations. */
export async function appliedVersions(client: ClickHouseClient): Promise<Set<number>> {
  try {
    const result = await client.query({
      query: `SELECT DISTINCT version FROM ${DATABASE}.${SCHEMA_MIGRATIONS.name}`,
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ version: number }>();
    return new Set(rows.map((r) => Number(r.version)));
  } catch (err) {
    throw toStoreError(err, 'reading schema_migrations');
  }
}

async function runStep(client: ClickHouseClient, step: MigrationStep, opts: SchemaOptions, what: string): Promise<void> {
  if (typeof step === 'string') return run(client, step, what);
  const { table, column } = step.addColumn;
  // 18.16 has no ADD COLUMN IF NOT EXISTS: look first; a concurrent migrator may still win the race.
  const statements = stepStatements(step, opts);
  const names = columnTables(table, opts);
  for (const [i, name] of names.entries()) {
    if (await hasColumn(client, name, column)) continue;
    try {
      await client.command({ query: statements[i]! });
    } catch (err) {
      if (!(await hasColumn(client, name, column))) throw toStoreError(err, `${what}: ${statements[i]}`);
    }
  }
}

async function hasColumn(client: ClickHouseClient, table: string, column: string): Promise<boolean> {
  const result = await client.query({
    query: `SELECT count() AS n FROM system.columns WHERE database = ${sqlString(DATABASE)} AND table = ${sqlString(table)} AND name = ${sqlString(column)}`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ n: number }>();
  return Number(rows[0]?.n ?? 0) > 0;
}

async function run(client: ClickHouseClient, sql: string, what: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.command({ query: sql });
      return;
    } catch (err) {
      const code = clickHouseErrorCode(err);
      if (code === null || !RACE_CODES.has(code) || attempt >= RACE_RETRIES) {
        throw toStoreError(err, `${what}: ${sql.split('\n')[0]}`);
      }
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}
