/**
 * Builders for alarm tests: valid result records, verdicts and heartbeats at chosen times, a
 * clock the test moves, and an alarm config from YAML text.
 */
import yaml from 'js-yaml';
import type { Heartbeat, ResultRecord } from '@vantage/probe';
import { validateRecord } from '../../probe/src/contract/validate.ts';
import { newRecordId } from '../../probe/src/run/record-id.ts';
import { parseAlarmConfig } from '../../analyzer/src/alarms/config.ts';
import type { VerdictInput } from '../../analyzer/src/alarms/engine.ts';
import type { VerdictClass } from '../../analyzer/src/classify/verdict.ts';
import type { AlarmConfig } from '../../analyzer/src/alarms/rules.ts';
import type { AlarmEvent } from '../../analyzer/src/alarms/event.ts';
import { makeHeartbeat } from '../helpers/kind-records.ts';

/** 2025-03-03 (a Monday) 12:00:00 UTC. */
export const T0 = Date.UTC(2025, 2, 3, 12, 0, 0);

export class Clock {
  constructor(public ms: number = T0) {}
  readonly now = () => this.ms;
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
}

export interface ProbeSpec {
  id: string;
  region?: string;
  isp?: string;
  labels?: Record<string, string>;
}

export interface ResultSpec {
  task?: string;
  target?: string;
  kind?: 'http' | 'tcp';
  ok?: boolean;
  atMs: number;
  /** The round (scheduled slot); default the whole minute of atMs. */
  roundMs?: number;
  timings?: ResultRecord['timings_ms'];
  durationMs?: number;
}

/** A valid http record of `probe` for `task`. */
export function result(probe: ProbeSpec, spec: ResultSpec): ResultRecord {
  const ok = spec.ok ?? true;
  const round = spec.roundMs ?? Math.floor(spec.atMs / 60_000) * 60_000;
  return validateRecord({
    schema: 1,
    id: newRecordId(spec.atMs),
    kind: 'http',
    task_id: spec.task ?? 'web-home',
    target: spec.target ?? 'https://shop.test/',
    probe_id: probe.id,
    probe_region: probe.region ?? 'cn-east',
    probe_isp: probe.isp ?? 'telecom',
    probe_asn: null,
    probe_labels: probe.labels ?? {},
    probe_version: '0.0.0-test',
    scheduled_at: new Date(round).toISOString(),
    started_at: new Date(spec.atMs).toISOString(),
    duration_ms: spec.durationMs ?? 30,
    ok,
    failure: ok ? null : 'connection_refused',
    failure_detail: ok ? null : 'ECONNREFUSED',
    timings_ms: spec.timings ?? { resolve: 1, connect: 2, processing: 20, transfer: 1 },
    keys: {
      url: spec.target ?? 'https://shop.test/', method: 'GET', resolver: null, resolved_ips: [], dialed_ip: '192.0.2.1',
      status: ok ? 200 : null, http_version: null, redirects: [], final_url: null, body_bytes: 0, body_truncated: false,
      sha256: null, content_type: null, tls: null, cert_expires_in_days: null, failed_assertion: null,
    },
  });
}

export interface VerdictSpec {
  task?: string;
  cls: VerdictClass;
  atMs: number;
  roundMs?: number;
  resolver?: string;
  answerIps?: string[];
  expectedIps?: string[];
}

let verdictSeq = 0;

export function verdict(probe: ProbeSpec, spec: VerdictSpec): VerdictInput {
  const recordId = newRecordId(spec.atMs);
  const resolver = spec.resolver ?? '10.0.0.53:53';
  verdictSeq++;
  return {
    id: `${recordId}/${resolver}`,
    task_id: spec.task ?? 'shop-dns',
    target: 'shop.test',
    probe_id: probe.id,
    region: probe.region ?? 'cn-east',
    isp: probe.isp ?? 'telecom',
    resolver,
    round: new Date(spec.roundMs ?? Math.floor(spec.atMs / 60_000) * 60_000).toISOString(),
    started_at_ms: spec.atMs,
    class: spec.cls,
    answer_ips: spec.answerIps ?? (spec.cls === 'consistent' ? ['192.0.2.10'] : ['198.51.100.66']),
    expected_ips: spec.expectedIps ?? ['192.0.2.10'],
  };
}

export function heartbeat(probe: ProbeSpec, atMs: number): Heartbeat {
  return makeHeartbeat(probe.id, atMs, {
    region: probe.region ?? 'cn-east',
    isp: probe.isp ?? 'telecom',
    asn: null,
    labels: probe.labels ?? {},
    version: '0.0.0-test',
    started_at: new Date(T0 - 3_600_000).toISOString(),
    task_count: 1,
  });
}

/** An alarm config from YAML text (channels named in rules must be defined: `ops` is). */
export function config(text: string): AlarmConfig {
  const raw = yaml.load(text) as Record<string, unknown>;
  return parseAlarmConfig({ channels: { ops: { type: 'webhook', url: 'http://127.0.0.1:9/hook' } }, ...raw }, 'test.yaml');
}

/** A valid alarm event of alarm number `n` (its fingerprint), for notifier tests. */
export function event(n: number, kind: 'firing' | 'reminder' | 'resolved', o: { channels: string[]; seq?: number; notify?: boolean; nowMs?: number }): AlarmEvent {
  const at = o.nowMs ?? Date.now();
  const started = kind === 'resolved' ? at - 90_000 : at;
  return {
    schema: 1,
    event_id: newRecordId(at),
    kind,
    seq: o.seq ?? (kind === 'resolved' ? 2 : 1),
    fingerprint: n.toString(16).padStart(16, '0'),
    rule_id: 'web-down',
    rule_kind: 'availability',
    severity: 'critical',
    task_id: `web-${n}`,
    target: `https://shop-${n}.test/`,
    scope: 'region_isp',
    region: 'cn-east',
    isp: 'telecom',
    probe_id: '',
    labels: { team: 'web' },
    summary: `success 0% of 6 results in 5m (alarm below 90%); 3 of 3 probes failing; connection_refused ×6`,
    details: { success_ratio: 0 },
    links: [],
    started_at: new Date(started).toISOString(),
    at: new Date(at).toISOString(),
    duration_ms: kind === 'resolved' ? at - started : null,
    resolve_reason: kind === 'resolved' ? 'recovered' : null,
    notify: o.notify ?? true,
    maintenance: null,
    channels: o.channels,
  };
}
