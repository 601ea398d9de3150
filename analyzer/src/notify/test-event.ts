/** The event `vantage alarms test` sends: clearly a test, valid in every channel's format. */
import { createHash } from 'node:crypto';
import { newRecordId } from '../../../probe/src/run/record-id.ts';
import type { AlarmEvent } from '../alarms/event.ts';

export function testEvent(channel: string, kind: 'firing' | 'resolved', nowMs: number): AlarmEvent {
  const started = kind === 'resolved' ? nowMs - 5 * 60_000 : nowMs;
  return {
    schema: 1,
    event_id: newRecordId(nowMs),
    kind,
    seq: kind === 'resolved' ? 2 : 1,
    fingerprint: createHash('sha256').update(`vantage-test\u0000${channel}`).digest('hex').slice(0, 16),
    rule_id: 'vantage-test',
    rule_kind: 'availability',
    severity: 'info',
    task_id: '',
    target: '',
    scope: 'fleet',
    region: '',
    isp: '',
    probe_id: '',
    labels: { test: 'true' },
    summary: `A test message from "vantage alarms test" to channel ${channel}: nothing is wrong.`,
    details: { test: true },
    links: [],
    started_at: new Date(started).toISOString(),
    at: new Date(nowMs).toISOString(),
    duration_ms: kind === 'resolved' ? nowMs - started : null,
    resolve_reason: kind === 'resolved' ? 'recovered' : null,
    notify: true,
    maintenance: null,
    channels: [channel],
  };
}
