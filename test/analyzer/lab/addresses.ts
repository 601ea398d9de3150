/**
 * The lab's internet: who owns which prefix (the ASN table the analyzer is given), where the DNS
 * servers sit, and the servers that are not plain customer origins. Every address is a public-looking
 * one (no bogon) but lives only inside the lab's network namespaces, which have no route out.
 */

export type Isp = 'A' | 'B' | 'C';
export const ISPS: readonly Isp[] = ['A', 'B', 'C'];

/** One row of the ASN table: `CIDR ASN org`. */
export interface AsnRow {
  cidr: string;
  asn: number;
  org: string;
}

export const ASN_TABLE: readonly AsnRow[] = [
  { cidr: '45.0.0.0/24', asn: 60100, org: 'LABDNS Lab DNS infrastructure' },
  { cidr: '45.50.0.0/16', asn: 61200, org: 'HOSTCO Lab Hosting' },
  { cidr: '45.60.0.0/16', asn: 62300, org: 'FASTCDN Fast CDN' },
  { cidr: '45.70.0.0/16', asn: 62400, org: 'CDNB Second CDN' },
  { cidr: '46.20.0.0/16', asn: 63600, org: 'TRANSITNET Transit provider' },
  { cidr: '46.30.0.0/16', asn: 62500, org: 'SHIELDWAF Web application firewall' },
  { cidr: '46.40.0.0/16', asn: 63700, org: 'RANDOMHOST Shared hosting' },
  { cidr: '81.10.0.0/16', asn: 58100, org: 'ISPA-NET ISP A Telecom' },
  { cidr: '82.20.0.0/16', asn: 58200, org: 'ISPB-NET ISP B Mobile' },
  { cidr: '83.30.0.0/16', asn: 58300, org: 'ISPC-NET ISP C Cable' },
  { cidr: '91.200.0.0/16', asn: 49800, org: 'BADHOST Offshore hosting' },
  { cidr: '93.100.0.0/16', asn: 59900, org: 'ADNETWORK Ad network' },
];

/** The DNS side of the core namespace. */
export const DNS = {
  /** nsd: the authoritative for every static lab zone (ground truth). */
  authoritative: '45.0.0.53',
  /** unbound with views: GSLB/CDN zones that answer by the querying resolver's address. */
  geo: '45.0.0.54',
  /** Clean public recursors (the probes' references): probe A and C use R1, probe B uses R2. */
  R1: '45.0.0.8',
  R2: '45.0.0.9',
} as const;

export interface IspPlan {
  /** Namespace suffix and veth name stem. */
  key: string;
  asn: number;
  isp: string;
  /** The point-to-point link to the core: core side .1, probe side .2 of the /30. */
  coreSide: string;
  probeSide: string;
  /** The whole ISP prefix, routed from the core to the ISP's namespace. */
  prefix: string;
  /** The ISP's local resolver (unbound in the ISP's namespace). */
  resolver: string;
  reference: 'R1' | 'R2';
}

export const ISP_PLAN: Record<Isp, IspPlan> = {
  A: { key: 'ispa', asn: 58100, isp: 'isp-a', coreSide: '81.10.0.1', probeSide: '81.10.0.2', prefix: '81.10.0.0/16', resolver: '81.10.53.53', reference: 'R1' },
  B: { key: 'ispb', asn: 58200, isp: 'isp-b', coreSide: '82.20.0.1', probeSide: '82.20.0.2', prefix: '82.20.0.0/16', resolver: '82.20.53.53', reference: 'R2' },
  C: { key: 'ispc', asn: 58300, isp: 'isp-c', coreSide: '83.30.0.1', probeSide: '83.30.0.2', prefix: '83.30.0.0/16', resolver: '83.30.53.53', reference: 'R1' },
};

/** ISP B's on-path box (in ISP B's namespace): its port-80 DNAT targets listen here. */
export const INJECTOR_IP = '82.20.250.1';

/**
 * What :443 of an address does: a certificate from the lab CA for the hosts it serves (`valid`),
 * one self-signed for them, one for them from a CA nobody trusts (`untrusted`), one from the lab CA
 * for the server's own name only (`foreign`: `certName`), or nothing (`none`: refused).
 */
export type HttpsMode = 'valid' | 'self-signed' | 'untrusted' | 'foreign' | 'none';

/**
 * Servers that are not a customer's origin. Any other address a scenario mentions is an origin or
 * CDN edge: the site's own content on :80 and :443 with a certificate from the lab CA.
 */
export interface SpecialServer {
  about: string;
  https: HttpsMode;
  headers?: Record<string, string>;
  /** A transparent proxy: :80 and :443 are DNATed in the core to this address. */
  forwardTo?: string;
  /** The name in its certificate when `https` is `foreign`. */
  certName?: string;
}

export const SPECIAL_SERVERS: Record<string, SpecialServer> = {
  '81.10.200.10': {
    about: "ISP A's content cache (copies of popular sites, HTTP only)",
    https: 'none',
    headers: { Via: '1.1 cache01.ispa-net.cn (squid/5.7)', 'X-Cache': 'HIT from cache01.ispa-net.cn' },
  },
  '81.10.250.10': { about: "ISP A's search/ads page for names that do not exist", https: 'none' },
  '81.10.99.99': { about: "ISP A's blockpage", https: 'none' },
  '82.20.99.99': { about: "ISP B's blockpage (blockpage.ispb-net.cn)", https: 'none' },
  '82.20.200.10': {
    about: "ISP B's content cache (:443 shows the cache's own certificate)",
    https: 'foreign',
    certName: 'cache.ispb-net.cn',
    headers: { 'X-Cache': 'HIT', Via: '1.1 cache.ispb-net.cn' },
  },
  '46.20.0.10': { about: 'a transparent proxy in a transit network (:80 and :443 passed to the origin)', https: 'none', forwardTo: '45.50.14.10' },
  '46.30.0.10': { about: 'a WAF edge that challenges the visitor', https: 'valid' },
  '46.40.0.10': { about: 'an unrelated shared-hosting site', https: 'none' },
  '91.200.15.10': { about: 'an ad redirector', https: 'none' },
  '91.200.16.10': { about: 'a frameset overlay (site in a frame + floating ad)', https: 'none' },
  '91.200.22.10': { about: 'a phishing clone (self-signed certificate for the domain)', https: 'self-signed' },
  '91.200.23.10': { about: 'a forced .apk download', https: 'none' },
  '91.200.41.10': { about: 'a meta-refresh ad redirector', https: 'none' },
  '91.200.42.10': { about: 'an impersonating server (certificate for the domain from an unknown CA, fake update page)', https: 'untrusted' },
  '91.200.66.6': { about: 'a parking page on a threat-listed address', https: 'none' },
  '93.100.0.10': { about: 'the ad network landing site (promo-deals.cn)', https: 'none' },
  '93.100.0.20': { about: 'the ad network script host', https: 'none' },
};

/** Addresses on the threat list the analyzer is given. */
export const THREAT_LIST: readonly string[] = ['91.200.66.6', '185.220.100.0/22'];

/** Blockpage fingerprints the analyzer is given. */
export const BLOCKPAGES = { ips: ['81.10.99.99', '82.20.99.99'], cnames: ['blockpage.ispb-net.cn'] };
