/**
 * Registers the tasks of a probe config under a tenant (`vantage api tasks import`, and `vantage
 * up` for its own config), so the tenant sees their data through the API. Re-importing an
 * unchanged task writes nothing; an id owned by another tenant is refused, never taken over.
 */
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { ClickHouse } from '@vantage/collector';
import { loadConfig } from '@vantage/probe';
import { ApiError } from './errors.ts';
import { TaskStore } from './tasks.ts';

export interface ImportResult {
  imported: string[];
  unchanged: string[];
  refused: { id: string; reason: string }[];
}

/**
 * The `tasks:` list of a probe config exactly as written, after the whole file validated
 * (throws the probe's ConfigError naming every problem).
 */
export function readConfigTasks(file: string): Record<string, unknown>[] {
  loadConfig(file);
  const doc = yaml.load(readFileSync(file, 'utf8')) as { tasks?: unknown } | null;
  return Array.isArray(doc?.tasks) ? (doc.tasks as Record<string, unknown>[]) : [];
}

export async function importTasks(ch: ClickHouse, tenant: string, tasks: readonly Record<string, unknown>[], now: () => number = Date.now): Promise<ImportResult> {
  const store = new TaskStore(ch, now);
  const result: ImportResult = { imported: [], unchanged: [], refused: [] };
  for (const raw of tasks) {
    const id = String(raw.id);
    const current = await store.get(id);
    if (current && current.tenant === tenant && !current.deleted && JSON.stringify(current.spec) === JSON.stringify(raw)) {
      result.unchanged.push(id);
      continue;
    }
    try {
      await store.save(tenant, raw, { mode: 'upsert', source: 'import', changedBy: 'import' });
      result.imported.push(id);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      result.refused.push({ id, reason: err.message });
    }
  }
  return result;
}
