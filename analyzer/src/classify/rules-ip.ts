/**
 * Rules 6–11 and 13 for one answer IP outside the current ground truth: stale answers, CDN/geo
 * variance (a certificate that verifies for the domain), malicious hosts, ad hijacks, ad
 * injection, ISP caches, and what is left (suspicious). The page fetched through the IP is
 * compared with the controls (pages.ts); TLS that verifies makes the https page untouchable.
 */
import type { EvidenceFetch } from '@vantage/probe';
import type { ResolverAnswer } from './answers.ts';
import { decide, type Decision, type RecordContext } from './context.ts';
import { hostOf, nameEndsWith, sameSite, siteOf } from './domains.ts';
import {
  blockpageTitle, certNamesDomain, challengeFingerprint, executableFingerprint, isHtml, isKnownCdn,
} from './fingerprints.ts';
import { comparePage, hasContent, schemeOf, verified, type Controls, type PageDiff } from './pages.ts';
import type { IpEvidence, VerdictFlag } from './verdict.ts';

const REFUSED_TLS = new Set(['connection_refused', 'connection_reset', 'timeout', 'tls_handshake_failed', 'host_unreachable']);

/** Why an IP outside the truth may still belong to the domain's own CDN or hosting. */
function cdnCorroboration(ctx: RecordContext, answer: ResolverAnswer, ip: string, status: string): string[] {
  const out: string[] = [];
  if (status === 'history' || status === 'later') out.push(`reference_${status}`);
  const ownSite = siteOf(ctx.target);
  const referenceSites = ctx.gt.referenceCnameSites(ctx.target, ctx.round);
  for (const name of ctx.reference?.cnames ?? []) referenceSites.add(siteOf(name));
  const chainSites = answer.cnames.map(siteOf).filter((s) => s !== ownSite);
  const sharedSite = chainSites.find((s) => referenceSites.has(s));
  if (sharedSite) out.push(`cname:${sharedSite}`);
  const expectedName = answer.cnames.find((name) => ctx.expect.cnames.some((c) => nameEndsWith(name, c)));
  if (expectedName) out.push(`expected_cname:${expectedName}`);
  const isps = ctx.gt.ispsAnswering(ip, ctx.target, ctx.round);
  if (isps >= 2) out.push(`isps:${isps}`);
  const table = ctx.settings.asnTable;
  const info = table?.lookup(ip) ?? null;
  if (info) {
    if (ctx.expect.asns.has(info.asn)) out.push(`expected_asn:${info.asn}`);
    const truthAsns = new Set<number>();
    for (const t of [...ctx.truthIps, ...ctx.gt.historyIps(ctx.target, ctx.round)]) {
      const a = table!.lookup(t);
      if (a) truthAsns.add(a.asn);
    }
    if (truthAsns.has(info.asn)) out.push(`asn:${info.asn}`);
    if (isKnownCdn(info)) out.push(`cdn_network:${info.org ?? info.asn}`);
  }
  return out;
}

/** `realHttps`: a control shows the real site serving https that verifies. */
function ispCorroboration(ctx: RecordContext, https: EvidenceFetch | undefined, realHttps: boolean, e: IpEvidence): string[] {
  const out: string[] = [];
  if (e.asn !== undefined && ctx.record.probe_asn !== null && e.asn === ctx.record.probe_asn) out.push(`isp_asn:${e.asn}`);
  if ((e.prevalence ?? 0) >= ctx.settings.prevalenceMinDomains) out.push(`prevalence:${e.prevalence}`);
  // :443 refused or a foreign certificate, where the real site does serve https.
  if (realHttps && https) {
    if (https.tls === null && https.failure !== null && REFUSED_TLS.has(https.failure)) out.push(`https_${https.failure}`);
    else if (https.tls && !https.tls.verified && !certNamesDomain(https.tls, ctx.target)) out.push('https_foreign_cert');
  }
  return out;
}

/** A form with a password field posting to another site that no control posts to. */
function credentialForm(ctx: RecordContext, page: EvidenceFetch, controls: Controls): string | null {
  if (!page.has_password_field) return null;
  const known = controls.formHosts;
  for (const origin of page.form_action_origins) {
    const host = hostOf(origin);
    if (host && !sameSite(host, ctx.target) && !known.has(host)) return host;
  }
  return null;
}

export function ipRule(ctx: RecordContext, answer: ResolverAnswer, ip: string, status: string, e: IpEvidence): Decision {
  if (ctx.settings.threats.has(ip)) {
    e.threat = true;
    return decide('malicious', 'R8-threat-list', `${ip} is on the threat list`, ['vector=dns'], `threat:${ctx.settings.threats.get(ip)}`);
  }
  const pages = ctx.suspectPages.get(ip);
  const fleetTls = ctx.gt.tlsVerifiedByFleet(ctx.target, ip, ctx.round);
  if (!pages) return withoutEvidence(ctx, answer, ip, status, e, fleetTls);

  const { http, https } = pages;
  const tlsOk = verified(https);
  if (https?.tls) {
    e.tls = {
      verified: https.tls.verified, error: https.tls.error, subject: https.tls.subject, issuer: https.tls.issuer,
      names_domain: certNamesDomain(https.tls, ctx.target),
    };
  }
  const controls = ctx.dnsControls();
  const suspects = [http, tlsOk ? undefined : https].filter((p): p is EvidenceFetch => p !== undefined && hasContent(p));
  const diffs: PageDiff[] = suspects.map((p) => comparePage(p, controls, ctx.target, ctx.expect.scriptHosts));
  if (diffs.length > 0) e.compared = diffs[0].comparison;
  const tampered = diffs.some((d) => d.inj || d.offsite.length > 0 || d.wraps);
  const eqAny = diffs.some((d) => d.eq === true);
  const eqKnown = diffs.some((d) => d.eq !== null);

  // Rule 6, stale: the references gave this IP within the stale window, and it still serves the site.
  if (status === 'stale' && !tampered && (tlsOk || eqAny)) {
    return decide('consistent', 'R6-stale', `${ip} was ground truth within the stale window and ${tlsOk ? 'its certificate verifies' : 'serves the same page'}`, ['stale']);
  }
  // Rule 7: a certificate that verifies for the domain, nothing injected over http, and something
  // tying the IP to the domain's own delivery (CDN CNAME, ASN, other ISPs) — a certificate alone
  // also passes a transparent TCP proxy.
  const challenge = [http, https].filter((p): p is EvidenceFetch => p !== undefined && hasContent(p)).map(challengeFingerprint).find((f) => f !== null);
  const genuine = (tlsOk || fleetTls) && !tampered;
  const tlsFlags: VerdictFlag[] = [...(tlsOk ? [] : ['tls_from_fleet' as const]), ...(status === 'none' ? ['gt_refresh' as const] : []), ...(challenge ? ['challenge' as const] : [])];
  if (genuine) {
    const corroboration = cdnCorroboration(ctx, answer, ip, status);
    e.corroboration = corroboration;
    if (corroboration.length > 0) {
      return decide('cdn_variance', 'R7-cdn-verified', `${ip} presents a certificate that verifies for ${ctx.target} (${corroboration.join(', ')})`, tlsFlags, challenge ?? undefined);
    }
  }

  // Rule 8: malicious, before the ad classes (a cloned page keeps the title).
  const controlsHtml = controls.pages.filter(hasContent);
  for (const p of suspects) {
    const exe = executableFingerprint(p);
    if (exe && (controlsHtml.length === 0 || controlsHtml.some(isHtml))) {
      return decide('malicious', 'R8-executable', `${ip} serves a download where the site serves a page`, ['vector=dns'], exe);
    }
  }
  for (const p of suspects) {
    const host = credentialForm(ctx, p, controls);
    if (host) return decide('malicious', 'R8-credential-form', `${ip} serves a password form posting to ${host}`, ['vector=dns'], `form:${host}`);
  }
  const realHttps = controls.pages.some((c) => schemeOf(c) === 'https' && verified(c));
  if (https?.tls && !tlsOk && e.tls?.names_domain && realHttps && (tampered || diffs.some((d) => d.eq === false))) {
    return decide('malicious', 'R8-impersonating-cert', `${ip} presents an unverifiable certificate for ${ctx.target} (${https.tls.error}) and different content`, ['vector=dns'], `cert:${https.tls.fingerprint256 ?? https.tls.issuer}`);
  }

  // Rule 13 (first half): a challenge page is never a hijack.
  if (challenge) return decide('consistent', 'R13-challenge', `${ip} serves a challenge/CAPTCHA page`, ['challenge'], challenge);
  const blockpage = suspects.map(blockpageTitle).find((f) => f !== null);
  if (blockpage) return decide('blocked', 'R5-blockpage-content', `${ip} serves a blockpage`, [], blockpage);

  // Rule 9: ad hijack — off-site redirect, frame overlay, or another page carrying third-party code.
  const offsite = [...new Set(diffs.flatMap((d) => d.offsite))];
  if (offsite.length > 0) return decide('ad_hijack', 'R9-offsite-redirect', `${ip} sends the browser to ${offsite.join(', ')}`, ['vector=dns']);
  if (diffs.some((d) => d.wraps)) return decide('ad_hijack', 'R9-frame-overlay', `${ip} wraps the site in a frameset/iframe`, ['vector=dns']);
  if (eqKnown && !eqAny && diffs.some((d) => d.newHosts.length > 0)) {
    return decide('ad_hijack', 'R9-ad-page', `${ip} serves another page loading ${diffs.flatMap((d) => d.newHosts).join(', ')}`, ['vector=dns']);
  }
  // Rule 10: the real page with something injected.
  if (eqAny && tampered) return decide('ad_injection', 'R10-injection', `${ip} serves the site's page with injected content`, ['vector=dns']);
  // A verified server with other content (a regional version): the domain's key holder, not a hijack.
  if (genuine && !eqAny) {
    return decide('cdn_variance', 'R7-cdn-verified', `${ip} presents a certificate that verifies for ${ctx.target} (nothing else ties it to the domain)`, [...tlsFlags, 'low_confidence']);
  }

  // Rule 11 (and rule 7 for sites without https): the same page, nothing injected.
  if (eqAny) {
    const cdn = realHttps ? [] : cdnCorroboration(ctx, answer, ip, status);
    if (cdn.length > 0) {
      e.corroboration = cdn;
      return decide('cdn_variance', 'R7-cdn-http-only', `${ip} serves the same page over http (the site has no verifiable https) and ${cdn.join(', ')}`);
    }
    const corroboration = ispCorroboration(ctx, https, realHttps, e);
    e.corroboration = corroboration;
    return decide('isp_cache', 'R11-isp-cache', `${ip} serves the same page without injection${corroboration.length ? ` (${corroboration.join(', ')})` : ''}`, corroboration.length ? [] : ['low_confidence']);
  }

  if (suspects.length === 0) {
    if (controls.pages.some(hasContent)) return decide('blocked', 'R5-unreachable', `${ip} serves nothing on http or https while the site does`, ['unreachable', 'low_confidence']);
    return decide('suspicious', 'R13-no-control', `${ip} serves nothing, and no control page to compare`, ['no_control']);
  }
  if (!eqKnown) return decide('suspicious', 'R13-no-control', `${ip} is outside the ground truth and no control page to compare with`, ['no_control']);
  return decide('suspicious', 'R13-different-content', `${ip} is outside the ground truth and serves different content`);
}

/** No page was fetched through the IP (evidence off, or over the per-record cap). */
function withoutEvidence(ctx: RecordContext, answer: ResolverAnswer, ip: string, status: string, e: IpEvidence, fleetTls: boolean): Decision {
  if (status === 'stale') return decide('consistent', 'R6-stale', `${ip} was ground truth within the stale window (no page fetched)`, ['stale', 'low_confidence', 'no_evidence']);
  if (fleetTls) return decide('cdn_variance', 'R7-cdn-fleet-tls', `${ip} presented a verified certificate for ${ctx.target} to another probe`, ['tls_from_fleet']);
  const cdn = cdnCorroboration(ctx, answer, ip, status);
  if (cdn.length > 0) {
    e.corroboration = cdn;
    return decide('cdn_variance', 'R7-cdn-unverified', `${ip}: ${cdn.join(', ')} (no page fetched)`, ['low_confidence', 'no_evidence']);
  }
  const isp = ispCorroboration(ctx, undefined, false, e);
  if (isp.length > 0) {
    e.corroboration = isp;
    return decide('isp_cache', 'R11-isp-cache-unverified', `${ip}: ${isp.join(', ')} (no page fetched)`, ['low_confidence', 'no_evidence']);
  }
  return decide('suspicious', 'R13-no-evidence', `${ip} is outside the ground truth and no page was fetched through it`, ['no_evidence']);
}
