/**
 * What every channel module provides: its config keys, a payload builder (with the channel's own
 * signing) and a reading of the channel's answer. The notifier owns HTTP, retries, rate limits
 * and logging; a module only knows its format. One module per channel, registered in registry.ts.
 */
import type { AlarmEvent } from '../../alarms/event.ts';
import type { Validator } from '../../../../probe/src/contract/shape.ts';

export const CHANNEL_TYPES = ['webhook', 'slack', 'dingtalk', 'wecom', 'feishu', 'pagerduty', 'alertmanager'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** A secret written in the config as `env:NAME` (read from the environment at start) or as itself. */
export type SecretRef = { env: string } | { value: string };

export interface RateLimit {
  count: number;
  perMs: number;
}

export interface ChannelConfig {
  name: string;
  type: ChannelType;
  url: string;
  timeoutMs: number;
  /** null: the channel type's own default (e.g. DingTalk 20/min). */
  rateLimit: RateLimit | null;
  /** null: notifier.max_attempts. */
  maxAttempts: number | null;
  /** Extra request headers (e.g. Authorization for an Alertmanager receiver). */
  headers: Record<string, string>;
  /** What the channel signs or authenticates with, in the module's order (webhook: several, for rotation). */
  secrets: SecretRef[];
  /** Type-specific settings the module validated. */
  options: Record<string, unknown>;
}

/** A channel whose secrets were read. */
export interface ResolvedChannel extends ChannelConfig {
  secretValues: string[];
}

export interface BuildContext {
  /** Epoch ms: signatures and timestamps. */
  nowMs: number;
  /** Prefix for evidence links that are API paths. */
  externalUrl: string | null;
  /** The same for every attempt of one event: receivers dedup on it. */
  idempotencyKey: string;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Answer {
  status: number;
  /** The start of the body (capped). */
  body: string;
  headers: Record<string, string>;
}

export interface Acceptance {
  ok: boolean;
  /** false: retrying cannot help (bad config, refused payload): dead letter at once. */
  retry: boolean;
  /** What the answer said, for the delivery log. */
  detail: string;
}

/** The module's own keys: field validators, and how its secrets are named. */
export interface ChannelModule {
  readonly type: ChannelType;
  /** Used when the config gives no url (PagerDuty's public endpoint). */
  readonly defaultUrl: string | null;
  readonly defaultRateLimit: RateLimit | null;
  /** Keys beyond the common ones, each with a validator; `required` ones must be given. */
  readonly keys: Record<string, { validator: Validator<unknown>; required?: boolean }>;
  /** The secrets in `options` (e.g. ['secret']), read in this order into secretValues. */
  readonly secretKeys: readonly string[];
  build(event: AlarmEvent, channel: ResolvedChannel, ctx: BuildContext): OutgoingRequest;
  accept(answer: Answer): Acceptance;
}

/** The usual reading of an HTTP answer: 2xx ok; 408, 425, 429 and 5xx retry; other 4xx are final. */
export function acceptHttp(answer: Answer): Acceptance {
  const { status } = answer;
  if (status >= 200 && status < 300) return { ok: true, retry: false, detail: `HTTP ${status}` };
  const retry = status >= 500 || status === 408 || status === 425 || status === 429;
  return { ok: false, retry, detail: `HTTP ${status}${answer.body ? `: ${answer.body.slice(0, 200)}` : ''}` };
}

/** JSON of an answer body, or null. */
export function answerJson(answer: Answer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(answer.body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The reading of a robot that answers HTTP 200 with a JSON code: the HTTP status first, then the
 * code `read` finds (0 is accepted; `final` codes are not retried), named `name` in the detail.
 */
export function acceptCode(
  answer: Answer, name: string, final: ReadonlySet<number>,
  read: (json: Record<string, unknown> | null) => { code: unknown; message: unknown },
): Acceptance {
  const http = acceptHttp(answer);
  if (!http.ok) return http;
  const { code, message } = read(answerJson(answer));
  if (code === 0) return { ok: true, retry: false, detail: `HTTP ${answer.status} ${name} 0` };
  const retry = !(typeof code === 'number' && final.has(code));
  return { ok: false, retry, detail: `HTTP ${answer.status} ${name} ${String(code)}: ${String(message ?? answer.body.slice(0, 200))}` };
}

export function jsonRequest(url: string, payload: unknown, headers: Record<string, string> = {}): OutgoingRequest {
  return { url, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(payload) };
}
