/**
 * The result record: the wire contract between probes and everything downstream. One envelope
 * for every kind, plus per-kind `keys`. Fields are snake_case (they become ClickHouse columns).
 *
 * Versioning: `schema` is the envelope's major version, bumped only on a breaking change. Adding an
 * optional field is not breaking: validators read leniently and ignore keys they do not know.
 * The types are inferred from the validators below, so the two can never drift apart.
 */
import { FAILURE_CODES, type FailureCode } from './failure.ts';
import {
  array, boolean, dictionary, nullable, number, object, oneOf, optional, string, text, type Validator,
} from './shape.ts';

export const SCHEMA_VERSION = 1;
export const CHECK_KINDS = ['dns', 'http', 'tcp', 'ping'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** Timing phases, named like blackbox_exporter's. */
export const PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
export type Phase = (typeof PHASES)[number];
export type Timings = Partial<Record<Phase, number>>;

const ms = number({ min: 0 });
const count = number({ min: 0, integer: true });
const failure = nullable(oneOf<FailureCode>(FAILURE_CODES));
const timings: Validator<Timings> = object(
  Object.fromEntries(PHASES.map((p) => [p, optional(ms)])) as Record<Phase, ReturnType<typeof optional<number>>>,
);

/** TLS facts about one handshake. `verified` is chain + hostname verification against the domain. */
export const tlsInfo = object({
  verified: boolean,
  error: nullable(text), // why verification failed (e.g. ERR_TLS_CERT_ALTNAME_INVALID)
  version: nullable(text), // e.g. TLSv1.3
  cipher: nullable(text),
  subject: nullable(text), // certificate subject CN
  issuer: nullable(text), // issuer CN / O
  san: array(text), // DNS and IP subjectAltNames
  fingerprint256: nullable(text),
  valid_from: nullable(text), // ISO 8601
  valid_to: nullable(text), // ISO 8601
});
export type TlsInfo = ReturnType<typeof tlsInfo>;

const redirect = object({ status: count, location: text });

/** One DNS question sent to one server. */
export const dnsQuery = object({
  server: text, // "ip:port" for UDP/TCP, the URL for DoH
  role: oneOf(['local', 'reference'] as const), // the probe's ISP resolver, or a trusted reference
  transport: oneOf(['udp', 'tcp', 'doh'] as const), // the transport of the answer recorded
  type: text, // A, AAAA, CNAME …
  rcode: nullable(text), // NOERROR, NXDOMAIN, SERVFAIL … (null when no response was read)
  failure,
  failure_detail: nullable(text),
  latency_ms: nullable(ms),
  truncated: boolean, // the UDP answer had TC set (so the recorded answer came over TCP)
  authoritative: boolean, // the AA bit
  answers: array(object({ name: text, type: text, ttl: count, data: text })),
  cname_chain: array(text), // names followed from the query name, in order
  ips: array(text), // addresses for the query name (through its CNAME chain)
  raw_b64: nullable(text), // the raw response, for forensics
});
export type DnsQuery = ReturnType<typeof dnsQuery>;

/** A page fetched through one answer IP with the right Host header and SNI (hijack evidence). */
export const evidenceFetch = object({
  ip: text,
  role: oneOf(['unexpected', 'reference'] as const), // an IP only the local resolver gave, or a reference IP
  url: text,
  failure,
  failure_detail: nullable(text),
  tls: nullable(tlsInfo), // null for http://
  status: nullable(count),
  redirects: array(redirect), // Location targets seen, in order (off-site ones are not followed)
  body_bytes: count, // bytes read (capped)
  body_truncated: boolean,
  sha256: nullable(text), // of the bytes read
  content_type: nullable(text),
  content_length_header: nullable(count),
  title: nullable(text),
  script_origins: array(text), // external origins of <script src>
  iframe_origins: array(text),
  frame_origins: array(text), // <frame> and <frameset> children
  form_action_origins: array(text), // where forms post to (a credential form posting off-site)
  has_password_field: boolean,
  meta_refresh: nullable(text), // target of <meta http-equiv=refresh>
  inline_script_sha256: array(text), // hashes of inline <script> bodies
  duration_ms: ms,
});
export type EvidenceFetch = ReturnType<typeof evidenceFetch>;

export const dnsKeys = object({
  name: text, // the queried name
  queries: array(dnsQuery),
  evidence: nullable(array(evidenceFetch)), // null when the task did not ask for evidence
});

/** Where an http/tcp/ping target's name was resolved, and the address actually dialed. */
const dialFields = {
  resolver: nullable(text), // null when the target is an IP literal
  resolved_ips: array(text),
  dialed_ip: nullable(text),
};

export const httpKeys = object({
  url: text,
  method: text,
  ...dialFields,
  status: nullable(count),
  http_version: nullable(text),
  redirects: array(redirect),
  final_url: nullable(text),
  body_bytes: count,
  body_truncated: boolean,
  sha256: nullable(text),
  content_type: nullable(text),
  tls: nullable(tlsInfo),
  cert_expires_in_days: nullable(number()),
  failed_assertion: nullable(text), // e.g. "status 503 not in [200]", "body_regexp /ok/"
});

export const tcpKeys = object({
  host: text,
  port: count,
  ...dialFields,
  tls: nullable(tlsInfo),
});

export const pingKeys = object({
  host: text,
  ...dialFields,
  sent: count,
  received: count,
  loss_pct: number({ min: 0, max: 100 }),
  rtt_min_ms: nullable(ms),
  rtt_avg_ms: nullable(ms),
  rtt_max_ms: nullable(ms),
  rtt_stddev_ms: nullable(ms),
});

export type DnsKeys = ReturnType<typeof dnsKeys>;
export type HttpKeys = ReturnType<typeof httpKeys>;
export type TcpKeys = ReturnType<typeof tcpKeys>;
export type PingKeys = ReturnType<typeof pingKeys>;
export interface KeysByKind {
  dns: DnsKeys;
  http: HttpKeys;
  tcp: TcpKeys;
  ping: PingKeys;
}
export const keysValidators: { [K in CheckKind]: Validator<KeysByKind[K]> } = {
  dns: dnsKeys,
  http: httpKeys,
  tcp: tcpKeys,
  ping: pingKeys,
};

/** The envelope, without `kind`/`keys` (checked together in validate.ts). */
export const envelope = object({
  schema: oneOf([SCHEMA_VERSION] as const),
  id: string({ pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/, hint: 'a UUIDv7' }),
  kind: oneOf(CHECK_KINDS),
  task_id: string({ maxLength: 64 }),
  target: string({ maxLength: 2048 }),
  probe_id: string({ maxLength: 64 }),
  probe_region: text,
  probe_isp: text,
  probe_asn: nullable(count),
  probe_labels: dictionary(text),
  probe_version: text,
  scheduled_at: text, // ISO 8601: the round (schedule slot) this run belongs to
  started_at: text, // ISO 8601 with ms: when the check started (the id was made then)
  duration_ms: ms,
  ok: boolean,
  failure,
  failure_detail: nullable(text),
  timings_ms: timings,
});

export type ResultRecord<K extends CheckKind = CheckKind> = K extends CheckKind
  ? Omit<ReturnType<typeof envelope>, 'kind'> & { kind: K; keys: KeysByKind[K] }
  : never;
