/**
 * Tables of the query API (migration 4), documented in collector/README.md.
 */
import type { TableDef } from './ddl.ts';

/**
 * Tasks managed through the API (or imported from a probe config), one row per change: the row
 * with the highest `version` is a task's current state, earlier rows are its history. Task ids are
 * global (results are keyed by task id alone), so a task id belongs to the tenant that created it,
 * for good — also after it is deleted.
 */
export const TASKS: TableDef = {
  name: 'tasks',
  columns: [
    ['task_id', 'String'],
    ['version', 'UInt64'],
    ['tenant', 'String'],
    ['kind', 'String'],
    ['target', 'String'],
    ['spec', 'String'],
    ['deleted', 'UInt8'],
    ['source', 'String'],
    ['changed_by', 'String'],
    ['changed_at', "DateTime('UTC')"],
  ],
  engine: 'MergeTree',
  orderBy: ['task_id', 'version'],
  shardingKey: 'cityHash64(task_id)',
};
