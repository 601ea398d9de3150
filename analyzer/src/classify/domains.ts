/**
 * Names: the "site" of a host (a registrable-domain approximation, no public suffix list on
 * purpose: the classifier only needs "same organisation?" for redirects, form targets, CNAME
 * vendors and unrelated-domain counts), and hosts out of URLs and origins.
 */
import { isIp } from './ip.ts';

// Second-level labels under which country-code registries sell names (example.com.cn, example.co.uk).
const SECOND_LEVEL = new Set(['com', 'net', 'org', 'edu', 'gov', 'ac', 'co', 'or', 'ne', 'go', 'mil', 'gob', 'nic', 'ltd', 'plc', 'sch']);

export function normName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** "www.shop.example.com.cn" → "example.com.cn"; an IP is its own site. */
export function siteOf(host: string): string {
  const name = normName(host.startsWith('[') ? host.slice(1, -1) : host);
  if (isIp(name)) return name;
  const labels = name.split('.');
  if (labels.length <= 2) return name;
  const tld = labels[labels.length - 1];
  const second = labels[labels.length - 2];
  const take = tld.length === 2 && SECOND_LEVEL.has(second) ? 3 : 2;
  return labels.slice(-take).join('.');
}

export function sameSite(a: string, b: string): boolean {
  return siteOf(a) === siteOf(b);
}

/** The host of an absolute http(s) URL or origin, lower case; null when it is not one. */
export function hostOf(url: string): string | null {
  const match = /^https?:\/\/(\[[^\]]+\]|[^/:?#]+)/i.exec(url.trim());
  return match ? normName(match[1].replace(/^\[|\]$/g, '')) : null;
}

/** `name` is `suffix` or ends with ".suffix". */
export function nameEndsWith(name: string, suffix: string): boolean {
  const n = normName(name);
  const s = normName(suffix);
  return n === s || n.endsWith(`.${s}`);
}

/**
 * Hosts from allowlisted origins ("https://cdn.example.com", "https://*.example.com"): a script
 * from an allowed host is never counted as injected, whatever its scheme (pages reference
 * scripts protocol-relative, so http and https versions of a page differ only in scheme).
 */
export class HostAllowlist {
  readonly #exact = new Set<string>();
  readonly #wildcards: string[] = [];

  constructor(origins: Iterable<string> = []) {
    for (const origin of origins) {
      const host = hostOf(origin.replace('://*.', '://wildcard-label.'));
      if (!host) continue;
      if (origin.includes('://*.')) this.#wildcards.push(host.slice('wildcard-label.'.length));
      else this.#exact.add(host);
    }
  }

  get size(): number {
    return this.#exact.size + this.#wildcards.length;
  }

  has(host: string): boolean {
    if (this.#exact.has(host)) return true;
    return this.#wildcards.some((suffix) => host.endsWith(`.${suffix}`));
  }
}
