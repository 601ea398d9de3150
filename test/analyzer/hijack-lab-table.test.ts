/**
 * The hijack lab's scenario table and what is generated from it, without starting anything (no
 * root needed): coverage of every class, trap and flag; unique names; every address public and in
 * the ASN table; every address a user can be sent to serves the scenario's host; zones and GSLB
 * views consistent.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { prefixSet } from '../../analyzer/src/classify/ip.ts';
import { ASN_TABLE, DNS, INJECTOR_IP, ISP_PLAN, ISPS, SPECIAL_SERVERS } from './lab/addresses.ts';
import { geoConf, ispResolverConf, zoneFiles, zoneOf } from './lab/dns-config.ts';
import { expectedLocal, expectedReference } from './lab/expected-dns.ts';
import { probeConfig } from './lab/probe-config.ts';
import { CLASSES, expectedFor, GEO_ZONES, probesOf, SCENARIOS } from './lab/scenarios.ts';
import { isBogon, scenarioAddresses, webPlan } from './lab/web-config.ts';

const table = suite('hijack lab table');

const ASN_PREFIXES = prefixSet(ASN_TABLE.map((row) => row.cidr));

table('at least 20 scenarios cover every class, trap and flag', () => {
  assert.ok(SCENARIOS.length >= 20, `${SCENARIOS.length} scenarios`);
  const expectations = SCENARIOS.flatMap((s) => ISPS.flatMap((isp) => [1, 2].map((r) => expectedFor(s, isp, r))));
  const classes = new Set(expectations.map((e) => e.class));
  assert.equal(CLASSES.filter((c) => !classes.has(c)), [], 'classes without a scenario');
  const traps = SCENARIOS.map((s) => s.trap ?? '').join(' | ');
  for (const trap of ['load-balancer rotation', 'TTL', 'stale', 'CDN', "ISP's own ASN", 'challenge', 'split-horizon', 'wildcard', 'GeoDNS']) {
    assert.ok(traps.includes(trap), `no scenario sets the trap "${trap}"`);
  }
  const flags = new Set(expectations.flatMap((e) => e.flags ?? []));
  for (const flag of ['stale', 'bogon', 'challenge', 'low_confidence', 'vector=dns', 'vector=http']) assert.ok(flags.has(flag), `no scenario expects the flag ${flag}`);
});

table('scenario names are task ids, hosts are unique, expectations name probes that run the task', () => {
  assert.is(new Set(SCENARIOS.map((s) => s.name)).size, SCENARIOS.length, 'duplicate names');
  assert.is(new Set(SCENARIOS.map((s) => s.host)).size, SCENARIOS.length, 'duplicate hosts');
  for (const s of SCENARIOS) {
    assert.ok(/^[A-Za-z0-9_-]{1,64}$/.test(s.name), `${s.name} is not a task id`);
    for (const isp of Object.keys(s.expect)) assert.ok(probesOf(s).includes(isp as 'A'), `${s.name} expects a verdict from ${isp}, which does not run it`);
    zoneOf(s.host);
  }
});

table('every lab address is public-looking and in the ASN table', () => {
  const plan = webPlan();
  const addresses = [
    ...Object.values(DNS), INJECTOR_IP, ...Object.keys(SPECIAL_SERVERS), ...plan.sites.keys(),
    ...ISPS.flatMap((isp) => [ISP_PLAN[isp].resolver, ISP_PLAN[isp].coreSide, ISP_PLAN[isp].probeSide]),
  ];
  for (const ip of addresses) {
    // The special-purpose ranges (the analyzer's bogon list): a lab address must look like the internet.
    assert.not.ok(isBogon(ip), `${ip} is a bogon`);
    assert.ok(ASN_PREFIXES.has(ip), `${ip} is in no prefix of the ASN table`);
  }
  for (const isp of ISPS) assert.ok(ASN_TABLE.some((row) => row.cidr === ISP_PLAN[isp].prefix && row.asn === ISP_PLAN[isp].asn), `ISP ${isp}'s prefix and ASN are not in the table`);
});

table('every address a scenario sends a user to serves its host (transparent proxies pass to one that does)', () => {
  const plan = webPlan();
  for (const s of SCENARIOS) {
    const { origin, other } = scenarioAddresses(s);
    for (const ip of [...origin, ...other]) {
      const served = SPECIAL_SERVERS[ip]?.forwardTo ?? ip;
      assert.ok(plan.sites.get(served)?.pages.has(s.host), `${s.name}: ${ip} does not serve ${s.host}`);
    }
  }
  const cert = (file: string) => plan.certs.find((c) => c.file === file);
  assert.ok(cert('valid-shoplab-com')?.names.includes('www.shoplab.com'), 'a certificate for the shop');
  assert.equal(cert('self-signed')?.names, ['login.banklab.org']);
  assert.equal(cert('untrusted')?.names, ['update.banklab.org']);
  assert.equal(cert('foreign')?.names, ['cache.ispb-net.cn']);
  assert.ok(!plan.sites.get('81.10.200.10')?.https || plan.sites.get('81.10.200.10')?.https === 'none', 'the ISP cache must refuse :443');
});

table('zones, GSLB views and resolver overrides come from the table', () => {
  const r1 = zoneFiles(1);
  const r2 = zoneFiles(2);
  assert.ok(r1['shoplab.com'].includes('moved.shoplab.com. 600 IN A 45.50.5.10'));
  assert.ok(r2['shoplab.com'].includes('moved.shoplab.com. 600 IN A 45.50.5.20'));
  assert.ok(r1['wildlab.com'].includes('*.wildlab.com. 600 IN A'));
  for (const s of SCENARIOS) {
    for (const r of s.dns) {
      if (r.views) assert.ok((GEO_ZONES as readonly string[]).includes(zoneOf(r.name)), `${s.name}: ${r.name} has views but is not in a GSLB zone`);
    }
  }
  const geo = geoConf('/lab');
  assert.ok(geo.includes(`access-control-view: ${ISP_PLAN.A.resolver}/32 A`) && geo.includes('local-zone: "." refuse'));
  const ispB = ispResolverConf('/lab', 'B');
  assert.ok(ispB.includes('local-zone: "casino.newslab.net." always_nxdomain'));
  assert.ok(ispB.includes('local-data: "gamble.newslab.net. 600 IN CNAME blockpage.ispb-net.cn."'));
  assert.ok(ispResolverConf('/lab', 'A').includes('cache-min-ttl: 3600'));
});

table('the expected answers are defined for every probe and round, and the probe configs hold every task', () => {
  for (const s of SCENARIOS) {
    for (const isp of probesOf(s)) {
      for (const round of [1, 2]) {
        expectedLocal(s, isp, round);
        expectedReference(s, isp, round);
      }
    }
  }
  assert.equal(expectedLocal(SCENARIOS.find((s) => s.name === 'stale')!, 'A', 2), { ips: ['45.50.5.10'] });
  assert.equal(expectedReference(SCENARIOS.find((s) => s.name === 'stale')!, 'A', 2), { ips: ['45.50.5.20'] });
  assert.equal(expectedLocal(SCENARIOS.find((s) => s.name === 'blockpage-cname')!, 'B', 1), { ips: ['82.20.99.99'] });
  const tasks = ISPS.reduce((n, isp) => n + probeConfig(isp, 'ca.pem', 'spool').tasks.length, 0);
  assert.is(tasks, SCENARIOS.reduce((n, s) => n + probesOf(s).length, 0));
  assert.ok(isBogon('127.0.0.1') && isBogon('10.20.30.40') && !isBogon('45.50.1.10'));
});

table.run();
