/**
 * A dns record's queries, summed up: per local resolver (its A/AAAA queries are one answer) and
 * for the references together. An outcome is what a user of that resolver would get.
 */
import type { DnsQuery, ResultRecord } from '@vantage/probe';
import { normName } from './domains.ts';
import { canonicalIp } from './ip.ts';
import type { QuerySummary } from './verdict.ts';

/** answered: addresses (or, for non-address tasks, data); nodata: NOERROR and nothing. */
export type Outcome = 'answered' | 'nxdomain' | 'nodata' | 'failed';

export interface Answer {
  outcome: Outcome;
  ips: string[];
  /** Names of the CNAME chains, in order, without the queried name. */
  cnames: string[];
  /** The first failure code, when nothing was answered. */
  failure: string | null;
  queries: DnsQuery[];
}

export interface ResolverAnswer extends Answer {
  server: string;
}

const isAddressType = (q: DnsQuery) => q.type === 'A' || q.type === 'AAAA';
const SOFT_FAILURES = new Set(['dns_nxdomain', 'dns_no_answer']);

export function summarize(queries: DnsQuery[]): Answer {
  const address = queries.filter(isAddressType);
  const judged = address.length > 0 ? address : queries;
  const ips: string[] = [];
  const cnames: string[] = [];
  for (const q of queries) {
    for (const name of q.cname_chain) {
      const n = normName(name);
      if (!cnames.includes(n)) cnames.push(n);
    }
  }
  for (const q of judged) {
    for (const ip of q.ips) {
      const c = canonicalIp(ip);
      if (!ips.includes(c)) ips.push(c);
    }
  }
  ips.sort();
  let outcome: Outcome;
  if (ips.length > 0 || (address.length === 0 && judged.some((q) => q.failure === null))) outcome = 'answered';
  else if (judged.some((q) => q.rcode === 'NXDOMAIN' || q.failure === 'dns_nxdomain')) outcome = 'nxdomain';
  else if (judged.some((q) => q.failure !== null && !SOFT_FAILURES.has(q.failure)) || judged.length === 0) outcome = 'failed';
  else outcome = 'nodata';
  const failure = outcome === 'answered' ? null : judged.find((q) => q.failure !== null)?.failure ?? null;
  return { outcome, ips, cnames, failure, queries };
}

/** One answer per local resolver, in the order the record lists them. */
export function localAnswers(record: ResultRecord<'dns'>): ResolverAnswer[] {
  const byServer = new Map<string, DnsQuery[]>();
  for (const q of record.keys.queries) {
    if (q.role !== 'local') continue;
    const list = byServer.get(q.server);
    if (list) list.push(q);
    else byServer.set(q.server, [q]);
  }
  return [...byServer].map(([server, queries]) => ({ server, ...summarize(queries) }));
}

/** The references of the record together; outcome 'none' when the task has none. */
export function referenceAnswer(record: ResultRecord<'dns'>): Answer | null {
  const queries = record.keys.queries.filter((q) => q.role === 'reference');
  if (queries.length === 0) return null;
  // Any reference with addresses is ground truth; NXDOMAIN only when none has any.
  return summarize(queries);
}

export function querySummaries(queries: DnsQuery[]): QuerySummary[] {
  return queries.map((q) => ({
    type: q.type,
    rcode: q.rcode,
    failure: q.failure,
    ips: q.ips,
    cname_chain: q.cname_chain,
    min_ttl: q.answers.length > 0 ? Math.min(...q.answers.map((a) => a.ttl)) : null,
  }));
}
