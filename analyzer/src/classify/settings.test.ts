/**
 * The analyzer settings section, the ASN table format, and the IP helpers under them.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAsnTable } from './asn-table.ts';
import { HostAllowlist, siteOf } from './domains.ts';
import { canonicalIp, isBogon, parseCidr, prefixSet } from './ip.ts';
import { DEFAULT_SETTINGS, parseAnalyzerSettings, SettingsError } from './settings.ts';
import { asnTable, SAMPLE_ASN_FILE } from './testing/scenario.ts';

const CONFIG = '/etc/vantage/analyze.yaml';
const files: Record<string, string> = {
  '/etc/vantage/asn.txt': '45.60.0.0/16 64510 Example Hosting\n',
  '/etc/vantage/threats.txt': '# feed\n91.200.1.1\n91.201.0.0/16  # a whole range\n\n',
  '/etc/vantage/bad-asn.txt': '45.60.0.0/16 64510\nnot-a-cidr 64511 X\n45.61.0.0/16 ASX\n45.62.0.0/16\n',
  '/etc/vantage/bad-threats.txt': '91.200.1.1\n91.200.1.300\n',
};
const readFile = (path: string) => {
  if (!(path in files)) throw new Error(`ENOENT: no such file, open '${path}'`);
  return files[path];
};
function problems(raw: unknown): string[] {
  try {
    parseAnalyzerSettings(raw, CONFIG, readFile);
  } catch (err) {
    assert.instance(err, SettingsError);
    assert.is((err as SettingsError).file, CONFIG);
    assert.ok((err as Error).message.includes(CONFIG), 'the message names the file');
    return (err as SettingsError).problems;
  }
  assert.unreachable('accepted invalid settings');
  return [];
}

// ---

const settings = suite('analyzer settings');

settings('absent: the defaults', () => {
  const s = parseAnalyzerSettings(undefined, CONFIG, readFile);
  assert.is(s.historyMs, 7 * 86_400_000);
  assert.is(s.staleMs, 48 * 3_600_000);
  assert.is(s.currentMs, 3_600_000);
  assert.is(s.prevalenceMinDomains, 3);
  assert.is(s.blockedMinProbes, 2);
  assert.is(s.asnTable, null);
  assert.is(s.threats.size, 0);
  assert.is(DEFAULT_SETTINGS.momentMs, 90_000);
});

settings('every key: files relative to the config file, durations with d/h/m', () => {
  const s = parseAnalyzerSettings({
    asn_table: 'asn.txt', threat_list: './threats.txt',
    blockpages: { ips: ['45.70.0.1', '45.71.0.0/16'], cnames: ['Blockpage.ISP.example.'] },
    history: '3d', stale: '36h', current: '30m', prevalence_min_domains: 5, blocked_min_probes: 3,
  }, CONFIG, readFile);
  assert.equal(s.asnTable?.lookup('45.60.3.4'), { asn: 64510, org: 'Example Hosting' });
  assert.ok(s.threats.has('91.200.1.1') && s.threats.has('91.201.9.9') && !s.threats.has('91.202.0.1'));
  assert.ok(s.blockpages.ips.has('45.71.2.3'));
  assert.equal(s.blockpages.cnames, ['blockpage.isp.example']);
  assert.equal([s.historyMs, s.staleMs, s.currentMs, s.prevalenceMinDomains, s.blockedMinProbes], [3 * 86_400_000, 36 * 3_600_000, 30 * 60_000, 5, 3]);
});

settings('bad values: every problem, named by key', () => {
  assert.equal(problems({ history: 'a week', stale: 5, prevalence_min_domains: 0, colour: 'red' }), [
    'analyzer.history: "a week" is not a duration (write e.g. 7d, 48h, 30m)',
    'analyzer.prevalence_min_domains: must be at least 1, got 0',
    'analyzer.colour: unknown key (known: asn_table, threat_list, blockpages, history, stale, current, prevalence_min_domains, blocked_min_probes)',
  ]);
  assert.equal(problems({ blockpages: { ips: ['45.70.0.1', 'ten.0.0.1'], cname: [] } }), [
    'analyzer.blockpages.ips[1]: "ten.0.0.1" is not an IP or CIDR',
    'analyzer.blockpages.cname: unknown key (known: ips, cnames)',
  ]);
  assert.equal(problems({ history: '1d', stale: '2d' }), ['analyzer.stale: 172800000ms is longer than analyzer.history (86400000ms)']);
  assert.equal(problems('yes'), ['analyzer: expected a mapping, got "yes"']);
});

settings('bad files: the file, line and key', () => {
  assert.equal(problems({ asn_table: 'missing.txt' }), [
    "analyzer.asn_table: cannot read /etc/vantage/missing.txt: ENOENT: no such file, open '/etc/vantage/missing.txt'",
  ]);
  assert.equal(problems({ asn_table: 'bad-asn.txt', threat_list: 'bad-threats.txt' }), [
    'analyzer.asn_table: /etc/vantage/bad-asn.txt:2: "not-a-cidr" is not a CIDR',
    'analyzer.asn_table: /etc/vantage/bad-asn.txt:3: "ASX" is not an AS number',
    'analyzer.asn_table: /etc/vantage/bad-asn.txt:4: expected "CIDR ASN [org name]", got "45.62.0.0/16"',
    'analyzer.threat_list: /etc/vantage/bad-threats.txt:2: "91.200.1.300" is not an IP or CIDR',
  ]);
});

settings.run();

// ---

const table = suite('ASN table');

table('the shipped sample: longest prefix wins, AS prefix and comments allowed, IPv6', () => {
  assert.is(asnTable.size, 8);
  assert.equal(asnTable.lookup('45.60.1.1'), { asn: 64510, org: 'Example Hosting' });
  assert.equal(asnTable.lookup('45.60.77.1'), { asn: 64511, org: 'Example Hosting Edge' });
  assert.equal(asnTable.lookup('151.101.3.4'), { asn: 64512, org: 'Example CDN A' });
  assert.equal(asnTable.lookup('2a04:4e40:0:1::5'), { asn: 64512, org: 'Example CDN A' });
  assert.is(asnTable.lookup('8.8.8.8'), null);
  assert.is(asnTable.lookup('not an ip'), null);
  assert.ok(SAMPLE_ASN_FILE.endsWith('testdata/asn-sample.txt'));
});

table('lines without an org; /0 catches everything; a problem list is capped', () => {
  const { table: t, problems: p } = parseAsnTable('0.0.0.0/0 1\n10.0.0.0/8 AS2 Private Net\n', 'x.txt');
  assert.equal(p, []);
  assert.equal(t.lookup('10.1.1.1'), { asn: 2, org: 'Private Net' });
  assert.equal(t.lookup('8.8.8.8'), { asn: 1, org: null });
  const many = parseAsnTable(Array.from({ length: 50 }, () => 'junk').join('\n'), 'junk.txt');
  assert.is(many.problems.length, 21);
  assert.is(many.problems[20], 'junk.txt: more problems not listed');
});

table.run();

// ---

const ips = suite('IP and name helpers');

ips('canonical IPv6 spelling (RFC 5952)', () => {
  assert.is(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.is(canonicalIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  assert.is(canonicalIp('::ffff:10.0.0.1'), '::ffff:a00:1');
  assert.is(canonicalIp('1:0:2:0:3:0:4:0'), '1:0:2:0:3:0:4:0');
  assert.is(canonicalIp('45.60.1.1'), '45.60.1.1');
});

ips('CIDRs and bogons (OONI list: private, loopback, CGNAT, documentation, multicast, reserved)', () => {
  assert.equal(parseCidr('10.1.2.3/8')?.text, '10.1.2.3/8');
  assert.is(parseCidr('10.0.0.0/33'), null);
  assert.is(parseCidr('10.0.0/8'), null);
  const set = prefixSet(['10.0.0.0/8', '2001:db8::/32', '45.60.1.1']);
  assert.ok(set.has('10.255.0.1') && set.has('2001:db8:ffff::1') && set.has('45.60.1.1') && !set.has('45.60.1.2'));
  for (const ip of ['0.0.0.0', '127.0.0.1', '10.0.0.5', '100.64.1.1', '169.254.1.1', '172.16.5.5', '192.168.1.1', '192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1', '224.0.0.1', '240.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', '2001:db8::1']) {
    assert.ok(isBogon(ip), ip);
  }
  for (const ip of ['45.60.1.1', '8.8.8.8', '100.63.255.255', '172.32.0.1', '2a04:4e40::1']) assert.not.ok(isBogon(ip), ip);
});

ips('sites and allowlisted hosts', () => {
  assert.is(siteOf('www.shop.example.com'), 'example.com');
  assert.is(siteOf('img.example.com.cn'), 'example.com.cn');
  assert.is(siteOf('a.b.example.co.uk'), 'example.co.uk');
  assert.is(siteOf('Example.COM.'), 'example.com');
  assert.is(siteOf('45.60.1.1'), '45.60.1.1');
  const allow = new HostAllowlist(['https://cdn.example.com', 'http://*.tags.example:8080']);
  assert.ok(allow.has('cdn.example.com') && allow.has('a.b.tags.example'));
  assert.not.ok(allow.has('tags.example'), '"*." means subdomains');
  assert.not.ok(allow.has('evil-cdn.example.com'));
});

ips.run();
