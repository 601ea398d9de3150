/**
 * Hijack verdicts of a tenant's tasks: a filtered, paged list (newest first), the region × ISP
 * matrix of classes for the dashboard, and one verdict with its full evidence.
 */
import { DATABASE, VERDICTS, sqlDateTime, sqlNumber, sqlString, sqlTuple, type ClickHouse } from '@vantage/collector';
import { SEVERITY, VERDICT_CLASSES, type VerdictClass } from '../classify/verdict.ts';
import { badRequest } from './errors.ts';
import { queryRows } from './query.ts';
import { TaskStore } from './tasks.ts';

export interface VerdictFilter {
  tenant: string;
  from: number;
  to: number;
  task?: string;
  target?: string;
  classes?: readonly VerdictClass[];
  region?: string;
  isp?: string;
  probe?: string;
}

/** The WHERE clause: the tenant's tasks only, then the caller's filters. */
export function verdictWhere(f: VerdictFilter): string {
  return [
    `round >= ${sqlDateTime(f.from * 1000)} AND round < ${sqlDateTime(f.to * 1000)}`,
    `task_id GLOBAL IN (${TaskStore.ownedSubquery(f.tenant)})`,
    ...(f.task !== undefined ? [`task_id = ${sqlString(f.task)}`] : []),
    ...(f.target !== undefined ? [`target = ${sqlString(f.target)}`] : []),
    ...(f.classes !== undefined ? [`class IN ${sqlTuple(f.classes.map(sqlString))}`] : []),
    ...(f.region !== undefined ? [`probe_region = ${sqlString(f.region)}`] : []),
    ...(f.isp !== undefined ? [`probe_isp = ${sqlString(f.isp)}`] : []),
    ...(f.probe !== undefined ? [`probe_id = ${sqlString(f.probe)}`] : []),
  ].join(' AND ');
}

const COLUMNS = `id, toString(record_id) AS record_id, task_id, target, probe_id, probe_region, probe_isp, resolver,
  toUInt32(round) AS round_s, started_at_ms, class, flags, rule, answer_ips, expected_ips, toUInt32(analyzed_at) AS analyzed_s`;

interface VerdictRow {
  id: string;
  record_id: string;
  task_id: string;
  target: string;
  probe_id: string;
  probe_region: string;
  probe_isp: string;
  resolver: string;
  round_s: number;
  started_at_ms: number;
  class: string;
  flags: string[];
  rule: string;
  answer_ips: string[];
  expected_ips: string[];
  analyzed_s: number;
  evidence?: string;
}

function view(r: VerdictRow): Record<string, unknown> {
  return {
    id: r.id,
    record_id: r.record_id,
    task_id: r.task_id,
    target: r.target,
    probe_id: r.probe_id,
    region: r.probe_region,
    isp: r.probe_isp,
    resolver: r.resolver,
    round: new Date(Number(r.round_s) * 1000).toISOString(),
    started_at: new Date(Number(r.started_at_ms)).toISOString(),
    class: r.class,
    flags: r.flags,
    rule: r.rule,
    answer_ips: r.answer_ips,
    expected_ips: r.expected_ips,
    analyzed_at: new Date(Number(r.analyzed_s) * 1000).toISOString(),
  };
}

/** The position after the last item of a page: [started_at_ms, id], base64url JSON. */
export function encodeCursor(startedAtMs: number, id: string): string {
  return Buffer.from(JSON.stringify([startedAtMs, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { startedAtMs: number; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && value[0] >= 0 && typeof value[1] === 'string' && value[1].length <= 512) {
      return { startedAtMs: value[0] as number, id: value[1] };
    }
  } catch {
    // reported below
  }
  throw badRequest(['cursor: not a cursor from a previous page (pass next_cursor unchanged)']);
}

export async function listVerdicts(ch: ClickHouse, f: VerdictFilter, limit: number, cursor?: string): Promise<{ verdicts: Record<string, unknown>[]; next_cursor: string | null }> {
  const after = cursor !== undefined ? decodeCursor(cursor) : null;
  const where = [verdictWhere(f), ...(after ? [`(started_at_ms < ${sqlNumber(after.startedAtMs)} OR (started_at_ms = ${sqlNumber(after.startedAtMs)} AND id < ${sqlString(after.id)}))`] : [])];
  const rows = await queryRows<VerdictRow>(
    ch,
    `SELECT ${COLUMNS}\nFROM ${DATABASE}.${VERDICTS.name} FINAL\nWHERE ${where.join(' AND ')}\nORDER BY started_at_ms DESC, id DESC\nLIMIT ${limit + 1}`,
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { verdicts: page.map(view), next_cursor: rows.length > limit && last ? encodeCursor(Number(last.started_at_ms), last.id) : null };
}

export interface MatrixCell {
  region: string;
  isp: string;
  total: number;
  classes: Partial<Record<string, number>>;
  /** The most severe class seen in the cell. */
  worst: string;
  last_at: string;
}

export async function verdictMatrix(ch: ClickHouse, f: VerdictFilter): Promise<MatrixCell[]> {
  const rows = await queryRows<{ probe_region: string; probe_isp: string; class: string; n: number; last_ms: number }>(
    ch,
    `SELECT probe_region, probe_isp, class, count() AS n, max(started_at_ms) AS last_ms\nFROM ${DATABASE}.${VERDICTS.name} FINAL\nWHERE ${verdictWhere(f)}\nGROUP BY probe_region, probe_isp, class\nORDER BY probe_region, probe_isp, class`,
  );
  const cells = new Map<string, MatrixCell & { lastMs: number }>();
  for (const r of rows) {
    const key = JSON.stringify([r.probe_region, r.probe_isp]);
    let cell = cells.get(key);
    if (!cell) {
      cell = { region: r.probe_region, isp: r.probe_isp, total: 0, classes: {}, worst: r.class, last_at: '', lastMs: 0 };
      cells.set(key, cell);
    }
    cell.total += Number(r.n);
    cell.classes[r.class] = Number(r.n);
    cell.lastMs = Math.max(cell.lastMs, Number(r.last_ms));
    if (severity(r.class) > severity(cell.worst)) cell.worst = r.class;
  }
  return [...cells.values()].map(({ lastMs, ...cell }) => ({ ...cell, last_at: new Date(lastMs).toISOString() }));
}

function severity(c: string): number {
  return (VERDICT_CLASSES as readonly string[]).includes(c) ? SEVERITY[c as VerdictClass] : -1;
}

const VERDICT_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})\/(.{1,300})$/;

/** One verdict of the tenant's tasks with its evidence (parsed), or null. */
export async function getVerdict(ch: ClickHouse, tenant: string, id: string): Promise<Record<string, unknown> | null> {
  const m = VERDICT_ID.exec(id);
  if (!m) throw badRequest(['id: not a verdict id (<record id>/<resolver>, as in a listed verdict)']);
  // The record id is a UUIDv7: its first 48 bits are the check's start, which prunes partitions.
  const startedMs = parseInt(m[1]!.replace(/-/g, '').slice(0, 12), 16);
  const day = 86_400_000;
  if (startedMs < 946_684_800_000 || startedMs > 4_102_444_800_000) return null; // outside 2000..2100: no such record
  const rows = await queryRows<VerdictRow>(
    ch,
    `SELECT ${COLUMNS}, evidence\nFROM ${DATABASE}.${VERDICTS.name} FINAL
WHERE round >= ${sqlDateTime(startedMs - day)} AND round < ${sqlDateTime(startedMs + day)}
  AND id = ${sqlString(id)} AND task_id GLOBAL IN (${TaskStore.ownedSubquery(tenant)})\nLIMIT 1`,
  );
  const row = rows[0];
  if (!row) return null;
  let evidence: unknown;
  try {
    evidence = JSON.parse(row.evidence ?? 'null');
  } catch {
    evidence = { unparsable: row.evidence };
  }
  return { ...view(row), evidence };
}
