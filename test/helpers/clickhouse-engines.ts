/**
 * Both storage engines for one test file: a real clickhouse-server 18.16 (started here, on free
 * loopback ports) and chDB at a temp dir (one per process: chDB binds one data dir per process).
 * Suites loop over `engines` so every storage test runs on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, type Test } from 'uvu';
import { openClickHouse, type ClickHouse } from '../../collector/src/store/clickhouse-client.ts';
import { startClickHouseServer, TEST_PASSWORD, TEST_USER, type ClickHouseServer } from './clickhouse-server.ts';

export const ENGINE_NAMES = ['chdb', 'server'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface Engines {
  server: ClickHouseServer;
  get(name: EngineName): ClickHouse;
  /** Another client on the server (for concurrent callers). */
  openServerClient(): Promise<ClickHouse>;
  cleanup(): Promise<void>;
}

export async function startEngines(): Promise<Engines> {
  const server = await startClickHouseServer();
  const chdbDir = mkdtempSync(join(tmpdir(), 'vantage-chdb-'));
  const opened: ClickHouse[] = [];
  const openServerClient = async () => {
    const ch = await openClickHouse({ engine: 'server', url: server.url, username: TEST_USER, password: TEST_PASSWORD });
    opened.push(ch);
    return ch;
  };
  try {
    const byName = { server: await openServerClient(), chdb: await openClickHouse({ engine: 'chdb', path: chdbDir }) };
    opened.push(byName.chdb);
    return {
      server,
      get: (name) => byName[name],
      openServerClient,
      async cleanup() {
        for (const ch of opened) await ch.close().catch(() => undefined);
        await server.cleanup();
        rmSync(chdbDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server.cleanup();
    throw err;
  }
}

/** A suite whose context holds both engines: started before its first test, cleaned up after its last. */
export function enginesSuite(title: string): Test<{ engines: Engines }> {
  const s = suite<{ engines: Engines }>(title);
  s.before(async (ctx) => {
    ctx.engines = await startEngines();
  });
  s.after(async (ctx) => {
    await ctx.engines?.cleanup();
  });
  return s;
}

/** Rows of a query as JSON objects. */
export async function rows<T = Record<string, unknown>>(ch: ClickHouse, query: string): Promise<T[]> {
  const result = await ch.client.query({ query, format: 'JSONEachRow' });
  return result.json<T>();
}
