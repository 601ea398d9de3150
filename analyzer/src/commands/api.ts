/**
 * `vantage api`: the query API and dashboard; `vantage api keys …` provisions API keys;
 * `vantage api tasks import` registers a probe config's tasks under a tenant.
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage.
 */
import { join, resolve } from 'node:path';
import { clickHouseSettingsFromEnv, migrate, openClickHouse, type ClickHouse } from '@vantage/collector';
import { ConfigError } from '@vantage/probe';
import { splitHostPort } from '../../../probe/src/config/endpoints.ts';
import { EXIT, parseCommandLine, untilSignal, usageError } from '../../../probe/src/run/command-line.ts';
import { jsonLogger, type Logger } from '../../../probe/src/run/log.ts';
import { importTasks, readConfigTasks } from '../api/import-tasks.ts';
import { createKey, KeyRing, KeysFileError, readKeys, revokeKey, SCOPES, TENANT_PATTERN, type Scope } from '../api/keys.ts';
import { DEFAULT_SKEW_SECONDS, startApi } from '../api/server.ts';

const DEFAULTS = { listen: '127.0.0.1:8080', data: '.vantage', keys: 'api-keys.json' } as const;

export const API_HELP = `Usage: vantage api [options]
       vantage api keys create --tenant NAME [--scope read|write] [--name TEXT] [--keys FILE]
       vantage api keys list [--keys FILE]
       vantage api keys revoke KEY_ID [--keys FILE]
       vantage api tasks import --tenant NAME --config probe.yaml

Serves the query API (availability, hijack verdicts, alarms, fleet, task management; described
at /openapi.json) and the dashboard (/) over ClickHouse. Every /v1 request needs an API key:
"Authorization: Bearer <key id>.<secret>", or a request signed with the key's secret (see
analyzer/README.md, "Signing a request"). A tenant sees only its own tasks and their data.

Options:
      --listen H:P            where to serve (default ${DEFAULTS.listen}; :0 = any free port)
  -d, --data DIR              embedded chDB's data dir when CLICKHOUSE_URL is unset (default ${DEFAULTS.data})
      --keys FILE             the API keys file (env VANTAGE_API_KEYS; default DIR/${DEFAULTS.keys})
      --skew-seconds N        signed requests: allowed clock difference (default ${DEFAULT_SKEW_SECONDS})
      --offline-after N       a probe silent this many seconds is offline (default 45)
      --cluster NAME          the ClickHouse cluster (remote_servers) for the schema's ON CLUSTER DDL
  -h, --help                  show this help

Keys: "keys create" adds a key for a tenant to the keys file (created with mode 0600) and prints
its id and secret once; a running API picks up added and revoked keys within a second.
"tasks import" stores the tasks of a probe config as the tenant's (so the tenant sees their data).

Environment: CLICKHOUSE_URL (unset = embedded chDB in --data), CLICKHOUSE_USER,
CLICKHOUSE_PASSWORD, VANTAGE_API_KEYS. Exit codes: 0 ok, 1 runtime failure, 2 bad usage.`;

export interface ApiCommandDeps {
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  out?: (text: string) => void;
}

export async function apiCommand(argv: string[], deps: ApiCommandDeps = {}): Promise<number> {
  if (argv[0] === 'keys') return keysCommand(argv.slice(1), deps);
  if (argv[0] === 'tasks') return tasksCommand(argv.slice(1), deps);
  return serveCommand(argv, deps);
}

function keysFile(flag: string | undefined, dataDir: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(flag ?? (env.VANTAGE_API_KEYS?.trim() || join(dataDir ?? DEFAULTS.data, DEFAULTS.keys)));
}

async function serveCommand(argv: string[], deps: ApiCommandDeps): Promise<number> {
  const command = 'vantage api';
  const env = deps.env ?? process.env;
  const args = parseCommandLine(command, argv, {
    listen: { type: 'string' },
    data: { type: 'string', short: 'd' },
    keys: { type: 'string' },
    'skew-seconds': { type: 'string' },
    'offline-after': { type: 'string' },
    cluster: { type: 'string' },
  }, API_HELP);
  if (typeof args === 'number') return args;
  const listen = splitHostPort(args.listen ?? DEFAULTS.listen, { listen: true });
  if (!listen || listen.port === null) return usageError(command, `--listen "${args.listen}" is not host:port (e.g. 127.0.0.1:8080)`, API_HELP);
  const skewSeconds = wholeNumber(args['skew-seconds'], DEFAULT_SKEW_SECONDS, 3600);
  const offlineAfterS = wholeNumber(args['offline-after'], 45, 86_400);
  if (skewSeconds === null) return usageError(command, '--skew-seconds must be a whole number from 1 to 3600', API_HELP);
  if (offlineAfterS === null) return usageError(command, '--offline-after must be a whole number from 1 to 86400', API_HELP);

  const log = deps.log ?? jsonLogger('api');
  const dataDir = resolve(args.data ?? DEFAULTS.data);
  const file = keysFile(args.keys, dataDir, env);
  let keys: KeyRing;
  try {
    keys = KeyRing.fromFile(file, { onReloadError: (err) => log.error('keys file unreadable; keeping the last good keys', { file, error: err.message }) });
  } catch (err) {
    if (err instanceof KeysFileError) return usageError(command, err.message);
    throw err;
  }
  if (keys.size === 0) log.warn('no API keys yet: every /v1 request will be refused', { file, create: `vantage api keys create --tenant NAME --keys ${file}` });

  const settings = clickHouseSettingsFromEnv(env, join(dataDir, 'chdb'));
  let ch: ClickHouse;
  try {
    ch = await openClickHouse(settings);
    await migrate(ch.client, args.cluster ? { cluster: args.cluster } : {});
  } catch (err) {
    log.error('cannot open ClickHouse', { error: (err as Error).message, clickhouse: settings.engine === 'server' ? settings.url : `chdb in ${settings.path}` });
    return EXIT.failure;
  }
  let api;
  try {
    api = await startApi({ ch, keys, host: listen.host, port: listen.port, log, skewSeconds, offlineAfterS });
  } catch (err) {
    log.error('cannot listen', { listen: args.listen ?? DEFAULTS.listen, error: (err as Error).message });
    await ch.close().catch(() => undefined);
    return EXIT.failure;
  }
  log.info('api started', { url: api.url, dashboard: `${api.url}/dashboard/`, keys: file, store: settings.engine === 'server' ? settings.url : `chdb in ${settings.path}` });
  (deps.out ?? ((t) => process.stdout.write(t)))(`vantage api: ${api.url}  (dashboard ${api.url}/dashboard/, OpenAPI ${api.url}/openapi.json)\n`);
  await untilSignal(null, log); // a second signal ends the process
  await api.close();
  await ch.close().catch(() => undefined);
  log.info('api stopped');
  return EXIT.ok;
}

/** A whole number from 1 to max, the fallback when absent, null when invalid. */
function wholeNumber(text: string | undefined, fallback: number, max: number): number | null {
  if (text === undefined) return fallback;
  return /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= max ? Number(text) : null;
}

function keysCommand(argv: string[], deps: ApiCommandDeps): number {
  const command = 'vantage api keys';
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const [action, ...more] = argv;
  // revoke takes the key id as its one positional argument.
  const revokeId = action === 'revoke' && more[0] !== undefined && !more[0].startsWith('-') ? more[0] : undefined;
  const rest = revokeId !== undefined ? more.slice(1) : more;
  const args = parseCommandLine(command, rest, {
    tenant: { type: 'string' },
    scope: { type: 'string' },
    name: { type: 'string' },
    keys: { type: 'string' },
    data: { type: 'string', short: 'd' },
  }, API_HELP);
  if (typeof args === 'number') return args;
  const file = keysFile(args.keys, args.data, env);
  try {
    if (action === 'create') {
      if (!args.tenant || !TENANT_PATTERN.test(args.tenant)) return usageError(command, '--tenant NAME is required (letters, digits, "-" and "_", at most 64)');
      const scope = (args.scope ?? 'read') as Scope;
      if (!SCOPES.includes(scope)) return usageError(command, `--scope must be read or write, got "${args.scope}"`);
      const key = createKey(file, { tenant: args.tenant, scope, name: args.name ?? '' });
      out(`${JSON.stringify({ id: key.id, secret: key.secret, tenant: key.tenant, scope: key.scope, keys_file: file, bearer: `${key.id}.${key.secret}` })}\n`);
      return EXIT.ok;
    }
    if (action === 'list') {
      for (const k of readKeys(file)) out(`${JSON.stringify({ id: k.id, tenant: k.tenant, scope: k.scope, name: k.name, created_at: k.created_at, revoked_at: k.revoked_at })}\n`);
      return EXIT.ok;
    }
    if (action === 'revoke') {
      if (!revokeId) return usageError(command, 'revoke needs a key id: vantage api keys revoke vk_…');
      if (!revokeKey(file, revokeId)) return usageError(command, `no key ${revokeId} in ${file}`);
      out(`revoked ${revokeId}\n`);
      return EXIT.ok;
    }
  } catch (err) {
    if (err instanceof KeysFileError) return usageError(command, err.message);
    throw err;
  }
  return usageError(command, `unknown action ${JSON.stringify(action ?? '')}: create, list or revoke`, API_HELP);
}

async function tasksCommand(argv: string[], deps: ApiCommandDeps): Promise<number> {
  const command = 'vantage api tasks';
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const [action, ...rest] = argv;
  if (action !== 'import') return usageError(command, `unknown action ${JSON.stringify(action ?? '')}: import`, API_HELP);
  const args = parseCommandLine(command, rest, { tenant: { type: 'string' }, config: { type: 'string', short: 'c' }, data: { type: 'string', short: 'd' }, cluster: { type: 'string' } }, API_HELP);
  if (typeof args === 'number') return args;
  if (!args.tenant || !TENANT_PATTERN.test(args.tenant)) return usageError(command, '--tenant NAME is required (letters, digits, "-" and "_", at most 64)');
  if (!args.config) return usageError(command, '--config FILE is required (a probe config)');
  let raw: Record<string, unknown>[];
  try {
    raw = readConfigTasks(args.config);
  } catch (err) {
    if (err instanceof ConfigError) return usageError(command, err.message);
    throw err;
  }
  const settings = clickHouseSettingsFromEnv(env, join(resolve(args.data ?? DEFAULTS.data), 'chdb'));
  const ch = await openClickHouse(settings);
  try {
    await migrate(ch.client, args.cluster ? { cluster: args.cluster } : {});
    const result = await importTasks(ch, args.tenant, raw);
    out(`${JSON.stringify(result)}\n`);
    return result.refused.length > 0 ? EXIT.failure : EXIT.ok;
  } catch (err) {
    (deps.log ?? jsonLogger('api')).error('import failed', { error: (err as Error).message });
    return EXIT.failure;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

