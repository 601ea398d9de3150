/** Valid result records for tests that need records but not a real check. */
import type { ResultRecord } from '../../probe/src/contract/record.ts';
import { validateRecord } from '../../probe/src/contract/validate.ts';
import { newRecordId } from '../../probe/src/run/record-id.ts';

/** A valid tcp record of `taskId`; `seq` (in probe_labels) numbers the task's runs. */
export function makeRecord(probeId: string, taskId: string, seq: number): ResultRecord {
  const now = Date.now();
  const at = new Date(now).toISOString();
  const record: ResultRecord = {
    schema: 1,
    id: newRecordId(now),
    kind: 'tcp',
    task_id: taskId,
    target: '127.0.0.1:9',
    probe_id: probeId,
    probe_region: 'test-region',
    probe_isp: 'loopback',
    probe_asn: null,
    probe_labels: { seq: String(seq) },
    probe_version: '0.0.0-test',
    scheduled_at: at,
    started_at: at,
    duration_ms: 0.4,
    ok: false,
    failure: 'connection_refused',
    failure_detail: 'ECONNREFUSED',
    timings_ms: { connect: 0.4 },
    keys: { host: '127.0.0.1', port: 9, resolver: null, resolved_ips: [], dialed_ip: '127.0.0.1', tls: null },
  };
  return validateRecord(record);
}
