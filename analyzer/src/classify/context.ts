/**
 * What every rule needs about one record, computed once: its reference answer, the ground truth
 * at its round, its evidence pages by IP, and the control pages (its own reference pages and
 * other probes' pages at the same moment).
 */
import type { EvidenceFetch, ResultRecord } from '@vantage/probe';
import { referenceAnswer, type Answer } from './answers.ts';
import type { Expectation } from './expectations.ts';
import type { GroundTruth } from './ground-truth.ts';
import { canonicalIp } from './ip.ts';
import { hasContent, schemeOf, verified, withControls, type Controls } from './pages.ts';
import type { AnalyzerSettings } from './settings.ts';
import type { VerdictClass, VerdictFlag } from './verdict.ts';

export interface Decision {
  class: VerdictClass;
  rule: string;
  reason: string;
  flags: VerdictFlag[];
  fingerprint?: string;
}

export const decide = (cls: Decision['class'], rule: string, reason: string, flags: VerdictFlag[] = [], fingerprint?: string): Decision => ({
  class: cls, rule, reason, flags, ...(fingerprint ? { fingerprint } : {}),
});

export interface PagePair {
  http?: EvidenceFetch;
  https?: EvidenceFetch;
}

export interface RecordContext {
  record: ResultRecord<'dns'>;
  target: string;
  round: number;
  at: number;
  gt: GroundTruth;
  settings: AnalyzerSettings;
  expect: Expectation;
  reference: Answer | null;
  /** Current ground truth: this record's reference IPs and the fleet's near this round. */
  truthIps: Set<string>;
  fleetIps: string[];
  /** Reference NXDOMAIN now (this record's references, or the fleet's when this one has no answer). */
  referenceNx: boolean;
  /** Pages fetched through IPs only the local resolvers gave, by IP. */
  suspectPages: Map<string, PagePair>;
  /** This record's pages through a reference IP. */
  referencePages: EvidenceFetch[];
  /** Controls for a page through a suspect IP: own reference pages + the fleet's verified pages. */
  dnsControls(): Controls;
  /** Controls for this probe's own reference http page (rule 12): verified pages, else other ISPs'. */
  pathControls(): Controls;
}

export function recordContext(record: ResultRecord<'dns'>, gt: GroundTruth, expect: Expectation): RecordContext {
  // Times are free text on the wire: an unreadable one counts as 0 rather than poisoning lookups.
  const round = Date.parse(record.scheduled_at) || 0;
  const at = Date.parse(record.started_at) || 0;
  const reference = referenceAnswer(record);
  const fleetIps = gt.currentIps(record.target, round);
  const truthIps = new Set<string>(fleetIps);
  for (const ip of reference?.ips ?? []) truthIps.add(ip);
  const referenceNx = reference?.outcome === 'nxdomain' || ((reference === null || reference.outcome === 'failed') && gt.referenceNxdomain(record.target, round));

  const suspectPages = new Map<string, PagePair>();
  const referencePages: EvidenceFetch[] = [];
  for (const page of record.keys.evidence ?? []) {
    if (page.role === 'reference') {
      referencePages.push(page);
      continue;
    }
    const ip = canonicalIp(page.ip);
    let pair = suspectPages.get(ip);
    if (!pair) suspectPages.set(ip, (pair = {}));
    pair[schemeOf(page)] ??= page;
  }

  let dnsControls: Controls | null = null;
  let pathControls: Controls | null = null;
  return {
    record,
    target: record.target,
    round,
    at,
    gt,
    settings: gt.settings,
    expect,
    reference,
    truthIps,
    fleetIps,
    referenceNx,
    suspectPages,
    referencePages,
    // The record's own verified pages are in the fleet's set already (observe before classify).
    dnsControls() {
      dnsControls ??= withControls(gt.fleetControls(record.target, at), referencePages.filter((p) => !verified(p) && hasContent(p)));
      return dnsControls;
    },
    pathControls() {
      if (pathControls) return pathControls;
      const fleet = gt.fleetControls(record.target, at);
      pathControls = fleet.pages.length > 0 ? fleet : gt.fleetControls(record.target, at, record.probe_isp);
      return pathControls;
    },
  };
}
