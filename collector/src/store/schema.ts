/**
 * Versioned migrations of database `vantage`. Each is a numbered list of steps that are safe to
 * run again (IF NOT EXISTS, or checked first), so two collectors starting at once, or a migration
 * interrupted half-way, are harmless: `migrate.ts` reruns whatever is not recorded as applied.
 * Append new migrations; never edit a released one.
 */
import { addColumn, createDatabase, createTable, createView, type SchemaOptions } from './ddl.ts';
import {
  PROBE_HEARTBEATS, REJECTED_RECORDS, RESULTS, RESULTS_1D, RESULTS_1H, RESULTS_1M, RESULTS_1H_CELLS, SCHEMA_MIGRATIONS, VERDICTS,
} from './tables.ts';
import { TASKS } from './tables-api.ts';
import { ALARM_DEAD_LETTERS, ALARM_DELIVERIES, ALARM_EVENTS } from './tables-alarms.ts';

/** A DDL statement that is idempotent by itself, or a column to add when it is missing. */
export type MigrationStep = string | { addColumn: { table: string; column: string; type: string } };

export interface Migration {
  version: number;
  name: string;
  steps(opts: SchemaOptions): MigrationStep[];
}

/** The database and the table recording applied migrations; created before any migration runs. */
export function bootstrapStatements(opts: SchemaOptions): string[] {
  return [createDatabase(opts), ...createTable(SCHEMA_MIGRATIONS, opts)];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'results, rollups (1m, 1h, 1d), rejected records, probe heartbeats',
    steps: (opts) => [
      ...createTable(RESULTS, opts),
      // Rollup tables before their views, so a view never points at a missing table.
      ...[RESULTS_1M, RESULTS_1H, RESULTS_1D].flatMap((r) => [...createTable(r.table, opts), createView(r.view, opts)]),
      ...createTable(REJECTED_RECORDS, opts),
      ...createTable(PROBE_HEARTBEATS, opts),
    ],
  },
  { version: 2, name: 'hijack verdicts', steps: (opts) => createTable(VERDICTS, opts) },
  { version: 4, name: 'tasks managed through the API', steps: (opts) => createTable(TASKS, opts) },
  {
    version: 3,
    name: 'alarm events, deliveries and dead letters',
    steps: (opts) => [ALARM_EVENTS, ALARM_DELIVERIES, ALARM_DEAD_LETTERS].flatMap((t) => createTable(t, opts)),
  },
  {
    version: 5,
    name: 'hourly rollup per region × ISP cell (results_1h_cells)',
    steps: (opts) => [...createTable(RESULTS_1H_CELLS.table, opts), createView(RESULTS_1H_CELLS.view, opts)],
  },
];

/** Expands an add-column step into its statements (for printing the DDL of a whole schema). */
export function stepStatements(step: MigrationStep, opts: SchemaOptions): string[] {
  return typeof step === 'string' ? [step] : addColumn(step.addColumn.table, step.addColumn.column, step.addColumn.type, opts);
}

/** Every statement of a fresh install, in order: what an operator runs by hand, or reviews. */
export function schemaDdl(opts: SchemaOptions, migrations: readonly Migration[] = MIGRATIONS): string[] {
  return [...bootstrapStatements(opts), ...migrations.flatMap((m) => m.steps(opts).flatMap((s) => stepStatements(s, opts)))];
}
