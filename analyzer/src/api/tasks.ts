/**
 * Tasks of tenants, in vantage.tasks (one row per change; the highest version is current).
 * A task is validated exactly as the probe validates a task of its config file, by the probe's own
 * parseConfig, so what the API accepts is what the fleet can run.
 */
import { DATABASE, TASKS, sqlString, type ClickHouse } from '@vantage/collector';
import { ConfigError, parseConfig, type Task } from '@vantage/probe';
import { ApiError, badRequest, notFound } from './errors.ts';
import { insertRows, queryRows } from './query.ts';

export interface StoredTask {
  id: string;
  tenant: string;
  kind: string;
  target: string;
  /** The task as written in a probe config's `tasks:` list. */
  spec: Record<string, unknown>;
  version: number;
  deleted: boolean;
  source: string;
  changed_by: string;
  changed_at: string;
}

/** A probe config around one task: only the task is the caller's (resolvers given: no file read). */
const WRAPPER = { id: 'api', region: 'api', isp: 'api', resolvers: ['127.0.0.1'] };

/**
 * Validates one task as written in a probe config. Problems are named from `where` ("body",
 * "tasks[3]"), e.g. "body.http.expect_status[0]: must be at most 599, got 999".
 */
export function validateTask(raw: unknown, where = 'body'): Task {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest([`${where}: expected a JSON object (a task as in a probe config)`]);
  try {
    const config = parseConfig({ probe: WRAPPER, tasks: [raw] }, where, () => {
      throw new Error('no files are read for API tasks');
    });
    return config.tasks[0]!;
  } catch (err) {
    if (err instanceof ConfigError) throw badRequest(err.problems.map((p) => p.replace(/^tasks\[0\]/, where)));
    throw err;
  }
}

const CURRENT = `SELECT task_id, max(version) AS cur_version, argMax(tenant, version) AS cur_tenant, argMax(kind, version) AS cur_kind,
  argMax(target, version) AS cur_target, argMax(spec, version) AS cur_spec, argMax(deleted, version) AS cur_deleted,
  argMax(source, version) AS cur_source, argMax(changed_by, version) AS cur_changed_by, toUInt32(argMax(changed_at, version)) AS cur_changed_at
FROM ${DATABASE}.${TASKS.name}`;

interface CurrentRow {
  task_id: string;
  cur_version: number;
  cur_tenant: string;
  cur_kind: string;
  cur_target: string;
  cur_spec: string;
  cur_deleted: number;
  cur_source: string;
  cur_changed_by: string;
  cur_changed_at: number;
}

function fromRow(r: CurrentRow): StoredTask {
  return {
    id: r.task_id,
    tenant: r.cur_tenant,
    kind: r.cur_kind,
    target: r.cur_target,
    spec: JSON.parse(r.cur_spec) as Record<string, unknown>,
    version: Number(r.cur_version),
    deleted: Number(r.cur_deleted) === 1,
    source: r.cur_source,
    changed_by: r.cur_changed_by,
    changed_at: new Date(Number(r.cur_changed_at) * 1000).toISOString(),
  };
}

export class TaskStore {
  constructor(
    private readonly ch: ClickHouse,
    private readonly now: () => number = Date.now,
    /** Most live tasks one tenant may have (a probe runs 10,000 comfortably). */
    readonly maxPerTenant = 10_000,
  ) {}

  /** The current state of a task id (deleted or not), whoever owns it. */
  async get(id: string): Promise<StoredTask | null> {
    const rows = await queryRows<CurrentRow>(this.ch, `${CURRENT}\nWHERE task_id = ${sqlString(id)}\nGROUP BY task_id`);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** The tenant's live tasks, by id. */
  async list(tenant: string, filter: { target?: string; kind?: string } = {}): Promise<StoredTask[]> {
    const having = [
      `cur_tenant = ${sqlString(tenant)}`,
      'cur_deleted = 0',
      ...(filter.target !== undefined ? [`cur_target = ${sqlString(filter.target)}`] : []),
      ...(filter.kind !== undefined ? [`cur_kind = ${sqlString(filter.kind)}`] : []),
    ];
    const rows = await queryRows<CurrentRow>(this.ch, `${CURRENT}\nGROUP BY task_id\nHAVING ${having.join(' AND ')}\nORDER BY task_id`);
    return rows.map(fromRow);
  }

  /** Ids of every task the tenant owns with this target (deleted ones too: their data stays theirs). */
  async ownedWithTarget(tenant: string, target: string, kind?: string): Promise<string[]> {
    const having = [`cur_tenant = ${sqlString(tenant)}`, `cur_target = ${sqlString(target)}`, ...(kind !== undefined ? [`cur_kind = ${sqlString(kind)}`] : [])];
    const rows = await queryRows<CurrentRow>(this.ch, `${CURRENT}\nGROUP BY task_id\nHAVING ${having.join(' AND ')}\nORDER BY task_id`);
    return rows.map((r) => r.task_id);
  }

  /** SQL subquery: ids of every task the tenant owns (for `task_id GLOBAL IN (…)`). */
  static ownedSubquery(tenant: string): string {
    return `SELECT task_id FROM ${DATABASE}.${TASKS.name} GROUP BY task_id HAVING argMax(tenant, version) = ${sqlString(tenant)}`;
  }

  /**
   * Creates (`mode` create: 409 if the id exists) or replaces (`mode` replace: 404 unless the
   * tenant has it live) a task. An id owned by another tenant is a 409, deleted or not.
   */
  async save(tenant: string, raw: Record<string, unknown>, opts: { mode: 'create' | 'replace' | 'upsert'; source: string; changedBy: string }): Promise<StoredTask> {
    const task = validateTask(raw);
    const current = await this.get(task.id);
    if (current && current.tenant !== tenant) throw new ApiError(409, 'conflict', `task id "${task.id}" is taken; choose another id`);
    const live = current !== null && !current.deleted;
    if (opts.mode === 'create' && live) throw new ApiError(409, 'conflict', `task "${task.id}" exists; update it with PUT /v1/tasks/${task.id}`);
    if (opts.mode === 'replace' && !live) throw notFound(`no task "${task.id}"`);
    if (!live && (await this.list(tenant)).length >= this.maxPerTenant) {
      throw new ApiError(409, 'conflict', `tenant ${tenant} has ${this.maxPerTenant} tasks, the most allowed; delete some first`);
    }
    return this.write(current, { task_id: task.id, tenant, kind: task.kind, target: task.target, spec: JSON.stringify(raw), deleted: 0, source: opts.source, changed_by: opts.changedBy });
  }

  /** Deletes a live task of the tenant; false when it has none with this id. */
  async delete(tenant: string, id: string, changedBy: string): Promise<boolean> {
    const current = await this.get(id);
    if (!current || current.tenant !== tenant || current.deleted) return false;
    await this.write(current, {
      task_id: id, tenant, kind: current.kind, target: current.target, spec: JSON.stringify(current.spec), deleted: 1, source: current.source, changed_by: changedBy,
    });
    return true;
  }

  private async write(current: StoredTask | null, row: Omit<Record<string, string | number>, 'version' | 'changed_at'>): Promise<StoredTask> {
    const now = this.now();
    const version = Math.max(now, (current?.version ?? 0) + 1);
    const full = { ...row, version, changed_at: Math.floor(now / 1000) };
    await insertRows(this.ch, `${DATABASE}.${TASKS.name}`, [full]);
    return {
      id: String(row.task_id),
      tenant: String(row.tenant),
      kind: String(row.kind),
      target: String(row.target),
      spec: JSON.parse(String(row.spec)) as Record<string, unknown>,
      version,
      deleted: row.deleted === 1,
      source: String(row.source),
      changed_by: String(row.changed_by),
      changed_at: new Date(Math.floor(now / 1000) * 1000).toISOString(),
    };
  }
}

/** The view of a task a client gets. */
export function taskView(t: StoredTask): Record<string, unknown> {
  return { id: t.id, kind: t.kind, target: t.target, spec: t.spec, version: t.version, source: t.source, changed_by: t.changed_by, changed_at: t.changed_at };
}
