/**
 * The classifier: one verdict per (dns record, local resolver), by the procedure of research
 * note §3 — first match wins. Pure: the ground truth and expectations are passed in, nothing is
 * read or written. Feed the record to the ground truth (`gt.observe`) before classifying it, so
 * its own reference answers and pages count.
 */
import type { ResultRecord } from '@vantage/probe';
import { localAnswers, querySummaries, type ResolverAnswer } from './answers.ts';
import { recordContext, type Decision, type RecordContext } from './context.ts';
import { declaresIp, Expectations, NO_EXPECTATION } from './expectations.ts';
import { GroundTruth } from './ground-truth.ts';
import { isBogon } from './ip.ts';
import { blockRule, failureRule, missingRule, rewriteRule } from './rules-dns.ts';
import { httpPathRule } from './rules-http-path.ts';
import { ipRule } from './rules-ip.ts';
import type { AnalyzerSettings } from './settings.ts';
import { SEVERITY, type IpEvidence, type Verdict, type VerdictEvidence, type VerdictFlag } from './verdict.ts';

/** Verdicts of one record (none for other kinds). */
export function classifyRecord(record: ResultRecord, gt: GroundTruth, expectations?: Expectations): Verdict[] {
  if (record.kind !== 'dns') return [];
  const dns = record as ResultRecord<'dns'>;
  const ctx = recordContext(dns, gt, expectations?.for(dns.task_id, dns.target) ?? NO_EXPECTATION);
  return localAnswers(dns).map((answer) => verdictFor(ctx, answer));
}

function verdictFor(ctx: RecordContext, answer: ResolverAnswer): Verdict {
  const extra: Partial<VerdictEvidence> = {};
  const ips: Record<string, IpEvidence> = {};
  const decision = decideAnswer(ctx, answer, extra, ips);
  const { record } = ctx;
  const evidence: VerdictEvidence = {
    reason: decision.reason,
    queries: querySummaries(answer.queries),
    reference: {
      outcome: ctx.reference?.outcome ?? 'none',
      ips: ctx.reference?.ips ?? [],
      cnames: ctx.reference?.cnames ?? [],
      ...(ctx.fleetIps.length > 0 ? { fleet_ips: ctx.fleetIps } : {}),
    },
    ...(Object.keys(ips).length > 0 ? { ips } : {}),
    ...extra,
    ...(decision.fingerprint ? { fingerprint: decision.fingerprint } : {}),
  };
  const expected = new Set(ctx.truthIps);
  for (const ip of ctx.expect.ips) expected.add(ip);
  return {
    id: `${record.id}/${answer.server}`,
    record_id: record.id,
    task_id: record.task_id,
    target: record.target,
    probe_id: record.probe_id,
    region: record.probe_region,
    isp: record.probe_isp,
    resolver: answer.server,
    round: record.scheduled_at,
    started_at_ms: ctx.at,
    class: decision.class,
    flags: [...new Set(decision.flags)].sort(),
    rule: decision.rule,
    answer_ips: answer.ips,
    expected_ips: [...expected].sort(),
    evidence,
  };
}

function decideAnswer(ctx: RecordContext, answer: ResolverAnswer, extra: Partial<VerdictEvidence>, ips: Record<string, IpEvidence>): Decision {
  const early = failureRule(ctx, answer, extra) ?? missingRule(ctx, answer, extra) ?? rewriteRule(ctx, answer) ?? blockRule(ctx, answer);
  if (early) return early;
  if (answer.ips.length === 0) {
    // Non-address types only (TXT, MX …): the resolver answered; nothing to compare.
    return { class: 'consistent', rule: 'R6-answered', reason: 'the resolver answered (no address types asked)', flags: [] };
  }

  const bogon: VerdictFlag[] = answer.ips.some((ip) => isBogon(ip)) ? ['bogon'] : [];
  const outside = answer.ips.filter((ip) => !(ctx.truthIps.has(ip) || declaresIp(ctx.expect, ip)));
  let decision: Decision;
  if (outside.length === 0) {
    decision = { class: 'consistent', rule: 'R6-in-ground-truth', reason: 'every answer IP is ground truth (reference answers or expected)', flags: bogon };
  } else if (ctx.truthIps.size === 0 && ctx.expect.ips.size === 0 && ctx.expect.cidrs.size === 0 && !outside.some((ip) => ctx.suspectPages.has(ip) || ctx.gt.ipStatus(ctx.target, ip, ctx.round) !== 'none')) {
    decision = { class: 'consistent', rule: 'R6-no-ground-truth', reason: 'no reference answer, expectation or page to compare with', flags: ['no_ground_truth', 'low_confidence', ...bogon] };
  } else {
    decision = worstOf(ctx, answer, outside, ips, bogon);
  }
  if (decision.class !== 'consistent' && decision.class !== 'cdn_variance') return decision;
  if (decision.flags.includes('challenge')) return decision;

  const path = httpPathRule(ctx);
  if (path.comparison) extra.http_path = path.comparison;
  if (!path.decision) return decision;
  if (path.decision.class === 'consistent') return { ...path.decision, flags: [...path.decision.flags, ...decision.flags] };
  return path.decision;
}

/** Each IP outside the current truth gets its own decision; the most severe one stands. */
function worstOf(ctx: RecordContext, answer: ResolverAnswer, outside: string[], ips: Record<string, IpEvidence>, bogon: VerdictFlag[]): Decision {
  let worst: Decision | null = null;
  const table = ctx.settings.asnTable;
  for (const ip of outside) {
    const status = ctx.gt.ipStatus(ctx.target, ip, ctx.round);
    const e: IpEvidence = { ground_truth: status };
    const info = table?.lookup(ip);
    if (info) {
      e.asn = info.asn;
      if (info.org) e.org = info.org;
    }
    if (isBogon(ip)) e.bogon = true;
    const prevalence = ctx.gt.prevalence(ctx.record.probe_isp, ip, ctx.target, ctx.round);
    if (prevalence > 0) e.prevalence = prevalence;
    const d = ipRule(ctx, answer, ip, status, e);
    e.class = d.class;
    e.rule = d.rule;
    ips[ip] = e;
    if (worst === null || SEVERITY[d.class] > SEVERITY[worst.class]) worst = d;
  }
  const decision = worst!;
  return bogon.length > 0 ? { ...decision, flags: [...decision.flags, ...bogon] } : decision;
}

// --- batch ----------------------------------------------------------------------------------

export interface ClassifyOptions {
  settings?: Partial<AnalyzerSettings>;
  expectations?: Expectations;
}

/**
 * Classifies a batch the way `vantage analyze` does: every record feeds the ground truth first
 * (so every probe's reference answers and pages count for every record), then each is judged.
 * Verdicts come sorted by task, target, round, probe, resolver and record.
 */
export function classifyRecords(records: readonly ResultRecord[], options: ClassifyOptions = {}): Verdict[] {
  // A batch keeps every moment's pages and canaries: its records may span any time.
  const gt = new GroundTruth({ ...options.settings, controlsKeepMs: Number.POSITIVE_INFINITY });
  for (const record of records) gt.observe(record);
  const verdicts: Verdict[] = [];
  for (const record of records) verdicts.push(...classifyRecord(record, gt, options.expectations));
  return sortVerdicts(verdicts);
}

const SORT_KEYS = ['task_id', 'target', 'round', 'probe_id', 'resolver', 'record_id'] as const;

export function sortVerdicts(verdicts: Verdict[]): Verdict[] {
  return verdicts.sort((a, b) => {
    for (const key of SORT_KEYS) {
      if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
    }
    return 0;
  });
}
