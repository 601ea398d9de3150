/**
 * The one place where `vantage collector` opens its store. The CLI depends on the factory type,
 * so tests can hand it another store.
 */
import type { Logger } from '../../probe/src/run/log.ts';
import { join } from 'node:path';
import { openClickHouseStore } from './store/clickhouse-store.ts';
import type { ResultStore } from './store/result-store.ts';
import { DEFAULT_RETENTION } from './store/retention.ts';

export interface StoreSettings {
  /** A ClickHouse server over HTTP (CLICKHOUSE_URL/_USER/_PASSWORD); null = embedded chDB in `dataDir`. */
  server: { url: string; user: string | null; password: string | null } | null;
  /** --data: where embedded chDB keeps its files. */
  dataDir: string;
  /** --retention-days: raw data older than this is dropped (by partition). */
  retentionDays: number;
  /** --cluster: the ClickHouse cluster (remote_servers) for ON CLUSTER DDL; null for one node or chDB. */
  cluster: string | null;
  log: Logger;
}

export type OpenStore = (settings: StoreSettings) => Promise<ResultStore>;

const RETENTION_EVERY_MS = 3_600_000;

/**
 * Opens ClickHouse (the server when CLICKHOUSE_URL is set, else embedded chDB under --data),
 * applies pending migrations, and drops partitions past the retention now and every hour.
 */
export const openStore: OpenStore = async (settings) => {
  const store = await openClickHouseStore(
    settings.server
      ? { engine: 'server', url: settings.server.url, username: settings.server.user ?? undefined, password: settings.server.password ?? undefined }
      : { engine: 'chdb', path: join(settings.dataDir, 'chdb') },
    { cluster: settings.cluster ?? undefined },
  );
  const policy = { days: settings.retentionDays, rollupDays: Math.max(DEFAULT_RETENTION.rollupDays, settings.retentionDays) };
  const prune = () =>
    store.applyRetention(policy).then(
      (dropped) => dropped.length > 0 && settings.log.info('retention: dropped partitions', { partitions: dropped.length }),
      (err: Error) => settings.log.warn('retention failed; trying again in an hour', { error: err.message }),
    );
  void prune();
  const timer = setInterval(prune, RETENTION_EVERY_MS);
  timer.unref();
  return {
    insertResults: (records, hints) => store.insertResults(records, hints),
    storedIds: (records) => store.storedIds(records),
    insertRejected: (rows) => store.insertRejected(rows),
    insertHeartbeats: (rows) => store.insertHeartbeats(rows),
    close: async () => {
      clearInterval(timer);
      await store.close();
    },
  };
};
