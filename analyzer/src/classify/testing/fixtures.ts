/**
 * A small builder of valid dns result records for classifier tests and the bench: local
 * resolvers' answers, reference answers and evidence pages described in a few words. Every
 * record goes through the probe's validator. Addresses here are test data only.
 */
import { validateRecord, type DnsQuery, type EvidenceFetch, type ResultRecord, type TlsInfo } from '@vantage/probe';

export interface AnswerSpec {
  server?: string;
  ips?: string[];
  aaaa?: string[];
  cnames?: string[];
  /** NXDOMAIN, SERVFAIL …; with `failure` for failures. */
  rcode?: string | null;
  failure?: DnsQuery['failure'];
  ttl?: number;
  /** Types asked (default A, plus AAAA when `aaaa` is given). */
  types?: string[];
}

export type TlsSpec = 'verified' | 'self-signed' | 'foreign' | 'expired';

export interface PageSpec {
  status?: number | null;
  failure?: EvidenceFetch['failure'];
  tls?: TlsSpec | null;
  title?: string | null;
  bytes?: number;
  truncated?: boolean;
  sha?: string | null;
  contentType?: string | null;
  contentLength?: number | null;
  scripts?: string[];
  iframes?: string[];
  frames?: string[];
  forms?: string[];
  password?: boolean;
  meta?: string | null;
  inline?: string[];
  redirects?: { status: number; location: string }[];
}

export interface EvidenceSpec {
  ip: string;
  role?: 'unexpected' | 'reference';
  http?: PageSpec | null;
  https?: PageSpec | null;
}

export interface RecordSpec {
  target?: string;
  taskId?: string;
  probeId?: string;
  region?: string;
  isp?: string;
  asn?: number | null;
  /** When the check started (ms); the round is the minute it started in unless `roundMs` is given. */
  atMs?: number;
  roundMs?: number;
  local?: AnswerSpec | AnswerSpec[];
  /** null: the task has no references. */
  reference?: AnswerSpec | null;
  evidence?: EvidenceSpec[] | null;
}

export const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
export const TARGET = 'shop.example.com';

/** The origin page as a browser gets it: what every clean fetch returns. */
export const ORIGIN: PageSpec = {
  status: 200, title: 'Example Shop — Home', bytes: 24_000, sha: 'sha-origin', contentType: 'text/html; charset=utf-8',
  scripts: ['https://static.shop.example.com', 'https://cdn.jsdelivr.net'], inline: ['inline-a', 'inline-b'],
  forms: ['https://shop.example.com'], password: true,
};

let counter = 0;
/** A valid, deterministic UUIDv7 for a time. */
export function fixtureId(atMs: number): string {
  counter = (counter + 1) % 0xfff_ffff_ffff;
  const time = Math.floor(atMs).toString(16).padStart(12, '0');
  const n = counter.toString(16).padStart(15, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${n.slice(0, 3)}-8${n.slice(3, 6)}-${n.slice(3).padStart(12, '0').slice(-12)}`;
}

function tlsInfo(spec: TlsSpec, target: string): TlsInfo {
  const base: TlsInfo = {
    verified: true, error: null, version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', subject: target, issuer: 'Public CA',
    san: [target, `*.${target}`], fingerprint256: `fp-${spec}-${target}`, valid_from: '2026-01-01T00:00:00.000Z', valid_to: '2027-01-01T00:00:00.000Z',
  };
  switch (spec) {
    case 'verified': return base;
    case 'self-signed': return { ...base, verified: false, error: 'DEPTH_ZERO_SELF_SIGNED_CERT', issuer: target };
    case 'expired': return { ...base, verified: false, error: 'CERT_HAS_EXPIRED' };
    case 'foreign': return { ...base, verified: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID', subject: 'cache.isp.example', san: ['cache.isp.example'] };
  }
}

export function page(ip: string, role: 'unexpected' | 'reference', scheme: 'http' | 'https', target: string, spec: PageSpec): EvidenceFetch {
  const failed = spec.failure !== undefined && spec.failure !== null;
  const tlsSpec = spec.tls === undefined ? (scheme === 'https' && !failed ? 'verified' : null) : spec.tls;
  return {
    ip, role, url: `${scheme}://${target}/`,
    failure: spec.failure ?? null,
    failure_detail: failed ? String(spec.failure) : null,
    tls: tlsSpec ? tlsInfo(tlsSpec, target) : null,
    status: spec.status === undefined ? (failed ? null : 200) : spec.status,
    redirects: spec.redirects ?? [],
    body_bytes: spec.bytes ?? 0,
    body_truncated: spec.truncated ?? false,
    sha256: spec.sha === undefined ? null : spec.sha,
    content_type: spec.contentType === undefined ? null : spec.contentType,
    content_length_header: spec.contentLength === undefined ? null : spec.contentLength,
    title: spec.title === undefined ? null : spec.title,
    script_origins: spec.scripts ?? [],
    iframe_origins: spec.iframes ?? [],
    frame_origins: spec.frames ?? [],
    form_action_origins: spec.forms ?? [],
    has_password_field: spec.password ?? false,
    meta_refresh: spec.meta ?? null,
    inline_script_sha256: spec.inline ?? [],
    duration_ms: 12,
  };
}

function queries(spec: AnswerSpec, role: 'local' | 'reference', server: string, name: string): DnsQuery[] {
  const types = spec.types ?? (spec.aaaa ? ['A', 'AAAA'] : ['A']);
  return types.map((type) => {
    const ips = type === 'A' ? spec.ips ?? [] : type === 'AAAA' ? spec.aaaa ?? [] : [];
    const failure = spec.failure ?? (spec.rcode === 'NXDOMAIN' ? 'dns_nxdomain' : ips.length === 0 && (type === 'A' || type === 'AAAA') ? 'dns_no_answer' : null);
    const chain = spec.cnames ?? [];
    const last = chain.length > 0 ? chain[chain.length - 1] : name;
    const answers = [
      ...chain.map((c, i) => ({ name: i === 0 ? name : chain[i - 1], type: 'CNAME', ttl: spec.ttl ?? 300, data: c })),
      ...ips.map((data) => ({ name: last, type, ttl: spec.ttl ?? 300, data })),
    ];
    return {
      server, role, transport: 'udp' as const, type,
      rcode: spec.rcode === undefined ? (spec.failure && spec.failure !== 'dns_no_answer' ? null : 'NOERROR') : spec.rcode,
      failure,
      failure_detail: failure,
      latency_ms: 3,
      truncated: false,
      authoritative: role === 'reference',
      answers: failure && failure !== 'dns_no_answer' ? [] : answers,
      cname_chain: chain,
      ips,
      raw_b64: null,
    };
  });
}

/** A valid dns record. Defaults: one local resolver 10.53.0.1:53, one reference, no evidence. */
export function dnsRecord(spec: RecordSpec): ResultRecord<'dns'> {
  const target = spec.target ?? TARGET;
  const at = spec.atMs ?? T0;
  const round = spec.roundMs ?? Math.floor(at / 60_000) * 60_000;
  const locals = Array.isArray(spec.local) ? spec.local : [spec.local ?? {}];
  const all = [
    ...locals.flatMap((l, i) => queries(l, 'local', l.server ?? `10.53.0.${i + 1}:53`, target)),
    ...(spec.reference === null ? [] : queries(spec.reference ?? {}, 'reference', spec.reference?.server ?? '198.41.0.4:53', target)),
  ];
  const evidence = !spec.evidence
    ? null
    : spec.evidence.flatMap((e) => [
      ...(e.http === null ? [] : [page(e.ip, e.role ?? 'unexpected', 'http', target, e.http ?? ORIGIN)]),
      ...(e.https === null ? [] : [page(e.ip, e.role ?? 'unexpected', 'https', target, e.https ?? ORIGIN)]),
    ]);
  const failedLocal = all.find((q) => q.role === 'local' && q.ips.length === 0 && q.failure !== null);
  return validateRecord({
    schema: 1,
    id: fixtureId(at),
    kind: 'dns',
    task_id: spec.taskId ?? `dns-${target}`,
    target,
    probe_id: spec.probeId ?? 'probe-1',
    probe_region: spec.region ?? 'cn-east',
    probe_isp: spec.isp ?? 'telecom',
    probe_asn: spec.asn === undefined ? 4134 : spec.asn,
    probe_labels: {},
    probe_version: '0.1.0',
    scheduled_at: new Date(round).toISOString(),
    started_at: new Date(at).toISOString(),
    duration_ms: 40,
    ok: failedLocal === undefined,
    failure: failedLocal?.failure ?? null,
    failure_detail: failedLocal?.failure ?? null,
    timings_ms: { resolve: 3 },
    keys: { name: target, queries: all, evidence },
  }) as ResultRecord<'dns'>;
}
