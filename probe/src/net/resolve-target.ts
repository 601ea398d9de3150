// STUB — to be replaced by the DNS helper. Signature is fixed.
import type { IpVersion } from '../config/config.ts';
import type { FailureCode } from '../contract/failure.ts';
import type { CheckContext } from '../checks/check.ts';

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

export async function resolveTarget(host: string, ipVersion: IpVersion, ctx: CheckContext): Promise<ResolvedTarget> {
  void ipVersion; void ctx;
  return { resolver: null, resolvedIps: [host], ip: host, failure: null, failureDetail: null, resolveMs: null };
}
