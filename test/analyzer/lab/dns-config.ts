/**
 * DNS configs generated from the scenario table: nsd (the authoritative for the static zones, one
 * zone file set per round), the GSLB (unbound answering from local data by the asking resolver's
 * address) and the recursors — clean public ones (the probes' references) and one per ISP with that
 * ISP's overrides.
 */
import { DNS, ISP_PLAN, type Isp } from './addresses.ts';
import { GEO_ZONES, INFRA_RECORDS, SCENARIOS, STATIC_ZONES, type DnsAnswer, type GeoView, type Override } from './scenarios.ts';

const DEFAULT_TTL = 600;
const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`);

/** The zone (static or GSLB) a name belongs to: the longest matching suffix. */
export function zoneOf(name: string): string {
  const zones = [...STATIC_ZONES, ...GEO_ZONES].filter((z) => name === z || name.endsWith(`.${z}`));
  if (zones.length === 0) throw new Error(`lab: ${name} is in no lab zone`);
  return zones.sort((x, y) => y.length - x.length)[0];
}
const isGeo = (name: string) => (GEO_ZONES as readonly string[]).includes(zoneOf(name));

function rrLines(owner: string, answer: DnsAnswer): string[] {
  const ttl = answer.ttl ?? DEFAULT_TTL;
  return 'a' in answer ? answer.a.map((ip) => `${fqdn(owner)} ${ttl} IN A ${ip}`) : [`${fqdn(owner)} ${ttl} IN CNAME ${fqdn(answer.cname)}`];
}

/** Zone files of the static zones as the authoritative serves them in `round`. */
export function zoneFiles(round: number): Record<string, string> {
  const records = new Map<string, string[]>(STATIC_ZONES.map((z) => [z, []]));
  const add = (name: string, answer: DnsAnswer) => records.get(zoneOf(name))!.push(...rrLines(name, answer));
  for (const s of SCENARIOS) {
    for (const r of s.dns) if (!isGeo(r.name)) add(r.name, round >= 2 && r.round2 ? r.round2 : r.answer);
  }
  for (const r of INFRA_RECORDS) add(r.name, { a: [r.ip] });
  add('ns1.shoplab.com', { a: [DNS.authoritative] });
  add('ns-gslb.shoplab.com', { a: [DNS.geo] });
  records.get('shoplab.com')!.push('gslb.shoplab.com. 600 IN NS ns-gslb.shoplab.com.');

  const out: Record<string, string> = {};
  for (const [zone, lines] of records) {
    out[zone] = [
      `$ORIGIN ${fqdn(zone)}`,
      `$TTL ${DEFAULT_TTL}`,
      `@ 3600 IN SOA ns1.shoplab.com. hostmaster.${fqdn(zone)} ${2025030100 + round} 3600 600 86400 60`,
      '@ 3600 IN NS ns1.shoplab.com.',
      ...lines,
      '',
    ].join('\n');
  }
  return out;
}

export function nsdConf(dir: string): string {
  return `server:
  ip-address: ${DNS.authoritative}
  port: 53
  username: ""
  chroot: ""
  zonesdir: "${dir}/zones"
  database: ""
  zonelistfile: "${dir}/nsd.zonelist"
  xfrdfile: "${dir}/nsd.xfrd"
  pidfile: "${dir}/nsd.pid"
  logfile: "${dir}/nsd.log"
  server-count: 1
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
${STATIC_ZONES.map((z) => `zone:\n  name: ${z}\n  zonefile: ${z}.zone\n`).join('')}`;
}

const VIEW_SOURCES: Record<GeoView, string> = {
  R1: DNS.R1,
  R2: DNS.R2,
  A: ISP_PLAN.A.resolver,
  B: ISP_PLAN.B.resolver,
  C: ISP_PLAN.C.resolver,
};

function unboundServer(dir: string, name: string, ip: string, extra: string[]): string {
  return [
    'server:',
    `  interface: ${ip}`,
    `  outgoing-interface: ${ip}`,
    '  port: 53',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${dir}/${name}.pid"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 1',
    '  num-threads: 1',
    '  module-config: "iterator"',
    '  access-control: 0.0.0.0/0 allow',
    '  qname-minimisation: no',
    ...extra.map((l) => `  ${l}`),
    'remote-control:',
    '  control-enable: yes',
    `  control-interface: "${dir}/${name}.ctl"`,
    '  control-use-cert: no',
    '',
  ].join('\n');
}

/** The GSLB: answers its zones from local data, by the asking resolver's address; refuses the rest. */
export function geoConf(dir: string): string {
  const global: string[] = ['local-zone: "." refuse'];
  for (const z of GEO_ZONES) {
    global.push(`local-zone: "${fqdn(z)}" static`, `local-data: "${fqdn(z)} 3600 IN SOA ns-gslb.shoplab.com. hostmaster.shoplab.com. 1 3600 600 86400 60"`);
  }
  const views = new Map<GeoView, string[]>();
  for (const s of SCENARIOS) {
    for (const r of s.dns) {
      if (!isGeo(r.name)) continue;
      global.push(...rrLines(r.name, r.answer).map((l) => `local-data: "${l}"`));
      for (const [view, answer] of Object.entries(r.views ?? {}) as [GeoView, DnsAnswer][]) {
        if (!views.has(view)) views.set(view, []);
        views.get(view)!.push(...rrLines(r.name, answer).map((l) => `local-data: "${l}"`));
      }
    }
  }
  const acl = [...views.keys()].map((v) => `access-control-view: ${VIEW_SOURCES[v]}/32 ${v}`);
  const server = unboundServer(dir, 'geo', DNS.geo, [...acl, ...global]);
  const viewBlocks = [...views].map(([v, lines]) => ['view:', `  name: "${v}"`, '  view-first: yes', ...lines.map((l) => `  ${l}`), ''].join('\n'));
  return server + viewBlocks.join('');
}

function stubZones(): string {
  const stubs = [
    ...STATIC_ZONES.map((z) => [z, DNS.authoritative]),
    ...GEO_ZONES.map((z) => [z, DNS.geo]),
  ];
  return stubs.map(([z, addr]) => `stub-zone:\n  name: "${fqdn(z)}"\n  stub-addr: ${addr}\n`).join('');
}

/** A clean public recursor (a probe's reference). */
export function publicResolverConf(dir: string, which: 'R1' | 'R2'): string {
  return unboundServer(dir, which, DNS[which], []) + stubZones();
}

/** An ISP's resolver, with the ISP's overrides. ISP A's ignores TTLs (keeps answers an hour). */
export function ispResolverConf(dir: string, isp: Isp): string {
  const extra: string[] = isp === 'A' ? ['cache-min-ttl: 3600'] : [];
  const stubs: string[] = [];
  for (const s of SCENARIOS) {
    const o: Override | undefined = s.resolvers?.[isp];
    if (!o) continue;
    const name = fqdn(s.host);
    if ('rcode' in o) {
      if (o.rcode === 'NXDOMAIN') extra.push(`local-zone: "${name}" always_nxdomain`);
      else if (o.rcode === 'REFUSED') extra.push(`local-zone: "${name}" always_refuse`);
      // SERVFAIL: the name's only upstream refuses it (the GSLB refuses names outside its zones).
      else stubs.push(`stub-zone:\n  name: "${name}"\n  stub-addr: ${DNS.geo}\n`);
    } else {
      // A redirect zone answers the override for the name; a CNAME in it is chased by recursion.
      extra.push(`local-zone: "${name}" redirect`, ...rrLines(s.host, o).map((l) => `local-data: "${l}"`));
    }
  }
  return unboundServer(dir, `resolver-${ISP_PLAN[isp].key}`, ISP_PLAN[isp].resolver, extra) + stubs.join('') + stubZones();
}
