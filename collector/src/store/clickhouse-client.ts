/**
 * Opens the one ClickHouse client the project uses (@clickhouse/client) on either engine:
 * a ClickHouse server over HTTP (CLICKHOUSE_URL), or embedded chDB at a data dir (the default).
 * chDB allows one data directory per process, so a process opens one chDB path at most.
 */
import { mkdirSync } from 'node:fs';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './result-store.ts';

export type ClickHouseSettings =
  | {
      engine: 'server';
      /** e.g. http://127.0.0.1:8123 */
      url: string;
      username?: string;
      password?: string;
      /** Per request; default 30 s. */
      requestTimeoutMs?: number;
    }
  | {
      engine: 'chdb';
      /** The data directory (created if missing). */
      path: string;
    };

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export interface ClickHouse {
  readonly client: ClickHouseClient;
  readonly engine: 'server' | 'chdb';
  close(): Promise<void>;
}

/**
 * Settings sent with every request. 18.16 quotes 64-bit integers in JSON by default; numbers are
 * what the code expects (every UInt64 we store is below 2^53).
 */
const COMMON_SETTINGS = { output_format_json_quote_64bit_integers: 0 } as const;

export async function openClickHouse(settings: ClickHouseSettings): Promise<ClickHouse> {
  const log = { level: ClickHouseLogLevel.OFF }; // errors are thrown to the caller, who logs them as JSON
  if (settings.engine === 'server') {
    const client = createClient({
      url: settings.url,
      username: settings.username ?? 'default',
      password: settings.password ?? '',
      request_timeout: settings.requestTimeoutMs ?? 30_000,
      clickhouse_settings: COMMON_SETTINGS,
      log,
    });
    return { client, engine: 'server', close: () => client.close() };
  }
  mkdirSync(settings.path, { recursive: true });
  // Loaded only when used: libchdb is large and a server deployment never needs it.
  const { createChdbConnection } = await import('chdb/connection');
  const client = createClient({
    // chdb types its connection against @clickhouse/client-common, which the client bundles its own
    // copy of: the shapes are the same, the declarations are not.
    connection: createChdbConnection({ path: settings.path }) as unknown as ClientConnection,
    clickhouse_settings: COMMON_SETTINGS,
    log,
  });
  return { client, engine: 'chdb', close: () => client.close() };
}

/**
 * Settings from the environment: CLICKHOUSE_URL (+ CLICKHOUSE_USER, CLICKHOUSE_PASSWORD) selects a
 * server; without it, chDB at `chdbPath`.
 */
export function clickHouseSettingsFromEnv(env: NodeJS.ProcessEnv, chdbPath: string): ClickHouseSettings {
  const url = env.CLICKHOUSE_URL?.trim();
  if (!url) return { engine: 'chdb', path: chdbPath };
  return {
    engine: 'server',
    url,
    ...(env.CLICKHOUSE_USER ? { username: env.CLICKHOUSE_USER } : {}),
    ...(env.CLICKHOUSE_PASSWORD !== undefined ? { password: env.CLICKHOUSE_PASSWORD } : {}),
  };
}

/** ClickHouse error codes worth retrying: overload, timeouts, network, replication hiccups. */
const TRANSIENT_CODES = new Set([
  3, 159, 202, 203, 209, 210, 241, 242, 252, 279, 285, 319, 394, 425, 473, 999, 1000,
]);

/** The ClickHouse error code of an error from either engine (18.16 answers in its old text form). */
export function clickHouseErrorCode(err: unknown): number | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  const match = /\bCode: (\d+)/.exec(err instanceof Error ? err.message : String(err));
  return match ? Number(match[1]) : null;
}

/** Wraps an error from the client as a StoreError; no error code at all means the link failed. */
export function toStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = clickHouseErrorCode(err);
  const transient = code === null || TRANSIENT_CODES.has(code);
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError(`${what}: ${message.split('\n')[0]}`, transient, { cause: err });
}
