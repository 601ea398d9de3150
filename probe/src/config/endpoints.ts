/**
 * Parsing of the addresses people write in config: DNS servers ("ip", "ip:port", "[v6]:port" or a
 * DoH URL) and dial targets ("host:port").
 */
import { isIP } from 'node:net';

export type DnsServer =
  | { transport: 'udp'; host: string; port: number; label: string }
  | { transport: 'doh'; url: string; label: string };

/**
 * Splits "host:port", "[v6]:port", "v6" or "host" into parts; port is null when absent. Port 0
 * ("any free port") is accepted only for listen addresses.
 */
export function splitHostPort(value: string, opts: { listen?: boolean } = {}): { host: string; port: number | null } | null {
  const min = opts.listen ? 0 : 1;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) return isIP(bracketed[1]) === 6 ? { host: bracketed[1], port: toPort(bracketed[2], min) } : null;
  if (isIP(value) === 6) return { host: value, port: null };
  const parts = value.split(':');
  if (parts.length > 2) return null;
  if (parts.length === 2) {
    const port = toPort(parts[1], min);
    return port === null ? null : { host: parts[0], port };
  }
  return { host: value, port: null };
}

function toPort(text: string | undefined, min = 1): number | null {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= min && port <= 65535 ? port : null;
}

export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "198.51.100.53", "127.0.0.1:5353", "[::1]:53" or "https://doh.example/dns-query". */
export function parseDnsServer(value: string): DnsServer | null {
  if (/^https:\/\//i.test(value)) {
    try {
      return { transport: 'doh', url: new URL(value).toString(), label: value };
    } catch {
      return null;
    }
  }
  const parts = splitHostPort(value);
  if (!parts || !isIP(parts.host)) return null;
  const port = parts.port ?? 53;
  return { transport: 'udp', host: parts.host, port, label: formatHostPort(parts.host, port) };
}

/** A DNS name as a target: letters, digits, hyphens, underscores, dots; at most 253 characters. */
export function isDomainName(value: string): boolean {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label));
}

/** Nameservers listed in a resolv.conf text (the probe's default local resolvers). */
export function resolvConfNameservers(text: string): string[] {
  return text
    .split('\n')
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
    .filter((ip): ip is string => ip !== undefined && isIP(ip.replace(/%.*$/, '')) !== 0)
    .map((ip) => ip.replace(/%.*$/, ''));
}
