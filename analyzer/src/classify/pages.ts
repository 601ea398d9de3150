/**
 * Comparing a fetched page with its controls (research note §3): EQ is OONI's equivalence
 * (status, then hash, body ratio > 0.7 or title); INJ is what an injector adds (external
 * script/iframe/frame hosts the controls and the allowlist do not have, extra inline scripts,
 * a Content-Length that does not match the body). Redirects and meta refreshes that leave the site
 * and that no control shows are listed apart: they are how ad hijacks start.
 */
import type { EvidenceFetch } from '@vantage/probe';
import { hostOf, sameSite, type HostAllowlist } from './domains.ts';
import { isIp } from './ip.ts';
import type { PageComparison } from './verdict.ts';

export interface PageDiff {
  comparison: PageComparison;
  /** null when no control has content to compare with. */
  eq: boolean | null;
  inj: boolean;
  offsite: string[];
  /** The page is a frameset, or frames the site itself in an iframe (an overlay). */
  wraps: boolean;
  /** External script/iframe/frame hosts that are new (not in controls, allowlist or the site). */
  newHosts: string[];
}

export const schemeOf = (page: EvidenceFetch): 'http' | 'https' => (page.url.startsWith('https:') ? 'https' : 'http');
export const hasContent = (page: EvidenceFetch) => page.status !== null;
export const verified = (page: EvidenceFetch | undefined) => page?.tls?.verified === true;

function pageHosts(page: EvidenceFetch): string[] {
  const hosts: string[] = [];
  for (const list of [page.script_origins, page.iframe_origins, page.frame_origins]) {
    for (const origin of list) {
      const host = hostOf(origin);
      if (host && !hosts.includes(host)) hosts.push(host);
    }
  }
  return hosts;
}

/** Where a page sends the browser: redirect Locations and the meta refresh target. */
export function leaveTargets(page: EvidenceFetch): string[] {
  return page.meta_refresh ? [...page.redirects.map((r) => r.location), page.meta_refresh] : page.redirects.map((r) => r.location);
}

/** Hosts a page sends the browser to. */
function leaveHosts(page: EvidenceFetch): string[] {
  const out: string[] = [];
  for (const target of leaveTargets(page)) {
    const host = hostOf(target);
    if (host) out.push(host);
  }
  return out;
}

const normTitle = (title: string | null) => (title ?? '').trim().replace(/\s+/g, ' ').toLowerCase();

function titleMatch(a: string | null, b: string | null): boolean {
  const x = normTitle(a);
  const y = normTitle(b);
  if (x === '' || y === '') return false;
  if (x === y) return true;
  // OONI's code: no long word (≥ 5 characters) present in only one of the titles.
  const words = (t: string) => new Set(t.split(/[\s|\-–—:·,]+/).filter((w) => w.length >= 5));
  const wx = words(x);
  const wy = words(y);
  if (wx.size === 0 || wy.size === 0) return false;
  for (const w of wx) if (!wy.has(w)) return false;
  for (const w of wy) if (!wx.has(w)) return false;
  return true;
}

function bodyRatio(a: EvidenceFetch, b: EvidenceFetch): number | null {
  if (a.body_truncated && b.body_truncated) return 1;
  if (a.body_truncated || b.body_truncated) return null; // OONI: truncated bodies are not compared
  const max = Math.max(a.body_bytes, b.body_bytes);
  return max === 0 ? 1 : Math.min(a.body_bytes, b.body_bytes) / max;
}

function lengthMismatch(page: EvidenceFetch): boolean {
  return page.failure === null && !page.body_truncated && page.content_length_header !== null && page.content_length_header !== page.body_bytes;
}

/**
 * A set of control pages, deduplicated (a fleet fetches the same page many times: identical
 * pages add nothing but cost), with the hosts they load and send to, computed once.
 */
export interface Controls {
  pages: EvidenceFetch[];
  /** How many fetches each unique page stands for. */
  counts: number[];
  hosts: Set<string>;
  leave: Set<string>;
  formHosts: Set<string>;
  frames: boolean;
  keys: Map<string, number>;
}

export function emptyControls(): Controls {
  return { pages: [], counts: [], hosts: new Set(), leave: new Set(), formHosts: new Set(), frames: false, keys: new Map() };
}

function pageKey(p: EvidenceFetch): string {
  if (p.sha256 !== null) return `${schemeOf(p)}|${p.status}|${p.sha256}|${p.redirects.length}|${p.meta_refresh ?? ''}`;
  return `${schemeOf(p)}|${p.status}|${p.failure}|${p.body_bytes}|${p.title}|${p.redirects.map((r) => r.location).join(' ')}|${p.meta_refresh ?? ''}`;
}

/** Adds pages to a control set (in place) and returns it. */
export function addControls(controls: Controls, pages: Iterable<EvidenceFetch>): Controls {
  for (const p of pages) {
    const key = pageKey(p);
    const at = controls.keys.get(key);
    if (at !== undefined) {
      controls.counts[at]++;
      continue;
    }
    controls.keys.set(key, controls.pages.length);
    controls.pages.push(p);
    controls.counts.push(1);
    for (const h of pageHosts(p)) controls.hosts.add(h);
    for (const h of leaveHosts(p)) controls.leave.add(h);
    for (const o of p.form_action_origins) {
      const h = hostOf(o);
      if (h) controls.formHosts.add(h);
    }
    if (p.frame_origins.length > 0) controls.frames = true;
  }
  return controls;
}

/** A copy of `base` with `pages` added (the fleet's set stays untouched). */
export function withControls(base: Controls, pages: readonly EvidenceFetch[]): Controls {
  if (pages.length === 0) return base;
  return addControls(copyControls(base), pages);
}

function copyControls(base: Controls): Controls {
  return {
    pages: [...base.pages], counts: [...base.counts], hosts: new Set(base.hosts), leave: new Set(base.leave),
    formHosts: new Set(base.formHosts), frames: base.frames, keys: new Map(base.keys),
  };
}

/** One set out of several (counts of the same page add up); a single set is returned as it is. */
export function mergeControls(sets: readonly Controls[]): Controls {
  const nonEmpty = sets.filter((c) => c.pages.length > 0);
  if (nonEmpty.length === 0) return emptyControls();
  if (nonEmpty.length === 1) return nonEmpty[0];
  const out = copyControls(nonEmpty[0]);
  for (const set of nonEmpty.slice(1)) {
    set.pages.forEach((p, i) => {
      const at = out.keys.get(pageKey(p));
      if (at !== undefined) out.counts[at] += set.counts[i];
      else {
        addControls(out, [p]);
        out.counts[out.counts.length - 1] = set.counts[i];
      }
    });
  }
  return out;
}

/** Indexes of the controls to hold `suspect` against: same scheme with content, else any with content. */
function pickControls(suspect: EvidenceFetch, controls: Controls): number[] {
  const withContent: number[] = [];
  const same: number[] = [];
  controls.pages.forEach((c, i) => {
    if (c === suspect || !hasContent(c)) return;
    withContent.push(i);
    if (schemeOf(c) === schemeOf(suspect)) same.push(i);
  });
  return same.length > 0 ? same : withContent;
}

export function comparePage(suspect: EvidenceFetch, all: Controls, target: string, allow: HostAllowlist): PageDiff {
  const picked = pickControls(suspect, all);
  const controls = picked.map((i) => all.pages[i]);
  const hosts = pageHosts(suspect);
  const newHosts = hosts.filter((h) => !all.hosts.has(h) && !allow.has(h) && !sameSite(h, target));

  let eq: boolean | null = null;
  let ratio: number | null = null;
  let titles = false;
  let sameHash = false;
  if (hasContent(suspect) && controls.length > 0) {
    eq = false;
    for (const c of controls) {
      const h = suspect.sha256 !== null && suspect.sha256 === c.sha256;
      const r = bodyRatio(suspect, c);
      const t = h ? true : titleMatch(suspect.title, c.title);
      if (r !== null && (ratio === null || r > ratio)) ratio = r;
      titles ||= t;
      sameHash ||= h;
      if (suspect.status === c.status && (h || (r !== null && r > 0.7) || t)) eq = true;
    }
  }

  // Inline scripts: hashes are compared only when the controls agree among themselves (a page
  // with a rotating token in an inline script changes hash on every fetch); more inline scripts
  // than any control is injection either way.
  let newInline = 0;
  if (controls.length > 0) {
    const sets = controls.map((c) => [...c.inline_script_sha256].sort().join(','));
    const fetches = picked.reduce((n, i) => n + all.counts[i], 0);
    const stable = fetches >= 2 && sets.every((x) => x === sets[0]);
    const union = new Set(controls.flatMap((c) => c.inline_script_sha256));
    const unknown = suspect.inline_script_sha256.filter((h) => !union.has(h)).length;
    const extra = suspect.inline_script_sha256.length - Math.max(...controls.map((c) => c.inline_script_sha256.length));
    newInline = Math.max(stable ? unknown : 0, extra, 0);
  }
  const mismatch = lengthMismatch(suspect) && !controls.some(lengthMismatch);

  const offsite = [...new Set(leaveHosts(suspect))].filter((h) => !sameSite(h, target) && !all.leave.has(h));
  const frameHosts = suspect.frame_origins.map(hostOf).filter((h): h is string => h !== null);
  const iframeHosts = suspect.iframe_origins.map(hostOf).filter((h): h is string => h !== null && !all.hosts.has(h));
  const wraps = (frameHosts.length > 0 && !all.frames) || iframeHosts.some((h) => sameSite(h, target) || isIp(h));

  return {
    eq,
    inj: newHosts.length > 0 || newInline > 0 || mismatch,
    offsite,
    wraps,
    newHosts,
    comparison: {
      url: suspect.url,
      status: suspect.status,
      failure: suspect.failure,
      control_urls: controls.map((c) => `${c.url} via ${c.ip}`),
      control_status: controls.map((c) => c.status),
      eq,
      body_ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
      title_match: titles,
      same_hash: sameHash,
      new_origins: newHosts,
      new_inline_scripts: newInline,
      content_length_mismatch: mismatch,
      offsite_redirects: offsite,
    },
  };
}
