/**
 * Resolves a dial target's host through the probe's local resolvers, in order, failing over to
 * the next when one fails or does not answer in time (what a stub resolver on that ISP would do).
 */
import { isIP } from 'node:net';
import type { IpVersion } from '../config/config.ts';
import type { FailureCode } from '../contract/failure.ts';
import type { CheckContext } from '../checks/check.ts';
import { queryDns } from './dns-client.ts';

export interface ResolvedTarget {
  /** The resolver that answered ("ip:port"), null when the host is an IP literal. */
  resolver: string | null;
  resolvedIps: string[];
  /** The address to dial (the first usable one), null on failure. */
  ip: string | null;
  failure: FailureCode | null;
  failureDetail: string | null;
  /** Time spent resolving; null for an IP literal. */
  resolveMs: number | null;
}

/** How long one resolver gets before the next is tried (the last one gets what is left). */
export const RESOLVER_BUDGET_MS = 2000;

export async function resolveTarget(host: string, ipVersion: IpVersion, ctx: CheckContext): Promise<ResolvedTarget> {
  const literal = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(literal)) {
    return { resolver: null, resolvedIps: [literal], ip: literal, failure: null, failureDetail: null, resolveMs: null };
  }
  const start = ctx.now();
  const result = (fields: Omit<ResolvedTarget, 'resolveMs'>): ResolvedTarget => ({ ...fields, resolveMs: ctx.now() - start });
  if (ctx.resolvers.length === 0) {
    return result({ resolver: null, resolvedIps: [], ip: null, failure: 'dns_no_resolver', failureDetail: 'no local resolver configured' });
  }
  const types = ipVersion === '4' ? ['A'] : ipVersion === '6' ? ['AAAA'] : ['A', 'AAAA'];

  let last: Omit<ResolvedTarget, 'resolveMs'> | null = null;
  for (const [i, server] of ctx.resolvers.entries()) {
    const isLast = i === ctx.resolvers.length - 1;
    const budget = new AbortController();
    const timer = isLast ? undefined : setTimeout(() => budget.abort(), RESOLVER_BUDGET_MS);
    const signal = isLast ? ctx.signal : AbortSignal.any([ctx.signal, budget.signal]);
    try {
      for (const type of types) {
        const q = await queryDns(server, host, type, { role: 'local', signal, now: ctx.now, extraCaPem: ctx.extraCaPem });
        if (q.failure === null && q.ips.length > 0) {
          return result({ resolver: server.label, resolvedIps: q.ips, ip: q.ips[0], failure: null, failureDetail: null });
        }
        last = {
          resolver: server.label,
          resolvedIps: [],
          ip: null,
          failure: q.failure ?? 'dns_no_answer',
          failureDetail: `${server.label}: ${q.failure_detail ?? `no ${type} address for ${host}`}`,
        };
        // Only "no address of this family" moves on to AAAA; any other failure moves on to the next resolver.
        if (q.failure !== 'dns_no_answer') break;
      }
    } finally {
      clearTimeout(timer);
    }
    if (ctx.signal.aborted) break;
  }
  return result(last!);
}
