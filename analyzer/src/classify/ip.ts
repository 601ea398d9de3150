/**
 * IP addresses for the classifier: one canonical spelling, prefix maps (CIDR sets with longest
 * match, used by the ASN table, threat list, blockpage IPs and expectations) and the bogon test.
 * IPv4 is kept as a 32-bit number and IPv6 as a bigint, so a lookup is a few Map gets.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipv6Value } from '../../../probe/src/net/cidr.ts';

export type ParsedIp = { v: 4; n: number } | { v: 6; n: bigint };

export function parseIp(ip: string): ParsedIp | null {
  if (!ip.includes(':')) {
    const parts = ip.split('.');
    if (parts.length !== 4) return null;
    let n = 0;
    for (const part of parts) {
      if (part.length === 0 || part.length > 3) return null;
      const octet = Number(part);
      if (!Number.isInteger(octet) || octet < 0 || octet > 255) return null;
      n = n * 256 + octet;
    }
    return { v: 4, n };
  }
  return isIPv6(ip) ? { v: 6, n: ipv6Value(ip) } : null;
}

/** RFC 5952 spelling of an IPv6 address (lower case, longest zero run compressed). */
function formatV6(n: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** One spelling per address ("2001:DB8:0::1" → "2001:db8::1"); IPv4 and non-IPs unchanged. */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const parsed = parseIp(ip);
  return parsed ? formatV6(parsed.n as bigint) : ip;
}

export const isIp = (value: string) => isIPv4(value) || isIPv6(value);

/** A parsed CIDR ("10.0.0.0/8", "2001:db8::/32", or a bare address = a host prefix). */
export interface Cidr {
  v: 4 | 6;
  bits: number;
  network: number | bigint;
  text: string;
}

export function parseCidr(text: string): Cidr | null {
  const [base, lengthText, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const ip = parseIp(base);
  if (!ip) return null;
  const max = ip.v === 4 ? 32 : 128;
  const bits = lengthText === undefined ? max : /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return null;
  return { v: ip.v, bits, network: networkOf(ip, bits), text: `${canonicalIp(base)}/${bits}` };
}

function networkOf(ip: ParsedIp, bits: number): number | bigint {
  if (ip.v === 4) return bits === 0 ? 0 : Math.floor(ip.n / 2 ** (32 - bits));
  return ip.n >> BigInt(128 - bits);
}

/** CIDR → value with longest-prefix lookup. */
export class PrefixMap<T> {
  #v4 = new Map<number, Map<number, T>>();
  #v6 = new Map<number, Map<bigint, T>>();
  #lengths4: number[] = [];
  #lengths6: number[] = [];
  size = 0;

  set(cidr: Cidr, value: T): void {
    const byLength = (cidr.v === 4 ? this.#v4 : this.#v6) as Map<number, Map<number | bigint, T>>;
    let map = byLength.get(cidr.bits);
    if (!map) {
      map = new Map();
      byLength.set(cidr.bits, map);
      const lengths = cidr.v === 4 ? this.#lengths4 : this.#lengths6;
      lengths.push(cidr.bits);
      lengths.sort((a, b) => b - a);
    }
    if (!map.has(cidr.network)) this.size++;
    map.set(cidr.network, value);
  }

  /** The value of the longest prefix holding `ip` (a string or already parsed), or undefined. */
  get(ip: string | ParsedIp | null): T | undefined {
    const parsed = typeof ip === 'string' ? parseIp(ip) : ip;
    if (!parsed || this.size === 0) return undefined;
    if (parsed.v === 4) {
      for (const bits of this.#lengths4) {
        const hit = this.#v4.get(bits)!.get(bits === 0 ? 0 : Math.floor(parsed.n / 2 ** (32 - bits)));
        if (hit !== undefined) return hit;
      }
      return undefined;
    }
    for (const bits of this.#lengths6) {
      const hit = this.#v6.get(bits)!.get(parsed.n >> BigInt(128 - bits));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  has(ip: string | ParsedIp | null): boolean {
    return this.get(ip) !== undefined;
  }
}

/** A set of addresses and CIDRs. Entries that do not parse are returned as problems by the caller. */
export function prefixSet(entries: Iterable<string>): PrefixMap<string> {
  const set = new PrefixMap<string>();
  for (const entry of entries) {
    const cidr = parseCidr(entry);
    if (cidr) set.set(cidr, cidr.text);
  }
  return set;
}

// OONI netxlite/bogon.go: private, loopback, link-local, CGNAT, documentation, benchmarking,
// multicast and reserved ranges. A bogon alone is not blocking (split horizon): see rule 5.
const BOGONS = prefixSet([
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24',
  '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32',
  '::/128', '::1/128', '::ffff:0:0/96', '100::/64', '2001:10::/28', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'ff00::/8',
]);

export function isBogon(ip: string | ParsedIp | null): boolean {
  return BOGONS.has(ip);
}
