/**
 * The verdict: what the classifier decided about one DNS record as answered by one local
 * resolver. Its fields are the columns of `vantage.verdicts` (collector/src/store/tables.ts), with
 * `region`/`isp` in place of `probe_region`/`probe_isp` and the evidence as an object;
 * `verdictRow` gives the stored row.
 */

/** The classes, in the order the procedure decides them (see analyzer/README.md). */
export const VERDICT_CLASSES = [
  'resolver_failure',
  'consistent',
  'nxdomain_rewrite',
  'blocked',
  'cdn_variance',
  'malicious',
  'ad_hijack',
  'ad_injection',
  'isp_cache',
  'suspicious',
] as const;
export type VerdictClass = (typeof VERDICT_CLASSES)[number];

/** How bad a class is: when several answer IPs of one resolver disagree, the worst one decides. */
export const SEVERITY: Readonly<Record<VerdictClass, number>> = {
  consistent: 0,
  cdn_variance: 1,
  isp_cache: 2,
  resolver_failure: 3,
  suspicious: 4,
  nxdomain_rewrite: 5,
  blocked: 6,
  ad_injection: 7,
  ad_hijack: 8,
  malicious: 9,
};

/** Flags qualify a class. `vector=dns|http` says where the tampering happened. */
export type VerdictFlag =
  | 'stale'
  | 'bogon'
  | 'sinkhole'
  | 'challenge'
  | 'low_confidence'
  | 'target_specific'
  | 'no_ground_truth'
  | 'no_evidence'
  | 'no_control'
  | 'nodata'
  | 'unreachable'
  | 'gt_refresh'
  | 'tls_from_fleet'
  | 'vector=dns'
  | 'vector=http';

export interface Verdict {
  /** `${record_id}/${resolver}`: one verdict per record and local resolver. */
  id: string;
  record_id: string;
  task_id: string;
  target: string;
  probe_id: string;
  region: string;
  isp: string;
  /** The local resolver whose answer is judged (the query's `server`). */
  resolver: string;
  /** The record's `scheduled_at` (ISO 8601). */
  round: string;
  started_at_ms: number;
  class: VerdictClass;
  flags: VerdictFlag[];
  /** The rule that decided, a short stable name such as `R5-bogon`. */
  rule: string;
  /** What the resolver answered (A and AAAA), canonical, sorted. */
  answer_ips: string[];
  /** The ground truth it was compared with: current reference answers and expected IPs, sorted. */
  expected_ips: string[];
  evidence: VerdictEvidence;
}

/** JSON-able facts a person needs to check a verdict. Keys appear only when they say something. */
export interface VerdictEvidence {
  /** One sentence: why this class. */
  reason: string;
  /** The judged resolver's queries: type, rcode, failure, IPs, CNAME chain, lowest TTL. */
  queries: QuerySummary[];
  /** What the references said in this record (and the fleet's current view). */
  reference: { outcome: string; ips: string[]; cnames: string[]; fleet_ips?: string[] };
  /** Per answer IP outside the current ground truth (or otherwise remarkable). */
  ips?: Record<string, IpEvidence>;
  /** Other targets of the same probe and resolver at the same moment (rule 1). */
  canary?: { answered: number; failed: number };
  /** Probes of the same ISP that failed on this target at the same moment. */
  failing_probes?: number;
  /** The page comparison that decided an HTTP-path verdict (rule 12). */
  http_path?: PageComparison;
  /** A matched fingerprint, e.g. `challenge:title`, `blockpage:cname:block.isp.example`. */
  fingerprint?: string;
}

export interface QuerySummary {
  type: string;
  rcode: string | null;
  failure: string | null;
  ips: string[];
  cname_chain: string[];
  min_ttl: number | null;
}

export interface IpEvidence {
  /** Where the IP stands against ground truth: current, expected, stale, history, later, fleet_tls, none. */
  ground_truth: string;
  asn?: number;
  org?: string;
  bogon?: boolean;
  threat?: boolean;
  /** Unrelated sites this IP answered for in the same ISP over the history window. */
  prevalence?: number;
  tls?: { verified: boolean; error: string | null; subject: string | null; issuer: string | null; names_domain: boolean };
  /** The class this IP alone got, and by which rule. */
  class?: VerdictClass;
  rule?: string;
  /** Comparison of the page fetched through this IP with the control. */
  compared?: PageComparison;
  corroboration?: string[];
}

/** A fetched page against its controls (the reference fetches and the fleet's). */
export interface PageComparison {
  url: string;
  status: number | null;
  failure: string | null;
  control_urls: string[];
  control_status: (number | null)[];
  /** OONI-style equivalence: status match and (same hash, body ratio > 0.7 or title match). */
  eq: boolean | null;
  body_ratio: number | null;
  title_match: boolean;
  same_hash: boolean;
  /** External script/iframe/frame hosts not in any control nor the allowlist. */
  new_origins: string[];
  new_inline_scripts: number;
  content_length_mismatch: boolean;
  /** Off-site redirect / meta refresh targets the controls do not show. */
  offsite_redirects: string[];
}

/** The row of `vantage.verdicts` for a verdict (DateTime columns as 'YYYY-MM-DD hh:mm:ss' UTC). */
export function verdictRow(verdict: Verdict, analyzedAtMs: number) {
  return {
    id: verdict.id,
    record_id: verdict.record_id,
    task_id: verdict.task_id,
    target: verdict.target,
    probe_id: verdict.probe_id,
    probe_region: verdict.region,
    probe_isp: verdict.isp,
    resolver: verdict.resolver,
    round: clickHouseTime(Date.parse(verdict.round)),
    started_at_ms: verdict.started_at_ms,
    class: verdict.class,
    flags: verdict.flags,
    rule: verdict.rule,
    answer_ips: verdict.answer_ips,
    expected_ips: verdict.expected_ips,
    evidence: JSON.stringify(verdict.evidence),
    analyzed_at: clickHouseTime(analyzedAtMs),
  };
}
export type VerdictRow = ReturnType<typeof verdictRow>;

function clickHouseTime(ms: number): string {
  return new Date(Number.isFinite(ms) ? ms : 0).toISOString().slice(0, 19).replace('T', ' ');
}
