import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig, parseConfig } from './config.ts';
import { parseDuration } from './duration.ts';
import { isDomainName, parseDnsServer, resolvConfNameservers, splitHostPort } from './endpoints.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/config');

// ---

const invalid = suite('loadConfig: invalid fixtures');

for (const name of readdirSync(join(FIXTURES, 'invalid')).sort()) {
  const file = join(FIXTURES, 'invalid', name);
  invalid(`${name} gives its exact error`, () => {
    const expected = /^# error: (.*)$/m.exec(readFileSync(file, 'utf8'))![1].replace('<dir>', join(FIXTURES, 'invalid'));
    try {
      loadConfig(file);
      assert.unreachable('loaded an invalid config');
    } catch (err) {
      assert.instance(err, ConfigError);
      const configError = err as ConfigError;
      assert.is(configError.file, file);
      assert.ok(configError.problems.includes(expected), `expected "${expected}" in:\n${configError.problems.join('\n')}`);
      assert.ok(configError.message.includes(file), 'the message names the file');
    }
  });
}

invalid.run();

// ---

const valid = suite('loadConfig: the issue example');

valid('loads and normalises every task', () => {
  const config = loadConfig(join(FIXTURES, 'issue-example.yaml'));
  assert.equal(config.probe, { id: 'bj-telecom-01', region: 'cn-beijing', isp: 'telecom', asn: 4134, labels: { tier: 'idc' } });
  assert.equal(config.resolvers, [{ transport: 'udp', host: '10.1.2.3', port: 53, label: '10.1.2.3:53' }]);
  assert.is(config.spool.dir, join(FIXTURES, 'spool'));
  assert.is(config.nats.credentials, join(FIXTURES, 'probe.creds'));
  assert.ok(config.extraCaPem?.includes('BEGIN CERTIFICATE'));
  assert.equal(config.tasks.map((t) => [t.id, t.kind, t.schedule, t.timeoutMs]), [
    ['shop-dns', 'dns', '* * * * *', 5000],
    ['shop-https', 'http', '* * * * *', 5000],
    ['shop-443', 'tcp', '* * * * *', 5000],
    ['shop-ping', 'ping', '* * * * *', 7000], // 5 echoes 1 s apart + 2 s
  ]);
  const dns = config.tasks[0];
  assert.ok(dns.kind === 'dns');
  if (dns.kind !== 'dns') return;
  assert.equal(dns.dns.types, ['A', 'AAAA']);
  assert.equal(dns.dns.references.map((r) => r.transport), ['udp', 'doh']);
  assert.equal(dns.dns.evidence, { path: '/', httpPort: 80, httpsPort: 443, bodyLimitBytes: 1048576 });
});

valid('resolvers default to /etc/resolv.conf', () => {
  const config = parseConfig(
    { probe: { id: 'p', region: 'r', isp: 'i' }, tasks: [{ id: 't', kind: 'ping', target: 'example.net' }] },
    '/x/probe.yaml',
    (path) => (path === '/etc/resolv.conf' ? 'search lan\nnameserver 127.0.0.53\nnameserver ::1\n' : ''),
  );
  assert.equal(config.resolvers.map((r) => r.transport === 'udp' && r.label), ['127.0.0.53:53', '[::1]:53']);
});

valid('no resolver is needed when every target is an IP', () => {
  const config = parseConfig(
    { probe: { id: 'p', region: 'r', isp: 'i' }, tasks: [{ id: 't', kind: 'tcp', target: '[::1]:443' }] },
    '/x/probe.yaml',
    () => '',
  );
  assert.equal(config.resolvers, []);
});

valid('dns expect.script_origins: origins normalised (scheme + host, "*." allowed), bad ones named by key', () => {
  const dnsTask = (script_origins: unknown) => ({
    probe: { id: 'p', region: 'r', isp: 'i', resolvers: ['127.0.0.1'] },
    tasks: [{ id: 't', kind: 'dns', target: 'shop.example', dns: { expect: { script_origins } } }],
  });
  const expectOf = (raw: unknown) => {
    const task = parseConfig(raw, '/x/probe.yaml', () => '').tasks[0];
    assert.ok(task.kind === 'dns');
    return task.kind === 'dns' ? task.dns.expect : null;
  };
  assert.equal(
    expectOf(dnsTask(['https://CDN.Example.com', 'http://*.tags.example:8080/', 'https://[2001:db8::1]']))?.script_origins,
    ['https://cdn.example.com', 'http://*.tags.example:8080', 'https://[2001:db8::1]'],
  );
  assert.equal(expectOf(dnsTask(undefined)), { ips: [], cidrs: [], cnames: [], asns: [], script_origins: [] });
  for (const bad of ['cdn.example.com', 'https://cdn.example.com/lib.js', 'ftp://cdn.example.com', 'https://*', 'https://a.*.example', 'https://user@cdn.example']) {
    try {
      parseConfig(dnsTask([bad]), '/x/probe.yaml', () => '');
      assert.unreachable(`accepted ${bad}`);
    } catch (err) {
      assert.instance(err, ConfigError);
      const expected = `tasks[0].dns.expect.script_origins[0]: ${JSON.stringify(bad)} is not an origin like https://cdn.example.com or https://*.example.com`;
      assert.equal((err as ConfigError).problems, [expected]);
    }
  }
});

valid.run();

// ---

const pieces = suite('config pieces');

pieces('parseDuration', () => {
  assert.is(parseDuration('500ms'), 500);
  assert.is(parseDuration('5s'), 5000);
  assert.is(parseDuration('1.5m'), 90000);
  assert.is(parseDuration(250), 250);
  assert.is(parseDuration('5x'), null);
  assert.is(parseDuration('-1s'), null);
});

pieces('parseDnsServer', () => {
  assert.equal(parseDnsServer('127.0.0.1:5353'), { transport: 'udp', host: '127.0.0.1', port: 5353, label: '127.0.0.1:5353' });
  assert.equal(parseDnsServer('::1'), { transport: 'udp', host: '::1', port: 53, label: '[::1]:53' });
  assert.equal(parseDnsServer('[::1]:5300'), { transport: 'udp', host: '::1', port: 5300, label: '[::1]:5300' });
  assert.is(parseDnsServer('https://doh.example/dns-query')?.transport, 'doh');
  assert.is(parseDnsServer('dns.example'), null);
  assert.is(parseDnsServer('127.0.0.1:99999'), null);
});

pieces('splitHostPort and isDomainName', () => {
  assert.equal(splitHostPort('shop.example.com:443'), { host: 'shop.example.com', port: 443 });
  assert.equal(splitHostPort('[2001:db8::1]:443'), { host: '2001:db8::1', port: 443 });
  assert.is(splitHostPort('a:b:c'), null);
  assert.ok(isDomainName('shop.example.com.'));
  assert.ok(isDomainName('_dmarc.example.com'));
  assert.not.ok(isDomainName('bad..name'));
  assert.not.ok(isDomainName('-bad.example'));
});

pieces('resolvConfNameservers keeps addresses, drops zone ids and junk', () => {
  assert.equal(resolvConfNameservers('nameserver 10.0.0.1\n# nameserver 1.1.1.1\nnameserver fe80::1%eth0\nnameserver bogus\n'), ['10.0.0.1', 'fe80::1']);
});

pieces.run();
