/**
 * The `channels:` section of the alarm config: each entry is a name (used in rules and in the
 * notifier's consumer names) and a channel of one type with its keys. Secrets may be written as
 * `env:NAME`; they are read from the environment when the notifier starts, so the analyzer, which
 * reads the same file for its rules, never needs them.
 */
import { ID_PATTERN } from '@vantage/probe';
import { dictionary, number, oneOf, string, text, type Validator } from '../../../probe/src/contract/shape.ts';
import { duration } from '../alarms/duration.ts';
import { CHANNEL_TYPES, type ChannelConfig, type RateLimit, type ResolvedChannel, type SecretRef } from './channels/channel.ts';
import { channelModule } from './channels/registry.ts';

const COMMON_KEYS = ['type', 'url', 'timeout', 'rate_limit', 'max_attempts', 'headers'];
const UNITS: Record<string, number> = { s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

const rateLimit: Validator<RateLimit> = (value, path, problems) => {
  const m = typeof value === 'string' ? /^(\d+)\s*\/\s*(s|sec|m|min|h)$/.exec(value.trim()) : null;
  if (!m || Number(m[1]) < 1) {
    problems.push(`${path}: ${JSON.stringify(value)} is not a rate (write e.g. 20/min, 1/s, 100/h)`);
    return { count: 1, perMs: 1000 };
  }
  return { count: Number(m[1]), perMs: UNITS[m[2]!]! };
};

const httpUrl = string({ pattern: /^https?:\/\/[^\s/?#]+[^\s]*$/, hint: 'an http:// or https:// URL' });

export function secretRef(value: string): SecretRef {
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  return env ? { env: env[1]! } : { value };
}

export function parseChannels(raw: Record<string, unknown>, path: string, problems: string[]): Record<string, ChannelConfig> {
  const out: Record<string, ChannelConfig> = {};
  for (const [name, value] of Object.entries(raw)) {
    const at = `${path}.${name}`;
    if (!ID_PATTERN.test(name)) {
      problems.push(`${at}: "${name}" is not a valid channel name (letters, digits, _ and -, at most 64)`);
      continue;
    }
    const channel = parseChannel(name, value, at, problems);
    if (channel) out[name] = channel;
  }
  return out;
}

function parseChannel(name: string, value: unknown, path: string, problems: string[]): ChannelConfig | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${path}: expected a mapping with a type and a url`);
    return null;
  }
  const raw = value as Record<string, unknown>;
  const before = problems.length;
  const type = raw.type === undefined ? (problems.push(`${path}.type: is required (one of ${CHANNEL_TYPES.join(', ')})`), undefined) : oneOf(CHANNEL_TYPES)(raw.type, `${path}.type`, problems);
  if (!type) return null;
  const module = channelModule(type);
  for (const key of Object.keys(raw)) {
    if (!COMMON_KEYS.includes(key) && !(key in module.keys)) {
      problems.push(`${path}.${key}: unknown key for a ${type} channel (known: ${[...COMMON_KEYS, ...Object.keys(module.keys)].join(', ')})`);
    }
  }
  const present = (key: string) => raw[key] !== undefined && raw[key] !== null;
  let url = module.defaultUrl ?? '';
  if (present('url')) url = httpUrl(raw.url, `${path}.url`, problems);
  else if (!module.defaultUrl) problems.push(`${path}.url: is required`);
  const timeoutMs = present('timeout') ? duration({ min: 100, max: 120_000 })(raw.timeout, `${path}.timeout`, problems) : 10_000;
  const limit = present('rate_limit') ? rateLimit(raw.rate_limit, `${path}.rate_limit`, problems) : null;
  const maxAttempts = present('max_attempts') ? number({ min: 1, max: 100, integer: true })(raw.max_attempts, `${path}.max_attempts`, problems) : null;
  const headers = present('headers') ? dictionary(text)(raw.headers, `${path}.headers`, problems) : {};
  const options: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(module.keys)) {
    if (present(key)) options[key] = spec.validator(raw[key], `${path}.${key}`, problems);
    else if (spec.required) problems.push(`${path}.${key}: is required for a ${type} channel`);
  }
  if (problems.length > before) return null;
  const secrets = module.secretKeys.flatMap((key) => {
    const v = options[key];
    if (v === undefined) return [];
    return (Array.isArray(v) ? (v as string[]) : [v as string]).map(secretRef);
  });
  return { name, type, url, timeoutMs, rateLimit: limit ?? module.defaultRateLimit, maxAttempts, headers: headers ?? {}, secrets, options };
}

export class MissingSecretError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'MissingSecretError';
  }
}

/** The channel with its secrets read from `env`; throws MissingSecretError naming each missing variable. */
export function resolveChannel(channel: ChannelConfig, env: NodeJS.ProcessEnv): ResolvedChannel {
  const missing: string[] = [];
  const secretValues = channel.secrets.map((ref) => {
    if ('value' in ref) return ref.value;
    const v = env[ref.env];
    if (v === undefined || v === '') missing.push(`channels.${channel.name}: environment variable ${ref.env} is not set`);
    return v ?? '';
  });
  if (missing.length > 0) throw new MissingSecretError(missing);
  return { ...channel, secretValues };
}

/** Environment variables a config's channels read (for `vantage alarms check`). */
export function secretVariables(channels: Record<string, ChannelConfig>): string[] {
  return [...new Set(Object.values(channels).flatMap((c) => c.secrets.flatMap((s) => ('env' in s ? [s.env] : []))))].sort();
}
