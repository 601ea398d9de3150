/**
 * The scenario table: one entry per situation the analyzer must tell apart. Zones, GSLB views,
 * resolver overrides, web sites, on-path boxes, probe tasks and the expected verdicts are all
 * generated from it, so a new scenario is one entry here (plus a server in addresses.ts when it
 * needs an unusual one).
 *
 * Every scenario is a dns task (id = scenario name) that probes A and B run (C only where said),
 * in two rounds; between the rounds the authoritative applies `round2` answers, the public
 * recursors and ISP B's resolver drop their caches (ISP A's resolver ignores TTLs and keeps them),
 * and ISP C's resolver is stopped. A probe the scenario does not name in `expect` must get
 * `consistent`.
 */
import { VERDICT_CLASSES, type VerdictClass } from '../../../analyzer/src/classify/verdict.ts';
import type { Isp } from './addresses.ts';

export type { VerdictClass };
/** Every class the analyzer has (each needs a scenario). */
export const CLASSES: readonly VerdictClass[] = VERDICT_CLASSES;

export interface Expected {
  class: VerdictClass;
  /** Flags the verdict must carry (others may be there too), e.g. `stale`, `vector=dns`. */
  flags?: string[];
}
/** The same for both rounds, or one per round. */
export type ExpectedByRound = Expected | { round1: Expected; round2: Expected };

export type DnsAnswer = { a: string[]; ttl?: number } | { cname: string; ttl?: number };
/** What an ISP resolver answers instead of resolving (unbound local-zone/local-data/stub). */
export type Override = DnsAnswer | { rcode: 'NXDOMAIN' | 'REFUSED' | 'SERVFAIL' };
/** Who asks a GSLB zone: a public recursor (reference) or an ISP's resolver. */
export type GeoView = 'R1' | 'R2' | Isp;

export interface DnsRecord {
  /** Owner name; in a GSLB zone (gslb.shoplab.com, cdnfast.net) the answer depends on who asks. */
  name: string;
  answer: DnsAnswer;
  /** GSLB answers by the asking resolver (only for names in GSLB zones). */
  views?: Partial<Record<GeoView, DnsAnswer>>;
  /** The authoritative's answer from round 2 on. */
  round2?: DnsAnswer;
}

/** What a web server at one address serves for the scenario's host (see pages.ts). */
export type Page =
  | 'origin' | 'origin-old' | 'origin-ad-injected' | 'origin-dynamic' | 'origin-ab-test'
  | 'bank-login' | 'phishing-clone' | 'download-page' | 'apk' | 'https-redirect'
  | 'ad-redirect' | 'frameset' | 'parking' | 'isp-search' | 'blockpage' | 'challenge' | 'unrelated'
  | 'origin-challenging-isp-b' | 'meta-refresh' | 'fake-update';

export interface Scenario {
  name: string;
  /** The name the dns task resolves. */
  host: string;
  about: string;
  /** The false-positive trap it sets, if any. */
  trap?: string;
  /** Records the authoritatives serve (none = NXDOMAIN). */
  dns: DnsRecord[];
  /** What an ISP's resolver answers instead of resolving. */
  resolvers?: Partial<Record<Isp, Override>>;
  /** The page at an address for `host`; an address not listed serves the origin page. */
  serve?: Record<string, Page>;
  /** The page for `host` at its origin addresses (default 'origin'). */
  originPage?: Page;
  /** The host's origin/edge addresses have no :443 (a plain-HTTP site). */
  httpOnly?: boolean;
  /**
   * An on-path box in ISP B rewrites port-80 traffic to the host's authoritative addresses: adds an
   * external ad script, adds an inline script (a "data usage" pop-up), or answers a 302.
   */
  onPath?: 'inject' | 'inject-inline' | 'redirect';
  /** Probes that run the task (default A and B). */
  probes?: Isp[];
  /** The customer's expectations in the task (`dns.expect`). */
  task?: { ips?: string[]; cidrs?: string[]; cnames?: string[]; asns?: number[]; script_origins?: string[] };
  expect: Partial<Record<Isp, ExpectedByRound>>;
}

const a = (name: string, ...ips: string[]): DnsRecord => ({ name, answer: { a: ips } });
const cname = (name: string, target: string): DnsRecord => ({ name, answer: { cname: target } });
const is = (cls: VerdictClass, ...flags: string[]): Expected => (flags.length ? { class: cls, flags } : { class: cls });

export const SCENARIOS: readonly Scenario[] = [
  // ── consistent and the traps that must stay consistent ─────────────────────────────────────
  { name: 'plain', host: 'www.shoplab.com', about: 'both ISPs answer what the authoritative has', dns: [a('www.shoplab.com', '45.50.1.10')], expect: {} },
  {
    name: 'canary', host: 'canary.shoplab.com', about: 'a plain name every probe resolves (the resolver-health canary)',
    dns: [a('canary.shoplab.com', '45.50.2.10')], probes: ['A', 'B', 'C'],
    expect: { C: { round1: is('consistent'), round2: is('resolver_failure') } },
  },
  {
    name: 'lb-rotation', host: 'lb.shoplab.com', trap: 'load-balancer rotation',
    about: "the GSLB hands out 2 of a 4-address pool; each probe's own reference saw the other half, the fleet saw all 4",
    dns: [
      cname('lb.shoplab.com', 'lb.gslb.shoplab.com'),
      {
        name: 'lb.gslb.shoplab.com', answer: { a: ['45.50.3.1', '45.50.3.2', '45.50.3.3', '45.50.3.4'] },
        views: { R1: { a: ['45.50.3.1', '45.50.3.2'] }, R2: { a: ['45.50.3.3', '45.50.3.4'] }, A: { a: ['45.50.3.3', '45.50.3.4'] }, B: { a: ['45.50.3.1', '45.50.3.2'] } },
      },
    ],
    expect: {},
  },
  {
    name: 'ttl-order', host: 'ttl.shoplab.com', trap: 'TTL differences and answer order',
    about: 'ISP B answers the same two addresses with TTL 37 in reverse order; ISP A stretches every TTL to an hour',
    dns: [{ name: 'ttl.shoplab.com', answer: { a: ['45.50.4.1', '45.50.4.2'], ttl: 600 } }],
    resolvers: { B: { a: ['45.50.4.2', '45.50.4.1'], ttl: 37 } },
    expect: {},
  },
  {
    name: 'stale', host: 'moved.shoplab.com', trap: 'stale answers',
    about: "the site moves between rounds; ISP A's resolver (ignores TTLs) keeps answering the old address, which still serves the site",
    dns: [{ name: 'moved.shoplab.com', answer: { a: ['45.50.5.10'] }, round2: { a: ['45.50.5.20'] } }],
    expect: { A: { round1: is('consistent'), round2: is('consistent', 'stale') } },
  },
  {
    name: 'wildcard', host: 'rand-k3j9x.wildlab.com', trap: 'wildcard zone',
    about: 'a random-looking label answered by everyone because the zone has a wildcard',
    dns: [a('*.wildlab.com', '45.50.27.10')],
    expect: {},
  },
  {
    name: 'real-nxdomain', host: 'gone.shoplab.com', about: 'NXDOMAIN at the authoritative and at both resolvers',
    dns: [], expect: {},
  },
  {
    name: 'split-horizon', host: 'intranet.shoplab.com', trap: 'split-horizon bogon',
    about: 'the authoritative itself publishes a private address',
    dns: [a('intranet.shoplab.com', '10.20.30.40')],
    expect: { A: is('consistent', 'bogon'), B: is('consistent', 'bogon') },
  },
  {
    name: 'https-only', host: 'secure.shoplab.com', trap: 'http→https canonical redirect behind an injector',
    about: "port 80 redirects to https on the same host; ISP B's injector rewrites port 80, the verified HTTPS page is clean",
    dns: [a('secure.shoplab.com', '45.50.19.10')], originPage: 'https-redirect', onPath: 'inject',
    expect: {},
  },
  // ── cdn_variance ───────────────────────────────────────────────────────────────────────────
  {
    name: 'cdn-edge', host: 'static.shoplab.com', trap: 'CDN answers',
    about: "CNAME to the CDN; ISP A's resolver gets another edge of the same CDN than the references",
    dns: [
      cname('static.shoplab.com', 'shoplab.cdnfast.net'),
      { name: 'shoplab.cdnfast.net', answer: { a: ['45.60.0.10'] }, views: { A: { a: ['45.60.1.10'] } } },
    ],
    expect: { A: is('cdn_variance') },
  },
  {
    name: 'cdn-edge-in-isp', host: 'img.shoplab.com', trap: "the ISP's own ASN hosting a CDN edge",
    about: "CNAME to the CDN; ISP B's resolver gets an edge inside ISP B's own network (valid certificate)",
    dns: [
      cname('img.shoplab.com', 'img-shoplab.cdnfast.net'),
      { name: 'img-shoplab.cdnfast.net', answer: { a: ['45.60.0.11'] }, views: { B: { a: ['82.20.60.10'] } } },
    ],
    expect: { B: is('cdn_variance') },
  },
  {
    name: 'geodns-multi-cdn', host: 'multi.shoplab.com', trap: 'GeoDNS',
    about: "the site's GSLB sends ISP A to its second CDN, everyone else to the first; the customer declared both",
    dns: [
      cname('multi.shoplab.com', 'multi.gslb.shoplab.com'),
      { name: 'multi.gslb.shoplab.com', answer: { cname: 'multi-shoplab.cdnfast.net' }, views: { A: { cname: 'multi-shoplab.cdnb-lab.net' } } },
      a('multi-shoplab.cdnfast.net', '45.60.0.20'),
      a('multi-shoplab.cdnb-lab.net', '45.70.0.20'),
    ],
    task: { cnames: ['cdnfast.net', 'cdnb-lab.net'] },
    expect: { A: is('cdn_variance') },
  },
  {
    name: 'new-ip', host: 'fresh.shoplab.com',
    about: 'both resolvers already answer the new address (same hosting network, valid certificate) the references do not have yet',
    dns: [a('fresh.shoplab.com', '45.50.9.10')],
    resolvers: { A: { a: ['45.50.9.20'] }, B: { a: ['45.50.9.20'] } },
    expect: { A: is('cdn_variance'), B: is('cdn_variance') },
  },
  {
    name: 'dynamic', host: 'account.shoplab.com', trap: 'per-request tokens and a rotating first-party ad slot',
    about: "a plain-HTTP page whose CSRF token and ad slot change on every request; ISP A answers the site's second server",
    dns: [a('account.shoplab.com', '45.50.20.10')], originPage: 'origin-dynamic', httpOnly: true,
    resolvers: { A: { a: ['45.50.20.11'] } },
    expect: { A: is('cdn_variance') },
  },
  {
    name: 'ab-test', host: 'ab.shoplab.com', trap: 'a tag manager loading allowlisted A/B-test scripts',
    about: "a plain-HTTP page whose A/B-test script comes from the server's bucket: ISP A's server loads it from the other declared origin than the control",
    dns: [a('ab.shoplab.com', '45.50.21.10')], originPage: 'origin-ab-test', httpOnly: true,
    resolvers: { A: { a: ['45.50.21.11'] } },
    task: { script_origins: ['http://cdn-a.abtest-lab.com', 'http://cdn-b.abtest-lab.com'] },
    expect: { A: is('cdn_variance') },
  },
  // ── isp_cache ──────────────────────────────────────────────────────────────────────────────
  {
    name: 'isp-cache', host: 'news.newslab.net', about: "ISP A answers its cache: identical body, Via/X-Cache, :443 refused",
    dns: [a('news.newslab.net', '45.50.10.10')], resolvers: { A: { a: ['81.10.200.10'] } }, serve: { '81.10.200.10': 'origin' },
    expect: { A: is('isp_cache') },
  },
  {
    name: 'isp-cache-old', host: 'blog.newslab.net', about: 'the cache holds an older copy (shorter, same title, same scripts)',
    dns: [a('blog.newslab.net', '45.50.11.10')], resolvers: { A: { a: ['81.10.200.10'] } }, serve: { '81.10.200.10': 'origin-old' },
    expect: { A: is('isp_cache') },
  },
  {
    name: 'isp-cache-video', host: 'video.newslab.net', about: 'one more domain on the same cache address (prevalence)',
    dns: [a('video.newslab.net', '45.50.12.10')], resolvers: { A: { a: ['81.10.200.10'] } }, serve: { '81.10.200.10': 'origin' },
    expect: { A: is('isp_cache') },
  },
  {
    name: 'transparent-proxy', host: 'mirror.newslab.net',
    about: 'ISP B answers a proxy in a transit network that passes :80 and :443 to the origin: same page, valid TLS, no corroboration',
    dns: [a('mirror.newslab.net', '45.50.14.10')], resolvers: { B: { a: ['46.20.0.10'] } },
    expect: { B: is('isp_cache', 'low_confidence') },
  },
  // ── ad_injection / ad_hijack ───────────────────────────────────────────────────────────────
  {
    name: 'ad-injection-dns', host: 'sports.newslab.net', about: "ISP A's cache serves the page with an ad network script added",
    dns: [a('sports.newslab.net', '45.50.13.10')], resolvers: { A: { a: ['81.10.200.10'] } }, serve: { '81.10.200.10': 'origin-ad-injected' },
    expect: { A: is('ad_injection', 'vector=dns') },
  },
  {
    name: 'ad-landing', host: 'store.shoplab.com', about: 'ISP A answers a third-party box that 302s to a promo domain',
    dns: [a('store.shoplab.com', '45.50.15.10')], resolvers: { A: { a: ['91.200.15.10'] } }, serve: { '91.200.15.10': 'ad-redirect' },
    expect: { A: is('ad_hijack', 'vector=dns') },
  },
  {
    name: 'frameset', host: 'm.shoplab.com', about: 'ISP A answers a box that wraps the site in a frameset with a floating ad',
    dns: [a('m.shoplab.com', '45.50.16.10')], resolvers: { A: { a: ['91.200.16.10'] } }, serve: { '91.200.16.10': 'frameset' },
    expect: { A: is('ad_hijack', 'vector=dns') },
  },
  {
    name: 'http-inject', host: 'deals.shoplab.com', about: "consistent DNS; ISP B's on-path box adds an ad script to port-80 pages",
    dns: [a('deals.shoplab.com', '45.50.17.10')], onPath: 'inject',
    expect: { B: is('ad_injection', 'vector=http') },
  },
  {
    name: 'http-302', host: 'sale.shoplab.com', about: "consistent DNS; ISP B's on-path box answers port 80 with a 302 to an ad page",
    dns: [a('sale.shoplab.com', '45.50.18.10')], onPath: 'redirect',
    expect: { B: is('ad_hijack', 'vector=http') },
  },
  {
    name: 'nxdomain-rewrite', host: 'rand-q7x2k.shoplab.com', about: "a name that does not exist; ISP A answers its search/ads page",
    dns: [], resolvers: { A: { a: ['81.10.250.10'] } }, serve: { '81.10.250.10': 'isp-search' },
    expect: { A: is('nxdomain_rewrite') },
  },
  // ── malicious ──────────────────────────────────────────────────────────────────────────────
  {
    name: 'phishing', host: 'login.banklab.org',
    about: 'ISP A answers a clone of the login page (same title) posting off-site, self-signed certificate for the domain on :443',
    dns: [a('login.banklab.org', '45.50.22.10')], originPage: 'bank-login',
    resolvers: { A: { a: ['91.200.22.10'] } }, serve: { '91.200.22.10': 'phishing-clone' },
    expect: { A: is('malicious') },
  },
  {
    name: 'apk', host: 'download.shoplab.com', about: 'ISP A answers a box that serves an .apk where the site has an HTML page',
    dns: [a('download.shoplab.com', '45.50.23.10')], originPage: 'download-page',
    resolvers: { A: { a: ['91.200.23.10'] } }, serve: { '91.200.23.10': 'apk' },
    expect: { A: is('malicious') },
  },
  {
    name: 'threat-ip', host: 'promo.banklab.org', about: 'ISP B answers a threat-listed address serving a parking page',
    dns: [a('promo.banklab.org', '45.50.24.10')], resolvers: { B: { a: ['91.200.66.6'] } }, serve: { '91.200.66.6': 'parking' },
    expect: { B: is('malicious') },
  },
  // ── blocked ────────────────────────────────────────────────────────────────────────────────
  {
    name: 'localhost', host: 'ads.newslab.net', about: 'ISP A answers 127.0.0.1',
    dns: [a('ads.newslab.net', '45.50.28.10')], resolvers: { A: { a: ['127.0.0.1'] } },
    expect: { A: is('blocked', 'bogon') },
  },
  {
    name: 'zero', host: 'tracker.newslab.net', about: 'ISP B answers 0.0.0.0',
    dns: [a('tracker.newslab.net', '45.50.29.10')], resolvers: { B: { a: ['0.0.0.0'] } },
    expect: { B: is('blocked', 'bogon') },
  },
  {
    name: 'blockpage-cname', host: 'gamble.newslab.net', about: "ISP B answers a CNAME to its blockpage host",
    dns: [a('gamble.newslab.net', '45.50.31.10')], resolvers: { B: { cname: 'blockpage.ispb-net.cn' } },
    serve: { '82.20.99.99': 'blockpage' },
    expect: { B: is('blocked') },
  },
  {
    name: 'blockpage-ip', host: 'forum.newslab.net', about: "ISP A answers its blockpage address",
    dns: [a('forum.newslab.net', '45.50.32.10')], resolvers: { A: { a: ['81.10.99.99'] } }, serve: { '81.10.99.99': 'blockpage' },
    expect: { A: is('blocked') },
  },
  {
    name: 'nxdomain-block', host: 'casino.newslab.net', about: 'ISP B answers NXDOMAIN for a name the authoritative has (canary fine)',
    dns: [a('casino.newslab.net', '45.50.33.10')], resolvers: { B: { rcode: 'NXDOMAIN' } },
    expect: { B: is('blocked') },
  },
  // ── resolver_failure ───────────────────────────────────────────────────────────────────────
  {
    name: 'servfail-target', host: 'pay.shoplab.com', about: "ISP A's resolver fails this one name with SERVFAIL (its upstream refuses); the canary resolves",
    dns: [a('pay.shoplab.com', '45.50.34.10')], resolvers: { A: { rcode: 'SERVFAIL' } },
    expect: { A: is('resolver_failure', 'target_specific') },
  },
  {
    name: 'refused-target', host: 'chat.newslab.net', about: "ISP B's resolver refuses this one name",
    dns: [a('chat.newslab.net', '45.50.35.10')], resolvers: { B: { rcode: 'REFUSED' } },
    expect: { B: is('resolver_failure', 'target_specific') },
  },
  {
    name: 'resolver-down', host: 'status.shoplab.com', about: "ISP C's only resolver is stopped before round 2 (its canary fails too)",
    dns: [a('status.shoplab.com', '45.50.36.10')], probes: ['C'],
    expect: { C: { round1: is('consistent'), round2: is('resolver_failure') } },
  },
  // ── more traps and signals ─────────────────────────────────────────────────────────────────
  {
    name: 'cdn-shared-news', host: 'cdn.newslab.net', trap: 'a CDN edge answering for many domains (prevalence)',
    about: "another customer of the same CDN: ISP A's edge 45.60.1.10 now answers for three unrelated sites",
    dns: [
      cname('cdn.newslab.net', 'newslab.cdnfast.net'),
      { name: 'newslab.cdnfast.net', answer: { a: ['45.60.0.12'] }, views: { A: { a: ['45.60.1.10'] } } },
    ],
    expect: { A: is('cdn_variance') },
  },
  {
    name: 'cdn-shared-bank', host: 'static.banklab.org', trap: 'a CDN edge answering for many domains (prevalence)',
    about: 'a third customer on the same CDN edge in ISP A',
    dns: [
      cname('static.banklab.org', 'banklab.cdnfast.net'),
      { name: 'banklab.cdnfast.net', answer: { a: ['45.60.0.13'] }, views: { A: { a: ['45.60.1.10'] } } },
    ],
    expect: { A: is('cdn_variance') },
  },
  {
    name: 'isp-cache-foreign-cert', host: 'live.newslab.net', about: "ISP B answers its own cache: same page on :80, the cache's own certificate on :443",
    dns: [a('live.newslab.net', '45.50.43.10')], resolvers: { B: { a: ['82.20.200.10'] } }, serve: { '82.20.200.10': 'origin' },
    expect: { B: is('isp_cache') },
  },
  {
    name: 'http-inject-inline', host: 'outlet.shoplab.com', about: "consistent DNS; ISP B's on-path box adds an inline script (a data-usage pop-up) to port-80 pages",
    dns: [a('outlet.shoplab.com', '45.50.44.10')], onPath: 'inject-inline',
    expect: { B: is('ad_injection', 'vector=http') },
  },
  {
    name: 'meta-refresh', host: 'shop.newslab.net', about: 'ISP A answers a box whose page meta-refreshes to a promo domain',
    dns: [a('shop.newslab.net', '45.50.41.10')], resolvers: { A: { a: ['91.200.41.10'] } }, serve: { '91.200.41.10': 'meta-refresh' },
    expect: { A: is('ad_hijack', 'vector=dns') },
  },
  {
    name: 'impersonation', host: 'update.banklab.org',
    about: 'ISP B answers a server with a certificate for the domain from an unknown CA and a fake "update your app" page',
    dns: [a('update.banklab.org', '45.50.42.10')], resolvers: { B: { a: ['91.200.42.10'] } }, serve: { '91.200.42.10': 'fake-update' },
    expect: { B: is('malicious') },
  },
  {
    name: 'ghost-block', host: 'rand-z8p2m.newslab.net', about: 'a name that does not exist; ISP B answers its blockpage address anyway',
    dns: [], resolvers: { B: { a: ['82.20.99.99'] } }, serve: { '82.20.99.99': 'blockpage' },
    expect: { B: is('blocked') },
  },
  {
    name: 'declared-ip', host: 'backup.shoplab.com', about: "ISP A answers the customer's declared standby address (another provider), not in DNS",
    dns: [a('backup.shoplab.com', '45.50.45.10')], resolvers: { A: { a: ['46.40.0.20'] } },
    task: { ips: ['46.40.0.20'] },
    expect: {},
  },
  {
    name: 'declared-cidr', host: 'eu.shoplab.com', about: "ISP B answers an address in the customer's declared range at another provider",
    dns: [a('eu.shoplab.com', '45.50.46.10')], resolvers: { B: { a: ['46.40.1.20'] } },
    task: { cidrs: ['46.40.1.0/24'] },
    expect: {},
  },
  {
    name: 'declared-asn', host: 'assets.banklab.org', about: "ISP B answers an edge of a CDN the customer declared by ASN (no CNAME), valid certificate",
    dns: [a('assets.banklab.org', '45.50.47.10')], resolvers: { B: { a: ['45.70.0.30'] } },
    task: { asns: [62400] },
    expect: { B: is('cdn_variance') },
  },
  // ── challenge, suspicious ──────────────────────────────────────────────────────────────────
  {
    name: 'challenge', host: 'shielded.shoplab.com', trap: 'challenge pages',
    about: "ISP B's resolver answers a WAF edge that shows a browser challenge instead of the page",
    dns: [a('shielded.shoplab.com', '45.50.37.10')], resolvers: { B: { a: ['46.30.0.10'] } }, serve: { '46.30.0.10': 'challenge' },
    expect: { B: is('consistent', 'challenge') },
  },
  {
    name: 'challenge-gt', host: 'members.shoplab.com', trap: 'challenge pages at the right address',
    about: "consistent DNS; the site's own server shows ISP B's probe addresses a browser challenge (http and https)",
    dns: [a('members.shoplab.com', '45.50.39.10')], originPage: 'origin-challenging-isp-b',
    expect: { B: is('consistent', 'challenge') },
  },
  {
    name: 'suspicious', host: 'wiki.newslab.net', about: 'ISP B answers an unrelated site in an unrelated network',
    dns: [a('wiki.newslab.net', '45.50.38.10')], resolvers: { B: { a: ['46.40.0.10'] } }, serve: { '46.40.0.10': 'unrelated' },
    expect: { B: is('suspicious') },
  },
];

/** Names outside the scenarios that the lab's pages point at (ad, promo and collector hosts). */
export const INFRA_RECORDS: readonly { name: string; ip: string; page?: Page }[] = [
  { name: 'promo-deals.cn', ip: '93.100.0.10', page: 'parking' },
  { name: 'ad.adnet-partner.cn', ip: '93.100.0.20' },
  { name: 'ads.adnet-partner.cn', ip: '93.100.0.20' },
  { name: 'cdn-a.abtest-lab.com', ip: '93.100.0.30' },
  { name: 'cdn-b.abtest-lab.com', ip: '93.100.0.31' },
  { name: 'collect.evil-lab.ru', ip: '91.200.22.99' },
  { name: 'blockpage.ispb-net.cn', ip: '82.20.99.99' },
  { name: 'cache01.ispa-net.cn', ip: '81.10.200.10' },
];

/** Zones served by nsd (static ground truth) and by the GSLB (answers by who asks). */
export const STATIC_ZONES = [
  'shoplab.com', 'newslab.net', 'banklab.org', 'wildlab.com', 'cdnb-lab.net', 'adnet-partner.cn',
  'promo-deals.cn', 'ispa-net.cn', 'ispb-net.cn', 'evil-lab.ru', 'abtest-lab.com',
] as const;
export const GEO_ZONES = ['gslb.shoplab.com', 'cdnfast.net'] as const;

/** The expected verdict of a scenario for one probe and round (1 or 2). */
export function expectedFor(s: Scenario, isp: Isp, round: number): Expected {
  const e = s.expect[isp];
  if (e === undefined) return { class: 'consistent' };
  if ('class' in e) return e;
  return round === 1 ? e.round1 : e.round2;
}

export function probesOf(s: Scenario): Isp[] {
  return s.probes ?? ['A', 'B'];
}
