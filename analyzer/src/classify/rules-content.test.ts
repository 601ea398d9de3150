/**
 * Rules 7–13: answers outside the ground truth judged by the page behind them (CDN variance,
 * ISP caches, ad hijack/injection, malicious), and HTTP-path tampering with consistent DNS
 * (rule 12): scenarios 5–21 and 32 of the research note's §4 and their traps.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dnsRecord, ORIGIN, TARGET, type PageSpec } from './testing/fixtures.ts';
import { prefixSet } from './ip.ts';
import { IP, judge, record, referencePages } from './testing/scenario.ts';

const CDN_CHAIN = ['shop.example.com.edge.cdn-a.example'];
/** `n` unrelated sites the ISP resolver sends to `ip` (prevalence), each with its own truth. */
function cacheAnswers(ip: string, n: number) {
  return Array.from({ length: n }, (_, i) => dnsRecord({
    target: `www.unrelated${i}.example`, local: { ips: [ip] }, reference: { ips: [`45.63.0.${i + 1}`] },
  }));
}
const refused: PageSpec = { failure: 'connection_refused', status: null };

// --- rule 7: CDN and GeoDNS variance ---------------------------------------------------------

const cdn = suite('rule 7: CDN variance');

cdn('#5 CNAME to the CDN the references use, edge IP not in GT, same ASN, cert verifies: cdn_variance', () => {
  const r = record({
    local: { cnames: CDN_CHAIN, ips: [IP.cdnA2] },
    reference: { cnames: CDN_CHAIN, ips: [IP.cdnA] },
    evidence: [{ ip: IP.cdnA2 }, referencePages(IP.cdnA)],
  });
  const v = judge(r);
  assert.is(v.class, 'cdn_variance', v.evidence.reason);
  assert.is(v.rule, 'R7-cdn-verified');
  assert.equal(v.flags, ['gt_refresh']);
  const e = v.evidence.ips?.[IP.cdnA2];
  assert.equal(e?.corroboration, ['cname:cdn-a.example', 'asn:64512', 'cdn_network:Example CDN A']);
  assert.is(e?.tls?.verified, true);
  assert.is(e?.asn, 64512);
});

cdn('#6 the edge IP is inside the ISP\'s own ASN (and serves many sites), CNAME to the CDN, cert verifies: cdn_variance, not isp_cache', () => {
  const edge = '58.34.9.9';
  const r = record({
    local: { cnames: CDN_CHAIN, ips: [edge] },
    reference: { cnames: CDN_CHAIN, ips: [IP.cdnA] },
    evidence: [{ ip: edge }, referencePages(IP.cdnA)],
  });
  const v = judge(r, cacheAnswers(edge, 5));
  assert.is(v.class, 'cdn_variance', v.evidence.reason);
  assert.ok(v.evidence.ips?.[edge]?.corroboration?.includes('cname:cdn-a.example'));
  assert.is(v.evidence.ips?.[edge]?.prevalence, 5);
});

cdn('#7 ECS-specific CDN-B answer while the neutral reference gives CDN-A, cert verifies: cdn_variance', () => {
  const r = record({
    local: { cnames: ['shop.example.com.cdn-b.example'], ips: [IP.cdnB] },
    reference: { cnames: CDN_CHAIN, ips: [IP.cdnA] },
    evidence: [{ ip: IP.cdnB }, referencePages(IP.cdnA)],
  });
  const v = judge(r);
  assert.is(v.class, 'cdn_variance');
  assert.equal(v.evidence.ips?.[IP.cdnB]?.corroboration, ['cdn_network:Example CDN B']);
  // Without an ASN table, other ISPs' resolvers giving the same edge tie it to the domain.
  const otherIsp = record({ probeId: 'probe-5', isp: 'unicom', local: { cnames: ['shop.example.com.cdn-b.example'], ips: [IP.cdnB] }, reference: { cnames: CDN_CHAIN, ips: [IP.cdnA] } });
  const fleet = judge(r, [otherIsp], { asnTable: null });
  assert.is(fleet.class, 'cdn_variance');
  assert.equal(fleet.evidence.ips?.[IP.cdnB]?.corroboration, ['isps:2']);
});

cdn('trap: a transparent TCP proxy (cert verifies, same page, nothing ties the IP to the domain): isp_cache{low_confidence}', () => {
  const proxy = '46.20.0.10';
  const r = record({ local: { ips: [proxy] }, evidence: [{ ip: proxy }, referencePages()] });
  const v = judge(r);
  assert.is(v.class, 'isp_cache', v.evidence.reason);
  assert.equal(v.flags, ['low_confidence']);
  // A verified server with another page (a regional version) is the domain's own: cdn_variance.
  const regional = record({ local: { ips: [proxy] }, evidence: [{ ip: proxy, http: { status: 200, title: 'Shop (EU)', bytes: 9000, sha: 'eu' }, https: { status: 200, title: 'Shop (EU)', bytes: 9000, sha: 'eu' } }, referencePages()] });
  const w = judge(regional);
  assert.is(w.class, 'cdn_variance');
  assert.equal(w.flags, ['gt_refresh', 'low_confidence']);
});

cdn('#8 a new customer IP in every region, not yet in GT, cert verifies: cdn_variance{gt_refresh}', () => {
  const regions = ['cn-east', 'cn-north', 'cn-south'];
  const records = regions.map((region, i) => record({
    probeId: `probe-${i}`, region,
    local: { ips: [IP.newOrigin] },
    evidence: [{ ip: IP.newOrigin }, referencePages()],
  }));
  for (const r of records) {
    const v = judge(r, records.filter((x) => x !== r));
    assert.is(v.class, 'cdn_variance');
    assert.ok(v.flags.includes('gt_refresh'));
    assert.ok(v.evidence.ips?.[IP.newOrigin]?.corroboration?.includes('asn:64510'), 'same hosting ASN as the truth');
  }
});

cdn('another probe saw the IP present a verified certificate: cdn_variance{tls_from_fleet} without a page here', () => {
  const seen = record({ probeId: 'probe-2', local: { ips: [IP.newOrigin] }, evidence: [{ ip: IP.newOrigin }, referencePages()] });
  const here = record({ local: { ips: [IP.newOrigin] } });
  const v = judge(here, [seen]);
  assert.is(v.class, 'cdn_variance');
  assert.equal(v.flags, ['tls_from_fleet']);
});

cdn('a verified certificate does not excuse an injected http page on the same IP: ad_injection{dns}', () => {
  const r = record({
    local: { ips: [IP.cdnB] },
    evidence: [{ ip: IP.cdnB, http: { ...ORIGIN, scripts: [...ORIGIN.scripts!, 'http://ad.partner.example'] } }, referencePages()],
  });
  assert.is(judge(r).class, 'ad_injection');
});

cdn.run();

// --- rule 11: ISP caches ------------------------------------------------------------------------

const cache = suite('rule 11: ISP caches');

cache('#9 ISP-AS IP answering for 40 unrelated sites, identical page on :80, :443 refused: isp_cache', () => {
  const r = record({
    local: { ips: [IP.ispCache] },
    evidence: [{ ip: IP.ispCache, http: ORIGIN, https: refused }, referencePages()],
  });
  const v = judge(r, cacheAnswers(IP.ispCache, 40));
  assert.is(v.class, 'isp_cache', v.evidence.reason);
  assert.is(v.rule, 'R11-isp-cache');
  assert.equal(v.flags, []);
  assert.equal(v.evidence.ips?.[IP.ispCache]?.corroboration, ['isp_asn:4134', 'prevalence:40', 'https_connection_refused']);
  assert.is(v.evidence.ips?.[IP.ispCache]?.compared?.same_hash, true);
});

cache('#10 an older copy (ratio 0.85, same title, same scripts): isp_cache', () => {
  const older: PageSpec = { ...ORIGIN, bytes: Math.round(ORIGIN.bytes! * 0.85), sha: 'sha-older' };
  const r = record({ local: { ips: [IP.ispCache] }, evidence: [{ ip: IP.ispCache, http: older, https: refused }, referencePages()] });
  const v = judge(r, cacheAnswers(IP.ispCache, 3));
  assert.is(v.class, 'isp_cache');
  assert.is(v.evidence.ips?.[IP.ispCache]?.compared?.body_ratio, 0.85);
});

cache('a foreign certificate on :443 corroborates; with nothing to corroborate: isp_cache{low_confidence}', () => {
  const outside = '45.61.200.1'; // not the ISP's ASN, answers for no other site
  const foreign = record({ local: { ips: [outside] }, evidence: [{ ip: outside, http: ORIGIN, https: { ...ORIGIN, tls: 'foreign' } }, referencePages()] });
  const v = judge(foreign);
  assert.is(v.class, 'isp_cache');
  assert.equal(v.evidence.ips?.[outside]?.corroboration, ['https_foreign_cert']);
  const bare = record({ local: { ips: [outside] }, evidence: [{ ip: outside, http: ORIGIN, https: refused }, referencePages(IP.origin, ORIGIN, refused)] });
  const w = judge(bare);
  assert.is(w.class, 'isp_cache');
  assert.equal(w.flags, ['low_confidence'], 'an http-only site: :443 refused everywhere proves nothing');
});

cache('a big CDN IP the references give for many sites does not count as prevalence', () => {
  const shared = IP.cdnA;
  const sites = Array.from({ length: 5 }, (_, i) => dnsRecord({ target: `www.cdnsite${i}.example`, local: { ips: [shared] }, reference: { ips: [shared] } }));
  const r = record({ local: { ips: [shared] }, evidence: [{ ip: shared, http: ORIGIN, https: refused }, referencePages()] });
  const v = judge(r, sites);
  assert.is(v.evidence.ips?.[shared]?.prevalence, undefined);
});

cache('#11 same as #9 plus <script src=http://ad.partner.example/x.js>: ad_injection{dns}', () => {
  const injected: PageSpec = { ...ORIGIN, bytes: ORIGIN.bytes! + 120, sha: 'sha-injected', scripts: [...ORIGIN.scripts!, 'http://ad.partner.example'] };
  const r = record({ local: { ips: [IP.ispCache] }, evidence: [{ ip: IP.ispCache, http: injected, https: refused }, referencePages()] });
  const v = judge(r, cacheAnswers(IP.ispCache, 40));
  assert.is(v.class, 'ad_injection');
  assert.equal(v.flags, ['vector=dns']);
  assert.is(v.rule, 'R10-injection');
  assert.equal(v.evidence.ips?.[IP.ispCache]?.compared?.new_origins, ['ad.partner.example']);
});

cache('an injected inline script (one more than the page has) and a Content-Length that lies are injection', () => {
  const inline = record({ local: { ips: [IP.ispCache] }, evidence: [{ ip: IP.ispCache, http: { ...ORIGIN, sha: 'x', inline: [...ORIGIN.inline!, 'inline-ad'] }, https: refused }, referencePages()] });
  assert.is(judge(inline).class, 'ad_injection');
  const length = record({ local: { ips: [IP.ispCache] }, evidence: [{ ip: IP.ispCache, http: { ...ORIGIN, sha: 'x', contentLength: ORIGIN.bytes! - 300 }, https: refused }, referencePages()] });
  assert.is(judge(length).class, 'ad_injection');
});

cache.run();

// --- rules 8, 9: malicious and ad hijacks ----------------------------------------------------------

const hijack = suite('rules 8, 9: malicious and ad hijacks');

hijack('#12 a third-party IP answering 302 to a promo domain: ad_hijack{dns}', () => {
  const promo: PageSpec = { status: 302, bytes: 0, redirects: [{ status: 302, location: 'http://promo.ad-network.example/land?src=shop' }] };
  const r = record({ local: { ips: [IP.ad] }, evidence: [{ ip: IP.ad, http: promo, https: refused }, referencePages()] });
  const v = judge(r);
  assert.is(v.class, 'ad_hijack');
  assert.is(v.rule, 'R9-offsite-redirect');
  assert.equal(v.flags, ['vector=dns']);
  assert.equal(v.evidence.ips?.[IP.ad]?.compared?.offsite_redirects, ['promo.ad-network.example']);
});

hijack('a meta refresh off-site is a redirect too; a canonical redirect to www. is not', () => {
  const meta = record({ local: { ips: [IP.ad] }, evidence: [{ ip: IP.ad, http: { status: 200, bytes: 300, meta: 'http://promo.ad-network.example/' }, https: refused }, referencePages()] });
  assert.is(judge(meta).rule, 'R9-offsite-redirect');
  const canonical: PageSpec = { status: 301, bytes: 0, redirects: [{ status: 301, location: 'https://www.shop.example.com/' }] };
  const both = record({ local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, canonical, canonical)] });
  assert.is(judge(both).class, 'consistent');
});

hijack('#13 a frameset: the site in a frame plus a floating ad: ad_hijack{dns}', () => {
  const frameset: PageSpec = { status: 200, title: ORIGIN.title, bytes: 700, frames: ['http://45.60.1.10'], scripts: ['https://float.ad-network.example'] };
  const r = record({ local: { ips: [IP.ad] }, evidence: [{ ip: IP.ad, http: frameset, https: refused }, referencePages()] });
  const v = judge(r);
  assert.is(v.class, 'ad_hijack');
  assert.is(v.rule, 'R9-frame-overlay');
  const iframe: PageSpec = { status: 200, title: 'Shop', bytes: 900, iframes: ['https://www.shop.example.com'] };
  assert.is(judge(record({ local: { ips: [IP.ad] }, evidence: [{ ip: IP.ad, http: iframe, https: refused }, referencePages()] })).rule, 'R9-frame-overlay');
});

hijack('another page carrying third-party scripts: ad_hijack (R9-ad-page); another page without: suspicious', () => {
  const landing: PageSpec = { status: 200, title: '限时特惠', bytes: 5000, scripts: ['https://ads.network.example'] };
  assert.is(judge(record({ local: { ips: [IP.ad] }, evidence: [{ ip: IP.ad, http: landing, https: refused }, referencePages()] })).rule, 'R9-ad-page');
  const different: PageSpec = { status: 200, title: 'Welcome to nginx!', bytes: 615 };
  const v = judge(record({ local: { ips: [IP.other] }, evidence: [{ ip: IP.other, http: different, https: refused }, referencePages()] }));
  assert.is(v.class, 'suspicious');
  assert.is(v.rule, 'R13-different-content');
});

hijack('#19 a cloned login page (same title) posting off-site, :443 self-signed for the domain: malicious', () => {
  const clone: PageSpec = { ...ORIGIN, sha: 'sha-clone', bytes: 21_000, forms: ['https://collect.phish.example'] };
  const r = record({ local: { ips: [IP.hosting] }, evidence: [{ ip: IP.hosting, http: clone, https: { ...clone, tls: 'self-signed' } }, referencePages()] });
  const v = judge(r);
  assert.is(v.class, 'malicious');
  assert.is(v.rule, 'R8-credential-form');
  assert.equal(v.flags, ['vector=dns']);
});

hijack('an unverifiable certificate for the domain and different content: malicious (impersonation)', () => {
  const fake: PageSpec = { status: 200, title: 'Sign in', bytes: 4000, sha: 'sha-fake' };
  const r = record({ local: { ips: [IP.hosting] }, evidence: [{ ip: IP.hosting, http: fake, https: { ...fake, tls: 'self-signed' } }, referencePages()] });
  const v = judge(r);
  assert.is(v.class, 'malicious');
  assert.is(v.rule, 'R8-impersonating-cert');
  assert.is(v.evidence.ips?.[IP.hosting]?.tls?.names_domain, true);
});

hijack('trap: the site\'s own certificate is broken for everyone (expired on the references too): not malicious', () => {
  const expired: PageSpec = { ...ORIGIN, tls: 'expired' };
  const r = record({ local: { ips: [IP.newOrigin] }, evidence: [{ ip: IP.newOrigin, http: ORIGIN, https: expired }, referencePages(IP.origin, ORIGIN, expired)] });
  const v = judge(r);
  assert.is.not(v.class, 'malicious');
  assert.is(v.class, 'cdn_variance', 'the same page over http from the hosting ASN of the truth');
  assert.is(v.rule, 'R7-cdn-http-only');
});

hijack('#20 a forced .apk download where the site serves HTML: malicious', () => {
  const apk: PageSpec = { status: 200, bytes: 2_000_000, truncated: true, contentType: 'application/vnd.android.package-archive' };
  const r = record({ local: { ips: [IP.hosting] }, evidence: [{ ip: IP.hosting, http: apk, https: refused }, referencePages()] });
  const v = judge(r);
  assert.is(v.class, 'malicious');
  assert.is(v.rule, 'R8-executable');
  const viaRedirect: PageSpec = { status: 302, bytes: 0, redirects: [{ status: 302, location: 'http://dl.fast-apps.example/shop-v2.apk' }] };
  assert.is(judge(record({ local: { ips: [IP.hosting] }, evidence: [{ ip: IP.hosting, http: viaRedirect, https: refused }, referencePages()] })).rule, 'R8-executable');
});

hijack('trap: a download site whose control serves the same binary type is not malicious by type', () => {
  const bin: PageSpec = { status: 200, bytes: 5_000_000, truncated: true, contentType: 'application/octet-stream', sha: 'sha-bin' };
  const r = record({ local: { ips: [IP.newOrigin] }, evidence: [{ ip: IP.newOrigin, http: bin, https: { ...bin } }, referencePages(IP.origin, bin, bin)] });
  assert.is(judge(r).class, 'cdn_variance');
});

hijack('#21 a threat-listed IP serving a parking page: malicious', () => {
  const parking: PageSpec = { status: 200, title: 'This domain may be for sale', bytes: 3000 };
  const r = record({ local: { ips: [IP.threat] }, evidence: [{ ip: IP.threat, http: parking, https: refused }, referencePages()] });
  const v = judge(r, [], { threats: prefixSet(['91.200.0.0/16']) });
  assert.is(v.class, 'malicious');
  assert.is(v.rule, 'R8-threat-list');
  assert.is(v.evidence.fingerprint, 'threat:91.200.0.0/16');
});

hijack('the worst IP of an answer decides: a GT IP plus a hijack IP is the hijack', () => {
  const promo: PageSpec = { status: 302, bytes: 0, redirects: [{ status: 302, location: 'http://promo.ad-network.example/' }] };
  const r = record({ local: { ips: [IP.origin, IP.ad] }, evidence: [{ ip: IP.ad, http: promo, https: refused }, referencePages()] });
  const v = judge(r);
  assert.is(v.class, 'ad_hijack');
  assert.equal(Object.keys(v.evidence.ips ?? {}), [IP.ad]);
});

hijack('a dead answer IP (nothing on :80 or :443) while the site serves: blocked{unreachable}', () => {
  const r = record({ local: { ips: [IP.other] }, evidence: [{ ip: IP.other, http: refused, https: refused }, referencePages()] });
  const v = judge(r);
  assert.is(v.class, 'blocked');
  assert.equal(v.flags, ['low_confidence', 'unreachable']);
});

hijack.run();

// --- rule 12: HTTP-path tampering with consistent DNS; rule 13 challenges ---------------------

const path = suite('rule 12: the HTTP path');

path('#14 GT IP, the http page carries an injected script, the verified https page is clean: ad_injection{http}', () => {
  const injected: PageSpec = { ...ORIGIN, sha: 'sha-inj', bytes: ORIGIN.bytes! + 200, scripts: [...ORIGIN.scripts!, 'http://inject.isp-ads.example'] };
  const v = judge(record({ local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, injected, ORIGIN)] }));
  assert.is(v.class, 'ad_injection');
  assert.equal(v.flags, ['vector=http']);
  assert.is(v.rule, 'R12-http-injection');
  assert.equal(v.evidence.http_path?.new_origins, ['inject.isp-ads.example']);
});

path('#14 without https: other ISPs\' pages at the same moment are the control', () => {
  const injected: PageSpec = { ...ORIGIN, sha: 'sha-inj', scripts: [...ORIGIN.scripts!, 'http://inject.isp-ads.example'] };
  const mine = record({ local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, injected, refused)] });
  const otherIsp = record({ probeId: 'probe-9', isp: 'unicom', local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, ORIGIN, refused)] });
  const sameIsp = record({ probeId: 'probe-8', local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, injected, refused)] });
  assert.is(judge(mine, [otherIsp, sameIsp]).class, 'ad_injection');
  assert.is(judge(mine, [sameIsp]).class, 'consistent', 'the same ISP is no control; without one nothing is claimed');
});

path('#15 GT IP, an on-path 302 to an ad page while the control gets 200: ad_hijack{http}', () => {
  const redirect: PageSpec = { status: 302, bytes: 0, redirects: [{ status: 302, location: 'http://ad.landing.example/?u=shop' }] };
  const v = judge(record({ local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, redirect, ORIGIN)] }));
  assert.is(v.class, 'ad_hijack');
  assert.equal(v.flags, ['vector=http']);
  assert.is(v.rule, 'R12-http-redirect');
});

path('#16 GT IP over https with a valid certificate: consistent', () => {
  const v = judge(record({ local: { ips: [IP.origin] }, evidence: [referencePages()] }));
  assert.is(v.class, 'consistent');
  assert.is(v.rule, 'R6-in-ground-truth');
});

path('#17 a rotating first-party ad slot / CSRF token (ratio 0.93, same origins, other inline hash): consistent', () => {
  const rotated: PageSpec = { ...ORIGIN, sha: 'sha-rotated', bytes: Math.round(ORIGIN.bytes! * 0.93), inline: ['inline-a', 'inline-token-2'] };
  const v = judge(record({ local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, rotated, ORIGIN)] }));
  assert.is(v.class, 'consistent', v.evidence.reason);
});

path('#18 a tag manager loading an allowlisted A/B-test script: consistent (ad_injection without the allowlist)', () => {
  const tagged: PageSpec = { ...ORIGIN, sha: 'sha-ab', scripts: [...ORIGIN.scripts!, 'https://cdn.ab-tests.example'] };
  const r = record({ local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, tagged, ORIGIN)] });
  assert.is(judge(r, [], {}, { [TARGET]: { script_origins: ['https://*.ab-tests.example'] } }).class, 'consistent');
  assert.is(judge(r).class, 'ad_injection');
});

path('#32 GT IP, a CAPTCHA/WAF challenge for probe IPs: consistent{challenge}', () => {
  const challenge: PageSpec = { status: 403, title: 'Just a moment...', bytes: 7000, scripts: ['https://challenges.cloudflare.com'] };
  const mine = record({ local: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, challenge, challenge)] });
  const otherIsp = record({ probeId: 'probe-9', isp: 'unicom', local: { ips: [IP.origin] }, evidence: [referencePages()] });
  const v = judge(mine, [otherIsp]);
  assert.is(v.class, 'consistent');
  assert.equal(v.flags, ['challenge']);
  assert.is(v.rule, 'R13-challenge');
  // A challenge served from an IP outside the truth is not a hijack either, whatever its certificate.
  for (const tls of ['foreign', 'verified'] as const) {
    const outside = record({ local: { ips: [IP.other] }, evidence: [{ ip: IP.other, http: challenge, https: { ...challenge, tls } }, referencePages()] });
    const w = judge(outside);
    assert.is(w.class, 'consistent', tls);
    assert.equal(w.flags, ['challenge']);
  }
  // Served by the domain's CDN: cdn_variance, and the flag still says what the probe saw.
  const edge = record({ local: { ips: [IP.cdnA2] }, reference: { ips: [IP.cdnA] }, evidence: [{ ip: IP.cdnA2, http: challenge, https: challenge }, referencePages(IP.cdnA)] });
  const e = judge(edge);
  assert.is(e.class, 'cdn_variance');
  assert.ok(e.flags.includes('challenge'));
});

path.run();
