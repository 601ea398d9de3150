/**
 * `vantage collector` settings from its flags and the environment (flags win). Secrets — the NATS
 * password and token, the ClickHouse password — come only from the environment, so they never
 * show in `ps`. Pure: returns the settings or the first problem, for a usage error.
 */
import { resolve } from 'node:path';
import { splitHostPort } from '../../../probe/src/config/endpoints.ts';
import type { NatsSettings } from '../consume/collector.ts';

export interface CollectorFlags {
  'nats-url'?: string;
  'nats-creds'?: string;
  'nats-nkey'?: string;
  'nats-user'?: string;
  data?: string;
  'batch-size'?: string;
  'batch-ms'?: string;
  'max-ack-pending'?: string;
  'retention-days'?: string;
  'metrics-listen'?: string;
  cluster?: string;
}

/**
 * Options of every central command that connects to NATS and stores in ClickHouse (the
 * parseCommandLine spec); `collectorSettings` reads them.
 */
export const CONNECTION_OPTIONS = {
  'nats-url': { type: 'string' },
  'nats-creds': { type: 'string' },
  'nats-nkey': { type: 'string' },
  'nats-user': { type: 'string' },
  data: { type: 'string', short: 'd' },
  'metrics-listen': { type: 'string' },
} as const;

export interface CollectorSettings {
  nats: NatsSettings;
  clickhouse: { url: string; user: string | null; password: string | null } | null;
  dataDir: string;
  batchSize: number;
  batchMs: number;
  maxAckPending: number;
  retentionDays: number;
  metricsListen: { host: string; port: number };
  cluster: string | null;
}

export const COLLECTOR_DEFAULTS = {
  natsUrl: 'nats://127.0.0.1:4222',
  dataDir: '.vantage',
  batchSize: 5000,
  batchMs: 1000,
  retentionDays: 30,
  metricsListen: '127.0.0.1:9465',
} as const;

export function collectorSettings(flags: CollectorFlags, env: NodeJS.ProcessEnv): CollectorSettings | string {
  const problems: string[] = [];
  const whole = (flag: keyof CollectorFlags, fallback: number, min: number, max: number): number => {
    const text = flags[flag];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) problems.push(`--${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
    return value;
  };
  const batchSize = whole('batch-size', COLLECTOR_DEFAULTS.batchSize, 1, 100_000);
  const batchMs = whole('batch-ms', COLLECTOR_DEFAULTS.batchMs, 10, 600_000);
  const maxAckPending = whole('max-ack-pending', batchSize * 4, 1, 10_000_000);
  const retentionDays = whole('retention-days', COLLECTOR_DEFAULTS.retentionDays, 1, 36_500);

  const listenText = flags['metrics-listen'] ?? COLLECTOR_DEFAULTS.metricsListen;
  const listen = splitHostPort(listenText, { listen: true });
  if (!listen || listen.port === null) problems.push(`--metrics-listen "${listenText}" is not host:port (e.g. 127.0.0.1:9465, or :0 for any free port)`);

  const natsUrl = flags['nats-url'] ?? nonEmpty(env.NATS_URL) ?? COLLECTOR_DEFAULTS.natsUrl;
  for (const part of natsUrl.split(',')) {
    const url = part.trim().includes('://') ? part.trim() : `nats://${part.trim()}`;
    if (!URL.canParse(url) || !['nats:', 'tls:', 'ws:', 'wss:'].includes(new URL(url).protocol)) problems.push(`NATS URL "${part.trim()}" is not nats://host:port`);
  }
  const user = flags['nats-user'] ?? nonEmpty(env.NATS_USER) ?? null;
  const password = env.NATS_PASSWORD ?? null;
  if ((user === null) !== (password === null)) problems.push('the NATS user (--nats-user or NATS_USER) and NATS_PASSWORD go together');

  const clickhouseUrl = nonEmpty(env.CLICKHOUSE_URL);
  if (clickhouseUrl !== undefined && !/^https?:\/\/[^/]/.test(clickhouseUrl)) problems.push(`CLICKHOUSE_URL "${clickhouseUrl}" is not an http(s):// URL`);

  if (problems.length > 0) return problems[0];
  const creds = flags['nats-creds'] ?? nonEmpty(env.NATS_CREDS);
  const nkey = flags['nats-nkey'] ?? nonEmpty(env.NATS_NKEY);
  return {
    nats: {
      url: natsUrl,
      credentials: creds ? resolve(creds) : null,
      nkeySeedFile: nkey ? resolve(nkey) : null,
      user,
      password,
      token: nonEmpty(env.NATS_TOKEN) ?? null,
    },
    clickhouse: clickhouseUrl ? { url: clickhouseUrl, user: nonEmpty(env.CLICKHOUSE_USER) ?? null, password: env.CLICKHOUSE_PASSWORD ?? null } : null,
    dataDir: resolve(flags.data ?? COLLECTOR_DEFAULTS.dataDir),
    batchSize,
    batchMs,
    maxAckPending,
    retentionDays,
    metricsListen: { host: listen!.host, port: listen!.port! },
    cluster: nonEmpty(flags.cluster) ?? null,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
