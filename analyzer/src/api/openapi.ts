/**
 * The OpenAPI 3.1 document, built from the same route declarations the server runs (paths,
 * parameters, scopes), plus the schemas of the answers. Served at /openapi.json.
 */
import { openApiParameters } from './params.ts';
import type { RouteSpec } from './route.ts';
import { PROBE_VERSION } from '../../../probe/src/version.ts';

const quantiles = {
  type: ['object', 'null'],
  description: 'Latency percentiles in ms (t-digest); null when the phase never happened.',
  properties: { p50: { type: 'number' }, p90: { type: 'number' }, p95: { type: 'number' }, p99: { type: 'number' } },
  required: ['p50', 'p90', 'p95', 'p99'],
};
const stats = {
  checks: { type: 'integer' },
  successes: { type: 'integer' },
  failures: { type: 'integer' },
  success_ratio: { type: ['number', 'null'], description: 'successes / checks; null without checks' },
  latency_ms: {
    type: 'object',
    properties: Object.fromEntries(['total', 'resolve', 'connect', 'tls', 'processing', 'transfer'].map((p) => [p, quantiles])),
  },
};
const str = { type: 'string' };
const strings = { type: 'array', items: str };
const time = { type: 'string', format: 'date-time' };

const SCHEMAS: Record<string, Record<string, unknown>> = {
  Error: {
    type: 'object',
    required: ['error', 'message'],
    properties: {
      error: { type: 'string', enum: ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'payload_too_large', 'unsupported_media_type', 'method_not_allowed', 'unavailable', 'internal'] },
      message: { type: 'string', description: 'What is wrong, naming the parameter.' },
      problems: { ...strings, description: 'Every problem found, as "parameter: what is wrong".' },
    },
  },
  Stats: { type: 'object', properties: stats },
  SeriesPoint: { type: 'object', properties: { start: time, end: time, ...stats } },
  Group: {
    type: 'object',
    properties: { region: str, isp: str, probe: str, ...stats, series: { type: 'array', items: { $ref: '#/components/schemas/SeriesPoint' } } },
  },
  Availability: {
    type: 'object',
    properties: {
      query: { type: 'object', description: 'The query as run: the range widened to whole buckets, the table read.' },
      tasks: { ...strings, description: 'The task ids read.' },
      buckets: { type: 'integer' },
      total: { $ref: '#/components/schemas/Stats' },
      groups: { type: 'array', items: { $ref: '#/components/schemas/Group' } },
    },
  },
  Verdict: {
    type: 'object',
    properties: {
      id: str, record_id: str, task_id: str, target: str, probe_id: str, region: str, isp: str, resolver: str, round: time, started_at: time,
      class: { type: 'string', description: 'consistent, cdn_variance, isp_cache, ad_hijack, ad_injection, nxdomain_rewrite, malicious, blocked, resolver_failure, suspicious' },
      flags: strings, rule: str, answer_ips: strings, expected_ips: strings, analyzed_at: time,
    },
  },
  VerdictDetail: { allOf: [{ $ref: '#/components/schemas/Verdict' }, { type: 'object', properties: { evidence: { type: 'object', description: 'What a person needs to check the decision (analyzer/README.md).' } } }] },
  VerdictPage: {
    type: 'object',
    properties: { verdicts: { type: 'array', items: { $ref: '#/components/schemas/Verdict' } }, next_cursor: { type: ['string', 'null'] } },
  },
  MatrixCell: {
    type: 'object',
    properties: { region: str, isp: str, total: { type: 'integer' }, classes: { type: 'object', additionalProperties: { type: 'integer' } }, worst: str, last_at: time },
  },
  FleetProbe: {
    type: 'object',
    properties: {
      probe_id: str, status: { type: 'string', enum: ['online', 'offline'] }, region: str, isp: str, asn: { type: ['integer', 'null'] },
      labels: { type: 'object', additionalProperties: str }, version: str, last_heartbeat: time, silent_for_s: { type: 'integer' }, started_at: time,
      task_count: { type: 'integer' }, spool_depth: { type: 'integer' }, spool_dropped: { type: 'integer' }, last_error: { type: ['string', 'null'] },
    },
  },
  TaskSpec: {
    type: 'object',
    description: 'A task as in a probe config (probe/README.md); validated by the probe\'s own validator.',
    required: ['id', 'kind', 'target'],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
      kind: { type: 'string', enum: ['dns', 'http', 'tcp', 'ping'] },
      target: { type: 'string', maxLength: 2048 },
      schedule: { type: 'string', description: 'cron, 5 fields; default every minute' },
      timeout: { type: 'string', description: 'e.g. 5s' },
      dns: { type: 'object' }, http: { type: 'object' }, tcp: { type: 'object' }, ping: { type: 'object' },
    },
    additionalProperties: false,
  },
  Task: {
    type: 'object',
    properties: { id: str, kind: str, target: str, spec: { $ref: '#/components/schemas/TaskSpec' }, version: { type: 'integer' }, source: str, changed_by: str, changed_at: time },
  },
  Alarm: {
    type: 'object',
    properties: {
      fingerprint: str, state: { type: 'string', enum: ['firing', 'resolved'] }, rule: str,
      rule_kind: { type: 'string', enum: ['availability', 'latency', 'hijack', 'probe_offline'] }, severity: { type: 'string', enum: ['critical', 'warning', 'info'] },
      task_id: str, target: str, scope: { type: 'string', enum: ['fleet', 'region', 'isp', 'region_isp', 'probe'] }, region: str, isp: str, probe_id: str,
      labels: { type: 'object', additionalProperties: str }, summary: str, details: { type: 'object' }, links: strings, started_at: time,
      last_event: { type: 'object', properties: { kind: str, seq: { type: 'integer' }, at: time } }, resolved_at: { type: ['string', 'null'], format: 'date-time' },
      duration_ms: { type: ['integer', 'null'] }, resolve_reason: { type: ['string', 'null'] }, maintenance: { type: ['string', 'null'] }, events: { type: 'integer' },
    },
  },
  Delivery: {
    type: 'object',
    properties: {
      attempted_at: time, event_id: str, event_kind: str, fingerprint: str, channel: str, channel_type: str, url: str, attempt: { type: 'integer' },
      outcome: { type: 'string', enum: ['delivered', 'failed', 'dead_letter'] }, http_status: { type: ['integer', 'null'] }, error: str, duration_ms: { type: 'number' },
    },
  },
  AlarmDetail: {
    allOf: [
      { $ref: '#/components/schemas/Alarm' },
      {
        type: 'object',
        properties: {
          history: { type: 'array', items: { type: 'object', properties: { event_id: str, kind: str, seq: { type: 'integer' }, at: time, started_at: time, summary: str, details: { type: 'object' }, notify: { type: 'boolean' }, maintenance: { type: ['string', 'null'] }, channels: strings } } },
          deliveries: { type: 'array', items: { $ref: '#/components/schemas/Delivery' } },
        },
      },
    ],
  },
  Whoami: { type: 'object', properties: { tenant: str, key_id: str, scope: { type: 'string', enum: ['read', 'write'] }, via: { type: 'string', enum: ['bearer', 'signature'] } } },
};

const ERRORS: Record<number, string> = {
  400: 'Bad input: the message names every problem.',
  401: 'No, wrong, stale or replayed credentials.',
  403: 'The key\'s scope does not allow this.',
  404: 'No such thing among yours.',
  503: 'Storage unavailable; try again.',
};

export function openApiDocument(routes: readonly RouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const errors = { ...ERRORS, ...(r.method === 'POST' || r.method === 'PUT' ? { 409: 'The id is in use.', 413: 'Body too large.', 415: 'Not JSON.' } : {}) };
    paths[path] ??= {};
    paths[path]![r.method.toLowerCase()] = {
      tags: [r.tag],
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      security: [{ apiKey: [r.scope] }, { signature: [r.scope] }],
      'x-scope': r.scope,
      parameters: [...openApiParameters(r.params, 'path'), ...openApiParameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, description: r.body.description, content: { 'application/json': { schema: r.body.schema } } } } : {}),
      responses: {
        ...Object.fromEntries(
          Object.entries(r.responses).map(([status, resp]) => [status, { description: resp.description, ...(resp.schema ? { content: { 'application/json': { schema: resp.schema } } } : {}) }]),
        ),
        ...Object.fromEntries(Object.entries(errors).map(([status, description]) => [status, { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }])),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vantage query API',
      version: PROBE_VERSION,
      description:
        'Availability, hijack verdicts, alarms, the fleet and task management of a Vantage network. Authenticate with an API key ' +
        '(`Authorization: Bearer <key id>.<secret>`) or sign each request (X-Vantage-Key, X-Vantage-Timestamp, X-Vantage-Nonce, ' +
        'X-Vantage-Signature: hex HMAC-SHA256 with the secret over "VANTAGE-HMAC-SHA256\\n<METHOD>\\n<path>\\n<sorted query>\\n<timestamp>\\n<nonce>\\n<hex SHA-256 of the body>"; ' +
        'timestamps more than 300 s off and reused nonces are refused). A tenant sees only its own tasks and their data. See analyzer/README.md.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'availability' }, { name: 'hijack' }, { name: 'alarms' }, { name: 'fleet' }, { name: 'tasks' }, { name: 'auth' },
    ],
    paths: {
      ...paths,
      '/healthz': { get: { tags: ['ops'], summary: 'Health: 200 when ClickHouse answers, else 503', security: [], responses: { 200: { description: 'Healthy.' }, 503: { description: 'ClickHouse unreachable.' } } } },
      '/metrics': { get: { tags: ['ops'], summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'Text exposition format.' } } } },
      '/openapi.json': { get: { tags: ['ops'], summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1.' } } } },
    },
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: '<key id>.<secret>', description: 'An API key of a tenant, scope read or write.' },
        signature: { type: 'apiKey', in: 'header', name: 'X-Vantage-Signature', description: 'A signed request (with X-Vantage-Key, X-Vantage-Timestamp, X-Vantage-Nonce); see the description above.' },
      },
    },
  };
}
