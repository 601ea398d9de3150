/**
 * Kind → check. A new kind must be added here (the mapped type makes a missing one a compile
 * error), with the empty keys used when a check could not produce any (a bug or a hang).
 */
import type { TaskOf } from '../config/config.ts';
import type { CheckKind, KeysByKind } from '../contract/record.ts';
import type { CheckFn } from './check.ts';
import { checkDns } from './dns.ts';
import { checkHttp } from './http.ts';
import { checkPing } from './ping.ts';
import { checkTcp } from './tcp.ts';
import { splitHostPort } from '../config/endpoints.ts';

interface CheckEntry<K extends CheckKind> {
  run: CheckFn<K>;
  emptyKeys(task: TaskOf<K>): KeysByKind[K];
}

const dial = { resolver: null, resolved_ips: [], dialed_ip: null };

export const checks: { [K in CheckKind]: CheckEntry<K> } = {
  dns: {
    run: checkDns,
    emptyKeys: (task) => ({ name: task.target, queries: [], evidence: task.dns.evidence ? [] : null }),
  },
  http: {
    run: checkHttp,
    emptyKeys: (task) => ({
      url: task.target, method: task.http.method, ...dial, status: null, http_version: null, redirects: [],
      final_url: null, body_bytes: 0, body_truncated: false, sha256: null, content_type: null, tls: null,
      cert_expires_in_days: null, failed_assertion: null,
    }),
  },
  tcp: {
    run: checkTcp,
    emptyKeys: (task) => {
      const hp = splitHostPort(task.target);
      return { host: hp?.host ?? task.target, port: hp?.port ?? 0, ...dial, tls: null };
    },
  },
  ping: {
    run: checkPing,
    emptyKeys: (task) => ({
      host: task.target, ...dial, sent: 0, received: 0, loss_pct: 100,
      rtt_min_ms: null, rtt_avg_ms: null, rtt_max_ms: null, rtt_stddev_ms: null,
    }),
  },
};
