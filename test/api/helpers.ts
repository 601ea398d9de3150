/**
 * Shared pieces of the API tests: fixed API keys of three tenants, an API server on a free port
 * over a given ClickHouse handle, signing clients for each key, and a suite's set-up of both
 * engines with an API over each.
 */
import { migrate, type ClickHouse } from '@vantage/collector';
import { ENGINE_NAMES, startEngines, type EngineName, type Engines } from '../helpers/clickhouse-engines.ts';
import { VantageClient, type ClientOptions } from '../../analyzer/src/api/client.ts';
import { KeyRing, type ApiKey } from '../../analyzer/src/api/keys.ts';
import { startApi, type ApiOptions, type RunningApi } from '../../analyzer/src/api/server.ts';

const key = (id: string, tenant: string, scope: 'read' | 'write'): ApiKey => ({
  id,
  secret: `secret-of-${id}-0123456789abcdefghijklmnop`,
  tenant,
  scope,
  name: `${tenant} ${scope}`,
  created_at: '2024-01-01T00:00:00.000Z',
  revoked_at: null,
});

export const KEYS = {
  acme: key('vk_00000000000000a1', 'acme', 'write'),
  acmeRead: key('vk_00000000000000a2', 'acme', 'read'),
  globex: key('vk_00000000000000b1', 'globex', 'write'),
} as const;

export interface TestApi {
  api: RunningApi;
  /** Signing clients per key. */
  acme: VantageClient;
  acmeRead: VantageClient;
  globex: VantageClient;
  client(k: ApiKey, o?: Partial<ClientOptions>): VantageClient;
  close(): Promise<void>;
}

/** Migrates the schema and starts the API on 127.0.0.1:0 with the fixed keys. */
export async function startTestApi(ch: ClickHouse, opts: Partial<ApiOptions> = {}): Promise<TestApi> {
  await migrate(ch.client);
  const api = await startApi({ ch, keys: KeyRing.fromKeys(Object.values(KEYS)), host: '127.0.0.1', port: 0, ...opts });
  const client = (k: ApiKey, o: Partial<ClientOptions> = {}) => new VantageClient({ baseUrl: api.url, keyId: k.id, secret: k.secret, ...o });
  return { api, acme: client(KEYS.acme), acmeRead: client(KEYS.acmeRead), globex: client(KEYS.globex), client, close: () => api.close() };
}

/** A suite's context with both engines and an API over each. */
export interface EnginesCtx {
  engines: Engines;
  apis: Partial<Record<EngineName, TestApi>>;
}

/**
 * Starts both engines and an API over each, then `setUp` for each engine (its tasks, its data).
 * Fills `ctx` as it goes, so `stopEngineApis` undoes what started when a step fails.
 */
export async function startEngineApis(ctx: EnginesCtx, setUp?: (t: TestApi, ch: ClickHouse) => Promise<void>): Promise<void> {
  ctx.engines = await startEngines();
  ctx.apis = {};
  for (const engine of ENGINE_NAMES) {
    const ch = ctx.engines.get(engine);
    const t = await startTestApi(ch);
    ctx.apis[engine] = t;
    await setUp?.(t, ch);
  }
}

/** Closes the APIs, then the engines (whatever of them started). */
export async function stopEngineApis(ctx: Partial<EnginesCtx>): Promise<void> {
  for (const api of Object.values(ctx.apis ?? {})) await api?.close();
  await ctx.engines?.cleanup();
}

/** Asserts-friendly summary of a failed response. */
export function show(res: { status: number; body: unknown }): string {
  return `${res.status} ${JSON.stringify(res.body).slice(0, 600)}`;
}
