/**
 * Valid records of every kind (dns, http, ping; tcp comes from records.ts) for storage tests,
 * with realistic keys: TLS facts, redirects, DNS answers and evidence.
 */
import type { Heartbeat } from '../../probe/src/contract/heartbeat.ts';
import type { ResultRecord } from '../../probe/src/contract/record.ts';
import { validateRecord } from '../../probe/src/contract/validate.ts';
import { newRecordId } from '../../probe/src/run/record-id.ts';

export interface RecordOptions {
  probeId: string;
  taskId: string;
  /** When the check started (ms); the scheduled slot is the whole second before it. */
  atMs?: number;
  ok?: boolean;
  durationMs?: number;
}

function envelope(kind: ResultRecord['kind'], o: RecordOptions, target: string) {
  const at = o.atMs ?? Date.now();
  return {
    schema: 1 as const,
    id: newRecordId(at),
    kind,
    task_id: o.taskId,
    target,
    probe_id: o.probeId,
    probe_region: 'cn-east',
    probe_isp: 'China Telecom',
    probe_asn: 4134,
    probe_labels: { rack: 'r1', 'tier name': '边缘' },
    probe_version: '0.1.0',
    scheduled_at: new Date(Math.floor(at / 1000) * 1000).toISOString(),
    started_at: new Date(at).toISOString(),
    duration_ms: o.durationMs ?? 42.5,
    ok: o.ok ?? true,
  };
}

const TLS = {
  verified: true,
  error: null,
  version: 'TLSv1.3',
  cipher: 'TLS_AES_128_GCM_SHA256',
  subject: 'example.test',
  issuer: 'Vantage Test CA',
  san: ['example.test', 'www.example.test'],
  fingerprint256: 'AA:BB:CC',
  valid_from: '2024-01-01T00:00:00.000Z',
  valid_to: '2030-01-01T00:00:00.000Z',
};

export function makeHttpRecord(o: RecordOptions): ResultRecord {
  const ok = o.ok ?? true;
  return validateRecord({
    ...envelope('http', o, 'https://example.test/health'),
    failure: ok ? null : 'http_status',
    failure_detail: ok ? null : 'status 503 not in [200]',
    timings_ms: { resolve: 1.25, connect: 3.5, tls: 7.75, processing: 20, transfer: 0.5 },
    keys: {
      url: 'https://example.test/health',
      method: 'GET',
      resolver: '127.0.0.53:53',
      resolved_ips: ['192.0.2.10', '2001:db8::10'],
      dialed_ip: '192.0.2.10',
      status: ok ? 200 : 503,
      http_version: '1.1',
      redirects: [{ status: 301, location: 'https://example.test/health' }],
      final_url: 'https://example.test/health',
      body_bytes: 2,
      body_truncated: false,
      sha256: 'e3b0c442',
      content_type: 'text/plain',
      tls: TLS,
      cert_expires_in_days: 1500.25,
      failed_assertion: ok ? null : 'status 503 not in [200]',
    },
  });
}

export function makeDnsRecord(o: RecordOptions): ResultRecord {
  const query = (server: string, role: 'local' | 'reference', ips: string[]) => ({
    server,
    role,
    transport: 'udp' as const,
    type: 'A',
    rcode: 'NOERROR',
    failure: null,
    failure_detail: null,
    latency_ms: 4.5,
    truncated: false,
    authoritative: role === 'reference',
    answers: ips.map((data) => ({ name: 'example.test', type: 'A', ttl: 300, data })),
    cname_chain: [],
    ips,
    raw_b64: 'AAABAAAB',
  });
  return validateRecord({
    ...envelope('dns', o, 'example.test'),
    failure: null,
    failure_detail: null,
    timings_ms: {},
    keys: {
      name: 'example.test',
      queries: [
        query('10.0.0.1:53', 'local', ['198.51.100.7', '192.0.2.10']),
        query('10.0.0.2:53', 'local', ['198.51.100.7']),
        query('192.0.2.53:53', 'reference', ['192.0.2.10']),
      ],
      evidence: [
        {
          ip: '198.51.100.7', role: 'unexpected', url: 'https://example.test/', failure: 'tls_cert_invalid',
          failure_detail: 'ERR_TLS_CERT_ALTNAME_INVALID', tls: { ...TLS, verified: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' },
          status: null, redirects: [], body_bytes: 0, body_truncated: false, sha256: null, content_type: null,
          content_length_header: null, title: '<script>alert(1)</script>', script_origins: ['https://ads.example'],
          iframe_origins: [], frame_origins: [], form_action_origins: [], has_password_field: false, meta_refresh: null,
          inline_script_sha256: [], duration_ms: 12,
        },
      ],
    },
  });
}

export function makePingRecord(o: RecordOptions): ResultRecord {
  return validateRecord({
    ...envelope('ping', o, 'example.test'),
    failure: null,
    failure_detail: null,
    timings_ms: { resolve: 0.75 },
    keys: {
      host: 'example.test', resolver: '10.0.0.1:53', resolved_ips: ['192.0.2.10'], dialed_ip: '192.0.2.10',
      sent: 3, received: 2, loss_pct: 33.333333333333336, rtt_min_ms: 1.1, rtt_avg_ms: 1.5, rtt_max_ms: 2, rtt_stddev_ms: 0.37,
    },
  });
}

/** A valid heartbeat of `probeId` sent at `sentAtMs`. */
export function makeHeartbeat(probeId: string, sentAtMs: number, overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    schema: 1,
    probe_id: probeId,
    region: 'cn-east',
    isp: 'China Telecom',
    asn: 4134,
    labels: { rack: 'r1' },
    version: '0.1.0',
    sent_at: new Date(sentAtMs).toISOString(),
    started_at: new Date(sentAtMs - 3_600_000).toISOString(),
    task_count: 12,
    spool_depth: 0,
    spool_dropped: 0,
    last_error: null,
    ...overrides,
  };
}
