/**
 * ping: real ICMP echo through the system `ping` (iputils), via the `ping` package. Figures come
 * from ping's own summary lines, so sent/received/loss/rtt are exactly what ping measured.
 */
import { isIPv6 } from 'node:net';
import ping from 'ping';
import type { PingKeys } from '../contract/record.ts';
import { describeError } from '../net/classify-error.ts';
import { resolveTarget } from '../net/resolve-target.ts';
import type { CheckFn } from './check.ts';

export const checkPing: CheckFn<'ping'> = async (task, ctx) => {
  const resolved = await resolveTarget(task.target, task.ping.ipVersion, ctx);
  const keys: PingKeys = {
    host: task.target,
    resolver: resolved.resolver,
    resolved_ips: resolved.resolvedIps,
    dialed_ip: resolved.ip,
    sent: 0,
    received: 0,
    loss_pct: 100,
    rtt_min_ms: null,
    rtt_avg_ms: null,
    rtt_max_ms: null,
    rtt_stddev_ms: null,
  };
  const timings = resolved.resolveMs === null ? {} : { resolve: resolved.resolveMs };
  if (resolved.ip === null) return { failure: resolved.failure, failureDetail: resolved.failureDetail, timings, keys };

  // ping's own deadline (-w) makes it exit by the task's timeout: nothing is left running.
  const secondsLeft = Math.max(1, Math.floor((task.timeoutMs - (resolved.resolveMs ?? 0)) / 1000));
  let output: string;
  try {
    const reply = await ping.promise.probe(resolved.ip, {
      min_reply: task.ping.count,
      deadline: secondsLeft,
      timeout: secondsLeft,
      v6: isIPv6(resolved.ip),
      extra: ['-i', (task.ping.intervalMs / 1000).toFixed(3)],
    });
    output = reply.output;
  } catch (err) {
    return { failure: 'ping_error', failureDetail: describeError(err), timings, keys };
  }

  const summary = parsePingSummary(output);
  if (!summary) {
    const firstLine = output.trim().split('\n')[0] ?? '';
    const failure = /unreachable/i.test(output) ? 'host_unreachable' : 'ping_error';
    return { failure, failureDetail: firstLine.slice(0, 300) || 'ping printed no summary', timings, keys };
  }
  Object.assign(keys, summary);
  if (summary.received === 0) {
    return { failure: 'ping_loss', failureDetail: `0 of ${summary.sent} echo replies`, timings, keys };
  }
  return { failure: null, failureDetail: null, timings, keys };
};

type PingSummary = Pick<PingKeys, 'sent' | 'received' | 'loss_pct' | 'rtt_min_ms' | 'rtt_avg_ms' | 'rtt_max_ms' | 'rtt_stddev_ms'>;

/** Reads iputils ping's closing lines: "N packets transmitted, M received, …" and "rtt min/avg/max/mdev = …". */
export function parsePingSummary(output: string): PingSummary | null {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  if (!counts) return null;
  const sent = Number(counts[1]);
  const received = Number(counts[2]);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(output);
  return {
    sent,
    received,
    loss_pct: sent === 0 ? 100 : Math.round(((sent - received) / sent) * 10000) / 100,
    rtt_min_ms: rtt ? Number(rtt[1]) : null,
    rtt_avg_ms: rtt ? Number(rtt[2]) : null,
    rtt_max_ms: rtt ? Number(rtt[3]) : null,
    rtt_stddev_ms: rtt ? Number(rtt[4]) : null,
  };
}
