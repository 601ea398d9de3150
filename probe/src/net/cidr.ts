/** Whether an IP address falls inside a CIDR block ("10.0.0.0/8", "2001:db8::/32"). */
import { isIP } from 'node:net';

function toBigInt(ip: string): { value: bigint; bits: number } | null {
  const family = isIP(ip);
  if (family === 4) {
    return { value: ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n), bits: 32 };
  }
  if (family === 6) return { value: ipv6Value(ip), bits: 128 };
  return null;
}

/** A valid IPv6 address as a 128-bit number ("::" and an embedded IPv4 tail expanded). */
export function ipv6Value(ip: string): bigint {
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').flatMap((g) => (g.includes('.') ? v4Groups(g) : [g])));
  const left = groups(head);
  const right = ip.includes('::') ? groups(tail) : [];
  const all = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function v4Groups(v4: string): string[] {
  const [a, b, c, d] = v4.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [base, lengthText] = cidr.split('/');
  const address = toBigInt(ip);
  const network = toBigInt(base);
  const length = Number(lengthText);
  if (!address || !network || address.bits !== network.bits || !Number.isInteger(length) || length < 0 || length > address.bits) return false;
  const shift = BigInt(address.bits - length);
  return address.value >> shift === network.value >> shift;
}
