import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ipInCidr } from './cidr.ts';

const cidr = suite('ipInCidr');

cidr('IPv4', () => {
  assert.ok(ipInCidr('10.1.2.3', '10.0.0.0/8'));
  assert.ok(ipInCidr('203.0.113.7', '203.0.113.0/24'));
  assert.not.ok(ipInCidr('203.0.114.7', '203.0.113.0/24'));
  assert.ok(ipInCidr('1.2.3.4', '0.0.0.0/0'));
  assert.ok(ipInCidr('1.2.3.4', '1.2.3.4/32'));
  assert.not.ok(ipInCidr('1.2.3.5', '1.2.3.4/32'));
});

cidr('IPv6, with :: and an IPv4 tail', () => {
  assert.ok(ipInCidr('2001:db8::1', '2001:db8::/32'));
  assert.ok(ipInCidr('2001:DB8:0:0:0:0:0:1', '2001:db8::/32'));
  assert.not.ok(ipInCidr('2001:db9::1', '2001:db8::/32'));
  assert.ok(ipInCidr('::ffff:192.0.2.1', '::ffff:192.0.2.0/120'));
  assert.ok(ipInCidr('::1', '::1/128'));
});

cidr('mismatched families and bad input are false', () => {
  assert.not.ok(ipInCidr('10.0.0.1', '::/0'));
  assert.not.ok(ipInCidr('::1', '0.0.0.0/0'));
  assert.not.ok(ipInCidr('10.0.0.1', '10.0.0.0/33'));
  assert.not.ok(ipInCidr('not-an-ip', '10.0.0.0/8'));
});

cidr.run();
