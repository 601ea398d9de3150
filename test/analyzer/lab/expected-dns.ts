/**
 * What the lab's resolvers should answer, worked out from the scenario table alone: the lab checks
 * its own records against this before anything is classified, so a broken lab shows up as a lab
 * failure and not as a wrong verdict.
 */
import { ISP_PLAN, type Isp } from './addresses.ts';
import { GEO_ZONES, INFRA_RECORDS, type DnsAnswer, type GeoView, type Scenario } from './scenarios.ts';

export type ExpectedAnswer = { ips: string[] } | { failure: string };

const inGeoZone = (name: string) => GEO_ZONES.some((z) => name === z || name.endsWith(`.${z}`));

function findRecord(s: Scenario, name: string) {
  return s.dns.find((r) => r.name === name)
    ?? s.dns.find((r) => r.name.startsWith('*.') && name.endsWith(r.name.slice(1)) && name.length > r.name.length - 1);
}

/** Follows `name` through the scenario's records (and the lab's infrastructure names). */
function resolve(s: Scenario, name: string, view: GeoView, round: number, depth = 0): ExpectedAnswer {
  if (depth > 8) throw new Error(`lab: CNAME loop at ${name}`);
  const infra = INFRA_RECORDS.find((r) => r.name === name);
  if (infra) return { ips: [infra.ip] };
  const r = findRecord(s, name);
  if (!r) return { failure: 'dns_nxdomain' };
  const answer: DnsAnswer = inGeoZone(r.name) ? (r.views?.[view] ?? r.answer) : (round >= 2 && r.round2 ? r.round2 : r.answer);
  return 'a' in answer ? { ips: [...answer.a].sort() } : resolve(s, answer.cname, view, round, depth + 1);
}

/** The answer of `isp`'s local resolver for the scenario's host in `round`. */
export function expectedLocal(s: Scenario, isp: Isp, round: number): ExpectedAnswer {
  if (isp === 'C' && round >= 2) return { failure: 'any' }; // its resolver is stopped
  const o = s.resolvers?.[isp];
  if (o && 'rcode' in o) return { failure: `dns_${o.rcode.toLowerCase()}` };
  if (o && 'a' in o) return { ips: [...o.a].sort() };
  if (o) return resolve(s, o.cname, isp, round);
  // ISP A's resolver keeps round-1 answers for an hour.
  return resolve(s, s.host, isp, isp === 'A' ? 1 : round);
}

/** The answer of `isp`'s probe's reference (a clean public recursor) in `round`. */
export function expectedReference(s: Scenario, isp: Isp, round: number): ExpectedAnswer {
  return resolve(s, s.host, ISP_PLAN[isp].reference, round);
}
