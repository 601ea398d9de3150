/**
 * The fleet: every probe heard from within a window, with its latest heartbeat, and online while
 * its last heartbeat is recent (probes send one every 15 s).
 */
import { DATABASE, PROBE_HEARTBEATS, sqlDateTime, type ClickHouse } from '@vantage/collector';
import { queryRows } from './query.ts';

interface FleetRow {
  probe_id: string;
  l_region: string;
  l_isp: string;
  l_asn: number | null;
  l_label_keys: string[];
  l_label_values: string[];
  l_version: string;
  last_ms: number;
  started_ms: number;
  l_task_count: number;
  l_spool_depth: number;
  l_spool_dropped: number;
  l_last_error: string | null;
  beats: number;
}

export interface FleetProbe {
  probe_id: string;
  status: 'online' | 'offline';
  region: string;
  isp: string;
  asn: number | null;
  labels: Record<string, string>;
  version: string;
  last_heartbeat: string;
  /** Seconds since the last heartbeat. */
  silent_for_s: number;
  started_at: string;
  task_count: number;
  spool_depth: number;
  spool_dropped: number;
  last_error: string | null;
}

export async function queryFleet(ch: ClickHouse, opts: { now: number; seenWithinS: number; offlineAfterS: number }): Promise<FleetProbe[]> {
  // argMax by sent_at_ms: the latest heartbeat's fields, without FINAL (duplicates are identical).
  const latest = (c: string) => `argMax(${c}, sent_at_ms) AS l_${c}`;
  const rows = await queryRows<FleetRow>(
    ch,
    `SELECT probe_id, ${['region', 'isp', 'asn', 'label_keys', 'label_values', 'version', 'task_count', 'spool_depth', 'spool_dropped', 'last_error'].map(latest).join(', ')},
  max(sent_at_ms) AS last_ms, argMax(started_at_ms, sent_at_ms) AS started_ms, count() AS beats
FROM ${DATABASE}.${PROBE_HEARTBEATS.name}
WHERE sent_at >= ${sqlDateTime(opts.now - opts.seenWithinS * 1000)}
GROUP BY probe_id
ORDER BY probe_id`,
  );
  return rows.map((r) => {
    const silent = Math.max(0, Math.round((opts.now - Number(r.last_ms)) / 1000));
    return {
      probe_id: r.probe_id,
      status: silent <= opts.offlineAfterS ? 'online' : 'offline',
      region: r.l_region,
      isp: r.l_isp,
      asn: r.l_asn === null ? null : Number(r.l_asn),
      labels: Object.fromEntries(r.l_label_keys.map((k, i) => [k, r.l_label_values[i] ?? ''])),
      version: r.l_version,
      last_heartbeat: new Date(Number(r.last_ms)).toISOString(),
      silent_for_s: silent,
      started_at: new Date(Number(r.started_ms)).toISOString(),
      task_count: Number(r.l_task_count),
      spool_depth: Number(r.l_spool_depth),
      spool_dropped: Number(r.l_spool_dropped),
      last_error: r.l_last_error,
    };
  });
}
