/**
 * Rules 1–5 of the procedure (research note §3): what the resolver's answer alone says —
 * failures and canaries, NXDOMAIN against the references, NXDOMAIN rewriting, bogons, sinkholes
 * and blockpage CNAMEs. Null means "no decision here: compare the addresses".
 */
import type { ResolverAnswer } from './answers.ts';
import { decide, type Decision, type RecordContext } from './context.ts';
import { blockpageTitle } from './fingerprints.ts';
import { nameEndsWith } from './domains.ts';
import { declaresIp } from './expectations.ts';
import { isBogon, isIp } from './ip.ts';
import type { VerdictEvidence, VerdictFlag } from './verdict.ts';

/** Canary: other targets of the same probe and resolver at the same moment. */
function canaryOf(ctx: RecordContext, answer: ResolverAnswer, extra: Partial<VerdictEvidence>) {
  const canary = ctx.gt.canary(ctx.record.probe_id, answer.server, ctx.target, ctx.at);
  extra.canary = canary;
  const known = canary.answered + canary.failed > 0;
  return { passes: canary.answered > canary.failed, fails: known && canary.answered <= canary.failed, known };
}

/** Rule 1: the resolver gave nothing usable (timeout, SERVFAIL, REFUSED …). */
export function failureRule(ctx: RecordContext, answer: ResolverAnswer, extra: Partial<VerdictEvidence>): Decision | null {
  if (answer.outcome !== 'failed') return null;
  const what = answer.failure ?? 'no answer';
  if (ctx.reference?.outcome === 'failed') {
    return decide('resolver_failure', 'R1-reference-fails-too', `${what} here, and the references failed too`);
  }
  const canary = canaryOf(ctx, answer, extra);
  if (canary.passes) {
    const probes = Math.max(1, ctx.gt.probesWith(ctx.target, ctx.record.probe_isp, 'failed', ctx.at));
    extra.failing_probes = probes;
    if (probes >= ctx.settings.blockedMinProbes) {
      return decide('blocked', 'R1-target-failure-repeated', `${what} for this target only, on ${probes} probes of ${ctx.record.probe_isp}`, ['target_specific']);
    }
    return decide('resolver_failure', 'R1-target-specific', `${what} for this target only (other targets answered)`, ['target_specific']);
  }
  if (canary.fails) return decide('resolver_failure', 'R1-resolver-down', `${what}, and other targets failed on this resolver too`);
  return decide('resolver_failure', 'R1-failure', `${what} (no other target at the same moment to tell resolver from target)`);
}

/** Rules 2 and 4: NXDOMAIN or an empty answer, against what the references say. */
export function missingRule(ctx: RecordContext, answer: ResolverAnswer, extra: Partial<VerdictEvidence>): Decision | null {
  if (answer.outcome !== 'nxdomain' && answer.outcome !== 'nodata') return null;
  const nx = answer.outcome === 'nxdomain';
  const word = nx ? 'NXDOMAIN' : 'an empty answer';
  if (nx && ctx.referenceNx) return decide('consistent', 'R2-expected-nxdomain', 'NXDOMAIN, as the references say');
  // Which address families the resolver came back empty for, and whether the truth has them.
  const emptyTypes = answer.queries.filter((q) => (q.type === 'A' || q.type === 'AAAA') && q.ips.length === 0).map((q) => q.type);
  const truth = [...ctx.truthIps, ...ctx.expect.ips];
  const truthHas = truth.some((ip) => emptyTypes.includes(ip.includes(':') ? 'AAAA' : 'A'));
  if (!truthHas) {
    if (!nx) return decide('consistent', 'R2-expected-nodata', 'no address of the asked types, and the references have none either');
    return decide('consistent', 'R2-nxdomain-unverified', 'NXDOMAIN, and no reference answer to compare with', ['no_ground_truth', 'low_confidence']);
  }
  const flags: VerdictFlag[] = nx ? [] : ['nodata'];
  const rule = nx ? 'R4-target-nxdomain' : 'R4-target-nodata';
  const canary = canaryOf(ctx, answer, extra);
  if (canary.fails) return decide('resolver_failure', nx ? 'R1-resolver-nxdomain' : 'R1-resolver-nodata', `${word} here and for other targets of this resolver`);
  if (canary.passes) return decide('blocked', rule, `${word} for this target only, while the references have addresses`, [...flags, 'target_specific']);
  return decide('blocked', rule, `${word} while the references have addresses (no other target to compare)`, [...flags, 'low_confidence']);
}

/** Rule 3: the references say NXDOMAIN but the resolver answered addresses. */
export function rewriteRule(ctx: RecordContext, answer: ResolverAnswer): Decision | null {
  if (!ctx.referenceNx || answer.ips.length === 0) return null;
  if (answer.ips.every((ip) => declaresIp(ctx.expect, ip))) return null;
  const block = blockFingerprint(ctx, answer);
  if (block) return decide('blocked', 'R3-ghost-blockpage', `the name does not exist, and the answer is a blockpage (${block.fingerprint})`, block.flags, block.fingerprint);
  for (const ip of answer.ips) {
    const pages = ctx.suspectPages.get(ip);
    const title = [pages?.http, pages?.https].map((p) => (p ? blockpageTitle(p) : null)).find((t) => t !== null);
    if (title) return decide('blocked', 'R3-ghost-blockpage', 'the name does not exist, and the page is a blockpage', [], title);
  }
  return decide('nxdomain_rewrite', 'R3-nxdomain-rewrite', 'the references say NXDOMAIN, the resolver answered addresses', ['vector=dns']);
}

/** A blockpage CNAME, a sinkhole IP or a bogon in the answer (none of them in the truth). */
function blockFingerprint(ctx: RecordContext, answer: ResolverAnswer): { fingerprint: string; flags: VerdictFlag[]; rule: string } | null {
  const referenceCnames = ctx.reference?.cnames ?? [];
  for (const name of answer.cnames) {
    const hit = ctx.settings.blockpages.cnames.find((suffix) => nameEndsWith(name, suffix));
    if (hit && !referenceCnames.includes(name)) return { fingerprint: `blockpage:cname:${name}`, flags: [], rule: 'R5-blockpage-cname' };
  }
  for (const ip of answer.ips) {
    const sinkhole = ctx.settings.blockpages.ips.get(ip);
    if (sinkhole && !accepted(ctx, ip)) return { fingerprint: `sinkhole:${sinkhole}`, flags: ['sinkhole'], rule: 'R5-sinkhole' };
  }
  for (const ip of answer.ips) {
    if (isIp(ip) && isBogon(ip) && !accepted(ctx, ip)) return { fingerprint: `bogon:${ip}`, flags: ['bogon'], rule: 'R5-bogon' };
  }
  return null;
}

/** The IP is current or stale ground truth, or the customer declared it. */
function accepted(ctx: RecordContext, ip: string): boolean {
  if (ctx.truthIps.has(ip) || declaresIp(ctx.expect, ip)) return true;
  const status = ctx.gt.ipStatus(ctx.target, ip, ctx.round);
  return status === 'current' || status === 'stale';
}

/** Rule 5: bogon, sinkhole or blockpage CNAME → blocked (unless the truth has the same). */
export function blockRule(ctx: RecordContext, answer: ResolverAnswer): Decision | null {
  const hit = blockFingerprint(ctx, answer);
  if (!hit) return null;
  const what = hit.rule === 'R5-bogon' ? 'a bogon address' : hit.rule === 'R5-sinkhole' ? 'a sinkhole address' : 'a blockpage CNAME';
  return decide('blocked', hit.rule, `the answer holds ${what} the references do not give`, hit.flags, hit.fingerprint);
}
