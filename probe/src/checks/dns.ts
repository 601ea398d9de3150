/**
 * dns: asks every local resolver and every reference for each requested type, in parallel, and
 * (when the task asks) gathers hijack evidence for addresses only the local resolvers gave.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { DnsQuery } from '../contract/record.ts';
import { ipInCidr } from '../net/cidr.ts';
import { queryDns } from '../net/dns-client.ts';
import type { CheckFn } from './check.ts';
import { gatherEvidence } from './dns-evidence.ts';

export const checkDns: CheckFn<'dns'> = async (task, ctx) => {
  const { types, references, evidence: evidenceSettings, expect } = task.dns;
  const start = ctx.now();
  const ask = (role: 'local' | 'reference') => (server: (typeof references)[number]) =>
    types.map((type) => queryDns(server, task.target, type, { role, signal: ctx.signal, now: ctx.now, extraCaPem: ctx.extraCaPem }));

  let resolveMs = 0;
  const localDone = Promise.all(ctx.resolvers.flatMap(ask('local'))).then((qs) => {
    resolveMs = ctx.now() - start;
    return qs;
  });
  const [local, reference] = await Promise.all([localDone, Promise.all(references.flatMap(ask('reference')))]);

  let evidence = null;
  if (evidenceSettings !== null) {
    const { unexpectedIps, referenceIp } = findUnexpected(local, reference, expect);
    // With no unexpected IP, the page is still fetched (http and https) through an answer IP
    // shared with the references: HTTP-path tampering shows with consistent DNS too.
    evidence = unexpectedIps.length === 0 && referenceIp === null
      ? []
      : await gatherEvidence({ host: task.target, unexpectedIps, referenceIp, settings: evidenceSettings, ctx });
  }

  const verdict = localVerdict(task.target, ctx.resolvers.map((r) => r.label), local);
  return {
    ...verdict,
    timings: { resolve: resolveMs },
    keys: { name: task.target, queries: [...local, ...reference], evidence },
  };
};

/** A query that got data for the name: an address for A/AAAA, an on-chain record otherwise. */
function answered(q: DnsQuery, name: string): boolean {
  if (q.failure !== null) return false;
  if (q.type === 'A' || q.type === 'AAAA') return q.ips.length > 0;
  const names = new Set([name, ...q.cname_chain].map(norm));
  return q.answers.some((a) => names.has(norm(a.name)));
}

/** OK when every local resolver answered at least one type; else the first failing resolver's failure. */
function localVerdict(name: string, labels: string[], local: DnsQuery[]) {
  if (labels.length === 0) return { failure: 'dns_no_resolver' as const, failureDetail: 'no local resolver configured' };
  const perResolver = local.length / labels.length; // queries are in resolver order, one per type
  for (const [i, label] of labels.entries()) {
    const mine = local.slice(i * perResolver, (i + 1) * perResolver);
    if (mine.some((q) => answered(q, name))) continue;
    const failed = mine.find((q) => q.failure !== null);
    return {
      failure: failed?.failure ?? ('dns_no_answer' as const),
      failureDetail: `resolver ${label}: ${failed?.failure_detail ?? failed?.failure ?? 'no answer for the name'}`,
    };
  }
  return { failure: null, failureDetail: null };
}

/**
 * IPs the local resolvers gave that no reference gave and the task does not expect (by IP or
 * CIDR), and the reference IP to fetch alongside them (same family as the first unexpected one
 * when possible). When nothing is unexpected, the reference IP is one the local resolvers gave
 * too (IPv4 first; null when they share none): the page the user would really get.
 */
export function findUnexpected(local: DnsQuery[], reference: DnsQuery[], expected: { ips: string[]; cidrs: string[] }) {
  const referenceIps = [...new Set(reference.flatMap((q) => q.ips).map(canonicalIp))];
  const known = new Set([...referenceIps, ...expected.ips.map(canonicalIp)]);
  const localIps = [...new Set(local.flatMap((q) => q.ips).map(canonicalIp))];
  const unexpectedIps = localIps.filter((ip) => !known.has(ip) && !expected.cidrs.some((cidr) => ipInCidr(ip, cidr)));
  if (unexpectedIps.length === 0) {
    const shared = localIps.filter((ip) => referenceIps.includes(ip));
    return { unexpectedIps, referenceIp: shared.find((ip) => isIPv4(ip)) ?? shared[0] ?? null };
  }
  const family = isIPv6(unexpectedIps[0]) ? isIPv6 : isIPv4;
  const referenceIp = referenceIps.find((ip) => family(ip)) ?? referenceIps[0] ?? null;
  return { unexpectedIps, referenceIp };
}

/** One spelling per address, so "2001:DB8::1" in a task matches "2001:db8::1" from a resolver. */
function canonicalIp(ip: string): string {
  if (!isIPv6(ip)) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');
